// The audit fold against logs written by the engine: point-in-time effective rules equal what the
// projections held at that point, histories name their causes and driver outcomes, who-had-access
// finds every interval, and a corrupt or empty log is answered as such.

#include "projections/audit.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <random>
#include <set>

#include "events/codec.h"
#include "tests/support/engine_harness.h"

namespace agate {
namespace {

namespace audit = projections::audit;
using testing::EngineHarness;

class AuditTest : public ::testing::Test {
 protected:
  AuditTest() {
    h.create_type("default");
    alice = EngineHarness::member("project-a", "alice");
  }

  boost::system::result<audit::ShareAccessAt, audit::AuditError> at(const std::string& share,
                                                                    audit::AsOf as_of) {
    auto txn = lmdb::Txn::begin_read(h.env());
    return audit::access_at(txn, h.log(), share, as_of);
  }
  audit::ShareAccessAt at_seq(const std::string& share, events::Seq seq) {
    auto a = at(share, {seq, std::nullopt});
    EXPECT_TRUE(a) << (a ? "" : a.error().message);
    return a ? *a : audit::ShareAccessAt{};
  }
  std::vector<engine::EffectiveRule> live_rules(const std::string& share) {
    auto txn = lmdb::Txn::begin_read(h.env());
    return h.store().effective_rules(txn, share);
  }
  std::int64_t time_of(events::Seq seq) {
    auto txn = lmdb::Txn::begin_read(h.env());
    auto r = h.log().read(txn, seq);
    EXPECT_EQ(r.next(), events::LogReader::Status::record);
    return r.event().time_micros;
  }

