// The idempotency keys' table: records by caller and key, expiry without a scan of the table,
// answers stored later, and its independence from the projections (rebuild, digest).

#include "projections/idempotency.h"

#include <gtest/gtest.h>

#include "tests/support/temp_dir.h"

namespace agate {
namespace {

using engine::IdempotencyKey;
using engine::IdempotencyRecord;
using projections::IdempotencyTable;

class IdempotencyTableTest : public ::testing::Test {
 protected:
  IdempotencyTableTest() {
    lmdb::EnvOptions o;
    o.map_size = 64u << 20;
    o.durability = lmdb::Durability::nosync;
    env_.emplace(lmdb::Env::open(dir_.path(), o));
    auto txn = lmdb::Txn::begin_write(*env_);
    table_.emplace(IdempotencyTable::open(txn));
    txn.commit();
  }

  static IdempotencyRecord record(std::int64_t expires_at, std::string fingerprint = "fp") {
    IdempotencyRecord r;
    r.fingerprint = std::move(fingerprint);
    r.expires_at = expires_at;
    r.first = events::Seq{7};
    r.last = events::Seq{9};
    r.position = events::Seq{9};
    return r;
  }
  void put(const IdempotencyKey& k, const IdempotencyRecord& r) {
    auto txn = lmdb::Txn::begin_write(*env_);
    table_->put(txn, k, r);
    txn.commit();
  }
  std::optional<IdempotencyRecord> get(const IdempotencyKey& k, std::int64_t now) {
    auto txn = lmdb::Txn::begin_read(*env_);
    return table_->get(txn, k, now);
  }
  std::size_t drop(std::int64_t now, std::size_t max) {
    auto txn = lmdb::Txn::begin_write(*env_);
    const auto n = table_->drop_expired(txn, now, max);
    txn.commit();
    return n;
  }
  std::size_t size() {
    auto txn = lmdb::Txn::begin_read(*env_);
    return table_->size(txn);
  }

  testing::TempDir dir_;
  std::optional<lmdb::Env> env_;
  std::optional<IdempotencyTable> table_;
  const IdempotencyKey alice_{std::string("project-a\0alice", 15), "k1"};
};

TEST_F(IdempotencyTableTest, ARecordReadsBackWholeUntilItExpires) {
  auto r = record(1000);
  r.refusal = engine::Rejection{engine::errc::conflict, "Access group named 'a' already exists."};
  r.first = r.last = events::Seq{0};
  put(alice_, r);
  EXPECT_EQ(get(alice_, 999), r);
  EXPECT_EQ(get(alice_, 1000), r);
  EXPECT_EQ(get(alice_, 1001), std::nullopt);  // expired, though not yet dropped
  EXPECT_EQ(size(), 1u);
}

TEST_F(IdempotencyTableTest, KeysAreTheCallersOwn) {
  put(alice_, record(1000, "alice's"));
  const IdempotencyKey bob{std::string("project-a\0bob", 13), "k1"};
  const IdempotencyKey other_project{std::string("project-b\0alice", 15), "k1"};
  EXPECT_EQ(get(bob, 0), std::nullopt);
  EXPECT_EQ(get(other_project, 0), std::nullopt);
  put(bob, record(1000, "bob's"));
  EXPECT_EQ(get(alice_, 0)->fingerprint, "alice's");
  EXPECT_EQ(get(bob, 0)->fingerprint, "bob's");
  // A caller whose name ends where another's key begins is still another caller.
  const IdempotencyKey a{"ab", "c"};
  const IdempotencyKey b{"a", "bc"};
  put(a, record(1000, "a"));
  EXPECT_EQ(get(b, 0), std::nullopt);
}

TEST_F(IdempotencyTableTest, DroppingReadsOnlyWhatExpiredOldestFirstAndAtMostMax) {
  for (int i = 0; i < 10; ++i) {
    put({"c", "k" + std::to_string(i)}, record(100 + i));
  }
  EXPECT_EQ(drop(100, 100), 0u);  // none expired before 100
  EXPECT_EQ(drop(105, 3), 3u);    // 100, 101, 102
  EXPECT_EQ(get({"c", "k2"}, 0), std::nullopt);
  EXPECT_TRUE(get({"c", "k3"}, 0));
  EXPECT_EQ(drop(105, 100), 2u);  // 103, 104
  EXPECT_EQ(size(), 5u);
  EXPECT_TRUE(get({"c", "k5"}, 0));
  EXPECT_EQ(drop(1'000'000, 100), 5u);
  EXPECT_EQ(size(), 0u);
}

TEST_F(IdempotencyTableTest, ARewrittenRecordLeavesNoStaleExpiry) {
  put(alice_, record(100));
  put(alice_, record(5000));
  EXPECT_EQ(drop(1000, 100), 0u);  // the first expiry went with the first record
  EXPECT_EQ(get(alice_, 1000)->expires_at, 5000);
}

TEST_F(IdempotencyTableTest, TheAnswerIsStoredOnTheRecord) {
  put(alice_, record(1000));
  {
    auto txn = lmdb::Txn::begin_write(*env_);
    EXPECT_TRUE(table_->set_answer(txn, alice_, "200\n{\"ok\": true}"));
    EXPECT_FALSE(table_->set_answer(txn, {"nobody", "k"}, "x"));
    txn.commit();
  }
  auto r = get(alice_, 0);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->answer, "200\n{\"ok\": true}");
  EXPECT_EQ(r->first, events::Seq{7});
}

TEST_F(IdempotencyTableTest, AnEnvironmentWithoutTheTableHasNoneUntilOpened) {
  testing::TempDir other;
  lmdb::EnvOptions o;
  o.map_size = 16u << 20;
  auto env = lmdb::Env::open(other.path(), o);
  auto txn = lmdb::Txn::begin_read(env);
  EXPECT_FALSE(IdempotencyTable::try_open(txn));
}

}  // namespace
}  // namespace agate
