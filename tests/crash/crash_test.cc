// The crash test: a mixed workload of valid and invalid requests from several connections
// against the real agated, which is killed with SIGKILL at a random moment, again and again.
// After each kill, from the data directory alone:
//   - every write answered 2xx is in the log (its request id is on its events);
//   - no write answered 4xx left any event;
//   - the projections equal a rebuild from the log, byte for byte (their digests);
// and after each restart every instance left dirty converges (the outbox drains and every share
// the workload created is active).
//
// Seeded: AGATE_CRASH_SEED (default 1) and AGATE_CRASH_KILLS (default 6, the short run in the
// suite). The long run, documented in tests/crash/README.md:
//   AGATE_CRASH_KILLS=300 build/test/tests/crash_test

#include <gtest/gtest.h>
#include <signal.h>

#include <atomic>
#include <boost/json.hpp>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <thread>

#include "events/event_log.h"
#include "events/lmdb.h"
#include "projections/rebuild.h"
#include "projections/store.h"
#include "tests/support/http_client.h"
#include "tests/support/json_text.h"
#include "tests/support/server_process.h"
#include "tests/support/temp_dir.h"

namespace agate {
namespace {

namespace bhttp = boost::beast::http;
namespace json = boost::json;
using testing::ServerProcess;
using testing::TempDir;

const std::filesystem::path kAgated = AGATE_AGATED_PATH;
constexpr const char* kToken = "crash:project-a";
constexpr const char* kOtherToken = "intruder:project-b";

std::uint64_t env_number(const char* name, std::uint64_t fallback) {
  const char* v = std::getenv(name);
  return v && *v ? std::strtoull(v, nullptr, 10) : fallback;
}

using testing::text;

bool ok(unsigned status) { return status >= 200 && status < 300; }

// What the workload learned about one request.
struct Sent {
  std::string request_id;  // empty: no answer (the server died first)
  unsigned status = 0;
  bool write = false;
  std::string what;    // method, target and body, for messages
  std::string denies;  // the access id, for deny_access
};

// Everything the workload has been told exists, shared by the client threads.
struct Known {
  std::mutex mutex;
  std::vector<std::string> shares;
  std::vector<std::string> groups;
  std::vector<std::pair<std::string, std::string>> entries;  // group, entry
  std::vector<std::pair<std::string, std::string>> access;   // share, rule or mapping id

  template <class T>
  std::optional<T> pick(const std::vector<T>& from, std::mt19937_64& rng) {
    std::lock_guard lock(mutex);
    if (from.empty()) return std::nullopt;
    return from[rng() % from.size()];
  }
  template <class T>
  void add(std::vector<T>& to, T value) {
    std::lock_guard lock(mutex);
    to.push_back(std::move(value));
  }
};

class Workload {
 public:
  Workload(unsigned short port, Known& known, std::uint64_t seed)
      : port_(port), known_(known), rng_(seed) {}

  // Sends requests until the server stops answering.
  void run() {
    while (step()) {
    }
  }

  std::vector<Sent> sent;

 private:
  struct Answer {
    unsigned status = 0;
    json::value body;
  };

  std::optional<Answer> call(bhttp::verb method, const std::string& target, const std::string& body,
                             bool write, const char* token = kToken) {
    Sent s;
    s.write = write;
    s.what = std::string(bhttp::to_string(method)) + " " + target + " " + body;
    try {
      auto res = testing::http_request(port_, method, target, body,
                                       {{"X-Auth-Token", token},
                                        {"X-OpenStack-Manila-API-Version", "2.45"},
                                        {"Content-Type", "application/json"}});
      s.status = res.result_int();
      s.request_id = std::string(res["x-compute-request-id"]);
      sent.push_back(s);
      boost::system::error_code ec;
      auto v = json::parse(res.body(), ec);
      return Answer{s.status, ec ? json::value() : std::move(v)};
    } catch (const std::exception&) {
      sent.push_back(s);  // no answer: it may or may not have been written
      return std::nullopt;
    }
  }

