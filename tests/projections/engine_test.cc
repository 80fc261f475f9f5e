// The engine end to end on LMDB: commands through the writer, events in the log, projections.

#include <gtest/gtest.h>

#include "tests/support/engine_harness.h"

namespace agate {
namespace {

using engine::errc;
using testing::EngineHarness;

class EngineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    h_.create_type("default");
    share_ = h_.create_share(alice_);
  }

  std::vector<engine::EffectiveRule> effective(const std::string& share) {
    auto txn = lmdb::Txn::begin_read(h_.env());
    return h_.store().effective_rules(txn, share);
  }
  engine::ShareRow share_row(const std::string& id) {
    auto txn = lmdb::Txn::begin_read(h_.env());
    return *h_.store().share(txn, id);
  }
  std::vector<projections::OutboxEntry> outbox() {
    auto txn = lmdb::Txn::begin_read(h_.env());
    return h_.store().outbox(txn);
  }
  engine::InstanceRow instance_of(const std::string& share) {
    auto txn = lmdb::Txn::begin_read(h_.env());
    return h_.store().instances(txn, *h_.store().share(txn, share)).at(0);
  }
  std::string access_status(const std::string& share) {
    auto txn = lmdb::Txn::begin_read(h_.env());
    return h_.store().share_access_rules_status(txn, *h_.store().share(txn, share));
  }
  // Records a driver outcome for the share's first instance at its current desired version.
  void report(const std::string& share, std::vector<events::RuleFailure> failures = {}) {
    const auto in = instance_of(share);
    events::DriverOutcome o;
    o.share_id = share;
    o.instance_id = in.id;
    o.applied_version = share_row(share).desired_version;
    o.failures = std::move(failures);
    h_.ok(EngineHarness::admin(), engine::RecordDriverOutcome{o});
  }

  EngineHarness h_;
  engine::Context alice_ = EngineHarness::member("project-a", "alice");
  engine::Context mallory_ = EngineHarness::member("project-b", "mallory");
  std::string share_;
};

TEST_F(EngineTest, CaseOneContradictoryRuleFromAGroupIsRefusedAndNothingIsWritten) {
  h_.allow(alice_, share_, "user", "admin", "rw");
  const auto group = h_.create_group(alice_, "AG1", "user");
  const auto entry = h_.add_entry(alice_, group, "admin", "ro");
  const auto before_seq = h_.last();
  const auto before_digest = h_.digest();

  const auto r = h_.refused(alice_, engine::AttachGroup{share_, group});
  EXPECT_EQ(r.code, errc::conflict);
  EXPECT_NE(r.message.find("entry " + entry + " user:admin (ro) conflicts with access rule "
                           "user:admin (rw) granted by access rule"),
            std::string::npos)
      << r.message;
  EXPECT_EQ(h_.last(), before_seq);
  EXPECT_EQ(h_.digest(), before_digest);
}

TEST_F(EngineTest, EntryConflictingOnAttachedSharesNamesEveryShare) {
  const auto share2 = h_.create_share(alice_, "default", "second");
  const auto group = h_.create_group(alice_, "web", "ip");
  h_.attach(alice_, share_, group);
  h_.attach(alice_, share2, group);
  h_.allow(alice_, share_, "ip", "10.0.0.0/24", "ro");
  h_.allow(alice_, share2, "ip", "10.0.0.0/24", "ro");
  const auto before = h_.digest();
  const auto r = h_.refused(alice_, engine::AddEntry{group, "ip", "10.0.0.0/24", "rw"});
  EXPECT_EQ(r.code, errc::conflict);
  EXPECT_NE(r.message.find(share_), std::string::npos) << r.message;
  EXPECT_NE(r.message.find(share2), std::string::npos) << r.message;
  EXPECT_NE(r.message.find("from access group " + group), std::string::npos) << r.message;
  EXPECT_EQ(h_.digest(), before);
}

TEST_F(EngineTest, DirectRuleConflictingWithAGroupEntryIsRefused) {
  const auto group = h_.create_group(alice_, "ops", "user");
  h_.add_entry(alice_, group, "admin", "ro");
  h_.attach(alice_, share_, group);
  const auto r = h_.refused(alice_, engine::AllowAccess{share_, "user", "admin", "rw", {}});
  EXPECT_EQ(r.code, errc::conflict);
  EXPECT_NE(r.message.find("granted by access group ops (" + group + ")"), std::string::npos)
      << r.message;
}

