#pragma once

// Rebuilding projections from the log: the proof that they are folds of it; comparing two sets
// of projections; putting rebuilt projections in place of the live ones.

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "events/event_log.h"
#include "events/lmdb.h"
#include "projections/store.h"

namespace agate::projections {

struct RebuildStats {
  std::uint64_t events = 0;  // events replayed by this call
  events::Seq last;          // the last event the target's projections hold
};

// Replays the log of `source` from its first event into the projections of `target` (a Store
// opened on another environment, `target_env`, whose projections must be empty), through the same
// apply() the writer uses, committing every `batch_events` events. Reads the source in short read
// transactions, so a running server is not held back. `progress` (optional) is called after each
// commit. Throws on a corrupt log (naming the sequence number) or an ApplyError.
RebuildStats rebuild(const lmdb::Env& source, const events::EventLog& log, lmdb::Env& target_env,
                     const Store& target, std::uint64_t batch_events = 10'000,
                     const std::function<void(const RebuildStats&)>& progress = {});

// The same, for a target that already holds the projections of the events up to `after`:
// replays the events after it, up to the end of the log as it is then. `after` is Seq{0} for
// empty projections (rebuild()).
RebuildStats replay(const lmdb::Env& source, const events::EventLog& log, lmdb::Env& target_env,
                    const Store& target, events::Seq after, std::uint64_t batch_events = 10'000,
                    const std::function<void(const RebuildStats&)>& progress = {});

// Where two sets of projections first differ, in digest order (database, then key).
struct Difference {
  std::string database;
  std::string key;                   // the raw key bytes
  std::optional<std::string> left;   // the value on the left; nullopt if the key is absent there
  std::optional<std::string> right;  // the same on the right
};

// Compares every projection database (Store::database_names()) of the environment of `left`
// with the one of `right`; returns the first difference, nullopt if they hold the same bytes.
// Throws if a database is missing on either side.
std::optional<Difference> first_difference(const lmdb::Txn& left, const lmdb::Txn& right);

// Replaces the projections of `live` with those of `rebuilt` in one write transaction on `live`:
// every projection database is emptied and refilled with the rebuilt bytes, and the digest of
// the result is checked against `rebuilt`'s before the commit. The transaction commits only if the
// live log still ends at `expected_last` and the digests match; otherwise nothing is changed and
// this throws, saying why. A crash before the commit leaves the old projections (LMDB's commit is
// atomic). Returns the digest. The live environment needs free room for a second copy of the
// projections until the commit (MDB_MAP_FULL otherwise, which changes nothing either).
std::string replace_projections(lmdb::Env& live, const Store& live_store,
                                const events::EventLog& live_log, events::Seq expected_last,
                                const lmdb::Env& rebuilt, const Store& rebuilt_store);

}  // namespace agate::projections
