#include "engine/recycle_bin.h"

namespace agate::engine {

namespace {

// Who purges: the system, as the dispatcher records outcomes.
Context purger_context() {
  Context c;
  c.user_id = "agate-recycle-bin";
  c.request_id = "recycle-bin-purge";
  c.is_admin = true;
  return c;
}

}  // namespace

RecycleBinPurger::RecycleBinPurger(Writer& writer, RecycleBinOptions options,
                                   std::function<void(const PurgeOutcome&)> report)
    : writer_(writer), options_(options), report_(std::move(report)) {
  if (options_.batch == 0) options_.batch = 1;
}

RecycleBinPurger::~RecycleBinPurger() { stop(); }

void RecycleBinPurger::start() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = false;
  }
  thread_ = std::thread([this] { run(); });
}

void RecycleBinPurger::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    wake_.notify_all();
  }
  if (thread_.joinable()) thread_.join();
}

PurgeOutcome RecycleBinPurger::purge() {
  std::size_t purged = 0;
  while (true) {
    auto outcome = writer_.execute(purger_context(), PurgeExpiredShares{options_.batch});
    if (!outcome) return outcome.error();
    purged += outcome->events.size();
    // Fewer than a batch: the bin holds no more expired shares (as of that decision).
    if (outcome->events.size() < options_.batch) return purged;
  }
}

void RecycleBinPurger::run() {
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    lock.unlock();
    auto outcome = purge();
    if (report_ && (!outcome || *outcome > 0)) report_(outcome);
    lock.lock();
    wake_.wait_for(lock, options_.interval, [this] { return stopping_; });
  }
}

}  // namespace agate::engine
