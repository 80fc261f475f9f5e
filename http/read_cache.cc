#include "http/read_cache.h"

namespace agate::http {

std::optional<std::string> ReadCache::find(const std::string& key, const Snapshot& at) {
  std::lock_guard lock(mutex_);
  auto it = index_.find(key);
  if (it == index_.end() || it->second->at != at) {
    ++stats_.misses;
    return std::nullopt;
  }
  lru_.splice(lru_.begin(), lru_, it->second);
  ++stats_.hits;
  return it->second->body;
}

void ReadCache::put(const std::string& key, const Snapshot& at, std::string body) {
  const std::size_t cost = cost_of(key, body);
  if (cost > max_bytes_ / 4) return;  // one answer never takes more than a quarter of the budget
  std::lock_guard lock(mutex_);
  if (auto it = index_.find(key); it != index_.end()) {
    // A reader of an older snapshot must not replace a newer answer.
    if (it->second->at.log_position > at.log_position) return;
    bytes_ -= it->second->cost();
    lru_.erase(it->second);
    index_.erase(it);
  }
  evict_until_fits(cost);
  lru_.push_front(Entry{key, at, std::move(body)});
  index_.emplace(lru_.front().key, lru_.begin());
  bytes_ += cost;
}

void ReadCache::evict_until_fits(std::size_t incoming) {
  while (!lru_.empty() && bytes_ + incoming > max_bytes_) {
    auto& last = lru_.back();
    bytes_ -= last.cost();
    index_.erase(last.key);
    lru_.pop_back();
    ++stats_.evictions;
  }
}

ReadCache::Stats ReadCache::stats() const {
  std::lock_guard lock(mutex_);
  Stats s = stats_;
  s.entries = lru_.size();
  s.bytes = bytes_;
  return s;
}

}  // namespace agate::http
