#include "events/event_log.h"

#include <gtest/gtest.h>

#include <random>

#include "tests/support/sample_events.h"
#include "tests/support/temp_dir.h"

namespace agate::events {
namespace {

// How many events one sample_events() batch holds (one of each kind).
const std::uint64_t kSamples = testing::sample_events().size();

using testing::random_event;
using testing::sample_events;

class EventLogTest : public ::testing::Test {
 protected:
  void SetUp() override { open(); }

  void open() {
    log_.reset();
    env_.reset();
    env_.emplace(lmdb::Env::open(dir_.path(), options_));
    log_.emplace(EventLog::open(*env_));
  }
  void reopen() { open(); }

  // Appends `events` in one committed transaction; returns the last position.
  Seq append(std::vector<Event> events) {
    auto txn = lmdb::Txn::begin_write(*env_);
    const Seq last = log_->append(txn, events);
    txn.commit();
    return last;
  }

  Seq last() {
    auto txn = lmdb::Txn::begin_read(*env_);
    return log_->last(txn);
  }

  // Reads everything from `from`; fails the test on corruption.
  std::vector<Event> read_all(Seq from = Seq{1}) {
    auto txn = lmdb::Txn::begin_read(*env_);
    auto reader = log_->read(txn, from);
    std::vector<Event> out;
    while (reader.next() == LogReader::Status::record) out.push_back(reader.event());
    EXPECT_EQ(reader.status(), LogReader::Status::end) << reader.corruption().what;
    return out;
  }

  // Reads from the start until the reader stops; returns the corruption it must report.
  Corruption expect_corruption() {
    auto txn = lmdb::Txn::begin_read(*env_);
    auto reader = log_->read(txn);
    while (reader.next() == LogReader::Status::record) {
    }
    EXPECT_EQ(reader.status(), LogReader::Status::corruption);
    // It stays stopped: nothing after the bad record is ever handed out.
    EXPECT_EQ(reader.next(), LogReader::Status::corruption);
    return reader.corruption();
  }

  void raw_put(Seq seq, std::string_view value) {
    auto txn = lmdb::Txn::begin_write(*env_);
    log_->dbi().put(txn, seq_key(seq), value);
    txn.commit();
  }