  EngineHarness h;
  engine::Context alice;
};

TEST(AuditTime, ParsesRfc3339WithOffsetsAndFractions) {
  EXPECT_EQ(audit::parse_time("1970-01-01T00:00:00Z"), 0);
  EXPECT_EQ(audit::parse_time("2026-11-25T12:54:58.282315Z"), 1795611298282315);
  EXPECT_EQ(audit::parse_time("2026-11-25T13:54:58.282315+01:00"), 1795611298282315);
  EXPECT_EQ(audit::parse_time("2026-11-25t12:54:58.2823159z"), 1795611298282315);
  EXPECT_EQ(audit::parse_time("2026-11-25 12:54:58.5Z"), 1795611298500000);
  EXPECT_EQ(audit::parse_time("2026-11-25T07:24:58-05:30"), 1795611298000000);
  EXPECT_EQ(audit::format_time(1795611298282315), "2026-11-25T12:54:58.282315Z");
  EXPECT_EQ(audit::format_time(0), "1970-01-01T00:00:00.000000Z");
}

TEST(AuditTime, RefusesWhatIsNotRfc3339) {
  for (const char* bad : {"", "yesterday", "2026-11-25", "2026-11-25T12:54:58",
                          "2026-02-30T00:00:00Z", "2026-11-25T24:00:00Z", "2026-11-25T12:54:58.Z",
                          "2026-11-25T12:54:58Z ", "2026-11-25T12:54:58+0100", "1795611298"}) {
    EXPECT_FALSE(audit::parse_time(bad)) << bad;
  }
}

TEST_F(AuditTest, AccessAtSeqShowsTheRulesAndSourcesOfThatMoment) {
  const auto share = h.create_share(alice);
  const auto group = h.create_group(alice, "web");
  const auto entry = h.add_entry(alice, group, "10.0.0.0/24", "rw");
  const auto before_attach = h.last();
  const auto mapping = h.attach(alice, share, group);
  const auto rule = h.allow(alice, share, "ip", "10.0.0.0/24", "rw");
  const auto both = h.last();
  h.ok(alice, engine::DenyAccess{share, mapping});  // detach: the direct rule stays
  const auto after_detach = h.last();
  h.ok(alice, engine::DenyAccess{share, rule});
  const auto none = h.last();

  auto a = at_seq(share, before_attach);
  EXPECT_TRUE(a.existed);
  EXPECT_TRUE(a.rules.empty());
  EXPECT_EQ(a.as_of_seq, before_attach);
  EXPECT_EQ(a.project_id, "project-a");

  a = at_seq(share, both);
  ASSERT_EQ(a.rules.size(), 1u);
  EXPECT_EQ(a.rules[0].access_to, "10.0.0.0/24");
  EXPECT_EQ(a.rules[0].since_version, 1u);
  EXPECT_EQ(a.rules[0].sources, (std::vector{engine::RuleSource::direct(rule),
                                             engine::RuleSource::group(group, entry)}));
  EXPECT_EQ(a.mappings.at(group), mapping);
  EXPECT_EQ(a.desired_version, 1u);

  a = at_seq(share, after_detach);
  ASSERT_EQ(a.rules.size(), 1u);
  EXPECT_EQ(a.rules[0].sources, std::vector{engine::RuleSource::direct(rule)});
  EXPECT_TRUE(a.mappings.empty());

  a = at_seq(share, none);
  EXPECT_TRUE(a.rules.empty());
  EXPECT_EQ(a.desired_version, 2u);
}

TEST_F(AuditTest, AccessAtTimeIsAfterTheLastEventAtOrBeforeIt) {
  const auto share = h.create_share(alice);
  h.allow(alice, share, "ip", "10.0.0.1", "ro");
  const auto granted = h.last();
  h.allow(alice, share, "user", "bobby", "rw");
  const auto t = time_of(granted);

  auto a = at(share, {std::nullopt, t});
  ASSERT_TRUE(a);
  EXPECT_EQ(a->as_of_seq, granted);
  ASSERT_EQ(a->rules.size(), 1u);
  EXPECT_EQ(a->rules[0].access_to, "10.0.0.1/32");
  EXPECT_EQ(a->rules[0].access_level, events::AccessLevel::ro);

  a = at(share, {std::nullopt, t - 1});
  ASSERT_TRUE(a);
  EXPECT_EQ(a->as_of_seq.value, granted.value - 1);
  EXPECT_TRUE(a->rules.empty());
}

TEST_F(AuditTest, AccessAtATimeBeforeTheFirstEventFindsTheShareDidNotExist) {
  const auto share = h.create_share(alice);
  h.allow(alice, share, "ip", "10.0.0.1");
  auto a = at(share, {std::nullopt, time_of(events::Seq{1}) - 1});
  ASSERT_TRUE(a) << a.error().message;
  EXPECT_FALSE(a->existed);
  EXPECT_EQ(a->as_of_seq, events::Seq{0});
  ASSERT_TRUE(a->created);
  EXPECT_EQ(a->created->kind, "shareCreated");
  EXPECT_TRUE(a->rules.empty());
}

TEST_F(AuditTest, AShareTheLogNeverNamedIsNotFound) {
  h.create_share(alice);
  auto a = at("no-such-share", {});
  ASSERT_FALSE(a);
  EXPECT_EQ(a.error().code, audit::errc::not_found);
  auto txn = lmdb::Txn::begin_read(h.env());
  auto hist = audit::access_history(txn, h.log(), "no-such-share");
  ASSERT_FALSE(hist);
  EXPECT_EQ(hist.error().code, audit::errc::not_found);
}

TEST(AuditEmptyLog, EveryShareIsNotFoundAndNobodyHadAccess) {
  EngineHarness h;
  auto txn = lmdb::Txn::begin_read(h.env());
  auto a = audit::access_at(txn, h.log(), "s", {});
  ASSERT_FALSE(a);
  EXPECT_EQ(a.error().code, audit::errc::not_found);
  auto who = audit::who_had_access(txn, h.log(), {"10.0.0.1", std::nullopt, std::nullopt, 0, 1});
  ASSERT_TRUE(who);
  EXPECT_TRUE(who->empty());
}

TEST(AuditClock, AtATimeIsALogPrefixEvenIfAClockWentBack) {
  testing::TempDir dir;
  lmdb::EnvOptions o;
  o.map_size = 16u << 20;
  o.durability = lmdb::Durability::nosync;
  auto env = lmdb::Env::open(dir.path(), o);
  auto log = events::EventLog::open(env);
  auto event = [](std::int64_t t, events::Body body) {
    events::Event e;
    e.time_micros = t;
    e.project_id = "p";
    e.body = std::move(body);
    return e;
  };
  auto created = [](std::string share_id) {
    events::ShareCreated b;
    b.share_id = std::move(share_id);
    return b;
  };
  auto allowed = [](std::string rule_id, std::string access_to) {
    events::RuleAllowed b;
    b.share_id = "s";
    b.rule_id = std::move(rule_id);
    b.access_to = std::move(access_to);
    return b;
  };
  std::vector<events::Event> history = {event(100, created("other")), event(300, created("third")),
                                        // agated restarted with its wall clock set back
                                        event(200, created("s")),
                                        event(210, allowed("r1", "10.0.0.1"))};
  {
    auto txn = lmdb::Txn::begin_write(env);
    log.append(txn, history);
    txn.commit();
  }
  auto txn = lmdb::Txn::begin_read(env);
  auto a = audit::access_at(txn, log, "s", {std::nullopt, 250});
  ASSERT_TRUE(a) << a.error().message;
  EXPECT_EQ(a->as_of_seq, events::Seq{1});
  EXPECT_FALSE(a->existed);
  EXPECT_TRUE(a->rules.empty());
  a = audit::access_at(txn, log, "s", {std::nullopt, 300});
  ASSERT_TRUE(a) << a.error().message;
  EXPECT_TRUE(a->existed);
  EXPECT_EQ(a->rules.size(), 1u);
}

TEST_F(AuditTest, DeletedShareHadNoAccessAfterwards) {
  const auto share = h.create_share(alice);
  h.allow(alice, share, "ip", "10.0.0.1");
  const auto granted = h.last();
  h.ok(alice, engine::DeleteShare{share});
  auto a = at_seq(share, h.last());
  EXPECT_FALSE(a.existed);
  EXPECT_TRUE(a.rules.empty());
  ASSERT_TRUE(a.deleted);
  EXPECT_EQ(a.deleted->kind, "shareDeleted");
  EXPECT_EQ(at_seq(share, granted).rules.size(), 1u);
}

TEST_F(AuditTest, HistoryNamesEachChangeItsCauseAndTheDriverOutcomesOfThatVersion) {
  const auto share = h.create_share(alice);
  std::string instance;
  {
    auto txn = lmdb::Txn::begin_read(h.env());
    instance = h.store().share(txn, share)->instance_ids.at(0);
  }
  const auto group = h.create_group(alice, "web");
  h.add_entry(alice, group, "10.0.0.0/24");
  h.attach(alice, share, group);                                      // v1
  const auto extra = h.add_entry(alice, group, "10.0.1.0/24", "ro");  // v2
  events::DriverOutcome outcome;
  outcome.share_id = share;
  outcome.instance_id = instance;
  outcome.applied_version = 2;
  outcome.failures = {{{events::AccessType::ip, "10.0.1.0/24"}, "refused"}};
  h.ok(EngineHarness::admin(), engine::RecordDriverOutcome{outcome});
  h.ok(alice, engine::RemoveEntry{group, extra, std::nullopt});  // v3
  // No change of rules:
  h.ok(alice, engine::UpdateAccessGroup{group, "renamed", std::nullopt, std::nullopt});

  auto txn = lmdb::Txn::begin_read(h.env());
  auto hist = audit::access_history(txn, h.log(), share);
  ASSERT_TRUE(hist) << hist.error().message;
  ASSERT_EQ(hist->changes.size(), 3u);
  const auto& attached = hist->changes[0];
  EXPECT_EQ(attached.cause.kind, "groupAttached");
  EXPECT_EQ(attached.cause.user_id, "alice");
  EXPECT_EQ(attached.cause.request_id, "req-alice");
  EXPECT_EQ(attached.version, 1u);
  ASSERT_EQ(attached.deltas.size(), 1u);
  EXPECT_TRUE(attached.deltas[0].added);
  EXPECT_EQ(attached.deltas[0].rule.identity, "10.0.0.0/24");
  EXPECT_TRUE(attached.outcomes.empty());

  const auto& added = hist->changes[1];
  EXPECT_EQ(added.cause.kind, "entryAdded");
  EXPECT_EQ(added.rules_after, 2u);
  ASSERT_EQ(added.outcomes.size(), 1u);
  EXPECT_EQ(added.outcomes[0].applied_version, 2u);
  ASSERT_EQ(added.outcomes[0].failures.size(), 1u);
  EXPECT_EQ(added.outcomes[0].failures[0].message, "refused");

  const auto& removed = hist->changes[2];
  EXPECT_EQ(removed.cause.kind, "entryRemoved");
  ASSERT_EQ(removed.deltas.size(), 1u);
  EXPECT_FALSE(removed.deltas[0].added);
  EXPECT_EQ(removed.deltas[0].level, events::AccessLevel::ro);
  EXPECT_EQ(removed.deltas[0].sources, std::vector{engine::RuleSource::group(group, extra)});

  // A range keeps the changes inside it.
  auto ranged = audit::access_history(txn, h.log(), share,
                                      {added.cause.time_micros, added.cause.time_micros});
  ASSERT_TRUE(ranged);
  ASSERT_EQ(ranged->changes.size(), 1u);
  EXPECT_EQ(ranged->changes[0].cause.seq, added.cause.seq);
}

TEST_F(AuditTest, WhoHadAccessFindsEveryIntervalOfTheIdentityOnEveryShare) {
  const auto s1 = h.create_share(alice, "default", "one");
  const auto s2 = h.create_share(alice, "default", "two");
  const auto group = h.create_group(alice, "web");
  const auto start = time_of(h.last());
  const auto rule = h.allow(alice, s1, "ip", "10.0.0.7", "rw");  // s1 from here
  const auto entry = h.add_entry(alice, group, "10.0.0.7/32", "rw");
  h.attach(alice, s1, group);                        // a second source on s1: no new interval
  const auto mapping2 = h.attach(alice, s2, group);  // s2 from here
  h.allow(alice, s2, "ip", "10.0.0.8");              // another identity
  h.ok(alice, engine::DenyAccess{s2, mapping2});     // s2 until here
  const auto s2_end = time_of(h.last());
  h.ok(alice, engine::DenyAccess{s1, rule});  // s1 keeps it through the group
  const auto end = time_of(h.last());

  auto ask = [&](audit::WhoQuery q) {
    auto txn = lmdb::Txn::begin_read(h.env());
    auto r = audit::who_had_access(txn, h.log(), q);
    EXPECT_TRUE(r) << (r ? "" : r.error().message);
    return r ? *r : std::vector<audit::AccessInterval>{};
  };
  auto all = ask({"10.0.0.7", std::nullopt, std::nullopt, start, end});
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].share_id, s1);
  EXPECT_EQ(all[0].share_name, "one");
  EXPECT_EQ(all[0].granted.kind, "ruleAllowed");
  EXPECT_FALSE(all[0].revoked);
  EXPECT_EQ(all[0].sources, (std::vector{engine::RuleSource::direct(rule),
                                         engine::RuleSource::group(group, entry)}));
  EXPECT_EQ(all[1].share_id, s2);
  EXPECT_EQ(all[1].granted.kind, "groupAttached");
  ASSERT_TRUE(all[1].revoked);
  EXPECT_EQ(all[1].revoked->kind, "groupDetached");

