// The effective-rule algebra, without storage.

#include "engine/rule_set.h"

#include <gtest/gtest.h>

namespace agate::engine {
namespace {

using events::AccessLevel;
using events::AccessType;

const RuleIdentity kAdmin{AccessType::user, "admin"};
const RuleIdentity kNet{AccessType::ip, "10.0.0.0/24"};

TEST(RuleSet, GrantAddsARuleWithItsSource) {
  RuleSet set;
  auto change = set.grant(kAdmin, AccessLevel::rw, RuleSource::direct("r1"), 7);
  ASSERT_TRUE(change);
  EXPECT_EQ(*change, SetChange::added);
  const auto* rule = set.find(kAdmin);
  ASSERT_NE(rule, nullptr);
  EXPECT_EQ(rule->access_level, AccessLevel::rw);
  EXPECT_EQ(rule->since_version, 7u);
  EXPECT_EQ(rule->sources, std::vector{RuleSource::direct("r1")});
}

TEST(RuleSet, SecondSourceOfTheSameRuleChangesNothingVisible) {
  RuleSet set;
  ASSERT_TRUE(set.grant(kAdmin, AccessLevel::rw, RuleSource::direct("r1"), 1));
  auto change = set.grant(kAdmin, AccessLevel::rw, RuleSource::group("g1", "e1"), 2);
  ASSERT_TRUE(change);
  EXPECT_EQ(*change, SetChange::none);
  EXPECT_EQ(set.find(kAdmin)->since_version, 1u);
  EXPECT_EQ(set.find(kAdmin)->sources.size(), 2u);
}

TEST(RuleSet, GrantAtAnotherLevelIsAConflictAndChangesNothing) {
  RuleSet set;
  ASSERT_TRUE(set.grant(kAdmin, AccessLevel::rw, RuleSource::direct("r1"), 1));
  const RuleSet before = set;
  auto change = set.grant(kAdmin, AccessLevel::ro, RuleSource::group("g1", "e1"), 2);
  ASSERT_FALSE(change);
  EXPECT_EQ(change.error().rule, kAdmin);
  EXPECT_EQ(change.error().existing_level, AccessLevel::rw);
  EXPECT_EQ(change.error().requested_level, AccessLevel::ro);
  EXPECT_EQ(change.error().existing_source, RuleSource::direct("r1"));
  EXPECT_EQ(set, before);
}

TEST(RuleSet, ChangingTheLevelOfTheOnlySourceUpdatesTheRuleInPlace) {
  RuleSet set;
  ASSERT_TRUE(set.grant(kNet, AccessLevel::ro, RuleSource::direct("r1"), 3));
  auto change = set.change_level(kNet, RuleSource::direct("r1"), AccessLevel::rw, 8);
  ASSERT_TRUE(change);
  EXPECT_EQ(*change, SetChange::updated);
  const auto* rule = set.find(kNet);
  ASSERT_NE(rule, nullptr);
  EXPECT_EQ(rule->access_level, AccessLevel::rw);
  EXPECT_EQ(rule->since_version, 8u);
  EXPECT_EQ(rule->entered_version, 3u);
  EXPECT_EQ(rule->sources, std::vector{RuleSource::direct("r1")});
  // The level it has already, or a source that does not grant it: nothing.
  EXPECT_EQ(*set.change_level(kNet, RuleSource::direct("r1"), AccessLevel::rw, 9),
            SetChange::none);
  EXPECT_EQ(*set.change_level(kNet, RuleSource::direct("r2"), AccessLevel::ro, 9),
            SetChange::none);
  EXPECT_EQ(set.find(kNet)->since_version, 8u);
}

// The proposal's case 1 for a level change: another source grants the rule at its level.
TEST(RuleSet, ChangingTheLevelOfOneOfTwoSourcesIsAConflictAndChangesNothing) {
  RuleSet set;
  ASSERT_TRUE(set.grant(kNet, AccessLevel::ro, RuleSource::direct("r1"), 1));
  ASSERT_TRUE(set.grant(kNet, AccessLevel::ro, RuleSource::group("g1", "e1"), 2));
  const RuleSet before = set;
  auto change = set.change_level(kNet, RuleSource::direct("r1"), AccessLevel::rw, 3);
  ASSERT_FALSE(change);
  EXPECT_EQ(change.error().existing_level, AccessLevel::ro);
  EXPECT_EQ(change.error().requested_level, AccessLevel::rw);
  EXPECT_EQ(change.error().existing_source, RuleSource::group("g1", "e1"));
  EXPECT_EQ(set, before);
  EXPECT_EQ(other_sources(*set.find(kNet), RuleSource::direct("r1")),
            std::vector{RuleSource::group("g1", "e1")});
}

TEST(RuleSet, DetachKeepsRuleGrantedByAnotherGroup) {
  RuleSet set;
  ASSERT_TRUE(set.grant(kNet, AccessLevel::ro, RuleSource::group("g1", "e1"), 1));
  ASSERT_TRUE(set.grant(kNet, AccessLevel::ro, RuleSource::group("g2", "e9"), 2));
  EXPECT_EQ(set.revoke(kNet, RuleSource::group("g1", "e1")), SetChange::none);
  ASSERT_NE(set.find(kNet), nullptr);
  EXPECT_EQ(set.find(kNet)->sources, std::vector{RuleSource::group("g2", "e9")});
  EXPECT_EQ(set.revoke(kNet, RuleSource::group("g2", "e9")), SetChange::removed);
  EXPECT_EQ(set.find(kNet), nullptr);
}

TEST(RuleSet, RevokingASourceThatDoesNotGrantIsANoOp) {
  RuleSet set;
  ASSERT_TRUE(set.grant(kNet, AccessLevel::rw, RuleSource::direct("r1"), 1));
  EXPECT_EQ(set.revoke(kNet, RuleSource::direct("r2")), SetChange::none);
  EXPECT_EQ(set.revoke(kAdmin, RuleSource::direct("r1")), SetChange::none);
  EXPECT_EQ(set.size(), 1u);
}

TEST(RuleSet, GrantingTheSameSourceTwiceKeepsOneSource) {
  RuleSet set;
  ASSERT_TRUE(set.grant(kNet, AccessLevel::rw, RuleSource::direct("r1"), 1));
  ASSERT_TRUE(set.grant(kNet, AccessLevel::rw, RuleSource::direct("r1"), 2));
  EXPECT_EQ(set.find(kNet)->sources.size(), 1u);
}

TEST(RuleSet, SameAccessToOfAnotherTypeIsAnotherRule) {
  RuleSet set;
  ASSERT_TRUE(set.grant({AccessType::user, "alice"}, AccessLevel::rw, RuleSource::direct("r1"), 1));
  auto change = set.grant({AccessType::cephx, "alice"}, AccessLevel::ro, RuleSource::direct("r2"), 2);
  ASSERT_TRUE(change);
  EXPECT_EQ(*change, SetChange::added);
  EXPECT_EQ(set.size(), 2u);
}

TEST(RuleSet, OrderOfGrantsDoesNotMatter) {
  // The proposal's case 2 at the level of the set: whatever order two compatible groups arrive
  // in, the share ends with the same rules and sources.
  RuleSet a, b;
  ASSERT_TRUE(a.grant(kAdmin, AccessLevel::rw, RuleSource::group("AG1", "e1"), 1));
  ASSERT_TRUE(a.grant({AccessType::ip, "10.1.1.1/32"}, AccessLevel::rw, RuleSource::group("AG2", "e2"), 1));
  ASSERT_TRUE(b.grant({AccessType::ip, "10.1.1.1/32"}, AccessLevel::rw, RuleSource::group("AG2", "e2"), 1));
  ASSERT_TRUE(b.grant(kAdmin, AccessLevel::rw, RuleSource::group("AG1", "e1"), 1));
  EXPECT_EQ(a, b);
}

TEST(RuleSet, DescribesSources) {
  EXPECT_EQ(describe(RuleSource::direct("r1")), "access rule r1");
  EXPECT_EQ(describe(RuleSource::group("g1", "e1")), "access group g1 entry e1");
}

}  // namespace
}  // namespace agate::engine