  std::string net() {
    return "10." + std::to_string(rng_() % 4) + "." + std::to_string(rng_() % 32) + ".0/24";
  }

  // One request; false once the server has gone.
  bool step() {
    const auto r = rng_() % 100;
    if (r < 8) {
      auto a = call(bhttp::verb::post, "/v2/shares",
                    R"({"share": {"share_proto": "NFS", "size": 1, "name": "s"}})", true);
      if (!a) return false;
      if (ok(a->status)) known_.add(known_.shares, text(a->body.at("share").at("id")));
    } else if (r < 16) {
      const bool ip = rng_() % 2;
      auto a = call(bhttp::verb::post, "/v2/access-groups",
                    std::string(R"({"access-group": {"name": "g", "access_type": ")") +
                        (ip ? "ip" : "user") + "\"}}",
                    true);
      if (!a) return false;
      if (ok(a->status)) known_.add(known_.groups, text(a->body.at("access-group").at("id")));
    } else if (r < 40) {
      auto group = known_.pick(known_.groups, rng_);
      if (!group) return true;
      // Valid for an ip group; a user group refuses a network and an ip group a name, and
      // every tenth one is malformed: many refusals decided by the engine.
      std::string to = rng_() % 3 ? net() : "user" + std::to_string(rng_() % 50);
      if (rng_() % 10 == 0) to = "10.0.0.300/24";
      const char* level = rng_() % 2 ? "rw" : "ro";
      auto a = call(
          bhttp::verb::post, "/v2/access-groups/" + *group + "/entries",
          R"({"entry": {"access_to": ")" + to + R"(", "access_level": ")" + level + "\"}}", true);
      if (!a) return false;
      if (ok(a->status)) {
        if (a->body.is_object() && a->body.as_object().contains("entry")) {
          known_.add(known_.entries, std::pair{*group, text(a->body.at("entry").at("id"))});
        }
      }
    } else if (r < 55) {
      auto share = known_.pick(known_.shares, rng_);
      if (!share) return true;
      std::string to = rng_() % 8 ? net() : "300.1.1.1";
      auto a = call(bhttp::verb::post, "/v2/shares/" + *share + "/action",
                    R"({"allow_access": {"access_type": "ip", "access_to": ")" + to +
                        R"(", "access_level": ")" + (rng_() % 2 ? "rw" : "ro") + "\"}}",
                    true);
      if (!a) return false;
      if (ok(a->status)) {
        known_.add(known_.access, std::pair{*share, text(a->body.at("access").at("id"))});
      }
    } else if (r < 65) {
      auto share = known_.pick(known_.shares, rng_);
      auto group = known_.pick(known_.groups, rng_);
      if (!share || !group) return true;
      auto a = call(
          bhttp::verb::post, "/v2/shares/" + *share + "/action",
          R"({"allow_access": {"access_type": "access_group", "access_to": ")" + *group + "\"}}",
          true);
      if (!a) return false;
      if (ok(a->status)) {
        known_.add(known_.access, std::pair{*share, text(a->body.at("access").at("id"))});
      }
    } else if (r < 72) {
      auto access = known_.pick(known_.access, rng_);
      if (!access) return true;
      const bool answered =
          call(bhttp::verb::post, "/v2/shares/" + access->first + "/action",
               R"({"deny_access": {"access_id": ")" + access->second + "\"}}", true)
              .has_value();
      sent.back().denies = access->second;
      if (!answered) return false;
    } else if (r < 77) {
      auto entry = known_.pick(known_.entries, rng_);
      if (!entry) return true;
      if (!call(bhttp::verb::delete_,
                "/v2/access-groups/" + entry->first + "/entries/" + entry->second, "", true)) {
        return false;
      }
    } else if (r < 80) {
      auto group = known_.pick(known_.groups, rng_);
      if (!group) return true;
      if (!call(bhttp::verb::delete_, "/v2/access-groups/" + *group, "", true)) return false;
    } else if (r < 84) {
      auto share = known_.pick(known_.shares, rng_);
      if (!share) return true;
      if (!call(bhttp::verb::post, "/v2/shares/" + *share + "/action", R"({"access_sync": null})",
                true)) {
        return false;
      }
    } else if (r < 88) {
      // Another project acting on this project's objects: refused, and no trace.
      auto share = known_.pick(known_.shares, rng_);
      auto group = known_.pick(known_.groups, rng_);
      if (!share || !group) return true;
      auto a = call(
          bhttp::verb::post, "/v2/shares/" + *share + "/action",
          R"({"allow_access": {"access_type": "access_group", "access_to": ")" + *group + "\"}}",
          true, kOtherToken);
      if (!a) return false;
      EXPECT_EQ(a->status, 404u) << "another project attached a group";
    } else if (r < 92) {
      // Malformed bodies: refused before the engine.
      if (!call(bhttp::verb::post, "/v2/access-groups", R"({"access-group": {"name": 5}})", true)) {
        return false;
      }
    } else {
      auto share = known_.pick(known_.shares, rng_);
      if (!share) return true;
      auto a = call(bhttp::verb::get, "/v2/shares/" + *share + "/effective-access", "", false);
      if (!a) return false;
      EXPECT_TRUE(a->status == 200 || a->status == 404) << a->status;
    }
    return true;
  }

  unsigned short port_;
  Known& known_;
  std::mt19937_64 rng_;
};