  // One share; a range after s2 lost it; a type that does not match; another address.
  EXPECT_EQ(ask({"10.0.0.7/32", std::nullopt, s2, start, end}).size(), 1u);
  auto later = ask({"10.0.0.7", std::nullopt, std::nullopt, s2_end + 1, end});
  ASSERT_EQ(later.size(), 1u);
  EXPECT_EQ(later[0].share_id, s1);
  EXPECT_TRUE(ask({"10.0.0.7", events::AccessType::user, std::nullopt, start, end}).empty());
  EXPECT_TRUE(ask({"10.0.0.9", std::nullopt, std::nullopt, start, end}).empty());
  // Before anything was granted.
  EXPECT_TRUE(ask({"10.0.0.7", std::nullopt, std::nullopt, 0, start}).empty());

  auto txn = lmdb::Txn::begin_read(h.env());
  auto backwards = audit::who_had_access(txn, h.log(), {"10.0.0.7", {}, {}, end, start});
  ASSERT_FALSE(backwards);
  EXPECT_EQ(backwards.error().code, audit::errc::bad_request);
  auto unknown = audit::who_had_access(txn, h.log(), {"10.0.0.7", {}, "nope", start, end});
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().code, audit::errc::not_found);
}

TEST_F(AuditTest, WhoHadAccessComparesNetworksNotTheirSpelling) {
  const auto share = h.create_share(alice);
  h.allow(alice, share, "ip", "10.0.0.7/255.255.255.255");
  h.allow(alice, share, "ip", "fd8c:b029:bba6:ac54:0:0:0:1");
  h.allow(alice, share, "ip", "10.0.0.70");
  h.allow(alice, share, "user", "10.0.0.7");  // a user named like the address is another rule
  auto txn = lmdb::Txn::begin_read(h.env());
  auto ip = [&](const std::string& access_to) {
    auto r =
        audit::who_had_access(txn, h.log(), {access_to, events::AccessType::ip, {}, 0, INT64_MAX});
    EXPECT_TRUE(r);
    return r ? r->size() : 0;
  };
  EXPECT_EQ(ip("10.0.0.7"), 1u);
  EXPECT_EQ(ip("10.0.0.7/32"), 1u);
  EXPECT_EQ(ip("fd8c:b029:bba6:ac54::1/128"), 1u);
  EXPECT_EQ(ip("10.0.0.0/24"), 0u);
  auto any = audit::who_had_access(txn, h.log(), {"10.0.0.7", {}, {}, 0, INT64_MAX});
  ASSERT_TRUE(any);
  EXPECT_EQ(any->size(), 2u);  // the ip rule and the user rule
}

