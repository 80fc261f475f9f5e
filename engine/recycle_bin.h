#pragma once

// The recycle bin's purge: shares soft-deleted for longer than the retention are deleted for
// good, through the writer, as the system, like any DeleteShare (their back ends drop their
// rules). The decision reads the expired shares from the bin's index at the decision's own time
// (PurgeExpiredShares), so the writer's clock alone says what has expired.
//
// Thread-safety: purge() may be called from any thread, start() and stop() from one.

#include <boost/system/result.hpp>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <functional>
#include <mutex>
#include <thread>

#include "engine/model.h"
#include "engine/writer.h"

namespace agate::engine {

struct RecycleBinOptions {
  // How often the bin is looked at (Manila's check_for_expired_shares_in_recycle_bin_interval).
  std::chrono::milliseconds interval{std::chrono::seconds(60)};
  // Shares deleted per command at most; a full batch is followed by another at once.
  std::size_t batch = 100;
};

// The shares one purge deleted, or why it stopped.
using PurgeOutcome = boost::system::result<std::size_t, Rejection>;

class RecycleBinPurger {
 public:
  // `writer` must outlive the purger. `report` (optional) is called on the purger's thread after
  // each periodic purge that deleted something or failed.
  RecycleBinPurger(Writer& writer, RecycleBinOptions options = {},
                   std::function<void(const PurgeOutcome&)> report = {});
  // Stops (see stop()).
  ~RecycleBinPurger();
  RecycleBinPurger(const RecycleBinPurger&) = delete;
  RecycleBinPurger& operator=(const RecycleBinPurger&) = delete;

  // Purges at once on a thread of its own, then every `interval`.
  void start();
  // Wakes the thread and joins it; a purge under way ends first. Idempotent.
  void stop();

  // Deletes every share expired now, in commands of at most `batch` shares, on the calling
  // thread; returns how many, or the rejection that stopped it (writer stopping, storage full).
  [[nodiscard]] PurgeOutcome purge();

 private:
  void run();

  Writer& writer_;
  RecycleBinOptions options_;
  std::function<void(const PurgeOutcome&)> report_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace agate::engine
