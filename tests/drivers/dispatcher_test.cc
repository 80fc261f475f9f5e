// The dispatcher with the fake driver: level-triggered reconciliation of every affected instance.

#include "drivers/dispatcher.h"

#include <gtest/gtest.h>

#include <mutex>
#include <thread>

#include "drivers/fake_driver.h"
#include "tests/support/engine_harness.h"

namespace agate::drivers {
namespace {

using engine::errc;
using testing::EngineHarness;

class DispatcherTest : public ::testing::Test {
 protected:
  void SetUp() override {
    fake_ = make_fake_driver();
    // The writer's thread calls this while the test's thread starts and drops dispatchers.
    h_.set_commit_listener([this](const std::vector<projections::OutboxEntry>& dirty) {
      std::lock_guard lock(dispatcher_mutex_);
      if (dispatcher_) dispatcher_->notify(dirty);
    });
    h_.create_type("default");
  }
  void TearDown() override { stop(); }

  void start() {
    auto d = std::make_unique<Dispatcher>(
        h_.env(), h_.store(), h_.writer(),
        std::map<std::string, std::shared_ptr<Driver>>{{"nfs1", fake_}}, DispatcherOptions{4});
    d->start();
    std::lock_guard lock(dispatcher_mutex_);
    dispatcher_ = std::move(d);
  }
  // Stops the dispatcher and destroys it at once, as an owner may.
  void stop() {
    std::unique_ptr<Dispatcher> d;
    {
      std::lock_guard lock(dispatcher_mutex_);
      d = std::move(dispatcher_);
    }
    if (d) d->stop();
  }

