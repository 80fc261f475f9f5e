// agate-admin, the executable, against data directories written by the engine (and by a running
// agated): replay, the audit commands, rebuild, verify and stats; a corrupt log, an empty one, a
// time before the first event, a server holding the directory, an interrupted rebuild.

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <sstream>

#include "projections/audit.h"
#include "tests/support/engine_harness.h"
#include "tests/support/http_client.h"
#include "tests/support/server_process.h"
#include "tools/data_dir_lock.h"

namespace agate {
namespace {

namespace audit = projections::audit;
namespace bhttp = boost::beast::http;
using testing::EngineHarness;
using testing::RunResult;
using testing::TempDir;

const std::filesystem::path kAdmin = AGATE_ADMIN_PATH;
const std::filesystem::path kAgated = AGATE_AGATED_PATH;

// The JSON lines of an output that may also hold messages on standard error.
std::vector<boost::json::value> json_lines(const std::string& output) {
  std::vector<boost::json::value> out;
  std::istringstream in(output);
  for (std::string line; std::getline(in, line);) {
    if (!line.empty() && line.front() == '{') out.push_back(boost::json::parse(line));
  }
  return out;
}

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

// A history written through the engine, then copied (mdb_env_copy) into a data directory of the
// test's own, so that the tool is the only one using it.
class AgateAdminTest : public ::testing::Test {
 protected:
  AgateAdminTest() {
    h.create_type("default");
    alice = EngineHarness::member("project-a", "alice");
    share = h.create_share(alice, "default", "share1");
    group = h.create_group(alice, "web");
    entry = h.add_entry(alice, group, "10.0.0.0/24");
    mapping = h.attach(alice, share, group);
    rule = h.allow(alice, share, "ip", "10.0.0.7", "ro");
    h.ok(alice, engine::DenyAccess{share, mapping});
    other = h.create_share(EngineHarness::member("project-b", "bobby"), "default", "share2");
    h.allow(EngineHarness::member("project-b", "bobby"), other, "ip", "10.0.0.7");
    copy_out();
  }

  void copy_out() {
    std::filesystem::remove_all(data());
    std::filesystem::create_directories(data());
    ASSERT_EQ(mdb_env_copy(h.env().handle(), data().c_str()), 0);
  }

  std::filesystem::path data() const { return dir.path() / "data"; }

  RunResult admin(std::vector<std::string> args) {
    args.insert(args.begin(), {"--data-dir", data().string()});
    return testing::run_process(kAdmin, args, std::chrono::seconds(60));
  }

  std::int64_t time_of(events::Seq seq) {
    auto txn = lmdb::Txn::begin_read(h.env());
    auto r = h.log().read(txn, seq);
    EXPECT_EQ(r.next(), events::LogReader::Status::record);
    return r.event().time_micros;
  }

  // Opens the copy, runs `fn(env, txn)` in a write transaction and commits.
  template <typename Fn>
  void write_copy(Fn&& fn) {
    lmdb::EnvOptions o;
    o.map_size = 256u << 20;
    auto env = lmdb::Env::open(data(), o);
    auto txn = lmdb::Txn::begin_write(env);
    fn(txn);
    txn.commit();
  }

  void corrupt_event(events::Seq seq) {
    write_copy([&](const lmdb::Txn& txn) {
      auto log = lmdb::Dbi::open(txn, "log", false);
      std::string value(*log.get(txn, events::seq_key(seq)));
      value[value.size() / 2] ^= 0x21;
      log.put(txn, events::seq_key(seq), value);
    });
  }

  void damage_projections() {
    write_copy([&](const lmdb::Txn& txn) {
      lmdb::Dbi::open(txn, "lookups", false).put(txn, "zz-stray", "x");
    });
  }

  std::string projections_digest() {
    lmdb::EnvOptions o;
    o.read_only = true;
    auto env = lmdb::Env::open(data(), o);
    auto txn = lmdb::Txn::begin_read(env);
    return projections::Store::try_open(txn)->digest(txn);
  }