struct Totals {
  std::uint64_t kills = 0, requests = 0, unanswered = 0, acknowledged = 0, refused = 0;
  std::uint64_t repeated_denies = 0;  // accepted, nothing to record: already being denied
};

class CrashTest : public ::testing::Test {
 protected:
  void SetUp() override {
    config_ = dir_.path() / "agate.toml";
    std::ofstream(config_) << "[dispatcher]\nworkers = 4\n"
                           << "[backends.nfs1]\ndriver = \"fake\"\ndefault = true\n";
    options_.backends = {"nfs1"};
    options_.default_backend = "nfs1";
  }

  std::unique_ptr<ServerProcess> start() {
    return std::make_unique<ServerProcess>(kAgated, data(),
                                           std::vector<std::string>{"--config", config_.string()});
  }

  std::filesystem::path data() const { return dir_.path() / "data"; }

  // Checks the data directory of a dead server against what the workload was told.
  void check_after_kill(const std::vector<Sent>& sent, Totals& totals) {
    lmdb::EnvOptions o;
    o.durability = lmdb::Durability::nosync;
    auto env = lmdb::Env::open(data(), o);
    std::set<std::string> logged;
    std::string live_digest;
    {
      auto txn = lmdb::Txn::begin_read(env);
      auto log = events::EventLog::try_open(txn);
      ASSERT_TRUE(log);
      auto reader = log->read(txn);
      events::LogReader::Status status;
      while ((status = reader.next()) == events::LogReader::Status::record) {
        logged.insert(reader.event().request_id);
      }
      ASSERT_EQ(status, events::LogReader::Status::end) << reader.corruption().what;
    }
    // A rule is denied once; denying it again while the back end has not yet confirmed is
    // accepted and changes nothing (no event). Such an answer is checked against the deny that
    // did change it: that one must be in the log.
    std::set<std::string> denied_in_log;
    for (const auto& s : sent) {
      if (!s.denies.empty() && logged.contains(s.request_id)) denied_in_log.insert(s.denies);
    }
    for (const auto& s : sent) {
      ++totals.requests;
      if (ok(s.status) && !s.denies.empty() && !logged.contains(s.request_id) &&
          denied_in_log.contains(s.denies)) {
        ++totals.repeated_denies;
        continue;
      }
      if (s.request_id.empty()) {
        ++totals.unanswered;
        continue;
      }
      if (!s.write) continue;
      if (ok(s.status)) {
        ++totals.acknowledged;
        EXPECT_TRUE(logged.contains(s.request_id))
            << "acknowledged with " << s.status << " but not in the log: " << s.request_id << " "
            << s.what;
      } else {
        ++totals.refused;
        EXPECT_FALSE(logged.contains(s.request_id))
            << "refused with " << s.status << " but in the log: " << s.request_id << " " << s.what;
      }
    }
    auto log = events::EventLog::open(env);
    auto store = projections::Store::open(env, options_);
    {
      auto txn = lmdb::Txn::begin_read(env);
      live_digest = store.digest(txn);
    }
    TempDir rebuilt;
    auto target_env = lmdb::Env::open(rebuilt.path(), o);
    auto target = projections::Store::open(target_env, options_);
    projections::rebuild(env, log, target_env, target);
    auto txn = lmdb::Txn::begin_read(target_env);
    EXPECT_EQ(target.digest(txn), live_digest) << "the projections differ from a rebuild";
  }