  // Waits until no instance is waiting for its back end.
  void settle() {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (std::chrono::steady_clock::now() < deadline) {
      {
        auto txn = lmdb::Txn::begin_read(h_.env());
        if (h_.store().outbox(txn, 1).empty()) return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    FAIL() << "the outbox did not drain";
  }

  engine::ShareRow share(const std::string& id) {
    auto txn = lmdb::Txn::begin_read(h_.env());
    return *h_.store().share(txn, id);
  }
  engine::InstanceRow instance(const std::string& share_id) {
    auto txn = lmdb::Txn::begin_read(h_.env());
    return h_.store().instances(txn, *h_.store().share(txn, share_id)).at(0);
  }
  std::string status(const std::string& share_id) {
    auto txn = lmdb::Txn::begin_read(h_.env());
    return h_.store().share_access_rules_status(txn, *h_.store().share(txn, share_id));
  }
  std::map<events::RuleKey, events::AccessLevel> exported(const std::string& share_id) {
    return fake_->exports(instance(share_id).id);
  }

  EngineHarness h_;
  std::shared_ptr<FakeDriver> fake_;
  std::mutex dispatcher_mutex_;  // guards dispatcher_ (not the Dispatcher)
  std::unique_ptr<Dispatcher> dispatcher_;
  engine::Context alice_ = EngineHarness::member("project-a");
};

const events::RuleKey kNet{events::AccessType::ip, "10.0.0.0/24"};

TEST_F(DispatcherTest, AnEntryAddedToAGroupReachesEveryAttachedShare) {
  start();
  const auto group = h_.create_group(alice_, "fan", "ip");
  std::vector<std::string> shares;
  for (int i = 0; i < 40; ++i) {
    shares.push_back(h_.create_share(alice_, "default", "s" + std::to_string(i)));
    h_.attach(alice_, shares.back(), group);
  }
  settle();
  h_.add_entry(alice_, group, "10.0.0.0/24", "ro");
  settle();
  for (const auto& s : shares) {
    const auto rules = exported(s);
    ASSERT_EQ(rules.size(), 1u) << s;
    EXPECT_EQ(rules.at(kNet), events::AccessLevel::ro);
    EXPECT_EQ(status(s), "active");
    EXPECT_EQ(instance(s).applied_version, share(s).desired_version);
  }
  EXPECT_EQ(h_.digest(), h_.rebuild_digest());
}

TEST_F(DispatcherTest, CaseThreeFailedRulesAreErrorTheOthersActiveAndTheyAreNotResent) {
  FakeOptions options;
  options.fail_rules_matching = "^3\\.3\\.3\\.3";
  options.failure_message = "host unreachable";
  fake_->set_options(options);
  start();
  const auto s = h_.create_share(alice_);
  const auto group = h_.create_group(alice_, "AG1", "ip");
  for (auto ip : {"1.1.1.1", "2.2.2.2", "3.3.3.3"}) h_.add_entry(alice_, group, ip);
  h_.attach(alice_, s, group);
  settle();
  EXPECT_EQ(status(s), "error");
  EXPECT_EQ(instance(s).status_message,
            "1 access rule(s) failed to apply: ip:3.3.3.3/32 (host unreachable).");
  EXPECT_EQ(exported(s).size(), 2u);

  // The next change does not send the failed rule again.
  const auto calls = fake_->call_count();
  h_.allow(alice_, s, "ip", "4.4.4.4");
  settle();
  ASSERT_GT(fake_->call_count(), calls);
  const auto last = fake_->calls().back();
  for (const auto& r : last.access_rules) EXPECT_NE(r.key.access_to, "3.3.3.3/32");
  EXPECT_EQ(status(s), "error");

  // access_sync retries everything; with the back end mended, all is active.
  fake_->set_options({});
  h_.ok(alice_, engine::SyncAccess{s});
  settle();
  EXPECT_EQ(status(s), "active");
  EXPECT_EQ(exported(s).size(), 4u);
}

// A level changed in place reaches the driver as an update rule (Manila's update_rules): in
// access_rules at its new level, neither added nor deleted.
TEST_F(DispatcherTest, ALevelUpdateReachesTheDriverAsAnUpdateRule) {
  start();
  const auto s = h_.create_share(alice_);
  const auto rule = h_.allow(alice_, s, "ip", "10.0.0.0/24", "ro");
  settle();
  EXPECT_EQ(exported(s).at(kNet), events::AccessLevel::ro);
  h_.ok(alice_, engine::UpdateAccessLevel{rule, "rw"});
  settle();
  const auto last = fake_->calls().back();
  EXPECT_TRUE(last.add_rules.empty());
  EXPECT_TRUE(last.delete_rules.empty());
  EXPECT_EQ(last.update_rules, (std::vector<AccessRule>{{kNet, events::AccessLevel::rw}}));
  EXPECT_EQ(last.access_rules, (std::vector<AccessRule>{{kNet, events::AccessLevel::rw}}));
  EXPECT_EQ(exported(s).at(kNet), events::AccessLevel::rw);
  EXPECT_EQ(status(s), "active");
  {
    auto txn = lmdb::Txn::begin_read(h_.env());
    EXPECT_EQ(h_.store().applied_rules(txn, instance(s).id).at(kNet), events::AccessLevel::rw);
  }
  EXPECT_EQ(h_.digest(), h_.rebuild_digest());
}

TEST_F(DispatcherTest, AnEntryLevelUpdateIsReconciledOnEveryAttachedShare) {
  start();
  const auto group = h_.create_group(alice_, "fan", "ip");
  const auto entry = h_.add_entry(alice_, group, "10.0.0.0/24", "rw");
  std::vector<std::string> shares;
  for (int i = 0; i < 5; ++i) {
    shares.push_back(h_.create_share(alice_, "default", "s" + std::to_string(i)));
    h_.attach(alice_, shares.back(), group);
  }
  settle();
  const auto calls = fake_->call_count();
  h_.ok(alice_, engine::UpdateEntryLevel{group, entry, "ro", std::nullopt});
  settle();
  EXPECT_EQ(fake_->call_count(), calls + shares.size());
  for (const auto& s : shares) {
    EXPECT_EQ(exported(s).at(kNet), events::AccessLevel::ro) << s;
    EXPECT_EQ(status(s), "active") << s;
  }
  for (const auto& call : fake_->calls()) {
    if (call.update_rules.empty()) continue;
    EXPECT_EQ(call.update_rules, (std::vector<AccessRule>{{kNet, events::AccessLevel::ro}}));
    EXPECT_TRUE(call.add_rules.empty());
  }
  EXPECT_EQ(h_.digest(), h_.rebuild_digest());
}

TEST_F(DispatcherTest, AnUpdateRuleTheBackEndRefusesIsInError) {
  start();
  const auto s = h_.create_share(alice_);
  const auto rule = h_.allow(alice_, s, "ip", "10.0.0.0/24", "ro");
  settle();
  FakeOptions options;
  options.fail_rules_matching = "^10\\.";
  options.failure_message = "level refused";
  fake_->set_options(options);
  h_.ok(alice_, engine::UpdateAccessLevel{rule, "rw"});
  settle();
  EXPECT_EQ(status(s), "error");
  const auto in = instance(s);
  ASSERT_EQ(in.failures.size(), 1u);
  EXPECT_EQ(in.failures[0].rule, kNet);
  EXPECT_EQ(in.failures[0].message, "level refused");
  // The back end is taken to hold the old level still.
  auto txn = lmdb::Txn::begin_read(h_.env());
  EXPECT_EQ(h_.store().applied_rules(txn, in.id).at(kNet), events::AccessLevel::ro);
}

TEST_F(DispatcherTest, DenyingAFailedRuleClearsTheError) {
  FakeOptions options;
  options.fail_rules_matching = "^9\\.";
  fake_->set_options(options);
  start();
  const auto s = h_.create_share(alice_);
  const auto bad = h_.allow(alice_, s, "ip", "9.9.9.9");
  h_.allow(alice_, s, "ip", "1.1.1.1");
  settle();
  EXPECT_EQ(status(s), "error");
  h_.ok(alice_, engine::DenyAccess{s, bad});
  settle();
  EXPECT_EQ(status(s), "active");
  auto txn = lmdb::Txn::begin_read(h_.env());
  EXPECT_EQ(h_.store().rules(txn, s).size(), 1u);  // the denied rule is gone
}

TEST_F(DispatcherTest, ChangesDuringACallAreMergedAndConverge) {
  FakeOptions slow;
  slow.delay = std::chrono::milliseconds(100);
  fake_->set_options(slow);
  start();
  const auto s = h_.create_share(alice_);
  for (int i = 0; i < 20; ++i) h_.allow(alice_, s, "ip", "10.1." + std::to_string(i) + ".0/24");
  settle();
  EXPECT_EQ(exported(s).size(), 20u);
  EXPECT_EQ(status(s), "active");
  EXPECT_LT(fake_->call_count(), 20u) << "changes during a call were not merged";
}

TEST_F(DispatcherTest, AWholeFailedCallIsAnErrorUntilSync) {
  FakeOptions broken;
  broken.fail_first_calls = 1;
  fake_->set_options(broken);
  start();
  const auto s = h_.create_share(alice_);
  h_.allow(alice_, s, "user", "alice_01");
  settle();
  EXPECT_EQ(status(s), "error");
  EXPECT_EQ(instance(s).status_message, "fake back end: call 1 failed as configured");
  h_.ok(alice_, engine::SyncAccess{s});
  settle();
  EXPECT_EQ(status(s), "active");
  EXPECT_EQ(exported(s).size(), 1u);
}

TEST_F(DispatcherTest, ADeletedSharesBackEndDropsItsRules) {
  start();
  const auto s = h_.create_share(alice_);
  h_.allow(alice_, s, "ip", "10.0.0.0/24");
  settle();
  const auto instance_id = instance(s).id;
  ASSERT_EQ(fake_->exports(instance_id).size(), 1u);
  h_.ok(alice_, engine::DeleteShare{s});
  settle();
  EXPECT_TRUE(fake_->exports(instance_id).empty());
  // Once dropped, the instance is forgotten: nothing stays behind for it.
  auto txn = lmdb::Txn::begin_read(h_.env());
  EXPECT_FALSE(h_.store().state(txn)->retired_instance(instance_id));
  txn.abort();
  EXPECT_EQ(h_.digest(), h_.rebuild_digest());
}

TEST_F(DispatcherTest, DirtyInstancesAreResumedOnStart) {
  // Changes committed while no dispatcher runs (as after a crash) stay in the outbox.
  const auto s = h_.create_share(alice_);
  h_.allow(alice_, s, "ip", "10.0.0.0/24");
  h_.allow(alice_, s, "user", "bob_01");
  {
    auto txn = lmdb::Txn::begin_read(h_.env());
    ASSERT_EQ(h_.store().outbox(txn).size(), 1u);
  }
  h_.reopen();
  start();
  settle();
  EXPECT_EQ(exported(s).size(), 2u);
  EXPECT_EQ(status(s), "active");
  // The resumed call was a full sync: the back end matches exactly.
  EXPECT_EQ(fake_->calls().back().access_rules.size(), 2u);
}

TEST_F(DispatcherTest, AResumedFullSyncRemovesWhatAnInterruptedCallLeft) {
  start();
  const auto s = h_.create_share(alice_);
  const auto rule = h_.allow(alice_, s, "ip", "10.0.0.0/24");
  settle();
  stop();
  // The rule is denied while no dispatcher runs; then the back end is found holding it.
  h_.ok(alice_, engine::DenyAccess{s, rule});
  start();
  settle();
  EXPECT_TRUE(exported(s).empty());
  EXPECT_EQ(status(s), "active");
}

// stop() returns only once no other thread will touch the Dispatcher again: the owner may
// destroy it at once, here while the writer is still recording the outcomes of the last calls
// (a use after free of its condition variables before; ThreadSanitizer's build shows it).
TEST_F(DispatcherTest, DestroyedRightAfterStopWhileOutcomesAreBeingRecorded) {
  const auto group = h_.create_group(alice_, "many", "ip");
  std::vector<std::string> shares;
  for (int i = 0; i < 16; ++i) {
    shares.push_back(h_.create_share(alice_, "default", "s" + std::to_string(i)));
    h_.attach(alice_, shares.back(), group);
  }
  for (int round = 0; round < 25; ++round) {
    start();
    h_.add_entry(alice_, group, "10.2." + std::to_string(round) + ".0/24");
    // Give the workers a moment to call the back end, so that some outcomes are in the writer's
    // queue when stop() is called.
    std::this_thread::sleep_for(std::chrono::microseconds(200 * (round % 5)));
    stop();
  }
  start();
  settle();
  for (const auto& s : shares) {
    EXPECT_EQ(exported(s).size(), 25u) << s;
    EXPECT_EQ(status(s), "active") << s;
  }
  EXPECT_EQ(h_.digest(), h_.rebuild_digest());
}

// The writer may be stopped first: the outcomes submitted then are refused at once (not lost
// in a queue nobody reads), stop() still returns, and the instances stay in the outbox.
TEST_F(DispatcherTest, StopsWhenTheWriterWasStoppedFirst) {
  FakeOptions slow;
  slow.delay = std::chrono::milliseconds(50);
  fake_->set_options(slow);
  start();
  const auto s = h_.create_share(alice_);
  h_.allow(alice_, s, "ip", "10.0.0.0/24");
  std::this_thread::sleep_for(std::chrono::milliseconds(10));  // the call is under way
  h_.writer().stop();
  stop();
  auto txn = lmdb::Txn::begin_read(h_.env());
  EXPECT_EQ(h_.store().outbox(txn).size(), 1u);
}

}  // namespace
}  // namespace agate::drivers
