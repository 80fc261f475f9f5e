#include "events/event_log.h"

#include <fmt/format.h>

namespace agate::events {

namespace {

std::uint64_t load_be64(std::string_view b) {
  std::uint64_t v = 0;
  for (char c : b) v = (v << 8) | static_cast<unsigned char>(c);
  return v;
}

}  // namespace

std::string seq_key(Seq seq) {
  std::string key(8, '\0');
  for (int i = 7; i >= 0; --i) {
    key[i] = static_cast<char>(seq.value >> (8 * (7 - i)));
  }
  return key;
}

// ---- EventLog -------------------------------------------------------------------------------

EventLog EventLog::open(lmdb::Env& env) {
  auto txn = lmdb::Txn::begin_write(env);
  auto dbi = lmdb::Dbi::open(txn, kDatabaseName, /*create=*/true);
  txn.commit();
  return EventLog(dbi);
}

std::optional<EventLog> EventLog::try_open(const lmdb::Txn& txn) {
  auto dbi = lmdb::Dbi::try_open(txn, kDatabaseName);
  if (!dbi) return std::nullopt;
  return EventLog(*dbi);
}

namespace {

// The sequence number of the last record, through `cursor` (left on it).
Seq last_through(lmdb::Cursor& cursor) {
  std::string_view key, value;
  if (!cursor.get(key, value, MDB_LAST)) return Seq{0};
  if (key.size() != 8) {
    throw std::runtime_error(
        fmt::format("event log: last key has {} bytes, expected 8", key.size()));
  }
  return Seq{load_be64(key)};
}

}  // namespace

Seq EventLog::last(const lmdb::Txn& txn) const {
  auto cursor = lmdb::Cursor::open(txn, dbi_);
  return last_through(cursor);
}

Seq EventLog::append(const lmdb::Txn& txn, std::span<Event> events) const {
  auto cursor = lmdb::Cursor::open(txn, dbi_);
  Seq seq = last_through(cursor);
  if (events.empty()) return seq;
  std::string record;
  for (Event& event : events) {
    seq = seq.next();
    event.seq = seq;
    encode_into(event, record);
    cursor.put(seq_key(seq), record, MDB_APPEND);
  }
  return seq;
}

LogReader EventLog::read(const lmdb::Txn& txn, Seq from, DecodeLimits limits) const {
  return LogReader(txn, dbi_, from, limits);
}

// ---- LogReader ------------------------------------------------------------------------------

LogReader::LogReader(const lmdb::Txn& txn, lmdb::Dbi dbi, Seq from, DecodeLimits limits)
    : cursor_(lmdb::Cursor::open(txn, dbi)),
      limits_(limits),
      expected_(from.value == 0 ? Seq{1} : from) {}

LogReader::Status LogReader::fail(Seq seq, std::string what) {
  corruption_ = Corruption{seq, std::move(what)};
  status_ = Status::corruption;
  return status_;
}

LogReader::Status LogReader::next_raw() {
  if (status_ != Status::record) return status_;
  std::string_view key, value;
  bool found;
  if (!started_) {
    started_ = true;
    const std::string start = seq_key(expected_);
    key = start;
    found = cursor_.get(key, value, MDB_SET_RANGE);
  } else {
    expected_ = expected_.next();
    found = cursor_.get(key, value, MDB_NEXT);
  }
  if (!found) {
    status_ = Status::end;
    return status_;
  }
  if (key.size() != 8) {
    return fail(expected_, fmt::format("key of {} bytes where event {} should be (expected 8)",
                                       key.size(), expected_.value));
  }
  const Seq found_seq{load_be64(key)};
  if (found_seq != expected_) {
    return fail(expected_, fmt::format("gap: event {} is missing, the next stored event is {}",
                                       expected_.value, found_seq.value));
  }
  record_ = value;
  return status_;
}

LogReader::Status LogReader::next() {
  if (next_raw() != Status::record) return status_;
  auto decoded = decode(record_, limits_);
  if (!decoded) {
    return fail(expected_, fmt::format("event {} cannot be decoded: {}", expected_.value,
                                       decoded.error().message));
  }
  if (decoded->seq != expected_) {
    return fail(expected_, fmt::format("event stored under {} says it is event {}", expected_.value,
                                       decoded->seq.value));
  }
  event_ = std::move(*decoded);
  return status_;
}

}  // namespace agate::events
