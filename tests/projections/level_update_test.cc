// Level updates on LMDB (Manila 2.88, and the same for access-group entries): what is refused
// and with which message, what one accepted change writes (one event, every reached share
// bumped), and that rebuilds from the log equal the live projections.

#include <gtest/gtest.h>

#include "projections/audit.h"
#include "tests/support/engine_harness.h"

namespace agate {
namespace {

using engine::errc;
using events::AccessLevel;
using testing::EngineHarness;

class LevelUpdateTest : public ::testing::Test {
 protected:
  void SetUp() override {
    h_.create_type("default");
    share_ = h_.create_share(alice_);
  }

  engine::ShareRow share_row(const std::string& id) {
    auto txn = lmdb::Txn::begin_read(h_.env());
    return *h_.store().share(txn, id);
  }
  std::optional<engine::EffectiveRule> effective(const std::string& share,
                                                 const std::string& net) {
    auto txn = lmdb::Txn::begin_read(h_.env());
    for (auto& r : h_.store().effective_rules(txn, share)) {
      if (r.access_to == net) return r;
    }
    return std::nullopt;
  }
  engine::RuleRow rule(const std::string& id) {
    auto txn = lmdb::Txn::begin_read(h_.env());
    return *h_.store().state(txn)->rule(id);
  }
  engine::EntryRow entry(const std::string& group, const std::string& id) {
    auto txn = lmdb::Txn::begin_read(h_.env());
    return *h_.store().state(txn)->entry(group, id);
  }
  engine::UpdateAccessLevel update(const std::string& rule_id, std::optional<std::string> level) {
    return {rule_id, std::move(level)};
  }

