#include "drivers/fake_driver.h"

#include <gtest/gtest.h>

namespace agate::drivers {
namespace {

using events::AccessLevel;
using events::AccessType;

UpdateRequest request(std::vector<AccessRule> rules) {
  UpdateRequest r;
  r.instance = {"inst-1", "share-1", "fake", "NFS", "fake:/shares/share-1"};
  r.access_rules = rules;
  r.add_rules = std::move(rules);
  return r;
}

TEST(FakeDriver, ExportsExactlyTheRulesItIsGiven) {
  auto fake = make_fake_driver();
  const AccessRule a{{AccessType::ip, "10.0.0.0/24"}, AccessLevel::rw};
  const AccessRule b{{AccessType::ip, "10.0.1.0/24"}, AccessLevel::ro};
  EXPECT_TRUE(fake->update_access(request({a, b})).call_succeeded);
  EXPECT_EQ(fake->exports("inst-1").size(), 2u);
  // The same request again changes nothing; a smaller set removes the rest.
  EXPECT_TRUE(fake->update_access(request({a, b})).call_succeeded);
  EXPECT_TRUE(fake->update_access(request({b})).call_succeeded);
  const auto exported = fake->exports("inst-1");
  ASSERT_EQ(exported.size(), 1u);
  EXPECT_EQ(exported.at(b.key), AccessLevel::ro);
  EXPECT_EQ(fake->call_count(), 3u);
}

// An update rule: the fake exports it at its new level and records the request as given.
TEST(FakeDriver, RecordsUpdateRulesAndExportsTheNewLevel) {
  auto fake = make_fake_driver();
  const AccessRule ro{{AccessType::ip, "10.0.0.0/24"}, AccessLevel::ro};
  const AccessRule rw{ro.key, AccessLevel::rw};
  ASSERT_TRUE(fake->update_access(request({ro})).call_succeeded);
  UpdateRequest update;
  update.instance = {"inst-1", "share-1", "fake", "NFS", "fake:/shares/share-1"};
  update.access_rules = {rw};
  update.update_rules = {rw};
  ASSERT_TRUE(fake->update_access(update).call_succeeded);
  EXPECT_EQ(fake->exports("inst-1").at(ro.key), AccessLevel::rw);
  const auto calls = fake->calls();
  ASSERT_EQ(calls.size(), 2u);
  EXPECT_EQ(calls.back().update_rules, std::vector<AccessRule>{rw});
  EXPECT_TRUE(calls.back().add_rules.empty());
}

TEST(FakeDriver, FailsMatchingRulesOneByOne) {
  FakeOptions options;
  options.fail_rules_matching = "^3\\.";
  options.failure_message = "unreachable";
  auto fake = make_fake_driver(options);
  auto result = fake->update_access(request({{{AccessType::ip, "1.1.1.1/32"}, AccessLevel::rw},
                                             {{AccessType::ip, "3.3.3.3/32"}, AccessLevel::rw}}));
  EXPECT_TRUE(result.call_succeeded);
  ASSERT_EQ(result.failures.size(), 1u);
  EXPECT_EQ(result.failures[0].rule.access_to, "3.3.3.3/32");
  EXPECT_EQ(result.failures[0].message, "unreachable");
  EXPECT_EQ(fake->exports("inst-1").size(), 1u);
}

TEST(FakeDriver, FailsWholeCallsAsConfigured) {
  FakeOptions options;
  options.fail_first_calls = 1;
  options.fail_every_nth_call = 3;
  auto fake = make_fake_driver(options);
  const auto rules = std::vector<AccessRule>{{{AccessType::user, "alice"}, AccessLevel::rw}};
  EXPECT_FALSE(fake->update_access(request(rules)).call_succeeded);  // 1: first
  EXPECT_TRUE(fake->update_access(request(rules)).call_succeeded);   // 2
  auto third = fake->update_access(request(rules));                  // 3: every third
  EXPECT_FALSE(third.call_succeeded);
  EXPECT_EQ(third.message, "fake back end: call 3 failed as configured");
}

TEST(FakeDriver, RefusesCephxAdminAndKeysOtherCephxIds) {
  auto fake = make_fake_driver();
  auto result = fake->update_access(request({{{AccessType::cephx, "admin"}, AccessLevel::rw},
                                             {{AccessType::cephx, "alice"}, AccessLevel::rw}}));
  ASSERT_EQ(result.failures.size(), 1u);
  EXPECT_EQ(result.failures[0].rule.access_to, "admin");
  ASSERT_EQ(result.access_keys.size(), 1u);
  EXPECT_EQ(result.access_keys[0].rule.access_to, "alice");
  EXPECT_TRUE(result.access_keys[0].access_key.starts_with("AQ"));
  // Keys are stable for the same instance and id.
  auto again = fake->update_access(request({{{AccessType::cephx, "alice"}, AccessLevel::rw}}));
  EXPECT_EQ(again.access_keys[0].access_key, result.access_keys[0].access_key);
}

}  // namespace
}  // namespace agate::drivers