TEST_F(EngineTest, CaseTwoDesiredStateIsTheWholeSetWhateverTheOrder) {
  // Two compatible groups attached in either order give the same effective set: a driver that
  // receives the current set converges whichever message it handles last.
  const auto share2 = h_.create_share(alice_, "default", "second");
  const auto ag1 = h_.create_group(alice_, "AG1", "user");
  h_.add_entry(alice_, ag1, "admin", "rw");
  const auto ag2 = h_.create_group(alice_, "AG2", "ip");
  h_.add_entry(alice_, ag2, "10.1.1.1");
  h_.attach(alice_, share_, ag1);
  h_.attach(alice_, share_, ag2);
  h_.attach(alice_, share2, ag2);
  h_.attach(alice_, share2, ag1);
  auto strip = [](std::vector<engine::EffectiveRule> rules) {
    for (auto& r : rules) r.since_version = r.entered_version = 0;
    return rules;
  };
  EXPECT_EQ(strip(effective(share_)), strip(effective(share2)));
  EXPECT_EQ(effective(share_).size(), 2u);
  EXPECT_EQ(share_row(share_).desired_version, share_row(share2).desired_version);
}

TEST_F(EngineTest, CaseThreePerRuleFailureMarksTheInstanceInErrorAndKeepsTheRules) {
  const auto group = h_.create_group(alice_, "AG1", "ip");
  for (auto ip : {"1.1.1.1", "2.2.2.2", "3.3.3.3"}) h_.add_entry(alice_, group, ip);
  h_.attach(alice_, share_, group);
  EXPECT_EQ(access_status(share_), "syncing");
  report(share_, {{{events::AccessType::ip, "3.3.3.3/32"}, "host unreachable"}});

  const auto in = instance_of(share_);
  EXPECT_TRUE(in.has_error);
  EXPECT_EQ(in.status_message, "1 access rule(s) failed to apply: ip:3.3.3.3/32 (host unreachable).");
  EXPECT_EQ(access_status(share_), "error");
  EXPECT_EQ(effective(share_).size(), 3u);  // the rules stay; only their state is error
  EXPECT_TRUE(outbox().empty());           // not sent again until the user acts

  // access_sync retries everything.
  h_.ok(alice_, engine::SyncAccess{share_});
  EXPECT_EQ(access_status(share_), "syncing");
  EXPECT_EQ(outbox().size(), 1u);
  report(share_);
  EXPECT_EQ(access_status(share_), "active");
}

TEST_F(EngineTest, DetachingOneOfTwoGroupsKeepsTheSharedRule) {
  const auto g1 = h_.create_group(alice_, "g1", "ip");
  const auto g2 = h_.create_group(alice_, "g2", "ip");
  h_.add_entry(alice_, g1, "10.0.0.0/24", "rw");
  h_.add_entry(alice_, g2, "10.0.0.0/24", "rw");
  const auto m1 = h_.attach(alice_, share_, g1);
  h_.attach(alice_, share_, g2);
  const auto version = share_row(share_).desired_version;
  h_.ok(alice_, engine::DenyAccess{share_, m1});
  const auto rules = effective(share_);
  ASSERT_EQ(rules.size(), 1u);
  EXPECT_EQ(rules[0].access_to, "10.0.0.0/24");
  EXPECT_EQ(rules[0].sources.size(), 1u);
  EXPECT_EQ(rules[0].sources[0].id, g2);
  // The effective set did not change, so the share is not reconciled again.
  EXPECT_EQ(share_row(share_).desired_version, version);
}

