#pragma once

// The idempotency keys' table: what each write that carried an Idempotency-Key came to
// (engine/idempotency.h), in its own database, `idempotency_keys`, of the journal's environment.
//
// It is not a projection: it is not folded from the log, a rebuild leaves it as it is (it
// describes requests, not the state), and the projections' digest does not cover it. Records
// are written in the transaction of the command they belong to.
//
// Keys in the database:
//   'r' + caller length (2 bytes, big-endian) + caller + key  -> the record
//   'x' + expires_at (8 bytes, big-endian) + the same suffix   -> "" (the expiry index)
// so that dropping what has expired reads the expired records only, oldest first, never the
// whole table.

#include <cstddef>
#include <cstdint>
#include <optional>

#include "engine/idempotency.h"
#include "events/lmdb.h"

namespace agate::projections {

class IdempotencyTable {
 public:
  static constexpr const char* kDatabase = "idempotency_keys";

  // Opens the database, creating it if need be (`txn` must then be a write transaction).
  static IdempotencyTable open(const lmdb::Txn& txn);
  // Opens it if it exists (an environment written before the table existed has none).
  static std::optional<IdempotencyTable> try_open(const lmdb::Txn& txn);

  // The key's record, unless there is none or it expired before `now` (µs).
  std::optional<engine::IdempotencyRecord> get(const lmdb::Txn& txn,
                                               const engine::IdempotencyKey& key,
                                               std::int64_t now) const;
  // Writes the key's record, replacing any earlier one (and its place in the expiry index).
  void put(const lmdb::Txn& txn, const engine::IdempotencyKey& key,
           const engine::IdempotencyRecord& record) const;
  // Stores the answer sent for the key; false if the key has no record any more.
  bool set_answer(const lmdb::Txn& txn, const engine::IdempotencyKey& key,
                  std::string_view answer) const;
  // Deletes at most `max` records that expired before `now`, oldest first; returns how many.
  std::size_t drop_expired(const lmdb::Txn& txn, std::int64_t now, std::size_t max) const;
  // How many records the table holds (expired ones not yet dropped included).
  std::size_t size(const lmdb::Txn& txn) const;

 private:
  explicit IdempotencyTable(lmdb::Dbi dbi) : dbi_(dbi) {}
  lmdb::Dbi dbi_;
};

}  // namespace agate::projections
