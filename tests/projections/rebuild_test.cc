// Comparing projections with a rebuild, and putting a rebuild in place of the live projections.

#include "projections/rebuild.h"

#include <gtest/gtest.h>

#include "tests/support/engine_harness.h"

namespace agate {
namespace {

using testing::EngineHarness;

class RebuildTest : public ::testing::Test {
 protected:
  RebuildTest() {
    h.create_type("default");
    const auto alice = EngineHarness::member("project-a", "alice");
    const auto share = h.create_share(alice);
    const auto group = h.create_group(alice, "web");
    h.add_entry(alice, group, "10.0.0.0/24");
    h.attach(alice, share, group);
    h.allow(alice, share, "user", "alice1");
    lmdb::EnvOptions o;
    o.map_size = 64u << 20;
    o.durability = lmdb::Durability::nosync;
    rebuilt_env.emplace(lmdb::Env::open(dir.path(), o));
    rebuilt.emplace(projections::Store::open(*rebuilt_env, {}));
    stats = projections::rebuild(h.env(), h.log(), *rebuilt_env, *rebuilt);
  }

  std::optional<projections::Difference> difference() {
    auto live = lmdb::Txn::begin_read(h.env());
    auto other = lmdb::Txn::begin_read(*rebuilt_env);
    return projections::first_difference(live, other);
  }
  // Writes a stray row into the live projections, as a bug or a bit flip might.
  void damage_live() {
    auto txn = lmdb::Txn::begin_write(h.env());
    auto dbi = lmdb::Dbi::open(txn, "lookups", false);
    dbi.put(txn, "zz-stray", "x");
    txn.commit();
  }

  EngineHarness h;
  testing::TempDir dir;
  std::optional<lmdb::Env> rebuilt_env;
  std::optional<projections::Store> rebuilt;
  projections::RebuildStats stats;
};

TEST_F(RebuildTest, ARebuildHasNoDifferenceFromTheLiveProjections) {
  EXPECT_EQ(stats.last, h.last());
  EXPECT_FALSE(difference());
}

TEST_F(RebuildTest, FirstDifferenceNamesTheDatabaseAndKey) {
  damage_live();
  auto d = difference();
  ASSERT_TRUE(d);
  EXPECT_EQ(d->database, "lookups");
  EXPECT_EQ(d->key, "zz-stray");
  EXPECT_EQ(d->left, "x");
  EXPECT_FALSE(d->right);
}

TEST_F(RebuildTest, ReplayCatchesUpWithEventsAppendedAfterTheRebuild) {
  h.allow(
      EngineHarness::member("project-a", "alice"),
      [&] {
        auto txn = lmdb::Txn::begin_read(h.env());
        return h.store().list_shares(txn, {}, {}).at(0).id;
      }(),
      "ip", "10.9.9.9");
  ASSERT_TRUE(difference());
  auto more = projections::replay(h.env(), h.log(), *rebuilt_env, *rebuilt, stats.last);
  EXPECT_EQ(more.events, 1u);
  EXPECT_EQ(more.last, h.last());
  EXPECT_FALSE(difference());
}

TEST_F(RebuildTest, ReplaceProjectionsPutsTheRebuiltBytesInPlace) {
  damage_live();
  const auto digest = projections::replace_projections(h.env(), h.store(), h.log(), h.last(),
                                                       *rebuilt_env, *rebuilt);
  EXPECT_FALSE(difference());
  EXPECT_EQ(digest, h.digest());
  EXPECT_EQ(digest, h.rebuild_digest());
}

TEST_F(RebuildTest, ReplaceProjectionsChangesNothingIfTheLogMovedOn) {
  damage_live();
  const auto before = h.digest();
  EXPECT_THROW(
      projections::replace_projections(h.env(), h.store(), h.log(), events::Seq{h.last().value - 1},
                                       *rebuilt_env, *rebuilt),
      std::runtime_error);
  EXPECT_EQ(h.digest(), before);
}

}  // namespace
}  // namespace agate
