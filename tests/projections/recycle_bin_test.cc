// The recycle bin on LMDB (Manila 2.69): soft deletion and restore through the writer, what a
// share in the bin keeps and what it refuses, the bin's index by time, and the purge of the
// shares whose time is up, decided at the writer's clock.

#include <gtest/gtest.h>

#include <thread>

#include "engine/recycle_bin.h"
#include "tests/support/engine_harness.h"

namespace agate {
namespace {

using engine::errc;
using namespace std::chrono_literals;
using testing::EngineHarness;

constexpr std::chrono::seconds kRetention{3600};

projections::StoreOptions options() {
  auto o = testing::default_store_options();
  o.soft_deleted_share_retention = kRetention;
  return o;
}

class RecycleBinTest : public ::testing::Test {
 protected:
  void SetUp() override {
    h_.create_type("default");
    share_ = h_.create_share(alice_);
  }

  engine::ShareRow row(const std::string& id) {
    auto txn = lmdb::Txn::begin_read(h_.env());
    auto share = h_.store().share(txn, id);
    EXPECT_TRUE(share) << id;
    return share.value_or(engine::ShareRow{});
  }
  bool exists(const std::string& id) {
    auto txn = lmdb::Txn::begin_read(h_.env());
    return h_.store().share(txn, id).has_value();
  }
  std::vector<projections::RecycleBinEntry> bin(std::int64_t until = INT64_MAX) {
    auto txn = lmdb::Txn::begin_read(h_.env());
    return h_.store().recycle_bin(txn, until);
  }
  std::vector<std::string> listed(bool soft_deleted) {
    auto txn = lmdb::Txn::begin_read(h_.env());
    projections::ShareFilter f;
    f.soft_deleted = soft_deleted;
    std::vector<std::string> ids;
    for (const auto& s : h_.store().list_shares(txn, f, {})) ids.push_back(s.id);
    return ids;
  }
  std::vector<projections::OutboxEntry> outbox() {
    auto txn = lmdb::Txn::begin_read(h_.env());
    return h_.store().outbox(txn);
  }
  std::vector<engine::EffectiveRule> effective(const std::string& share) {
    auto txn = lmdb::Txn::begin_read(h_.env());
    return h_.store().effective_rules(txn, share);
  }
  // Soft-deletes `share` and returns the time it is to be deleted at.
  std::int64_t soft_delete(const std::string& share) {
    auto events = h_.ok(alice_, engine::SoftDeleteShare{share});
    EXPECT_EQ(events.size(), 1u);
    if (events.empty()) return 0;
    return std::get<events::ShareSoftDeleted>(events.at(0).body)
        .scheduled_to_be_deleted_at_micros;
  }
  // Expects `command` refused with `code` and `message`, and nothing written.
  void expect_refused(const engine::Context& ctx, engine::Command command, errc code,
                      const std::string& message) {
    const auto seq = h_.last();
    const auto digest = h_.digest();
    const auto r = h_.refused(ctx, std::move(command));
    EXPECT_EQ(r.code, code) << r.message;
    EXPECT_EQ(r.message, message);
    EXPECT_EQ(h_.last(), seq);
    EXPECT_EQ(h_.digest(), digest);
  }

