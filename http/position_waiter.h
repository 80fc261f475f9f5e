#pragma once

// Requests that may be answered only once this node has applied the log up to a position
// (X-Agate-Min-Position). The journal tells the waiter each new position it commits; a wait
// ends when the position is reached or at its deadline, whichever comes first, and never holds
// a thread while it lasts: each is a callback, called once.
//
// Thread-safety: every member may be called from any thread. Callbacks run on the thread that
// called wait() (when the position is already reached), on the one that called advanced(), or
// on the waiter's own timer thread (deadlines, stop()); they must be quick (hand the request on).
// Once stop() has returned, no callback runs and no thread touches the waiter.

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

namespace agate::http {

class PositionWaiter {
 public:
  using Clock = std::chrono::steady_clock;
  // `reached` is true if the position was applied, false at the deadline or at stop(); the
  // argument after it is the position applied at that moment.
  using Then = std::function<void(bool reached, std::uint64_t applied)>;

  // `applied`: the position the node has already applied.
  explicit PositionWaiter(std::uint64_t applied);
  ~PositionWaiter();
  PositionWaiter(const PositionWaiter&) = delete;
  PositionWaiter& operator=(const PositionWaiter&) = delete;

  // Calls `then` once the node has applied `position` (at once if it has), or at `deadline`.
  void wait(std::uint64_t position, Clock::time_point deadline, Then then);
  // The node has applied the log up to `position` (positions never go back; a lower one is
  // ignored).
  void advanced(std::uint64_t position);
  std::uint64_t applied() const;
  // Waits not yet ended.
  std::size_t pending() const;

  // Ends every wait still pending (reached = false) and joins the timer thread; idempotent.
  void stop();

 private:
  struct Wait {
    std::uint64_t position;
    Then then;
  };
  void run();

  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::uint64_t applied_;
  bool stopping_ = false;
  std::uint64_t next_id_ = 0;
  // By deadline (the timer's order), and by position (what advanced() ends), both to the ids.
  std::multimap<Clock::time_point, std::uint64_t> by_deadline_;
  std::multimap<std::uint64_t, std::uint64_t> by_position_;
  std::map<std::uint64_t, Wait> waits_;
  // Callbacks being run by advanced() outside the lock; stop() waits for them.
  unsigned running_ = 0;
  std::condition_variable idle_;
  std::thread thread_;
};

}  // namespace agate::http