  EngineHarness h_;
  engine::Context alice_ = EngineHarness::member("project-a", "alice");
  engine::Context mallory_ = EngineHarness::member("project-b", "mallory");
  std::string share_;
};

TEST_F(LevelUpdateTest, ARuleTakesTheNewLevelInOneEventAndTheShareIsBumped) {
  const auto id = h_.allow(alice_, share_, "ip", "10.0.0.0/24", "ro");
  const auto before = share_row(share_).desired_version;
  const auto entered = effective(share_, "10.0.0.0/24")->since_version;
  auto events = h_.ok(alice_, update(id, "rw"));
  ASSERT_EQ(events.size(), 1u);
  const auto& e = std::get<events::RuleLevelUpdated>(events[0].body);
  EXPECT_EQ(e.rule_id, id);
  EXPECT_EQ(e.share_id, share_);
  EXPECT_EQ(e.access_level, AccessLevel::rw);
  EXPECT_EQ(rule(id).access_level, AccessLevel::rw);
  EXPECT_EQ(share_row(share_).desired_version, before + 1);
  const auto r = effective(share_, "10.0.0.0/24");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->access_level, AccessLevel::rw);
  EXPECT_EQ(r->since_version, before + 1);
  EXPECT_EQ(r->entered_version, entered);
  EXPECT_EQ(h_.digest(), h_.rebuild_digest());
}

TEST_F(LevelUpdateTest, TheSameLevelWritesNothing) {
  const auto id = h_.allow(alice_, share_, "ip", "10.0.0.0/24", "rw");
  const auto last = h_.last();
  EXPECT_TRUE(h_.ok(alice_, update(id, "rw")).empty());
  EXPECT_EQ(h_.last(), last);
}

TEST_F(LevelUpdateTest, BadLevelsAndUnknownRulesGetManilasMessages) {
  const auto id = h_.allow(alice_, share_, "ip", "10.0.0.0/24");
  const auto last = h_.last();
  for (std::optional<std::string> missing : {std::optional<std::string>{}, std::optional<std::string>{""}}) {
    auto r = h_.refused(alice_, update(id, missing));
    EXPECT_EQ(r.code, errc::bad_request);
    EXPECT_EQ(r.message, "Invalid input. Missing 'access_level' in update request.");
  }
  auto bad = h_.refused(alice_, update(id, "xx"));
  EXPECT_EQ(bad.code, errc::bad_request);
  EXPECT_EQ(bad.message, "Invalid or unsupported share access level: xx.");
  auto unknown = h_.refused(alice_, update("nope", "ro"));
  EXPECT_EQ(unknown.code, errc::not_found);
  EXPECT_EQ(unknown.message, "Share access rule nope not found.");
  // Another project's rule is not found either.
  auto foreign = h_.refused(mallory_, update(id, "ro"));
  EXPECT_EQ(foreign.code, errc::not_found);
  EXPECT_EQ(foreign.message, "Share access rule " + id + " not found.");
  EXPECT_EQ(h_.last(), last);
}

TEST_F(LevelUpdateTest, AGroupMappingHasNoLevelToUpdate) {
  const auto group = h_.create_group(alice_, "AG1", "ip");
  h_.add_entry(alice_, group, "10.0.0.0/24");
  const auto mapping = h_.attach(alice_, share_, group);
  auto r = h_.refused(alice_, update(mapping, "ro"));
  EXPECT_EQ(r.code, errc::bad_request);
  EXPECT_EQ(r.message, "Access rule " + mapping + " attaches access group " + group +
                           ": it has no level of its own. Change the level of the group's "
                           "entries instead.");
  // Another project's mapping is not found.
  EXPECT_EQ(h_.refused(mallory_, update(mapping, "ro")).code, errc::not_found);
}

TEST_F(LevelUpdateTest, ASoftDeletedShareAndAnInvalidInstanceRefuseIt) {
  const auto id = h_.allow(alice_, share_, "ip", "10.0.0.0/24");
  h_.ok(EngineHarness::admin(), engine::SetShareStatus{share_, "extending"});
  auto invalid = h_.refused(alice_, update(id, "ro"));
  EXPECT_EQ(invalid.code, errc::bad_request);
  EXPECT_EQ(invalid.message,
            "Access rules cannot be updated while the share, any of its replicas or migration "
            "copies lacks a valid host or is in an invalid state.");
  // An instance in error does not stop it (Manila allows the error state here).
  h_.ok(EngineHarness::admin(), engine::SetShareStatus{share_, "error"});
  EXPECT_EQ(h_.ok(alice_, update(id, "ro")).size(), 1u);
  h_.ok(EngineHarness::admin(), engine::SetShareStatus{share_, "available"});
  h_.ok(alice_, engine::SoftDeleteShare{share_});
  auto soft = h_.refused(alice_, update(id, "rw"));
  EXPECT_EQ(soft.code, errc::forbidden);
  EXPECT_EQ(soft.message,
            "Cannot update access for share '" + share_ + "' since it has been soft deleted.");
}

// The proposal's case 1: a group entry grants ip 10.0.0.0/24 ro; the direct rule may not
// become rw.
TEST_F(LevelUpdateTest, CaseOneAConflictWithAGroupEntryIsRefusedAndNothingIsWritten) {
  const auto id = h_.allow(alice_, share_, "ip", "10.0.0.0/24", "ro");
  const auto group = h_.create_group(alice_, "AG1", "ip");
  const auto e = h_.add_entry(alice_, group, "10.0.0.0/24", "ro");
  h_.attach(alice_, share_, group);
  const auto last = h_.last();
  auto r = h_.refused(alice_, update(id, "rw"));
  EXPECT_EQ(r.code, errc::conflict);
  EXPECT_EQ(r.message, "Access rule ip:10.0.0.0/24 (rw) conflicts with access rule "
                       "ip:10.0.0.0/24 (ro) granted by access group AG1 (" +
                           group + ") entry " + e + " on share " + share_ + ".");
  EXPECT_EQ(h_.last(), last);
  EXPECT_EQ(rule(id).access_level, AccessLevel::ro);
}

TEST_F(LevelUpdateTest, AnEntryTakesTheNewLevelOnEveryAttachedShareInOneEvent) {
  const auto group = h_.create_group(alice_, "AG1", "ip");
  const auto e = h_.add_entry(alice_, group, "10.0.0.0/24", "rw");
  std::vector<std::string> shares{share_, h_.create_share(alice_, "default", "second")};
  std::vector<std::uint64_t> versions;
  for (const auto& s : shares) {
    h_.attach(alice_, s, group);
    versions.push_back(share_row(s).desired_version);
  }
  const auto unattached = h_.create_share(alice_, "default", "third");
  auto events = h_.ok(alice_, engine::UpdateEntryLevel{group, e, "ro", std::nullopt});
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(std::get<events::EntryLevelUpdated>(events[0].body),
            (events::EntryLevelUpdated{group, e, AccessLevel::ro}));
  EXPECT_EQ(entry(group, e).access_level, AccessLevel::ro);
  for (std::size_t i = 0; i < shares.size(); ++i) {
    EXPECT_EQ(share_row(shares[i]).desired_version, versions[i] + 1);
    EXPECT_EQ(effective(shares[i], "10.0.0.0/24")->access_level, AccessLevel::ro);
  }
  EXPECT_EQ(share_row(unattached).desired_version, 0u);
  // The same level again: nothing.
  EXPECT_TRUE(h_.ok(alice_, engine::UpdateEntryLevel{group, e, "ro", std::nullopt}).empty());
  EXPECT_EQ(h_.digest(), h_.rebuild_digest());
}

TEST_F(LevelUpdateTest, AnEntryConflictingOnSomeSharesNamesEachShareAndSource) {
  const auto group = h_.create_group(alice_, "AG1", "ip");
  const auto e = h_.add_entry(alice_, group, "10.0.0.0/24", "ro");
  const auto other = h_.create_group(alice_, "AG2", "ip");
  const auto e2 = h_.add_entry(alice_, other, "10.0.0.0/24", "ro");
  const auto second = h_.create_share(alice_, "default", "second");
  const auto third = h_.create_share(alice_, "default", "third");
  for (const auto& s : {share_, second, third}) h_.attach(alice_, s, group);
  const auto rule_id = h_.allow(alice_, share_, "ip", "10.0.0.0/24", "ro");
  h_.attach(alice_, second, other);
  const auto last = h_.last();
  auto r = h_.refused(alice_, engine::UpdateEntryLevel{group, e, "rw", std::nullopt});
  EXPECT_EQ(r.code, errc::conflict);
  EXPECT_NE(r.message.find("Access rule ip:10.0.0.0/24 (rw) from access group " + group +
                           " entry " + e + " conflicts with "),
            std::string::npos)
      << r.message;
  EXPECT_NE(r.message.find("granted by access rule " + rule_id + " on share " + share_),
            std::string::npos)
      << r.message;
  EXPECT_NE(r.message.find("granted by access group AG2 (" + other + ") entry " + e2 +
                           " on share " + second),
            std::string::npos)
      << r.message;
  EXPECT_EQ(r.message.find(third), std::string::npos) << r.message;
  EXPECT_EQ(h_.last(), last);
  EXPECT_EQ(entry(group, e).access_level, AccessLevel::ro);
}

TEST_F(LevelUpdateTest, EntryUpdatesAreRefusedWithMessages) {
  const auto group = h_.create_group(alice_, "AG1", "ip");
  const auto e = h_.add_entry(alice_, group, "10.0.0.0/24");
  auto bad = h_.refused(alice_, engine::UpdateEntryLevel{group, e, "xx", std::nullopt});
  EXPECT_EQ(bad.code, errc::bad_request);
  EXPECT_EQ(bad.message, "Invalid or unsupported share access level: xx.");
  EXPECT_EQ(
      h_.refused(alice_, engine::UpdateEntryLevel{group, e, std::nullopt, std::nullopt}).message,
      "Invalid input. Missing 'access_level' in update request.");
  auto missing = h_.refused(alice_, engine::UpdateEntryLevel{group, "nope", "ro", std::nullopt});
  EXPECT_EQ(missing.code, errc::not_found);
  EXPECT_EQ(missing.message, "Access group entry nope could not be found.");
  auto foreign = h_.refused(mallory_, engine::UpdateEntryLevel{group, e, "ro", std::nullopt});
  EXPECT_EQ(foreign.code, errc::not_found);
  EXPECT_EQ(foreign.message, "Access group " + group + " could not be found.");
}

// The audit folds the log with the same algebra: before the change the rule is at its old
// level, after it at the new one, with the versions the projections hold.
TEST_F(LevelUpdateTest, TheAuditShowsTheLevelBeforeAndAfterTheChange) {
  const auto group = h_.create_group(alice_, "AG1", "ip");
  const auto e = h_.add_entry(alice_, group, "10.1.0.0/16", "rw");
  h_.attach(alice_, share_, group);
  const auto id = h_.allow(alice_, share_, "ip", "10.0.0.0/24", "ro");
  const auto before = h_.last();
  h_.ok(alice_, update(id, "rw"));
  h_.ok(alice_, engine::UpdateEntryLevel{group, e, "ro", std::nullopt});
  auto txn = lmdb::Txn::begin_read(h_.env());
  auto then = projections::audit::access_at(txn, h_.log(), share_, {before, std::nullopt});
  ASSERT_TRUE(then);
  for (const auto& r : then->rules) {
    EXPECT_EQ(r.access_level, r.access_to == "10.0.0.0/24" ? AccessLevel::ro : AccessLevel::rw);
  }
  auto now = projections::audit::access_at(txn, h_.log(), share_, {});
  ASSERT_TRUE(now);
  EXPECT_EQ(now->rules, h_.store().effective_rules(txn, share_));
  EXPECT_EQ(now->desired_version, h_.store().share(txn, share_)->desired_version);
  ASSERT_EQ(now->rules.size(), 2u);
  for (const auto& r : now->rules) {
    EXPECT_EQ(r.access_level, r.access_to == "10.0.0.0/24" ? AccessLevel::rw : AccessLevel::ro);
  }
}

}  // namespace
}  // namespace agate