TEST_F(EngineTest, AProjectCannotAttachAnotherProjectsGroupNorSeeItsShares) {
  const auto group = h_.create_group(alice_, "private", "ip");
  const auto mallory_share = h_.create_share(mallory_, "default", "mallory");
  auto r = h_.refused(mallory_, engine::AttachGroup{mallory_share, group});
  EXPECT_EQ(r.code, errc::not_found);
  EXPECT_EQ(r.message, "Access group " + group + " could not be found.");
  r = h_.refused(mallory_, engine::AllowAccess{share_, "ip", "10.0.0.1", {}, {}});
  EXPECT_EQ(r.code, errc::not_found);
  EXPECT_EQ(r.message, "NotFound: Resource could not be found.");
  r = h_.refused(mallory_, engine::AttachGroup{share_, group});
  EXPECT_EQ(r.code, errc::not_found);
  r = h_.refused(mallory_, engine::AddEntry{group, std::nullopt, "10.0.0.1", std::nullopt});
  EXPECT_EQ(r.code, errc::not_found);
  // Not even an admin can join two projects' objects.
  r = h_.refused(EngineHarness::admin(), engine::AttachGroup{mallory_share, group});
  EXPECT_EQ(r.code, errc::bad_request);
}

TEST_F(EngineTest, EntryFanOutTouchesOnlyAttachedSharesWhoseSetChanges) {
  const auto group = h_.create_group(alice_, "fan", "ip");
  std::vector<std::string> attached;
  for (int i = 0; i < 5; ++i) {
    attached.push_back(h_.create_share(alice_, "default", "s" + std::to_string(i)));
    h_.attach(alice_, attached.back(), group);
  }
  // One attached share already grants the rule directly: its set will not change.
  h_.allow(alice_, attached[0], "ip", "192.168.0.0/16", "rw");
  std::map<std::string, std::uint64_t> before;
  for (const auto& s : attached) before[s] = share_row(s).desired_version;
  const auto unrelated = share_row(share_).desired_version;

  h_.add_entry(alice_, group, "192.168.0.0/16", "rw");
  EXPECT_EQ(share_row(attached[0]).desired_version, before[attached[0]]);
  for (std::size_t i = 1; i < attached.size(); ++i) {
    EXPECT_EQ(share_row(attached[i]).desired_version, before[attached[i]] + 1) << i;
  }
  EXPECT_EQ(share_row(share_).desired_version, unrelated);
}

TEST_F(EngineTest, DuplicateNetworksAreComparedByValue) {
  h_.allow(alice_, share_, "ip", "10.20.30.40");
  auto r = h_.refused(alice_, engine::AllowAccess{share_, "ip", "10.20.30.40/32", "ro", {}});
  EXPECT_EQ(r.code, errc::bad_request);
  EXPECT_EQ(r.message, "Share access ip:10.20.30.40/32 exists.");
  h_.allow(alice_, share_, "ip", "10.1.0.0/255.255.0.0");
  r = h_.refused(alice_, engine::AllowAccess{share_, "ip", "10.1.0.0/16", {}, {}});
  EXPECT_EQ(r.message, "Share access ip:10.1.0.0/16 exists.");
}

TEST_F(EngineTest, EntriesReadBackAsGivenWhateverTheirIdentity) {
  // Stored entries leave out what their key holds; access_to is kept only where it is not the
  // identity (a network given with a netmask).
  const auto group = h_.create_group(alice_, "nets", "ip");
  const auto given = h_.add_entry(alice_, group, "10.1.0.0/255.255.0.0", "ro");
  const auto canonical = h_.add_entry(alice_, group, "10.2.0.0/16", "rw");
  auto txn = lmdb::Txn::begin_read(h_.env());
  const auto entries = h_.store().entries(txn, group);
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_EQ(entries[0].id, given);
  EXPECT_EQ(entries[0].group_id, group);
  EXPECT_EQ(entries[0].access_type, events::AccessType::ip);
  EXPECT_EQ(entries[0].access_to, "10.1.0.0/255.255.0.0");
  EXPECT_EQ(entries[0].access_level, events::AccessLevel::ro);
  EXPECT_EQ(entries[1].id, canonical);
  EXPECT_EQ(entries[1].access_to, "10.2.0.0/16");
  EXPECT_EQ(entries[1].access_level, events::AccessLevel::rw);
  const auto state = h_.store().state(txn);
  EXPECT_EQ(state->entry(group, given), entries[0]);
  EXPECT_EQ(state->entry_by_identity(group, "10.1.0.0/16"), entries[0]);
}