  EngineHarness h;
  TempDir dir;
  engine::Context alice;
  std::string share, group, entry, mapping, rule, other;
};

TEST_F(AgateAdminTest, ReplayPrintsEveryEventAsJsonLines) {
  auto r = admin({"replay", "--format", "json"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  auto lines = json_lines(r.output);
  ASSERT_EQ(lines.size(), h.last().value);
  EXPECT_EQ(lines[0].at("seq"), 1);
  EXPECT_EQ(lines[0].at("kind"), "shareTypeCreated");
  const auto& allowed = lines[5];
  EXPECT_EQ(allowed.at("kind"), "ruleAllowed");
  EXPECT_EQ(allowed.at("user_id"), "alice");
  EXPECT_EQ(allowed.at("request_id"), "req-alice");
  EXPECT_EQ(allowed.at("body").at("access_to"), "10.0.0.7");
  EXPECT_EQ(allowed.at("time"), boost::json::value(audit::format_time(time_of(events::Seq{6}))));
}

TEST_F(AgateAdminTest, ReplayFiltersCombine) {
  auto seqs = [&](std::vector<std::string> args) {
    args.insert(args.begin(), {"replay", "--format", "json"});
    auto r = admin(args);
    EXPECT_EQ(r.exit_code, 0) << r.output;
    std::vector<std::int64_t> out;
    for (const auto& l : json_lines(r.output)) out.push_back(l.at("seq").as_int64());
    return out;
  };
  EXPECT_EQ(seqs({"--share", share}), (std::vector<std::int64_t>{2, 5, 6, 7}));
  EXPECT_EQ(seqs({"--share", share, "--kind", "ruleAllowed"}), (std::vector<std::int64_t>{6}));
  EXPECT_EQ(seqs({"--group", group, "--kind", "entryAdded", "--kind", "groupAttached"}),
            (std::vector<std::int64_t>{4, 5}));
  EXPECT_EQ(seqs({"--project", "project-b"}), (std::vector<std::int64_t>{8, 9}));
  EXPECT_EQ(seqs({"--user", "bobby", "--from-seq", "9"}), (std::vector<std::int64_t>{9}));
  EXPECT_EQ(seqs({"--from-seq", "3", "--to-seq", "4"}), (std::vector<std::int64_t>{3, 4}));
  const auto t = audit::format_time(time_of(events::Seq{5}));
  EXPECT_EQ(seqs({"--since", t, "--until", t}), (std::vector<std::int64_t>{5}));
  EXPECT_TRUE(seqs({"--request-id", "req-nobody"}).empty());

  auto table = admin({"replay", "--kind", "groupDetached"});
  ASSERT_EQ(table.exit_code, 0);
  EXPECT_TRUE(contains(table.output, "groupDetached")) << table.output;
  EXPECT_TRUE(contains(table.output, "mapping_id=" + mapping)) << table.output;
}

TEST_F(AgateAdminTest, ReplayShowsWhoLockedWhatAndWhy) {
  const auto events =
      h.ok(alice, engine::CreateResourceLock{share, std::nullopt, std::nullopt, "month end"});
  const auto& created = std::get<events::ResourceLockCreated>(events.at(0).body);
  copy_out();
  auto r = admin({"replay", "--format", "json", "--share", share, "--kind", "resourceLockCreated"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  auto lines = json_lines(r.output);
  ASSERT_EQ(lines.size(), 1u) << r.output;
  EXPECT_EQ(lines[0].at("user_id"), "alice");
  EXPECT_EQ(lines[0].at("body").at("lock_id"), boost::json::value(created.lock_id));
  EXPECT_EQ(lines[0].at("body").at("resource_type"), "share");
  EXPECT_EQ(lines[0].at("body").at("resource_action"), "delete");
  EXPECT_EQ(lines[0].at("body").at("lock_context"), "user");
  EXPECT_EQ(lines[0].at("body").at("lock_reason"), "month end");
}

TEST_F(AgateAdminTest, ReplayReportsAnUndecodableEventAndReadsOn) {
  corrupt_event(events::Seq{4});
  auto r = admin({"replay", "--format", "json"});
  EXPECT_EQ(r.exit_code, 3) << r.output;
  EXPECT_TRUE(contains(r.output, "event 4")) << r.output;
  auto lines = json_lines(r.output);
  ASSERT_EQ(lines.size(), h.last().value);
  EXPECT_TRUE(lines[3].as_object().contains("unreadable"));
  EXPECT_EQ(lines[3].at("seq"), 4);
  EXPECT_EQ(lines[4].at("seq"), 5);
}

TEST_F(AgateAdminTest, TheAuditCommandsNameACorruptEvent) {
  corrupt_event(events::Seq{4});
  for (auto args : std::vector<std::vector<std::string>>{
           {"access-history", share},
           {"access-at", share, "--seq", "100"},
           {"who-had-access", "--access-to", "10.0.0.7", "--from", "2000-01-01T00:00:00Z", "--to",
            "2100-01-01T00:00:00Z"}}) {
    auto r = admin(args);
    EXPECT_EQ(r.exit_code, 3) << args[0] << ": " << r.output;
    EXPECT_TRUE(contains(r.output, "cannot be read at 4")) << r.output;
  }
  // A point before the corrupt event is still answered.
  auto r = admin({"access-at", share, "--seq", "3"});
  EXPECT_EQ(r.exit_code, 0) << r.output;
}

TEST_F(AgateAdminTest, AccessAtShowsTheRulesAndSourcesOfThatMoment) {
  auto r = admin({"access-at", share, "--seq", "6", "--format", "json"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const auto lines = json_lines(r.output);
  const auto& ea = lines.at(0).at("effective_access");
  ASSERT_EQ(ea.at("rules").as_array().size(), 2u);
  EXPECT_EQ(ea.at("rules").at(1).at("access_to"), "10.0.0.7/32");
  EXPECT_EQ(ea.at("rules").at(1).at("access_level"), "ro");

  r = admin({"access-at", share, "--at", audit::format_time(time_of(events::Seq{7}))});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_TRUE(contains(r.output, "1 effective rule(s)")) << r.output;
  EXPECT_TRUE(contains(r.output, "access rule " + rule)) << r.output;
  EXPECT_FALSE(contains(r.output, "access group " + group)) << r.output;
}

TEST_F(AgateAdminTest, AccessAtATimeBeforeTheFirstEventSaysTheShareDidNotExist) {
  auto r = admin({"access-at", share, "--at", "2000-01-01T00:00:00+02:00"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_TRUE(contains(r.output, "before the first event")) << r.output;
  EXPECT_TRUE(contains(r.output, "did not exist")) << r.output;
}

TEST_F(AgateAdminTest, BadInputGetsAMessageAndANonZeroStatus) {
  auto r = admin({"access-at", "no-such-share", "--seq", "3"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_TRUE(contains(r.output, "share no-such-share does not appear in the event log"))
      << r.output;
  r = admin({"access-at", share, "--at", "yesterday"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_TRUE(contains(r.output, "--at yesterday: not an RFC 3339 time")) << r.output;
  r = admin({"access-at", share});
  EXPECT_EQ(r.exit_code, 2) << r.output;
  r = admin({"access-at", share, "--at", "2000-01-01T00:00:00Z", "--seq", "1"});
  EXPECT_EQ(r.exit_code, 2) << r.output;
  r = admin({"replay", "--kind", "ruleGranted"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_TRUE(contains(r.output, "--kind ruleGranted: no such kind")) << r.output;
  r = admin({"who-had-access", "--access-to", "10.0.0.7", "--from", "2030-01-01T00:00:00Z", "--to",
             "2000-01-01T00:00:00Z"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_TRUE(contains(r.output, "ends before it starts")) << r.output;
  r = admin({"frobnicate"});
  EXPECT_EQ(r.exit_code, 2);
  r = testing::run_process(kAdmin, {"--data-dir", (dir.path() / "nothing").string(), "stats"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_TRUE(contains(r.output, "is not an Agate data directory")) << r.output;
}

TEST_F(AgateAdminTest, AccessHistoryShowsEachChangeAndItsCause) {
  auto r = admin({"access-history", share, "--format", "json"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const auto lines = json_lines(r.output);
  const auto& changes = lines.at(0).at("access_history").at("changes").as_array();
  ASSERT_EQ(changes.size(), 3u);
  EXPECT_EQ(changes[0].at("cause").at("kind"), "groupAttached");
  EXPECT_EQ(changes[1].at("cause").at("kind"), "ruleAllowed");
  EXPECT_EQ(changes[2].at("cause").at("kind"), "groupDetached");
  EXPECT_EQ(changes[2].at("removed").at(0).at("access_to"), "10.0.0.0/24");

  r = admin({"access-history", share});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_TRUE(contains(r.output, "3 change(s)")) << r.output;
  EXPECT_TRUE(contains(r.output, "- ip:10.0.0.0/24 rw")) << r.output;
}

// A level changed in place is replayed with its new level, and the access history shows the
// rule leaving at its old level and coming back at the new one, in one change.
TEST_F(AgateAdminTest, LevelUpdatesAreReplayedAndInTheAccessHistory) {
  h.ok(alice, engine::UpdateAccessLevel{rule, "rw"});
  h.ok(alice, engine::UpdateEntryLevel{group, entry, "ro", std::nullopt});
  copy_out();
  auto r = admin({"replay", "--format", "json"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  auto lines = json_lines(r.output);
  ASSERT_EQ(lines.size(), h.last().value);
  const auto& rule_line = lines[lines.size() - 2];
  EXPECT_EQ(rule_line.at("kind"), "ruleLevelUpdated");
  EXPECT_EQ(rule_line.at("body").at("rule_id"), boost::json::value(rule));
  EXPECT_EQ(rule_line.at("body").at("share_id"), boost::json::value(share));
  EXPECT_EQ(rule_line.at("body").at("access_level"), "rw");
  const auto& entry_line = lines.back();
  EXPECT_EQ(entry_line.at("kind"), "entryLevelUpdated");
  EXPECT_EQ(entry_line.at("body").at("group_id"), boost::json::value(group));
  EXPECT_EQ(entry_line.at("body").at("entry_id"), boost::json::value(entry));
  EXPECT_EQ(entry_line.at("body").at("access_level"), "ro");

  r = admin({"access-history", share, "--format", "json"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const auto history = json_lines(r.output);
  const auto& changes = history.at(0).at("access_history").at("changes").as_array();
  ASSERT_EQ(changes.size(), 4u);
  const auto& last = changes[3];
  EXPECT_EQ(last.at("cause").at("kind"), "ruleLevelUpdated");
  EXPECT_EQ(last.at("removed").at(0).at("access_to"), "10.0.0.7/32");
  EXPECT_EQ(last.at("removed").at(0).at("access_level"), "ro");
  EXPECT_EQ(last.at("added").at(0).at("access_to"), "10.0.0.7/32");
  EXPECT_EQ(last.at("added").at(0).at("access_level"), "rw");
}

TEST_F(AgateAdminTest, WhoHadAccessFindsEveryShare) {
  auto r = admin({"who-had-access", "--access-to", "10.0.0.7", "--from", "2000-01-01T00:00:00Z",
                  "--to", "2100-01-01T00:00:00Z", "--format", "json"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const auto lines = json_lines(r.output);
  const auto& in = lines.at(0).at("who_had_access").at("intervals").as_array();
  ASSERT_EQ(in.size(), 2u);
  EXPECT_EQ(in[0].at("share_id"), boost::json::value(share));
  EXPECT_EQ(in[1].at("share_id"), boost::json::value(other));
  r = admin({"who-had-access", "--access-to", "10.0.0.7", "--share", other, "--from",
             "2000-01-01T00:00:00Z", "--to", "2100-01-01T00:00:00Z"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_TRUE(contains(r.output, other)) << r.output;
  EXPECT_FALSE(contains(r.output, share)) << r.output;
  // 10.0.0.9 only through a network holding it: the group's 10.0.0.0/24, while it was attached.
  r = admin({"who-had-access", "--access-to", "10.0.0.9", "--containing", "--from",
             "2000-01-01T00:00:00Z", "--to", "2100-01-01T00:00:00Z"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_TRUE(contains(r.output, "1 effective rule(s) matching or holding 10.0.0.9")) << r.output;
  EXPECT_TRUE(contains(r.output, "ip:10.0.0.0/24")) << r.output;
  EXPECT_TRUE(contains(r.output, "groupDetached")) << r.output;
}

TEST_F(AgateAdminTest, StatsCountsEventsAndRows) {
  auto r = admin({"stats", "--kinds", "--format", "json"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const auto s = json_lines(r.output).at(0);
  EXPECT_EQ(s.at("last_seq"), h.last().value);
  EXPECT_TRUE(s.at("agated_pid").is_null());
  EXPECT_EQ(s.at("kinds").at("ruleAllowed"), 2);
  EXPECT_EQ(s.at("databases").at(0).at("name"), "log");
  EXPECT_EQ(s.at("databases").at(0).at("entries"), h.last().value);
  r = admin({"stats"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_TRUE(contains(r.output, "no agated running")) << r.output;
  EXPECT_TRUE(contains(r.output, "share_data")) << r.output;
}

TEST_F(AgateAdminTest, VerifyFindsTheFirstDifferenceAndRebuildRepairsIt) {
  auto r = admin({"verify"});
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_TRUE(contains(r.output, "equal a rebuild")) << r.output;
  const auto good = projections_digest();

  damage_projections();
  r = admin({"verify"});
  EXPECT_EQ(r.exit_code, 4) << r.output;
  EXPECT_TRUE(contains(r.output, "first difference: database lookups, key zz-stray")) << r.output;
  EXPECT_TRUE(contains(r.output, "live:    x")) << r.output;
  EXPECT_TRUE(contains(r.output, "rebuilt: (absent)")) << r.output;

  r = admin({"rebuild"});
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_TRUE(contains(r.output, "swapped them in")) << r.output;
  EXPECT_EQ(projections_digest(), good);
  EXPECT_FALSE(std::filesystem::exists(data() / "rebuild.tmp"));
  EXPECT_EQ(admin({"verify"}).exit_code, 0);
}

TEST_F(AgateAdminTest, RebuildRefusesWhileAServerHoldsTheDirectory) {
  damage_projections();
  const auto before = projections_digest();
  {
    tools::DataDirLock held(data());
    auto r = admin({"rebuild"});
    EXPECT_EQ(r.exit_code, 5) << r.output;
    EXPECT_TRUE(contains(r.output, "stop agated before rebuilding")) << r.output;
    EXPECT_TRUE(contains(r.output, std::to_string(::getpid()))) << r.output;
  }
  EXPECT_EQ(projections_digest(), before);
}

TEST_F(AgateAdminTest, ARebuildOfACorruptLogLeavesTheLiveDataUntouched) {
  damage_projections();
  const auto before = projections_digest();
  corrupt_event(events::Seq{5});
  auto r = admin({"rebuild", "--no-progress"});
  EXPECT_EQ(r.exit_code, 3) << r.output;
  EXPECT_TRUE(contains(r.output, "corrupt at 5")) << r.output;
  EXPECT_EQ(projections_digest(), before);
  EXPECT_FALSE(std::filesystem::exists(data() / "rebuild.tmp"));
}

// Killed at any moment, a rebuild leaves either the old projections or the rebuilt ones.
TEST_F(AgateAdminTest, AnInterruptedRebuildLeavesTheOldProjectionsOrTheNewOnes) {
  for (int i = 0; i < 3000; ++i) {
    h.allow(alice, share, "ip", fmt::format("10.{}.{}.0/24", 100 + i / 250, i % 250));
  }
  copy_out();
  const auto rebuilt = projections_digest();
  for (int kill_after_ms : {5, 20, 60}) {
    damage_projections();
    const auto damaged = projections_digest();
    try {
      testing::run_process(kAdmin, {"--data-dir", data().string(), "rebuild", "--batch", "100"},
                           std::chrono::milliseconds(kill_after_ms));
    } catch (const std::runtime_error&) {
      // Killed: the point of the test.
    }
    const auto now = projections_digest();
    EXPECT_TRUE(now == damaged || now == rebuilt) << "killed after " << kill_after_ms << " ms";
    // The next rebuild clears what the killed one left.
    auto r = admin({"rebuild"});
    ASSERT_EQ(r.exit_code, 0) << r.output;
    EXPECT_EQ(projections_digest(), rebuilt);
  }
}

TEST(AgateAdminEmptyLog, AnEmptyLogHasNoEventsNoSharesAndRebuildsToNothing) {
  TempDir dir;
  const auto data = dir.path() / "data";
  {
    auto env = lmdb::Env::open(data, {});
    events::EventLog::open(env);
    projections::Store::open(env, {});
  }
  auto run = [&](std::vector<std::string> args) {
    args.insert(args.begin(), {"--data-dir", data.string()});
    return testing::run_process(kAdmin, args);
  };
  auto r = run({"replay", "--format", "json"});
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_TRUE(json_lines(r.output).empty());
  r = run({"stats"});
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_TRUE(contains(r.output, "event log       empty")) << r.output;
  r = run({"access-at", "s", "--at", "2026-01-01T00:00:00Z"});
  EXPECT_EQ(r.exit_code, 1) << r.output;
  r = run({"who-had-access", "--access-to", "alice", "--from", "2000-01-01T00:00:00Z", "--to",
           "2100-01-01T00:00:00Z"});
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_TRUE(contains(r.output, "0 effective rule(s)")) << r.output;
  EXPECT_EQ(run({"verify"}).exit_code, 0);
  EXPECT_EQ(run({"rebuild"}).exit_code, 0);
}

// While agated serves the directory: the read-only commands work, rebuild refuses.
TEST(AgateAdminWithServer, ReadsWhileTheServerRunsAndRefusesToRebuild) {
  TempDir dir;
  const auto data = dir.path() / "data";
  testing::ServerProcess server(kAgated, data, {"--durability", "nosync"});
  const std::vector<std::pair<std::string, std::string>> admin_headers = {
      {"X-Auth-Token", "admin:admin-project:admin"}, {"Content-Type", "application/json"}};
  const std::vector<std::pair<std::string, std::string>> alice_headers = {
      {"X-Auth-Token", "alice:project-a"},
      {"Content-Type", "application/json"},
      {"X-OpenStack-Manila-API-Version", "2.45"}};
  auto res = testing::http_request(
      server.port(), bhttp::verb::post, "/v2/types",
      R"({"share_type": {"name": "default", "extra_specs": {"driver_handles_share_servers": "False"}}})",
      admin_headers);
  ASSERT_EQ(res.result_int(), 200) << res.body();
  res = testing::http_request(server.port(), bhttp::verb::post, "/v2/shares",
                              R"({"share": {"share_proto": "NFS", "size": 1, "name": "s"}})",
                              alice_headers);
  ASSERT_EQ(res.result_int(), 200) << res.body();
  const std::string share(boost::json::parse(res.body()).at("share").at("id").as_string());
  res = testing::http_request(server.port(), bhttp::verb::post, "/v2/shares/" + share + "/action",
                              R"({"allow_access": {"access_type": "ip", "access_to": "10.1.2.3"}})",
                              alice_headers);
  ASSERT_EQ(res.result_int(), 200) << res.body();

  auto run = [&](std::vector<std::string> args) {
    args.insert(args.begin(), {"--data-dir", data.string()});
    return testing::run_process(kAdmin, args);
  };
  auto r = run({"replay", "--format", "json", "--share", share});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_GE(json_lines(r.output).size(), 2u);
  r = run({"access-at", share, "--at", "2100-01-01T00:00:00Z"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_TRUE(contains(r.output, "10.1.2.3/32")) << r.output;
  r = run({"stats"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_TRUE(contains(r.output, "agated running, pid " + std::to_string(server.pid())))
      << r.output;
  r = run({"verify", "--no-progress"});
  EXPECT_EQ(r.exit_code, 0) << r.output;
  r = run({"rebuild"});
  EXPECT_EQ(r.exit_code, 5) << r.output;
  EXPECT_TRUE(contains(r.output, "in use by process " + std::to_string(server.pid()))) << r.output;

  // The server was not disturbed.
  res = testing::http_request(server.port(), bhttp::verb::get, "/healthz");
  EXPECT_EQ(res.result_int(), 200);
}

}  // namespace
}  // namespace agate
