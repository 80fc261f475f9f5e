#include "projections/idempotency.h"

#include <algorithm>
#include <limits>
#include <stdexcept>
#include <vector>

#include "projections/rows.h"

namespace agate::projections {

namespace {

constexpr char kRecord = 'r';
constexpr char kExpiry = 'x';
constexpr std::uint64_t kMaxErrc = static_cast<std::uint64_t>(engine::errc::precondition_failed);

// caller length (2 bytes, big-endian) + caller + key.
std::string suffix(const engine::IdempotencyKey& k) {
  if (k.caller.size() > std::numeric_limits<std::uint16_t>::max()) {
    throw std::invalid_argument("an idempotency key's caller is too long");
  }
  std::string out;
  out.push_back(static_cast<char>(k.caller.size() >> 8));
  out.push_back(static_cast<char>(k.caller.size() & 0xff));
  out += k.caller;
  out += k.key;
  return out;
}

std::string record_key(const engine::IdempotencyKey& k) { return kRecord + suffix(k); }

std::string expiry_key(std::int64_t expires_at, std::string_view suffix) {
  std::string out(1, kExpiry);
  // Times before the epoch sort first, as they should (none is expected).
  append_be64(out, static_cast<std::uint64_t>(std::max<std::int64_t>(expires_at, 0)));
  out += suffix;
  return out;
}

std::string encode(const engine::IdempotencyRecord& r) {
  std::string out;
  RowWriter w(out);
  w.str(r.fingerprint).i64(r.expires_at).boolean(r.refusal.has_value());
  if (r.refusal) w.u64(static_cast<std::uint64_t>(r.refusal->code)).str(r.refusal->message);
  w.u64(r.first.value).u64(r.last.value).u64(r.position.value).str(r.answer);
  return out;
}

engine::IdempotencyRecord decode(std::string_view bytes) {
  RowReader r(bytes, "idempotency key");
  engine::IdempotencyRecord out;
  out.fingerprint = r.str();
  out.expires_at = r.i64();
  if (r.boolean()) {
    engine::Rejection refusal;
    refusal.code = r.enumerant<engine::errc>(kMaxErrc);
    refusal.message = r.str();
    out.refusal = std::move(refusal);
  }
  out.first = events::Seq{r.u64()};
  out.last = events::Seq{r.u64()};
  out.position = events::Seq{r.u64()};
  out.answer = r.str();
  r.finish();
  return out;
}

}  // namespace

IdempotencyTable IdempotencyTable::open(const lmdb::Txn& txn) {
  return IdempotencyTable(lmdb::Dbi::open(txn, kDatabase, /*create=*/true));
}

std::optional<IdempotencyTable> IdempotencyTable::try_open(const lmdb::Txn& txn) {
  auto dbi = lmdb::Dbi::try_open(txn, kDatabase);
  if (!dbi) return std::nullopt;
  return IdempotencyTable(*dbi);
}

std::optional<engine::IdempotencyRecord> IdempotencyTable::get(const lmdb::Txn& txn,
                                                               const engine::IdempotencyKey& key,
                                                               std::int64_t now) const {
  const auto v = dbi_.get(txn, record_key(key));
  if (!v) return std::nullopt;
  auto record = decode(*v);
  if (record.expires_at < now) return std::nullopt;
  return record;
}

void IdempotencyTable::put(const lmdb::Txn& txn, const engine::IdempotencyKey& key,
                           const engine::IdempotencyRecord& record) const {
  const auto s = suffix(key);
  const auto k = kRecord + s;
  if (const auto old = dbi_.get(txn, k)) dbi_.del(txn, expiry_key(decode(*old).expires_at, s));
  dbi_.put(txn, k, encode(record));
  dbi_.put(txn, expiry_key(record.expires_at, s), "");
}

bool IdempotencyTable::set_answer(const lmdb::Txn& txn, const engine::IdempotencyKey& key,
                                  std::string_view answer) const {
  const auto k = record_key(key);
  const auto v = dbi_.get(txn, k);
  if (!v) return false;
  auto record = decode(*v);
  record.answer = std::string(answer);
  dbi_.put(txn, k, encode(record));
  return true;
}

std::size_t IdempotencyTable::drop_expired(const lmdb::Txn& txn, std::int64_t now,
                                           std::size_t max) const {
  // Collected first, deleted after: the cursor is closed before anything changes under it.
  std::vector<std::string> expired;
  {
    auto c = lmdb::Cursor::open(txn, dbi_);
    std::string_view k(&kExpiry, 1), v;
    for (bool more = c.get(k, v, MDB_SET_RANGE); more && expired.size() < max;
         more = c.get(k, v, MDB_NEXT)) {
      if (k.empty() || k[0] != kExpiry || k.size() < 9) break;
      const auto expires_at = static_cast<std::int64_t>(read_be64(k.substr(1, 8)));
      if (expires_at >= now) break;
      expired.emplace_back(k);
    }
  }
  for (const auto& k : expired) {
    dbi_.del(txn, k);
    dbi_.del(txn, kRecord + k.substr(9));
  }
  return expired.size();
}

std::size_t IdempotencyTable::size(const lmdb::Txn& txn) const {
  std::size_t n = 0;
  auto c = lmdb::Cursor::open(txn, dbi_);
  std::string_view k(&kRecord, 1), v;
  for (bool more = c.get(k, v, MDB_SET_RANGE); more && !k.empty() && k[0] == kRecord;
       more = c.get(k, v, MDB_NEXT)) {
    ++n;
  }
  return n;
}

}  // namespace agate::projections
