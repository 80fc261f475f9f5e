#include "projections/rebuild.h"

#include <fmt/format.h>

#include <vector>

namespace agate::projections {

RebuildStats rebuild(const lmdb::Env& source, const events::EventLog& log, lmdb::Env& target_env,
                     const Store& target, std::uint64_t batch_events,
                     const std::function<void(const RebuildStats&)>& progress) {
  RebuildStats stats;
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

}  // namespace agate::projections