TEST_F(EngineTest, ValidationIsManilas) {
  auto r = h_.refused(alice_, engine::AllowAccess{share_, "ip", "10.0.0.1/24", {}, {}});
  EXPECT_EQ(r.message, "10.0.0.1/24 has host bits set");
  r = h_.refused(alice_, engine::AllowAccess{share_, "user", "abc", {}, {}});
  EXPECT_EQ(r.code, errc::bad_request);
  r = h_.refused(alice_, engine::AllowAccess{share_, "ip", "10.0.0.1", "su", {}});
  EXPECT_EQ(r.message, "Invalid access rule: Invalid share access level: su.");
  r = h_.refused(alice_, engine::AllowAccess{share_, "nfs", "x", {}, {}});
  EXPECT_EQ(r.message, "Only 'ip', 'user', 'cert' or 'cephx' access types are supported.");
  r = h_.refused(alice_, engine::AllowAccess{share_, "ip", "10.0.0.1", {}, {{"", "v"}}});
  EXPECT_EQ(r.message, "Metadata property key is blank.");
}

TEST_F(EngineTest, GroupEntriesAllHaveTheGroupsType) {
  const auto group = h_.create_group(alice_, "users", "user");
  const auto r = h_.refused(alice_, engine::AddEntry{group, "ip", "10.0.0.1", {}});
  EXPECT_EQ(r.code, errc::bad_request);
  EXPECT_EQ(r.message, "Access group " + group +
                           " holds 'user' entries; an entry of type 'ip' cannot be added to it.");
  const auto dup_first = h_.add_entry(alice_, group, "demo");
  EXPECT_FALSE(dup_first.empty());
  EXPECT_EQ(h_.refused(alice_, engine::AddEntry{group, "user", "demo", "ro"}).message,
            "Access group entry user:demo exists.");
}

TEST_F(EngineTest, ShareOnAMissingBackEndIsInErrorAndRefusesRules) {
  h_.create_type("nowhere", "no-such-backend");
  const auto share = h_.create_share(alice_, "nowhere", "lost");
  EXPECT_EQ(share_row(share).status, "error");
  EXPECT_EQ(instance_of(share).host, "");
  const auto r = h_.refused(alice_, engine::AllowAccess{share, "ip", "10.0.0.1", {}, {}});
  EXPECT_EQ(r.message,
            "New access rules cannot be applied while the share or any of its replicas or "
            "migration copies lacks a valid host or is in an invalid state.");
}

TEST_F(EngineTest, ShareTypesFollowManilasExtraSpecRules) {
  auto r = h_.refused(EngineHarness::admin(), engine::CreateShareType{"bare", "", true, {}});
  EXPECT_EQ(r.message,
            "Invalid extra_spec: Required extra specs 'driver_handles_share_servers' not "
            "specified.");
  r = h_.refused(EngineHarness::admin(),
                 engine::CreateShareType{"odd", "", true, {{"driver_handles_share_servers", "maybe"}}});
  EXPECT_EQ(r.message,
            "Invalid extra_spec: Value of required extra_spec driver_handles_share_servers is not "
            "valid.");
  // A type whose driver handles share servers needs a share network, which Agate has not.
  h_.ok(EngineHarness::admin(),
        engine::CreateShareType{"dhss", "", true, {{"driver_handles_share_servers", "True"}}});
  engine::CreateShare c{"s", "", "NFS", 1, "dhss", false, "", {}, {}, {}, "", {}, {}};
  EXPECT_EQ(h_.refused(alice_, c).message,
            "Share network must be set when the driver_handles_share_servers is true.");
  // A private type is not found but by an administrator.
  h_.ok(EngineHarness::admin(),
        engine::CreateShareType{"private", "", false, {{"driver_handles_share_servers", "False"}}});
  c.share_type = "private";
  EXPECT_EQ(h_.refused(alice_, c).code, errc::not_found);
  EXPECT_FALSE(h_.ok(EngineHarness::admin(), c).empty());
}

TEST_F(EngineTest, OnlyASettledShareCanBeDeleted) {
  h_.ok(EngineHarness::admin(), engine::SetShareStatus{share_, "extending"});
  const auto r = h_.refused(alice_, engine::DeleteShare{share_});
  EXPECT_EQ(r.code, errc::forbidden);
  EXPECT_EQ(r.message,
            "Invalid share: Share status must be one of ('available', 'error', 'inactive').");
  h_.ok(EngineHarness::admin(), engine::SetShareStatus{share_, "error"});
  h_.ok(alice_, engine::DeleteShare{share_});
}

