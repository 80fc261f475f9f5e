#pragma once

// The dispatcher: level-triggered reconciliation of share instances with their back ends.
//
// When a transaction changes a share's effective rules, the projections put the share's hosted
// instances in the outbox (durably, in that transaction) and the journal tells the dispatcher
// after the commit. Workers take dirty instances, never two workers on one instance; each reads
// the instance's desired rules and the rules its back end holds (from the driver outcomes
// recorded so far) in a read transaction, calls the back end's driver off the writer's thread
// with (all rules, add, delete, update), and records the outcome as an event through the
// writer. If the desired version moved during the call, the instance is reconciled again: many
// changes arriving
// while a call is in flight are merged into the next call. A driver always receives the whole
// current desired state, so requests reaching it out of order converge.
//
// On start every instance in the outbox is resumed with a full sync (the back end is made to
// match the desired rules exactly), so a call in flight at a crash is neither lost nor left
// half-applied.
//
// Thread-safety: notify() may be called from any thread (the writer's, after a commit).

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "drivers/driver.h"
#include "engine/writer.h"
#include "events/lmdb.h"
#include "projections/store.h"

namespace agate::drivers {

struct DispatcherOptions {
  unsigned workers = 32;  // driver calls in flight at most
};

class Dispatcher {
 public:
  // `drivers` maps back-end names (an instance's host) to their driver. Everything given must
  // outlive the dispatcher.
  Dispatcher(lmdb::Env& env, const projections::Store& store, engine::Writer& writer,
             std::map<std::string, std::shared_ptr<Driver>> drivers,
             DispatcherOptions options = {});
  // Stops the workers (see stop()).
  ~Dispatcher();
  Dispatcher(const Dispatcher&) = delete;
  Dispatcher& operator=(const Dispatcher&) = delete;

  // Starts the workers and resumes every instance in the outbox.
  void start();
  // Instances just put in the outbox by a commit.
  void notify(const std::vector<projections::OutboxEntry>& dirty);
  // Stops taking work and waits for the calls in flight to be recorded (the writer must still
  // run). What is left stays in the outbox for the next start.
  void stop();

  // The desired version of the call in flight for `instance_id`, if any (for states such as
  // "applying").
  std::optional<std::uint64_t> in_flight(const std::string& instance_id) const;
  // Grows after every change to the calls in flight (what in_flight() answers), so that a
  // reader can tell whether what it saw of them may have changed since.
  std::uint64_t flight_generation() const {
    return flight_generation_.load(std::memory_order_acquire);
  }

  struct Stats {
    std::uint64_t calls = 0;
    std::uint64_t failed_calls = 0;
    std::uint64_t outcomes_refused = 0;
  };
  Stats stats() const;

 private:
  void work();
  // Returns true if an outcome was submitted (finish() then comes from the writer's callback).
  bool reconcile(const std::string& instance_id, bool full_sync);
  void finish(const std::string& instance_id, bool recorded);
  void enqueue_locked(const std::string& instance_id, bool full_sync);

  lmdb::Env& env_;
  const projections::Store& store_;
  engine::Writer& writer_;
  std::map<std::string, std::shared_ptr<Driver>> drivers_;
  DispatcherOptions options_;

  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::string> ready_;
  std::map<std::string, bool> queued_;                 // instance -> full sync wanted
  std::map<std::string, std::uint64_t> in_flight_;     // instance -> version being applied
  std::set<std::string> again_;                        // changed while in flight
  std::atomic<std::uint64_t> flight_generation_{0};    // bumped after in_flight_ changes
  bool stopping_ = false;
  std::size_t records_pending_ = 0;  // outcomes submitted, not yet recorded
  std::condition_variable records_done_;
  Stats stats_;
  std::vector<std::thread> workers_;
};

}  // namespace agate::drivers
