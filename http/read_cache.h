#pragma once

// Rendered answers of the heavy read endpoints (a share's effective access, its access list),
// kept with the snapshot they were rendered from and reused only for that same snapshot.
//
// A snapshot is the pair (log position, in-flight generation). Every change to the projections
// is an event, so two read transactions that see the same last log position see the same
// projections; the in-flight generation is the dispatcher's count of changes to the driver calls
// it has in flight (the "applying"/"denying" states are worked out from them). An entry is
// reused only when both match the reader's, so a cached answer is byte for byte what rendering
// it again would give. Any commit makes every entry stale; stale entries are replaced on their
// next read or evicted, least recently used first, once the byte budget is spent.

#include <cstdint>
#include <list>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace agate::http {

struct Snapshot {
  std::uint64_t log_position = 0;
  std::uint64_t flight_generation = 0;
  bool operator==(const Snapshot&) const = default;
};

class ReadCache {
 public:
  // At most `max_bytes` of keys and bodies are kept; 0 keeps nothing.
  explicit ReadCache(std::size_t max_bytes) : max_bytes_(max_bytes) {}

  // The body stored under `key` for exactly this snapshot, if any.
  std::optional<std::string> find(const std::string& key, const Snapshot& at);
  // Stores `body` as the answer under `key` at `at`, replacing an older one.
  void put(const std::string& key, const Snapshot& at, std::string body);

  struct Stats {
    std::uint64_t hits = 0, misses = 0, evictions = 0;
    std::size_t entries = 0, bytes = 0;
  };
  Stats stats() const;

 private:
  struct Entry {
    std::string key;
    Snapshot at;
    std::string body;
    std::size_t cost() const { return cost_of(key, body); }
  };
  // What an entry counts against the budget.
  static std::size_t cost_of(const std::string& key, const std::string& body) {
    return key.size() + body.size() + sizeof(Entry);
  }
  using List = std::list<Entry>;  // most recently used first

  void evict_until_fits(std::size_t incoming);

  const std::size_t max_bytes_;
  mutable std::mutex mutex_;
  List lru_;
  std::unordered_map<std::string_view, List::iterator> index_;  // views into lru_'s keys
  std::size_t bytes_ = 0;
  Stats stats_;
};

}  // namespace agate::http