TEST_F(EngineTest, DeletingAnAttachedGroupNeedsForceWhichDetachesEverywhere) {
  const auto group = h_.create_group(alice_, "g", "ip");
  h_.add_entry(alice_, group, "10.9.0.0/16");
  h_.attach(alice_, share_, group);
  auto r = h_.refused(alice_, engine::DeleteAccessGroup{group, false, std::nullopt});
  EXPECT_EQ(r.code, errc::conflict);
  EXPECT_NE(r.message.find(share_), std::string::npos);
  const auto events = h_.ok(alice_, engine::DeleteAccessGroup{group, true, std::nullopt});
  ASSERT_EQ(events.size(), 2u);
  EXPECT_TRUE(std::holds_alternative<events::GroupDetached>(events[0].body));
  EXPECT_TRUE(std::holds_alternative<events::AccessGroupDeleted>(events[1].body));
  EXPECT_TRUE(effective(share_).empty());
  EXPECT_EQ(h_.digest(), h_.rebuild_digest());
}

TEST_F(EngineTest, DeniedRuleStaysUntilItsRemovalIsApplied) {
  const auto rule = h_.allow(alice_, share_, "ip", "10.0.0.1");
  report(share_);
  h_.ok(alice_, engine::DenyAccess{share_, rule});
  {
    auto txn = lmdb::Txn::begin_read(h_.env());
    auto rules = h_.store().rules(txn, share_);
    ASSERT_EQ(rules.size(), 1u);
    EXPECT_NE(rules[0].denied_version, 0u);
  }
  EXPECT_TRUE(effective(share_).empty());
  // Still blocks a duplicate, as in Manila.
  EXPECT_EQ(h_.refused(alice_, engine::AllowAccess{share_, "ip", "10.0.0.1", {}, {}}).message,
            "Share access ip:10.0.0.1 exists.");
  report(share_);
  auto txn = lmdb::Txn::begin_read(h_.env());
  EXPECT_TRUE(h_.store().rules(txn, share_).empty());
}

TEST_F(EngineTest, StaleDriverOutcomeChangesNothing) {
  h_.allow(alice_, share_, "ip", "10.0.0.1");
  report(share_);
  h_.allow(alice_, share_, "ip", "10.0.0.2");
  report(share_);
  const auto before = instance_of(share_);
  events::DriverOutcome stale;
  stale.share_id = share_;
  stale.instance_id = before.id;
  stale.applied_version = before.applied_version - 1;
  stale.call_succeeded = false;
  stale.message = "old failure";
  h_.ok(EngineHarness::admin(), engine::RecordDriverOutcome{stale});
  EXPECT_EQ(instance_of(share_), before);
  EXPECT_EQ(access_status(share_), "active");
  // An outcome for a version never desired is refused outright.
  auto future = stale;
  future.applied_version = share_row(share_).desired_version + 1;
  EXPECT_EQ(h_.refused(EngineHarness::admin(), engine::RecordDriverOutcome{future}).code,
            errc::bad_request);
}

TEST_F(EngineTest, LimitsAreOverLimit) {
  projections::StoreOptions o = testing::default_store_options();
  o.limits.max_entries_per_group = 2;
  EngineHarness small(7, o);
  const auto group = small.create_group(alice_, "tiny", "ip");
  small.add_entry(alice_, group, "10.0.0.1");
  small.add_entry(alice_, group, "10.0.0.2");
  const auto r = small.refused(alice_, engine::AddEntry{group, {}, "10.0.0.3", {}});
  EXPECT_EQ(r.code, errc::over_limit);
}

TEST_F(EngineTest, EverythingSurvivesAReopenAndEqualsARebuild) {
  const auto group = h_.create_group(alice_, "g", "ip");
  h_.add_entry(alice_, group, "10.0.0.0/8");
  h_.attach(alice_, share_, group);
  h_.allow(alice_, share_, "user", "bob_1");
  const auto digest = h_.digest();
  const auto last = h_.last();
  h_.reopen();
  EXPECT_EQ(h_.digest(), digest);
  EXPECT_EQ(h_.last(), last);
  EXPECT_EQ(h_.rebuild_digest(), digest);
}

}  // namespace
}  // namespace agate