TEST_F(AuditTest, WhoHadAccessContainingFindsTheNetworksHoldingTheAddress) {
  const auto share = h.create_share(alice);
  h.allow(alice, share, "ip", "10.0.0.0/24");
  h.allow(alice, share, "ip", "10.0.0.7");
  h.allow(alice, share, "ip", "10.0.0.0/255.255.0.0");
  h.allow(alice, share, "ip", "10.0.1.0/24");  // next to it: not holding it
  h.allow(alice, share, "ip", "0.0.0.0/0");
  h.allow(alice, share, "ip", "fd00::/8");
  h.allow(alice, share, "ip", "fe80::1%eth0");  // a zone id: only itself
  h.allow(alice, share, "user", "10.0.0.7");
  auto txn = lmdb::Txn::begin_read(h.env());
  auto rules = [&](const std::string& access_to, std::optional<events::AccessType> type) {
    audit::WhoQuery q{access_to, type, {}, 0, INT64_MAX};
    q.containing = true;
    auto r = audit::who_had_access(txn, h.log(), q);
    EXPECT_TRUE(r) << (r ? "" : r.error().message);
    std::set<std::string> out;
    if (r) {
      for (const auto& in : *r) {
        out.insert(fmt::format("{}:{}", events::to_string(in.rule.access_type), in.rule.identity));
      }
    }
    return out;
  };
  EXPECT_EQ(rules("10.0.0.7", std::nullopt),
            (std::set<std::string>{"ip:10.0.0.0/24", "ip:10.0.0.7/32", "ip:10.0.0.0/16",
                                   "ip:0.0.0.0/0", "user:10.0.0.7"}));
  EXPECT_EQ(rules("10.0.0.0/25", events::AccessType::ip),
            (std::set<std::string>{"ip:10.0.0.0/24", "ip:10.0.0.0/16", "ip:0.0.0.0/0"}));
  EXPECT_EQ(rules("fd12:3456::1", events::AccessType::ip), (std::set<std::string>{"ip:fd00::/8"}));
  EXPECT_EQ(rules("fe80::1%eth0", events::AccessType::ip),
            (std::set<std::string>{"ip:fe80::1%eth0/128"}));
}

