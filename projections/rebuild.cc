#include "projections/rebuild.h"

#include <fmt/format.h>

#include <vector>

namespace agate::projections {

RebuildStats rebuild(const lmdb::Env& source, const events::EventLog& log, lmdb::Env& target_env,
                     const Store& target, std::uint64_t batch_events,
                     const std::function<void(const RebuildStats&)>& progress) {
  return replay(source, log, target_env, target, events::Seq{0}, batch_events, progress);
}

RebuildStats replay(const lmdb::Env& source, const events::EventLog& log, lmdb::Env& target_env,
                    const Store& target, events::Seq after, std::uint64_t batch_events,
                    const std::function<void(const RebuildStats&)>& progress) {
  RebuildStats stats;
  stats.last = after;
  std::vector<events::Event> batch;
  while (true) {
    batch.clear();
    {
      auto read = lmdb::Txn::begin_read(source);
      auto reader = log.read(read, stats.last.next());
      while (batch.size() < batch_events && reader.next() == events::LogReader::Status::record) {
        batch.push_back(reader.event());
      }
      if (reader.status() == events::LogReader::Status::corruption) {
        throw std::runtime_error(fmt::format("event log corrupt at {}: {}",
                                             reader.corruption().seq.value,
                                             reader.corruption().what));
      }
    }
    if (batch.empty()) return stats;
    auto write = lmdb::Txn::begin_write(target_env);
    for (const auto& e : batch) target.apply(write, e);
    write.commit();
    stats.events += batch.size();
    stats.last = batch.back().seq;
    if (progress) progress(stats);
  }
}

namespace {

lmdb::Dbi must_open(const lmdb::Txn& txn, const std::string& name) {
  auto dbi = lmdb::Dbi::try_open(txn, name.c_str());
  if (!dbi) throw std::runtime_error(fmt::format("no projection database {}", name));
  return *dbi;
}

}  // namespace

std::optional<Difference> first_difference(const lmdb::Txn& left_txn, const lmdb::Txn& right_txn) {
  for (const auto& name : Store::database_names()) {
    auto left = lmdb::Cursor::open(left_txn, must_open(left_txn, name));
    auto right = lmdb::Cursor::open(right_txn, must_open(right_txn, name));
    std::string_view lk, lv, rk, rv;
    bool has_left = left.get(lk, lv, MDB_FIRST);
    bool has_right = right.get(rk, rv, MDB_FIRST);
    while (has_left || has_right) {
      if (has_left && has_right && lk == rk) {
        if (lv != rv) return Difference{name, std::string(lk), std::string(lv), std::string(rv)};
        has_left = left.get(lk, lv, MDB_NEXT);
        has_right = right.get(rk, rv, MDB_NEXT);
        continue;
      }
      // LMDB's default order for these databases is memcmp order, as string_view's.
      if (has_left && (!has_right || lk < rk)) {
        return Difference{name, std::string(lk), std::string(lv), std::nullopt};
      }
      return Difference{name, std::string(rk), std::nullopt, std::string(rv)};
    }
  }
  return std::nullopt;
}

std::string replace_projections(lmdb::Env& live, const Store& live_store,
                                const events::EventLog& live_log, events::Seq expected_last,
                                const lmdb::Env& rebuilt, const Store& rebuilt_store) {
  auto from = lmdb::Txn::begin_read(rebuilt);
  const std::string expected = rebuilt_store.digest(from);
  auto txn = lmdb::Txn::begin_write(live);
  const auto last = live_log.last(txn);
  if (last != expected_last) {
    throw std::runtime_error(fmt::format(
        "the log ends at {} but the projections were rebuilt up to {}: nothing was replaced",
        last.value, expected_last.value));
  }
  for (const auto& name : Store::database_names()) {
    const auto target = lmdb::Dbi::open(txn, name.c_str(), /*create=*/true);
    target.clear(txn);
    auto in = lmdb::Cursor::open(from, must_open(from, name));
    auto out = lmdb::Cursor::open(txn, target);
    std::string_view k, v;
    for (bool more = in.get(k, v, MDB_FIRST); more; more = in.get(k, v, MDB_NEXT)) {
      out.put(k, v, MDB_APPEND);
    }
  }
  live_store.stamp(txn);  // the rebuilt projections are of this layout
  const std::string got = live_store.digest(txn);
  if (got != expected) {
    throw std::runtime_error(fmt::format(
        "the copied projections' digest {} is not the rebuilt one {}: nothing was replaced", got,
        expected));
  }
  txn.commit();
  return got;
}

}  // namespace agate::projections
