#include "engine/writer.h"

#include <chrono>
#include <future>

namespace agate::engine {

namespace {

std::int64_t system_micros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

Rejection unavailable(const std::string& why) {
  return {errc::unavailable, "The service could not record the change: " + why};
}

}  // namespace

Writer::Writer(WriteBackend& backend, std::unique_ptr<IdSource> ids, WriterOptions options,
               Clock clock)
    : backend_(backend),
      ids_(std::move(ids)),
      options_(options),
      clock_(clock ? std::move(clock) : Clock(system_micros)),
      thread_([this] { run(); }) {}

Writer::~Writer() { stop(); }

void Writer::submit(Context context, Command command, std::function<void(Outcome)> done) {
  submit_positioned(std::move(context), std::move(command),
                    [done = std::move(done)](Outcome outcome, events::Seq) {
                      done(std::move(outcome));
                    });
}

void Writer::submit_positioned(Context context, Command command,
                               std::function<void(Outcome, events::Seq)> done) {
  {
    std::lock_guard lock(mutex_);
    if (!stopping_) {
      queue_.push_back({std::move(context), std::move(command), std::move(done), std::nullopt});
      wake_.notify_one();
      return;
    }
  }
  done(Rejection{errc::unavailable, "The service is shutting down."}, events::Seq{0});
}

Outcome Writer::execute(Context context, Command command) {
  std::promise<Outcome> promise;
  auto future = promise.get_future();
  submit(std::move(context), std::move(command),
         [&promise](Outcome outcome) { promise.set_value(std::move(outcome)); });
  return future.get();
}

void Writer::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    wake_.notify_all();
  }
  if (thread_.joinable()) thread_.join();
}

Writer::Stats Writer::stats() const {
  std::lock_guard lock(mutex_);
  return stats_;
}

std::int64_t Writer::now() {
  // Event times never go backwards, even if the wall clock does.
  last_time_ = std::max(last_time_, clock_());
  return last_time_;
}

void Writer::run() {
  std::deque<Item> batch;
  while (true) {
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (queue_.empty() && stopping_) return;
      const std::size_t n = std::min(queue_.size(), options_.max_batch);
      batch.clear();
      for (std::size_t i = 0; i < n; ++i) {
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
    }
    process(batch);
    for (auto& item : batch) item.done(std::move(*item.outcome), item.position);
    // Release the callbacks now: they may hold resources (a connection) until destroyed.
    batch.clear();
  }
}

void Writer::process(std::deque<Item>& batch) {
  std::vector<Item*> all;
  for (auto& item : batch) all.push_back(&item);
  // The fast path: the whole batch in one transaction, with the commands gathered meanwhile. If
  // some command's events cannot be appended, that transaction is abandoned and each command
  // runs in its own, so that the failure is answered to the command that caused it and the
  // others still commit.
  if (!run_transaction(all, &batch)) {
    for (auto* item : all) {
      std::vector<Item*> one{item};
      run_transaction(one, nullptr);
    }
  }
  last_batch_ = batch.size();
  std::lock_guard lock(mutex_);
  ++stats_.batches;
  stats_.commands += batch.size();
}

bool Writer::gather(std::deque<Item>& batch, std::vector<Item*>& items,
                    std::chrono::steady_clock::time_point deadline) {
  if (std::chrono::steady_clock::now() >= deadline) return false;
  std::unique_lock lock(mutex_);
  if (queue_.empty()) {
    if (batch.size() >= last_batch_) return false;
    wake_.wait_until(lock, deadline, [&] { return stopping_ || !queue_.empty(); });
  }
  if (queue_.empty()) return false;
  while (!queue_.empty() && batch.size() < options_.max_batch) {
    batch.push_back(std::move(queue_.front()));
    queue_.pop_front();
    items.push_back(&batch.back());
  }
  return true;
}

bool Writer::run_transaction(std::vector<Item*>& items, std::deque<Item>* batch) {
  struct AppendFailed {};
  for (auto* item : items) {
    item->outcome.reset();
    item->position = events::Seq{0};
  }
  const bool gathering = batch && options_.gather.count() > 0;
  const auto deadline = std::chrono::steady_clock::now() + options_.gather;
  try {
    backend_.run([&](WriteBatch& txn) {
      for (std::size_t i = 0;; ++i) {
        if (i == items.size() &&
            (!gathering || batch->size() >= options_.max_batch || !gather(*batch, items, deadline))) {
          break;
        }
        Item* item = items[i];
        item->position = txn.head();
        Decision decision = Rejection{};
        try {
          decision = decide(txn.state(), item->context, item->command, {now(), ids_.get()});
        } catch (const std::exception& e) {
          // decide() only reads: the transaction is intact, the other commands go on.
          item->outcome = unavailable(e.what());
          continue;
        }
        if (!decision) {
          item->outcome = decision.error();
          continue;
        }
        try {
          txn.append(*decision);
        } catch (const StorageError& e) {
          item->outcome = Rejection{e.code(), e.what()};
          throw AppendFailed{};
        } catch (const std::exception& e) {
          item->outcome = unavailable(e.what());
          throw AppendFailed{};
        }
        if (!decision->empty()) item->position = decision->back().seq;
        item->outcome = Accepted{std::move(*decision)};
      }
    });
  } catch (const AppendFailed&) {
    // Nothing was written. Alone, the command's own failure is its answer; in a batch, the
    // caller retries the commands one by one.
    if (items.size() > 1) return false;
    return true;
  } catch (const StorageError& e) {
    fail_accepted(items, Rejection{e.code(), e.what()});
  } catch (const std::exception& e) {
    fail_accepted(items, unavailable(e.what()));
  }
  return true;
}

void Writer::fail_accepted(const std::vector<Item*>& items, const Rejection& why) {
  std::lock_guard lock(mutex_);
  ++stats_.failed_commits;
  // The commit failed: nothing of the transaction was written, so every command that was to be
  // accepted fails with it; refusals stand.
  // A refusal's position may count events of the transaction that was not written: none is
  // told.
  for (auto* item : items) {
    if (!item->outcome || item->outcome->has_value()) item->outcome = why;
    item->position = events::Seq{0};
  }
}

}  // namespace agate::engine