  EngineHarness h_{1, options()};
  engine::Context alice_ = EngineHarness::member("project-a", "alice");
  engine::Context mallory_ = EngineHarness::member("project-b", "mallory");
  std::string share_;
};

TEST_F(RecycleBinTest, ASoftDeletedShareKeepsItsAccessAndIsIndexedByItsTime) {
  h_.allow(alice_, share_, "ip", "10.0.0.0/24");
  const auto group = h_.create_group(alice_, "web");
  h_.add_entry(alice_, group, "10.0.1.0/24", "ro");
  h_.attach(alice_, share_, group);
  const auto before = row(share_);
  const auto rules = effective(share_);
  const auto waiting = outbox();

  const auto now = h_.now();
  const auto at = soft_delete(share_);
  EXPECT_GE(at, now + std::chrono::microseconds(kRetention).count());
  EXPECT_LE(at, h_.now() + std::chrono::microseconds(kRetention).count());

  const auto after = row(share_);
  EXPECT_TRUE(after.is_soft_deleted);
  EXPECT_EQ(after.scheduled_to_be_deleted_at, at);
  EXPECT_EQ(after.status, before.status);
  // Its access is untouched: the same rules, no new desired version, nothing for the back end.
  EXPECT_EQ(after.desired_version, before.desired_version);
  EXPECT_EQ(effective(share_), rules);
  EXPECT_EQ(outbox(), waiting);
  auto txn = lmdb::Txn::begin_read(h_.env());
  EXPECT_EQ(h_.store().groups_of_share(txn, share_).size(), 1u);
  txn.abort();

  EXPECT_EQ(bin(), (std::vector<projections::RecycleBinEntry>{{share_, at}}));
  EXPECT_TRUE(listed(false).empty());
  EXPECT_EQ(listed(true), std::vector<std::string>{share_});
  EXPECT_EQ(h_.digest(), h_.rebuild_digest());
}

TEST_F(RecycleBinTest, SoftDeleteRefusesWhatManilaRefuses) {
  expect_refused(mallory_, engine::SoftDeleteShare{share_}, errc::not_found,
                 "The resource could not be found.");
  expect_refused(alice_, engine::SoftDeleteShare{"no-such-share"}, errc::not_found,
                 "The resource could not be found.");
  h_.ok(EngineHarness::admin(), engine::SetShareStatus{share_, "extending"});
  expect_refused(alice_, engine::SoftDeleteShare{share_}, errc::forbidden,
                 "Invalid share: Share status must be one of ('available', 'error', "
                 "'inactive').");
  h_.ok(EngineHarness::admin(), engine::SetShareStatus{share_, "error"});
  soft_delete(share_);  // error is one of them
  expect_refused(alice_, engine::SoftDeleteShare{share_}, errc::forbidden,
                 "Invalid share: The share has been soft deleted already.");
  // An administrator acts on any project's share.
  const auto other = h_.create_share(mallory_);
  EXPECT_EQ(h_.ok(EngineHarness::admin(), engine::SoftDeleteShare{other}).size(), 1u);
}

TEST_F(RecycleBinTest, RestoreBringsTheShareBackAsItWent) {
  const auto rule = h_.allow(alice_, share_, "user", "alice_01");
  const auto rules = effective(share_);
  soft_delete(share_);
  const auto events = h_.ok(alice_, engine::RestoreShare{share_});
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(std::get<events::ShareRestored>(events.at(0).body).share_id, share_);
  const auto after = row(share_);
  EXPECT_FALSE(after.is_soft_deleted);
  EXPECT_EQ(after.scheduled_to_be_deleted_at, 0);
  EXPECT_EQ(effective(share_), rules);
  EXPECT_TRUE(bin().empty());
  EXPECT_EQ(listed(false), std::vector<std::string>{share_});
  // Its access may change again.
  h_.ok(alice_, engine::DenyAccess{share_, rule});
  EXPECT_EQ(h_.digest(), h_.rebuild_digest());
}

TEST_F(RecycleBinTest, RestoringAShareNotInTheBinWritesNothing) {
  const auto seq = h_.last();
  EXPECT_TRUE(h_.ok(alice_, engine::RestoreShare{share_}).empty());
  EXPECT_EQ(h_.last(), seq);
  soft_delete(share_);
  expect_refused(mallory_, engine::RestoreShare{share_}, errc::not_found,
                 "No share exists with ID " + share_ + ".");
  expect_refused(alice_, engine::RestoreShare{"nope"}, errc::not_found,
                 "No share exists with ID nope.");
}

TEST_F(RecycleBinTest, TheShareOwnAccessAndStatusAreFrozenInTheBin) {
  const auto rule = h_.allow(alice_, share_, "ip", "10.0.0.0/24");
  const auto group = h_.create_group(alice_, "web");
  const auto mapping = h_.attach(alice_, share_, group);
  const auto other_group = h_.create_group(alice_, "db");
  soft_delete(share_);
  const auto refused = [&](std::string_view what) {
    return "Cannot " + std::string(what) + " for share '" + share_ +
           "' since it has been soft deleted.";
  };
  expect_refused(alice_, engine::AllowAccess{share_, "ip", "10.9.0.0/16", "ro", {}},
                 errc::forbidden, refused("allow access"));
  // Checked before the request's own values, as Manila does.
  expect_refused(alice_, engine::AllowAccess{share_, "nfs", "x", "su", {}}, errc::forbidden,
                 refused("allow access"));
  expect_refused(alice_, engine::AttachGroup{share_, other_group}, errc::forbidden,
                 refused("allow access"));
  expect_refused(alice_, engine::DenyAccess{share_, rule}, errc::forbidden,
                 refused("deny access"));
  expect_refused(alice_, engine::DenyAccess{share_, mapping}, errc::forbidden,
                 refused("deny access"));
  expect_refused(alice_, engine::SyncAccess{share_}, errc::forbidden, refused("sync access"));
  expect_refused(EngineHarness::admin(), engine::SetShareStatus{share_, "error"},
                 errc::forbidden,
                 "status cannot be reset for share '" + share_ +
                     "' since it has been soft deleted.");
  // Another project still learns nothing of it.
  expect_refused(mallory_, engine::AllowAccess{share_, "ip", "10.9.0.0/16", "ro", {}},
                 errc::not_found, "NotFound: Resource could not be found.");
}

TEST_F(RecycleBinTest, GroupEntriesStillReachAShareInTheBin) {
  // The back end still exports the share: a revoke through its group must reach it at once, and
  // its effective rules stay the union of its sources.
  const auto group = h_.create_group(alice_, "web");
  const auto kept = h_.add_entry(alice_, group, "10.0.0.0/24");
  h_.attach(alice_, share_, group);
  soft_delete(share_);
  const auto version = row(share_).desired_version;
  const auto added = h_.add_entry(alice_, group, "10.0.1.0/24", "ro");
  EXPECT_EQ(effective(share_).size(), 2u);
  EXPECT_EQ(row(share_).desired_version, version + 1);
  h_.ok(alice_, engine::RemoveEntry{group, kept, std::nullopt});
  ASSERT_EQ(effective(share_).size(), 1u);
  EXPECT_EQ(effective(share_).at(0).access_to, "10.0.1.0/24");
  EXPECT_EQ(row(share_).desired_version, version + 2);
  EXPECT_EQ(outbox().size(), 1u);  // its instance is reconciled as any other
  EXPECT_TRUE(row(share_).is_soft_deleted);
  (void)added;
  EXPECT_EQ(h_.digest(), h_.rebuild_digest());
}

TEST_F(RecycleBinTest, DeleteRemovesAShareInTheBinAtOnce) {
  soft_delete(share_);
  h_.ok(alice_, engine::DeleteShare{share_});
  EXPECT_FALSE(exists(share_));
  EXPECT_TRUE(bin().empty());
  EXPECT_EQ(h_.digest(), h_.rebuild_digest());
}

TEST_F(RecycleBinTest, ThePurgeDeletesOnlyExpiredSharesEarliestFirst) {
  const auto second = h_.create_share(alice_, "default", "second");
  const auto third = h_.create_share(alice_, "default", "third");
  const auto kept = h_.create_share(alice_, "default", "kept");
  h_.allow(alice_, share_, "ip", "10.0.0.0/24");
  const auto first_at = soft_delete(share_);
  h_.advance_clock(10min);
  const auto second_at = soft_delete(second);
  h_.advance_clock(10min);
  const auto third_at = soft_delete(third);
  ASSERT_LT(first_at, second_at);
  ASSERT_LT(second_at, third_at);
  const auto sys = EngineHarness::admin();

  // Nothing has expired yet.
  const auto seq = h_.last();
  EXPECT_TRUE(h_.ok(sys, engine::PurgeExpiredShares{}).empty());
  EXPECT_EQ(h_.last(), seq);

  // The first two expire; a batch of one takes the earliest.
  h_.advance_clock(std::chrono::microseconds(second_at - h_.now()) + 1ms);
  ASSERT_GT(h_.now(), second_at);
  ASSERT_LT(h_.now(), third_at);
  auto events = h_.ok(sys, engine::PurgeExpiredShares{1});
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(std::get<events::ShareDeleted>(events.at(0).body).share_id, share_);
  EXPECT_EQ(events.at(0).project_id, "project-a");  // the share's, not the system's
  events = h_.ok(sys, engine::PurgeExpiredShares{});
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(std::get<events::ShareDeleted>(events.at(0).body).share_id, second);
  EXPECT_FALSE(exists(share_));
  EXPECT_FALSE(exists(second));
  EXPECT_TRUE(exists(third));
  EXPECT_TRUE(exists(kept));
  EXPECT_EQ(bin(), (std::vector<projections::RecycleBinEntry>{{third, third_at}}));
  // Deleted the usual way: the purged share's back end is told to drop its rules.
  bool retired = false;
  for (const auto& o : outbox()) retired |= o.share_id == share_;
  EXPECT_TRUE(retired);

  // A share restored in time is not purged.
  h_.ok(alice_, engine::RestoreShare{third});
  h_.advance_clock(std::chrono::microseconds(kRetention) * 2);
  EXPECT_TRUE(h_.ok(sys, engine::PurgeExpiredShares{}).empty());
  EXPECT_TRUE(exists(third));
  EXPECT_EQ(h_.digest(), h_.rebuild_digest());
}

TEST_F(RecycleBinTest, OnlyTheSystemPurges) {
  soft_delete(share_);
  h_.advance_clock(std::chrono::microseconds(kRetention) + 1s);
  expect_refused(alice_, engine::PurgeExpiredShares{}, errc::forbidden,
                 "Only the system purges the recycle bin.");
  EXPECT_TRUE(exists(share_));
}

TEST_F(RecycleBinTest, TheIndexHoldsOnlyTheBinInTimeOrder) {
  std::vector<std::string> shares;
  for (int i = 0; i < 20; ++i) shares.push_back(h_.create_share(alice_, "default", "s"));
  // Soft-deleted in reverse id order, so that time order is not id order.
  std::vector<std::int64_t> at;
  for (int i = 19; i >= 10; --i) {
    at.push_back(soft_delete(shares[i]));
    h_.advance_clock(1s);
  }
  const auto all = bin();
  ASSERT_EQ(all.size(), 10u);
  for (std::size_t i = 0; i < all.size(); ++i) {
    EXPECT_EQ(all[i].share_id, shares[19 - i]);
    EXPECT_EQ(all[i].scheduled_to_be_deleted_at, at[i]);
  }
  EXPECT_EQ(bin(at[3]).size(), 4u);
  EXPECT_TRUE(bin(at[0] - 1).empty());
  auto txn = lmdb::Txn::begin_read(h_.env());
  EXPECT_EQ(h_.store().state(txn)->expired_shares(at[5], 3),
            (std::vector<std::string>{shares[19], shares[18], shares[17]}));
  EXPECT_EQ(h_.store().recycle_bin(txn, INT64_MAX, 0).size(), 0u);
}

TEST_F(RecycleBinTest, ThePurgerDeletesInBatchesUntilTheBinHoldsNoExpiredShare) {
  std::vector<std::string> shares{share_};
  for (int i = 0; i < 6; ++i) shares.push_back(h_.create_share(alice_, "default", "s"));
  for (const auto& s : shares) soft_delete(s);
  const auto young = h_.create_share(alice_, "default", "young");
  h_.advance_clock(std::chrono::microseconds(kRetention) + 1s);
  soft_delete(young);

  engine::RecycleBinPurger purger(h_.writer(), {std::chrono::hours(1), 2});
  const auto purged = purger.purge();
  ASSERT_TRUE(purged) << purged.error().message;
  EXPECT_EQ(*purged, shares.size());
  for (const auto& s : shares) EXPECT_FALSE(exists(s)) << s;
  EXPECT_TRUE(exists(young));
  EXPECT_EQ(h_.digest(), h_.rebuild_digest());
}

TEST_F(RecycleBinTest, ThePurgerRunsOnItsOwnEveryInterval) {
  soft_delete(share_);
  std::mutex mutex;
  std::vector<engine::PurgeOutcome> reports;
  engine::RecycleBinPurger purger(h_.writer(), {10ms, 100}, [&](const engine::PurgeOutcome& o) {
    std::lock_guard lock(mutex);
    reports.push_back(o);
  });
  purger.start();
  std::this_thread::sleep_for(50ms);
  EXPECT_TRUE(exists(share_));  // not expired: several purges found nothing, and said nothing
  {
    std::lock_guard lock(mutex);
    EXPECT_TRUE(reports.empty());
  }
  h_.advance_clock(std::chrono::microseconds(kRetention) + 1s);
  for (int i = 0; i < 500 && exists(share_); ++i) std::this_thread::sleep_for(10ms);
  EXPECT_FALSE(exists(share_));
  purger.stop();
  std::lock_guard lock(mutex);
  ASSERT_EQ(reports.size(), 1u);
  ASSERT_TRUE(reports[0]);
  EXPECT_EQ(*reports[0], 1u);
}

}  // namespace
}  // namespace agate
