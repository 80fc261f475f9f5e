// Resource locks in the engine and the projections: what decide() writes for each lock and what
// it refuses, the locks that go with a denied rule or a deleted share, and the projections'
// lock tables rebuilt from the log equal to the live ones.

#include <gtest/gtest.h>

#include "tests/support/engine_harness.h"

namespace agate {
namespace {

using engine::errc;
using events::LockAction;
using events::LockContext;
using events::LockResourceType;
using testing::EngineHarness;

class LocksTest : public ::testing::Test {
 protected:
  void SetUp() override {
    h_.create_type("default");
    share_ = h_.create_share(alice_);
  }

  std::vector<engine::LockRow> locks() {
    auto txn = lmdb::Txn::begin_read(h_.env());
    return h_.store().locks(txn);
  }
  std::vector<engine::LockRow> locks_of_share(const std::string& share) {
    auto txn = lmdb::Txn::begin_read(h_.env());
    return h_.store().locks_of_share(txn, share);
  }
  std::string lock(const engine::Context& ctx, const std::string& id,
                   const std::string& type = "share", const std::string& action = "delete") {
    auto events = h_.ok(ctx, engine::CreateResourceLock{id, type, action, "why"});
    EXPECT_EQ(events.size(), 1u);
    return std::get<events::ResourceLockCreated>(events.at(0).body).lock_id;
  }

  EngineHarness h_;
  engine::Context alice_ = EngineHarness::member("project-a", "alice");
  engine::Context admin_ = EngineHarness::admin();
  std::string share_;
};

TEST_F(LocksTest, ALockIsOneEventWithWhoPlacedItInTheEnvelope) {
  auto service = alice_;
  service.is_service = true;
  auto events =
      h_.ok(service, engine::CreateResourceLock{share_, std::nullopt, std::nullopt, "maintenance"});
  ASSERT_EQ(events.size(), 1u);
  const auto& created = std::get<events::ResourceLockCreated>(events[0].body);
  EXPECT_EQ(events[0].project_id, "project-a");
  EXPECT_EQ(events[0].user_id, "alice");
  EXPECT_EQ(created.resource_type, LockResourceType::share);
  EXPECT_EQ(created.resource_action, LockAction::delete_);
  EXPECT_EQ(created.lock_context, LockContext::service);
  EXPECT_EQ(created.share_id, share_);
  auto rows = locks();
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].lock_reason, "maintenance");
  EXPECT_EQ(rows[0].created_at, events[0].time_micros);
}

TEST_F(LocksTest, DecideRefusesTheDeletionOfALockedShare) {
  const auto id = lock(alice_, share_);
  auto r = h_.refused(alice_, engine::DeleteShare{share_});
  EXPECT_EQ(r.code, errc::forbidden);
  EXPECT_EQ(r.message, "Resource lock/s [" + id + "] prevent delete action.");
  r = h_.refused(alice_, engine::SoftDeleteShare{share_});
  EXPECT_EQ(r.code, errc::forbidden);
  h_.ok(alice_, engine::DeleteResourceLock{id});
  h_.ok(alice_, engine::DeleteShare{share_});
}

TEST_F(LocksTest, ADeniedRuleTakesItsLocksAndTheirShareLocksWithIt) {
  engine::AllowAccess allow{share_, "ip", "10.0.0.1", std::nullopt, {}};
  allow.locks.lock_deletion = true;
  allow.locks.lock_visibility = true;
  auto events = h_.ok(alice_, allow);
  ASSERT_EQ(events.size(), 4u);  // the rule, its deletion lock, the share's, its visibility lock
  const auto rule = std::get<events::RuleAllowed>(events[0].body).rule_id;
  EXPECT_EQ(locks_of_share(share_).size(), 3u);
  EXPECT_EQ(h_.refused(alice_, engine::DenyAccess{share_, rule}).code, errc::forbidden);
  events = h_.ok(alice_, engine::DenyAccess{share_, rule, true});
  std::size_t dropped = 0;
  for (const auto& e : events) {
    dropped += std::holds_alternative<events::ResourceLockDeleted>(e.body);
  }
  EXPECT_EQ(dropped, 3u);
  EXPECT_TRUE(locks().empty());
  EXPECT_EQ(h_.digest(), h_.rebuild_digest());
}

TEST_F(LocksTest, ADeletedShareTakesTheLocksOfItsRules) {
  const auto rule = h_.allow(alice_, share_, "ip", "10.0.0.2");
  lock(alice_, rule, "access_rule", "show");
  lock(alice_, rule, "access_rule", "delete");  // placed alone: no share lock
  h_.ok(alice_, engine::DeleteShare{share_});
  EXPECT_TRUE(locks().empty());
  EXPECT_EQ(h_.digest(), h_.rebuild_digest());
}

TEST_F(LocksTest, ContextsDecideWhoMayDropALock) {
  const auto by_admin = lock(admin_, share_);
  // Alice's project does not hold the admin's lock: it is not found for her.
  EXPECT_EQ(h_.refused(alice_, engine::DeleteResourceLock{by_admin}).code, errc::not_found);
  auto service = alice_;
  service.is_service = true;
  const auto by_service = lock(service, share_);
  auto r = h_.refused(alice_, engine::UpdateResourceLock{by_service, std::nullopt, "mine"});
  EXPECT_EQ(r.code, errc::forbidden);
  EXPECT_EQ(r.message,
            "Resource lock cannot be manipulated by user. Please contact the administrator.");
  h_.ok(service, engine::UpdateResourceLock{by_service, std::nullopt, "renewed"});
  h_.ok(admin_, engine::DeleteResourceLock{by_service});
  h_.ok(admin_, engine::DeleteResourceLock{by_admin});
  EXPECT_TRUE(locks().empty());
}

TEST_F(LocksTest, AGroupLockRefusesItsDeletionEvenWithForce) {
  const auto group = h_.create_group(alice_, "web");
  const auto id = lock(alice_, group, "access_group");
  auto r = h_.refused(alice_, engine::DeleteAccessGroup{group, true, std::nullopt});
  EXPECT_EQ(r.code, errc::forbidden);
  EXPECT_EQ(r.message, "Resource lock/s [" + id + "] prevent delete action.");
  EXPECT_EQ(h_.refused(alice_, engine::CreateResourceLock{group, "access_group", "show", {}}).code,
            errc::bad_request);
}

TEST_F(LocksTest, LocksSurviveAReopenAndARebuild) {
  lock(alice_, share_);
  const auto rule = h_.allow(alice_, share_, "ip", "10.0.0.3");
  const auto id = lock(alice_, rule, "access_rule", "show");
  h_.ok(alice_, engine::UpdateResourceLock{id, "delete", "changed"});
  h_.reopen();
  EXPECT_EQ(locks().size(), 2u);
  EXPECT_EQ(h_.digest(), h_.rebuild_digest());
}

}  // namespace
}  // namespace agate
