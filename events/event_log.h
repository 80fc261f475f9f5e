#pragma once

// The event log: every event Agate ever decided, in order, in one LMDB database ("log") keyed by
// its sequence number as a big-endian uint64, so that key order is log order and appends use
// MDB_APPEND (an out-of-order append fails loudly instead of landing in the middle).
//
// Invariants: the keys are exactly 1, 2, …, last — no gaps; the event stored under key N has
// seq N; every value is a record as written by events/codec.h.
//
// The log never owns a transaction. Appends happen inside the caller's write transaction, so
// the caller can add its own writes (projections) and log and projections commit or fail
// together. Thread-safety: an EventLog is an immutable handle, shared freely; the transactions
// given to it follow lmdb.h's rules.

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "events/codec.h"
#include "events/event.h"
#include "events/lmdb.h"

namespace agate::events {

// Big-endian key bytes of a sequence number.
std::string seq_key(Seq seq);

// A place in the log that could not be read: what was expected there and what is wrong.
struct Corruption {
  Seq seq;
  std::string what;
};

// Reads the log forward from a position inside one transaction. Reports the first problem it
// meets — an undecodable value, a gap, a key or seq out of place — and stops there: it never
// skips a record. Must not outlive its transaction.
class LogReader {
 public:
  enum class Status { record, end, corruption };

  LogReader(const lmdb::Txn& txn, lmdb::Dbi dbi, Seq from, DecodeLimits limits);

  // Moves to the next record and decodes it. Returns Status::record with event() set, or
  // Status::end past the last event, or Status::corruption with corruption() set; once at end or
  // corruption it stays there.
  Status next();
  // Moves to the next record without decoding it (gaps and keys are still checked); seq() and
  // record() give it.
  Status next_raw();

  const Event& event() const { return event_; }
  Seq seq() const { return expected_; }
  std::string_view record() const { return record_; }
  const Corruption& corruption() const { return corruption_; }
  Status status() const { return status_; }

 private:
  Status fail(Seq seq, std::string what);

  lmdb::Cursor cursor_;
  DecodeLimits limits_;
  Seq expected_;  // the seq of the record returned last (or about to be read)
  bool started_ = false;
  Status status_ = Status::record;
  std::string_view record_;
  Event event_;
  Corruption corruption_;
};

class EventLog {
 public:
  static constexpr const char* kDatabaseName = "log";

  // Opens the log's database in `env`, creating it in a short write transaction if needed.
  static EventLog open(lmdb::Env& env);
  // Opens an existing log inside `txn` (read-only users such as offline tools).
  // Returns nullopt if the environment holds no log.
  static std::optional<EventLog> try_open(const lmdb::Txn& txn);

  // The position of the last event, Seq{0} if the log is empty.
  Seq last(const lmdb::Txn& txn) const;

  // Appends `events` in order inside `txn`, numbering them last+1, last+2, …, and sets each
  // event's seq to its position. Returns the position of the last one (last(txn) if `events` is
  // empty). Throws lmdb::Error (MDB_MAP_FULL when the map is full); the caller must then abort
  // `txn`, which leaves the log exactly as it was.
  Seq append(const lmdb::Txn& txn, std::span<Event> events) const;

  // A reader positioned before `from` (Seq{0} or Seq{1}: the start of the log).
  LogReader read(const lmdb::Txn& txn, Seq from = Seq{1}, DecodeLimits limits = {}) const;

  lmdb::Dbi dbi() const { return dbi_; }

 private:
  explicit EventLog(lmdb::Dbi dbi) : dbi_(dbi) {}
  lmdb::Dbi dbi_;
};

}  // namespace agate::events