TEST_F(AuditTest, ACorruptRecordIsReportedWithItsSequenceNumber) {
  const auto share = h.create_share(alice);
  h.allow(alice, share, "ip", "10.0.0.1");
  h.allow(alice, share, "ip", "10.0.0.2");
  const events::Seq bad{3};
  {
    auto txn = lmdb::Txn::begin_write(h.env());
    auto value = h.log().dbi().get(txn, events::seq_key(bad));
    ASSERT_TRUE(value);
    std::string flipped(*value);
    flipped[flipped.size() / 2] ^= 0x40;
    h.log().dbi().put(txn, events::seq_key(bad), flipped);
    txn.commit();
  }
  auto a = at(share, {});
  ASSERT_FALSE(a);
  EXPECT_EQ(a.error().code, audit::errc::corrupt_log);
  EXPECT_EQ(a.error().seq, bad);
  EXPECT_NE(a.error().message.find("at 3"), std::string::npos) << a.error().message;
  // A point before the corruption is still answered.
  auto before = at(share, {events::Seq{2}, std::nullopt});
  ASSERT_TRUE(before) << before.error().message;
  EXPECT_TRUE(before->existed);
}

// Seeded random changes through the engine; after each, the fold at the end of the log equals the
// live projections; at the end, the fold at every earlier point equals what they held then.
TEST_F(AuditTest, FoldAtEveryPointEqualsTheProjectionsOfThatPoint) {
  std::mt19937_64 rng(42);
  std::vector<std::string> shares, groups;
  for (int i = 0; i < 3; ++i)
    shares.push_back(h.create_share(alice, "default", fmt::format("s{}", i)));
  for (int i = 0; i < 3; ++i) groups.push_back(h.create_group(alice, fmt::format("g{}", i)));
  std::vector<std::pair<std::string, std::string>> entries;  // group, entry
  std::vector<std::pair<std::string, std::string>> access;   // share, rule or mapping id
  std::vector<std::pair<events::Seq, std::map<std::string, std::vector<engine::EffectiveRule>>>>
      seen;
  auto pick = [&](const auto& v) { return v[rng() % v.size()]; };
  for (int step = 0; step < 300; ++step) {
    const auto address = fmt::format("10.0.{}.0/24", rng() % 6);
    const std::string level = (rng() % 2) ? "rw" : "ro";
    engine::Command c;
    switch (rng() % 6) {
      case 0:
        c = engine::AddEntry{pick(groups), std::nullopt, address, level};
        break;
      case 1:
        if (entries.empty()) continue;
        c = engine::RemoveEntry{pick(entries).first, pick(entries).second, std::nullopt};
        break;
      case 2:
        c = engine::AllowAccess{pick(shares), "ip", address, level, {}};
        break;
      case 3:
        c = engine::AttachGroup{pick(shares), pick(groups)};
        break;
      default:
        if (access.empty()) continue;
        const auto& [share, id] = pick(access);
        c = engine::DenyAccess{share, id};
        break;
    }
    auto outcome = h.run(alice, c);
    if (!outcome) continue;
    for (const auto& e : outcome->events) {
      if (auto* b = std::get_if<events::EntryAdded>(&e.body))
        entries.emplace_back(b->group_id, b->entry_id);
      if (auto* b = std::get_if<events::RuleAllowed>(&e.body))
        access.emplace_back(b->share_id, b->rule_id);
      if (auto* b = std::get_if<events::GroupAttached>(&e.body))
        access.emplace_back(b->share_id, b->mapping_id);
    }
    std::map<std::string, std::vector<engine::EffectiveRule>> now;
    for (const auto& s : shares) {
      now[s] = live_rules(s);
      ASSERT_EQ(at_seq(s, h.last()).rules, now[s]) << "step " << step << " share " << s;
    }
    seen.emplace_back(h.last(), std::move(now));
  }
  ASSERT_GT(seen.size(), 100u);
  for (const auto& [seq, rules] : seen) {
    for (const auto& [share, expected] : rules) ASSERT_EQ(at_seq(share, seq).rules, expected);
  }
}

}  // namespace
}  // namespace agate