  // Waits until no instance waits for its back end, then checks every known share is active.
  void check_converged(const ServerProcess& server, const Known& known) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    bool drained = false;
    while (!drained && std::chrono::steady_clock::now() < deadline) {
      auto res = testing::http_request(server.port(), bhttp::verb::get, "/healthz");
      auto v = json::parse(res.body());
      drained = v.at("outbox") == 0;
      if (!drained) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    ASSERT_TRUE(drained) << "the outbox did not drain";
    for (const auto& share : known.shares) {
      auto res = testing::http_request(
          server.port(), bhttp::verb::get, "/v2/shares/" + share, "",
          {{"X-Auth-Token", kToken}, {"X-OpenStack-Manila-API-Version", "2.45"}});
      if (res.result_int() == 404) continue;  // never acknowledged, or never written
      auto v = json::parse(res.body());
      EXPECT_EQ(text(v.at("share").at("access_rules_status")), "active") << share;
    }
  }

  TempDir dir_;
  std::filesystem::path config_;
  projections::StoreOptions options_;
};

TEST_F(CrashTest, NothingAcknowledgedIsLostAndNothingRefusedIsWritten) {
  const auto seed = env_number("AGATE_CRASH_SEED", 1);
  const auto kills = env_number("AGATE_CRASH_KILLS", 6);
  constexpr int kClients = 4;
  std::mt19937_64 rng(seed);
  Known known;
  Totals totals;
  {
    auto server = start();
    auto res = testing::http_request(
        server->port(), bhttp::verb::post, "/v2/types",
        R"({"share_type": {"name": "default", "extra_specs": {"driver_handles_share_servers": "False"}}})",
        {{"X-Auth-Token", "admin:admin-project:admin"}, {"Content-Type", "application/json"}});
    ASSERT_EQ(res.result_int(), 200u) << res.body();
    server->stop();
  }
  for (std::uint64_t round = 0; round < kills; ++round) {
    auto server = start();
    check_converged(*server, known);
    if (HasFatalFailure()) return;
    std::vector<Workload> clients;
    for (int c = 0; c < kClients; ++c) clients.emplace_back(server->port(), known, rng());
    std::vector<std::thread> threads;
    for (auto& client : clients) threads.emplace_back([&client] { client.run(); });
    std::this_thread::sleep_for(std::chrono::milliseconds(50 + rng() % 400));
    server->kill();
    ++totals.kills;
    for (auto& t : threads) t.join();
    std::vector<Sent> sent;
    for (auto& client : clients) sent.insert(sent.end(), client.sent.begin(), client.sent.end());
    check_after_kill(sent, totals);
    if (HasFailure()) break;
  }
  {
    auto server = start();
    check_converged(*server, known);
  }
  std::cout << "crash test (seed " << seed << "): " << totals.kills << " kills, " << totals.requests
            << " requests, " << totals.acknowledged << " acknowledged writes found in the log, "
            << totals.refused << " refused writes found absent, " << totals.repeated_denies
            << " repeated denies of a rule already being denied, " << totals.unanswered
            << " cut off by a kill\n";
  EXPECT_GT(totals.acknowledged, kills * 5) << "the workload hardly wrote anything";
  EXPECT_GT(totals.refused, kills) << "the workload hardly tried anything invalid";
}

}  // namespace
}  // namespace agate
