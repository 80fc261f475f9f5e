#include "http/position_waiter.h"

#include <utility>

namespace agate::http {

PositionWaiter::PositionWaiter(std::uint64_t applied)
    : applied_(applied), thread_([this] { run(); }) {}

PositionWaiter::~PositionWaiter() { stop(); }

void PositionWaiter::wait(std::uint64_t position, Clock::time_point deadline, Then then) {
  std::uint64_t applied = 0;
  {
    std::lock_guard lock(mutex_);
    applied = applied_;
    if (applied < position && !stopping_) {
      const auto id = next_id_++;
      const bool earliest = by_deadline_.empty() || deadline < by_deadline_.begin()->first;
      by_deadline_.emplace(deadline, id);
      by_position_.emplace(position, id);
      waits_.emplace(id, Wait{position, std::move(then)});
      if (earliest) wake_.notify_one();
      return;
    }
  }
  then(applied >= position, applied);
}

void PositionWaiter::advanced(std::uint64_t position) {
  std::vector<Then> ready;
  {
    std::lock_guard lock(mutex_);
    if (position <= applied_ || stopping_) {
      applied_ = std::max(applied_, position);
      return;
    }
    applied_ = position;
    auto end = by_position_.upper_bound(position);
    for (auto it = by_position_.begin(); it != end; ++it) {
      auto w = waits_.find(it->second);
      ready.push_back(std::move(w->second.then));
      waits_.erase(w);
    }
    by_position_.erase(by_position_.begin(), end);
    if (ready.empty()) return;
    // Their deadline entries stay behind; the timer drops those whose wait is gone.
    ++running_;
  }
  for (auto& then : ready) then(true, position);
  std::lock_guard lock(mutex_);
  if (--running_ == 0) idle_.notify_all();
}

std::uint64_t PositionWaiter::applied() const {
  std::lock_guard lock(mutex_);
  return applied_;
}

std::size_t PositionWaiter::pending() const {
  std::lock_guard lock(mutex_);
  return waits_.size();
}

void PositionWaiter::run() {
  std::unique_lock lock(mutex_);
  while (true) {
    if (stopping_) break;
    if (by_deadline_.empty()) {
      wake_.wait(lock);
      continue;
    }
    const auto next = by_deadline_.begin()->first;
    if (Clock::now() < next) {
      wake_.wait_until(lock, next);
      continue;
    }
    std::vector<Then> expired;
    const auto now = Clock::now();
    std::uint64_t applied = applied_;
    while (!by_deadline_.empty() && by_deadline_.begin()->first <= now) {
      const auto id = by_deadline_.begin()->second;
      by_deadline_.erase(by_deadline_.begin());
      auto w = waits_.find(id);
      if (w == waits_.end()) continue;  // ended by advanced()
      auto range = by_position_.equal_range(w->second.position);
      for (auto it = range.first; it != range.second; ++it) {
        if (it->second == id) {
          by_position_.erase(it);
          break;
        }
      }
      expired.push_back(std::move(w->second.then));
      waits_.erase(w);
    }
    lock.unlock();
    for (auto& then : expired) then(false, applied);
    lock.lock();
  }
  // Stopping: every wait left ends unreached.
  std::vector<Then> left;
  for (auto& [id, w] : waits_) left.push_back(std::move(w.then));
  waits_.clear();
  by_deadline_.clear();
  by_position_.clear();
  const auto applied = applied_;
  lock.unlock();
  for (auto& then : left) then(false, applied);
}

void PositionWaiter::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    wake_.notify_all();
  }
  if (thread_.joinable()) thread_.join();
  std::unique_lock lock(mutex_);
  idle_.wait(lock, [&] { return running_ == 0; });
}

}  // namespace agate::http
