#pragma once

// Rebuilding projections from the log: the proof that they are folds of it.

#include <cstdint>
#include <functional>

#include "events/event_log.h"
#include "events/lmdb.h"
#include "projections/store.h"

namespace agate::projections {

struct RebuildStats {
  std::uint64_t events = 0;
  events::Seq last;
};

// Replays the log of `source` from its first event into the projections of `target` (a Store
// opened on another environment, `target_env`, whose projections must be empty), through the same
// apply() the writer uses, committing every `batch_events` events. Reads the source in short read
// transactions, so a running server is not held back. `progress` (optional) is called after each
// commit. Throws on a corrupt log (naming the sequence number) or an ApplyError.
RebuildStats rebuild(const lmdb::Env& source, const events::EventLog& log, lmdb::Env& target_env,
                     const Store& target, std::uint64_t batch_events = 10'000,
                     const std::function<void(const RebuildStats&)>& progress = {});

}  // namespace agate::projections
