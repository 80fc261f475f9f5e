// The single writer: group commit, per-command outcomes, durability, a full map.

#include "engine/writer.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <future>
#include <map>
#include <mutex>
#include <thread>

#include "tests/support/engine_harness.h"

namespace agate {
namespace {

using engine::errc;
using testing::EngineHarness;

TEST(Writer, ConcurrentSubmittersAreBatchedAndEachGetsItsOwnOutcome) {
  EngineHarness h;
  const auto alice = EngineHarness::member("project-a");
  const auto group = h.create_group(alice, "g", "ip");
  constexpr int kThreads = 16, kPerThread = 100;
  std::atomic<int> accepted{0}, rejected{0};
  std::vector<std::thread> threads;
  std::mutex seqs_mutex;
  std::set<std::uint64_t> seqs;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        // Every other command is invalid: a bad network.
        const std::string to = i % 2 ? "10." + std::to_string(t) + "." + std::to_string(i) + ".0/24"
                                     : "10.0.0.1/8";
        auto outcome = h.writer().execute(alice, engine::AddEntry{group, {}, to, {}});
        if (outcome) {
          ++accepted;
          std::lock_guard lock(seqs_mutex);
          for (const auto& e : outcome->events) seqs.insert(e.seq.value);
        } else {
          ++rejected;
          EXPECT_EQ(outcome.error().message, "10.0.0.1/8 has host bits set");
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(accepted, kThreads * kPerThread / 2);
  EXPECT_EQ(rejected, kThreads * kPerThread / 2);
  // Every accepted command got its own positions, all of them in the log.
  EXPECT_EQ(seqs.size(), static_cast<std::size_t>(accepted));
  EXPECT_EQ(h.last(), events::Seq{*seqs.rbegin()});
  const auto stats = h.writer().stats();
  EXPECT_LT(stats.batches, stats.commands) << "no two commands ever shared a transaction";
  auto txn = lmdb::Txn::begin_read(h.env());
  EXPECT_EQ(h.store().group(txn, group)->entry_count, static_cast<std::uint64_t>(accepted.load()));
}

// Wraps the journal and holds the first append until released, telling when it got there.
class HoldingBackend final : public engine::WriteBackend {
 public:
  explicit HoldingBackend(projections::Journal& inner) : inner_(inner) {}
  void run(const std::function<void(engine::WriteBatch&)>& fn) override {
    ++runs_;
    inner_.run([&](engine::WriteBatch& batch) {
      Wrapper w{batch, *this};
      fn(w);
    });
  }
  std::promise<void> entered_, release_;
  std::atomic<int> runs_{0};

 private:
  struct Wrapper final : engine::WriteBatch {
    Wrapper(engine::WriteBatch& b, HoldingBackend& o) : inner(b), owner(o) {}
    const engine::State& state() override { return inner.state(); }
    events::Seq head() override { return inner.head(); }
    void append(std::vector<events::Event>& events) override {
      inner.append(events);
      if (owner.first_.exchange(false)) {
        owner.entered_.set_value();
        owner.release_.get_future().wait();
      }
    }
    engine::WriteBatch& inner;
    HoldingBackend& owner;
  };
  projections::Journal& inner_;
  std::atomic<bool> first_{true};
};

TEST(Writer, CommandsArrivingWhileATransactionIsOpenShareItsCommit) {
  EngineHarness h;
  projections::Journal journal(h.env(), h.log(), h.store());
  HoldingBackend backend(journal);
  engine::WriterOptions options;
  options.gather = std::chrono::seconds(10);
  engine::Writer writer(backend, engine::make_seeded_ids(7), options);
  const auto alice = EngineHarness::member("project-a");
  std::atomic<int> answered{0};
  auto send = [&](const std::string& name) {
    writer.submit(alice, engine::CreateAccessGroup{name, "", "ip"}, [&, name](engine::Outcome o) {
      EXPECT_TRUE(o) << name;
      ++answered;
    });
  };
  auto wait_for = [&](int n) {
    while (answered < n) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  };

  // b and c are submitted while a's transaction is open: they join it.
  send("a");
  backend.entered_.get_future().wait();
  send("b");
  send("c");
  backend.release_.set_value();
  wait_for(3);
  EXPECT_EQ(writer.stats().batches, 1u);

  // d's transaction waits for as many commands as the previous one held (up to `gather`).
  send("d");
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  send("e");
  send("f");
  wait_for(6);
  EXPECT_EQ(writer.stats().batches, 2u);
  EXPECT_EQ(backend.runs_, 2);
  writer.stop();
  EXPECT_EQ(h.digest(), h.rebuild_digest());
}

TEST(Writer, AcknowledgedCommandsSurviveAReopen) {
  EngineHarness h;
  const auto alice = EngineHarness::member("project-a");
  std::vector<std::string> groups;
  for (int i = 0; i < 20; ++i) groups.push_back(h.create_group(alice, "g" + std::to_string(i)));
  const auto digest = h.digest();
  h.reopen();
  EXPECT_EQ(h.digest(), digest);
  auto txn = lmdb::Txn::begin_read(h.env());
  for (const auto& g : groups) EXPECT_TRUE(h.store().group(txn, g)) << g;
}

TEST(Writer, FullMapIsOutOfSpaceAndLeavesEverythingReadable) {
  EngineHarness h(1, testing::default_store_options(), 512u << 10);
  const auto alice = EngineHarness::member("project-a");
  const auto group = h.create_group(alice, "g", "user");
  std::optional<engine::Rejection> full;
  int added = 0;
  for (int i = 0; i < 100000 && !full; ++i) {
    auto outcome = h.run(alice, engine::AddEntry{group, {}, "user_" + std::to_string(i) + std::string(200, 'x'), {}});
    if (outcome) {
      ++added;
    } else {
      full = outcome.error();
    }
  }
  ASSERT_TRUE(full) << "the map never filled";
  EXPECT_EQ(full->code, errc::out_of_space);
  EXPECT_NE(full->message.find("The storage is full"), std::string::npos) << full->message;
  const auto digest = h.digest();
  // Reads keep working, nothing half-written: the projections still equal the log.
  auto txn = lmdb::Txn::begin_read(h.env());
  EXPECT_EQ(h.store().group(txn, group)->entry_count, static_cast<std::uint64_t>(added));
  txn.abort();
  EXPECT_EQ(h.rebuild_digest(), digest);
  // A command that needs no room still goes through; one that does is refused again.
  EXPECT_EQ(h.run(alice, engine::AddEntry{group, {}, "abc", {}}).error().code, errc::bad_request);
}

// Wraps the journal: fails the append of any group named "explode", and holds the first
// transaction until released, so that the commands queued meanwhile form one batch.
class FailingBackend final : public engine::WriteBackend {
 public:
  explicit FailingBackend(projections::Journal& inner) : inner_(inner) {}
  void run(const std::function<void(engine::WriteBatch&)>& fn) override {
    if (first_.exchange(false)) release_.get_future().wait();
    inner_.run([&](engine::WriteBatch& batch) {
      Wrapper w{batch};
      fn(w);
    });
  }
  std::promise<void> release_;

 private:
  struct Wrapper final : engine::WriteBatch {
    explicit Wrapper(engine::WriteBatch& b) : inner(b) {}
    const engine::State& state() override { return inner.state(); }
    events::Seq head() override { return inner.head(); }
    void append(std::vector<events::Event>& events) override {
      inner.append(events);  // part of the batch is written before the failure
      for (const auto& e : events) {
        if (auto* g = std::get_if<events::AccessGroupCreated>(&e.body); g && g->name == "explode") {
          throw engine::StorageError(engine::errc::out_of_space, "no room for this one");
        }
      }
    }
    engine::WriteBatch& inner;
  };
  projections::Journal& inner_;
  std::atomic<bool> first_{true};
};

TEST(Writer, AFailedAppendFailsOnlyItsCommandInABatch) {
  EngineHarness h;
  projections::Journal journal(h.env(), h.log(), h.store());
  FailingBackend backend(journal);
  engine::Writer writer(backend, engine::make_seeded_ids(5));
  const auto alice = EngineHarness::member("project-a");
  const auto before = h.last();

  std::mutex m;
  std::map<std::string, engine::Outcome> outcomes;
  std::atomic<int> answered{0};
  auto send = [&](const std::string& name) {
    writer.submit(alice, engine::CreateAccessGroup{name, "", "ip"}, [&, name](engine::Outcome o) {
      std::lock_guard lock(m);
      outcomes.insert_or_assign(name, std::move(o));
      ++answered;
    });
  };
  send("first");  // held in the first transaction until the others are queued
  for (auto name : {"a", "b", "explode", "c", "d"}) send(name);
  backend.release_.set_value();
  while (answered < 6) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  writer.stop();

  for (auto name : {"first", "a", "b", "c", "d"}) {
    EXPECT_TRUE(outcomes.at(name)) << name;
  }
  ASSERT_FALSE(outcomes.at("explode"));
  EXPECT_EQ(outcomes.at("explode").error().code, errc::out_of_space);
  // The log holds exactly the five accepted groups, and the projections agree with it.
  EXPECT_EQ(h.last().value, before.value + 5);
  EXPECT_EQ(h.digest(), h.rebuild_digest());
  auto txn = lmdb::Txn::begin_read(h.env());
  EXPECT_FALSE(h.store().state(txn)->group_id_by_name("project-a", "explode"));
}

// stop() answers every command submitted before or while it runs, each exactly once, before it
// returns (queued commands are decided, late ones refused on their submitter's thread); after it
// the writer may be destroyed at once and no callback comes again.
TEST(Writer, StoppedWhileSubmittersRunAnswersEveryCommandOnceAndThenNothing) {
  EngineHarness h;
  projections::Journal journal(h.env(), h.log(), h.store());
  auto writer = std::make_unique<engine::Writer>(journal, engine::make_seeded_ids(11));
  const auto alice = EngineHarness::member("project-a");
  constexpr int kThreads = 4, kPerThread = 300;
  std::atomic<int> submitted{0}, answered{0}, refused{0};
  std::atomic<bool> stopped{false}, late_answer{false};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        ++submitted;
        writer->submit(alice,
                       engine::CreateAccessGroup{fmt::format("g-{}-{}", t, i), "", "ip"},
                       [&](engine::Outcome o) {
                         if (stopped) late_answer = true;
                         if (!o) {
                           EXPECT_EQ(o.error().code, errc::unavailable);
                           ++refused;
                         }
                         ++answered;
                       });
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(5));
  writer->stop();
  for (auto& t : threads) t.join();  // their last submits may come after stop(): refused inline
  stopped = true;
  writer.reset();
  EXPECT_EQ(answered.load(), submitted.load());
  EXPECT_EQ(answered.load(), kThreads * kPerThread);
  EXPECT_FALSE(late_answer.load());
  // What was accepted is in the log, and only that.
  auto txn = lmdb::Txn::begin_read(h.env());
  EXPECT_EQ(h.store().list_groups(txn, std::nullopt, std::nullopt, {100000, 0}).size(),
            static_cast<std::size_t>(answered - refused));
}

TEST(Writer, StoppedWriterRefusesNewCommands) {
  EngineHarness h;
  h.writer().stop();
  auto outcome = h.run(EngineHarness::member("p"), engine::CreateAccessGroup{"g", "", "ip"});
  ASSERT_FALSE(outcome);
  EXPECT_EQ(outcome.error().code, errc::unavailable);
}

}  // namespace
}  // namespace agate
