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
  {
    std::lock_guard lock(mutex_);
    if (!stopping_) {
      queue_.push_back({std::move(context), std::move(command), std::move(done), std::nullopt});
      wake_.notify_one();
      return;
    }
  }
  done(Rejection{errc::unavailable, "The service is shutting down."});
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
  std::vector<Item> batch;
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
    for (auto& item : batch) item.done(std::move(*item.outcome));
  }
}

void Writer::process(std::vector<Item>& batch) {
  bool committed = false;
  std::optional<Rejection> commit_failure;
  try {
    backend_.run([&](WriteBatch& txn) {
      for (auto& item : batch) {
        try {
          const DecideInputs inputs{now(), ids_.get()};
          auto decision = decide(txn.state(), item.context, item.command, inputs);
          if (!decision) {
            item.outcome = decision.error();
            continue;
          }
          txn.append(*decision);
          item.outcome = Accepted{std::move(*decision)};
        } catch (const StorageError& e) {
          item.outcome = Rejection{e.code(), e.what()};
        } catch (const std::exception& e) {
          item.outcome = unavailable(e.what());
        }
      }
    });
    committed = true;
  } catch (const StorageError& e) {
    commit_failure = Rejection{e.code(), e.what()};
  } catch (const std::exception& e) {
    commit_failure = unavailable(e.what());
  }
  std::lock_guard lock(mutex_);
  ++stats_.batches;
  stats_.commands += batch.size();
  if (!committed) {
    ++stats_.failed_commits;
    // Nothing of the batch was written: every command that was to be accepted fails with it.
    for (auto& item : batch) {
      if (!item.outcome || item.outcome->has_value()) item.outcome = *commit_failure;
    }
  }
}

}  // namespace agate::engine