  testing::TempDir dir_;
  lmdb::EnvOptions options_{.map_size = 64u << 20, .durability = lmdb::Durability::nosync};
  std::optional<lmdb::Env> env_;
  std::optional<EventLog> log_;
};

TEST_F(EventLogTest, EmptyLogHasNoLastPositionAndNothingToRead) {
  EXPECT_EQ(last(), Seq{0});
  EXPECT_TRUE(read_all().empty());
}

TEST_F(EventLogTest, AppendNumbersEventsFromOneAndSetsTheirSeq) {
  auto txn = lmdb::Txn::begin_write(*env_);
  auto events = sample_events();
  EXPECT_EQ(log_->append(txn, events), Seq{events.size()});
  for (std::size_t i = 0; i < events.size(); ++i) EXPECT_EQ(events[i].seq, Seq{i + 1});
  txn.commit();
  EXPECT_EQ(read_all(), events);
}

TEST_F(EventLogTest, EmptyBatchAppendsNothing) {
  append(sample_events());
  EXPECT_EQ(append({}), Seq{kSamples});
  EXPECT_EQ(last(), Seq{kSamples});
}

TEST_F(EventLogTest, AppendReopenScan) {
  auto first = sample_events();
  append(first);
  reopen();
  EXPECT_EQ(last(), Seq{first.size()});
  auto second = sample_events();
  append(second);
  reopen();
  auto all = read_all();
  ASSERT_EQ(all.size(), first.size() + second.size());
  for (std::size_t i = 0; i < all.size(); ++i) EXPECT_EQ(all[i].seq, Seq{i + 1});
  for (std::size_t i = 0; i < second.size(); ++i) {
    second[i].seq = Seq{first.size() + i + 1};
    EXPECT_EQ(all[first.size() + i], second[i]);
  }
}

TEST_F(EventLogTest, ScansFromAnyPosition) {
  append(sample_events());
  for (std::uint64_t from = 0; from <= kSamples + 2; ++from) {
    auto events = read_all(Seq{from});
    const std::uint64_t start = from == 0 ? 1 : from;
    const std::uint64_t expected = start > kSamples ? 0 : kSamples - start + 1;
    ASSERT_EQ(events.size(), expected) << "from " << from;
    if (!events.empty()) {
      EXPECT_EQ(events.front().seq, Seq{start});
    }
  }
}

TEST_F(EventLogTest, CallerWritesCommitWithTheBatch) {
  lmdb::Dbi view;
  {
    auto txn = lmdb::Txn::begin_write(*env_);
    view = lmdb::Dbi::open(txn, "view", true);
    txn.commit();
  }
  auto txn = lmdb::Txn::begin_write(*env_);
  auto events = sample_events();
  log_->append(txn, events);
  view.put(txn, "k", "v");
  txn.commit();
  reopen();
  auto read = lmdb::Txn::begin_read(*env_);
  EXPECT_EQ(log_->last(read), Seq{kSamples});
  // Database handles belong to their environment: open the view again after the reopen.
  auto reopened = lmdb::Dbi::try_open(read, "view");
  ASSERT_TRUE(reopened);
  EXPECT_EQ(reopened->get(read, "k"), "v");
}

TEST_F(EventLogTest, AbortedBatchLeavesNothing) {
  append(sample_events());
  {
    auto txn = lmdb::Txn::begin_write(*env_);
    auto events = sample_events();
    log_->append(txn, events);
    // The caller's own write fails after the append: it aborts, and the log is as it was.
  }
  reopen();
  EXPECT_EQ(last(), Seq{kSamples});
  EXPECT_EQ(read_all().size(), kSamples);
}

TEST_F(EventLogTest, OutOfOrderAppendFailsLoudly) {
  append(sample_events());
  auto txn = lmdb::Txn::begin_write(*env_);
  // Something writing a position before the end bypasses the log's numbering: MDB_APPEND refuses.
  try {
    auto cursor = lmdb::Cursor::open(txn, log_->dbi());
    cursor.put(seq_key(Seq{5}), encode(sample_events()[0]), MDB_APPEND);
    FAIL() << "an append before the end was accepted";
  } catch (const lmdb::Error& e) {
    EXPECT_EQ(e.code(), MDB_KEYEXIST);
  }
}

TEST_F(EventLogTest, ReportsUndecodableValueWithItsSeq) {
  append(sample_events());
  std::string bad = encode(sample_events()[3]);
  bad[20] ^= 0x40;
  raw_put(Seq{4}, bad);
  const auto c = expect_corruption();
  EXPECT_EQ(c.seq, Seq{4});
  EXPECT_NE(c.what.find("event 4 cannot be decoded: checksum mismatch"), std::string::npos)
      << c.what;
}

TEST_F(EventLogTest, ReportsGapWithTheMissingSeq) {
  append(sample_events());
  {
    auto txn = lmdb::Txn::begin_write(*env_);
    ASSERT_TRUE(log_->dbi().del(txn, seq_key(Seq{7})));
    txn.commit();
  }
  const auto c = expect_corruption();
  EXPECT_EQ(c.seq, Seq{7});
  EXPECT_EQ(c.what, "gap: event 7 is missing, the next stored event is 8");
  // Starting the scan at the hole reports it too.
  auto txn = lmdb::Txn::begin_read(*env_);
  auto reader = log_->read(txn, Seq{7});
  EXPECT_EQ(reader.next(), LogReader::Status::corruption);
  EXPECT_EQ(reader.corruption().seq, Seq{7});
}

TEST_F(EventLogTest, ReportsMissingFirstEvent) {
  append(sample_events());
  {
    auto txn = lmdb::Txn::begin_write(*env_);
    ASSERT_TRUE(log_->dbi().del(txn, seq_key(Seq{1})));
    txn.commit();
  }
  const auto c = expect_corruption();
  EXPECT_EQ(c.seq, Seq{1});
}

TEST_F(EventLogTest, ReportsEventStoredUnderTheWrongKey) {
  append(sample_events());
  auto txn = lmdb::Txn::begin_read(*env_);
  std::string record(*log_->dbi().get(txn, seq_key(Seq{3})));
  txn.abort();
  raw_put(Seq{5}, record);  // a copy of event 3 where event 5 should be
  const auto c = expect_corruption();
  EXPECT_EQ(c.seq, Seq{5});
  EXPECT_EQ(c.what, "event stored under 5 says it is event 3");
}

TEST_F(EventLogTest, ReportsKeyOfTheWrongSize) {
  append(sample_events());
  auto txn = lmdb::Txn::begin_write(*env_);
  log_->dbi().put(txn, seq_key(Seq{3}) + "x", "junk");  // sorts after event 3, before event 4
  txn.commit();
  const auto c = expect_corruption();
  EXPECT_EQ(c.seq, Seq{4});
  EXPECT_NE(c.what.find("key of 9 bytes"), std::string::npos) << c.what;
}

class TinyMapTest : public EventLogTest {
 protected:
  void SetUp() override {
    options_.map_size = 256u << 10;  // 64 pages
    options_.durability = lmdb::Durability::sync;
    open();
  }
};

TEST_F(TinyMapTest, MapFullIsACleanErrorThatLeavesTheLogAsItWas) {
  // Fill the map with committed batches until one no longer fits.
  Event big = sample_events()[0];
  std::get<ShareTypeCreated>(big.body).description.assign(3000, 'x');
  std::uint64_t committed = 0;
  bool full = false;
  for (int i = 0; i < 1000 && !full; ++i) {
    auto txn = lmdb::Txn::begin_write(*env_);
    std::vector<Event> batch(5, big);
    try {
      log_->append(txn, batch);
      txn.commit();
      committed += batch.size();
    } catch (const lmdb::Error& e) {
      EXPECT_EQ(e.code(), MDB_MAP_FULL) << e.what();
      EXPECT_TRUE(lmdb::is_out_of_space(e));
      EXPECT_NE(std::string(e.what()).find("MDB_MAP_FULL"), std::string::npos) << e.what();
      full = true;
    }
  }
  ASSERT_TRUE(full) << "the map never filled";
  ASSERT_GT(committed, 0u);
  EXPECT_EQ(last(), Seq{committed});
  EXPECT_EQ(read_all().size(), committed);

  // Reads keep working and the log survives a reopen intact.
  reopen();
  EXPECT_EQ(read_all().size(), committed);

  // With a larger map, writes succeed again.
  options_.map_size = 4u << 20;
  reopen();
  EXPECT_EQ(append(std::vector<Event>(5, big)), Seq{committed + 5});
  EXPECT_EQ(read_all().size(), committed + 5);
}

TEST_F(EventLogTest, RandomBatchesStayOrderedAndContiguousAcrossReopens) {
  std::mt19937_64 rng(20261125);
  std::vector<Event> expected;
  for (int round = 0; round < 300; ++round) {
    const std::size_t n = rng() % 4 == 0 ? rng() % 200 : rng() % 8;
    std::vector<Event> batch;
    for (std::size_t i = 0; i < n; ++i) batch.push_back(random_event(rng));
    const bool abort = rng() % 7 == 0;
    auto txn = lmdb::Txn::begin_write(*env_);
    log_->append(txn, batch);
    if (abort) {
      txn.abort();
    } else {
      txn.commit();
      expected.insert(expected.end(), batch.begin(), batch.end());
    }
    if (rng() % 10 == 0) reopen();
    ASSERT_EQ(last(), Seq{expected.size()}) << "round " << round;
  }
  reopen();
  const auto all = read_all();
  ASSERT_EQ(all.size(), expected.size());
  for (std::size_t i = 0; i < all.size(); ++i) {
    ASSERT_EQ(all[i].seq, Seq{i + 1});
    ASSERT_EQ(all[i], expected[i]) << "event " << i + 1;
  }
  // A raw scan sees the same positions without decoding.
  auto txn = lmdb::Txn::begin_read(*env_);
  auto reader = log_->read(txn, Seq{1});
  std::uint64_t n = 0;
  while (reader.next_raw() == LogReader::Status::record) ASSERT_EQ(reader.seq(), Seq{++n});
  EXPECT_EQ(n, expected.size());
}

}  // namespace
}  // namespace agate::events
