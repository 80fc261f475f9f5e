#pragma once

// How projection rows and keys are laid out in LMDB.
//
// Values are a compact, deterministic binary form: LEB128 varints for integers and lengths,
// strings as length + bytes, fields in a fixed order. Projections are rebuilt from the log, never
// migrated: a change of layout here is a rebuild (agate-admin rebuild), which is why no version
// travels with each row. Equal rows always encode to equal bytes, so a rebuild can be compared
// with the live databases byte for byte.
//
// Composite keys are components joined with key(): every component but the last carries a
// 2-byte big-endian length, so that all keys starting with a component share a byte prefix
// (a range scan) whatever bytes the components hold.
//
// Ids that Agate makes are canonical lowercase UUIDs; rows and keys hold them as their 16 bytes
// (RowWriter::id(), id_component()), less than half their text, so that more rows share a page
// and more keys a branch page. Any other id is kept whole, so every id reads back as written.
//
// Besides the domain's rows, two records exist only in storage (store.h says where they live):
// ShareRecord, a share's row with its rule count, and RuleRecord, everything a share holds for
// one rule identity.

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

#include "engine/model.h"
#include "engine/rule_set.h"

namespace agate::projections {

// A stored row or key that does not parse: the projections are corrupt (rebuild them).
class RowCorrupt : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class RowWriter {
 public:
  explicit RowWriter(std::string& out) : out_(out) { out_.clear(); }
  RowWriter& u64(std::uint64_t v);
  RowWriter& i64(std::int64_t v) { return u64(static_cast<std::uint64_t>(v)); }
  RowWriter& boolean(bool v) { return u64(v ? 1 : 0); }
  RowWriter& str(std::string_view s);
  // An id that Agate makes: a canonical UUID in 17 bytes (0, then its 16 bytes), any other
  // string as its length + 1, then its bytes.
  RowWriter& id(std::string_view id);
  RowWriter& ids(const std::vector<std::string>& v);
  RowWriter& kvs(const events::Metadata& m);
  RowWriter& strs(const std::vector<std::string>& v);

 private:
  RowWriter& raw(std::string_view bytes) {
    out_.append(bytes);
    return *this;
  }
  std::string& out_;
};

class RowReader {
 public:
  RowReader(std::string_view in, const char* what) : in_(in), what_(what) {}
  std::uint64_t u64();
  std::int64_t i64() { return static_cast<std::int64_t>(u64()); }
  bool boolean() { return u64() != 0; }
  std::string str();
  std::string id();
  std::vector<std::string> ids();
  events::Metadata kvs();
  std::vector<std::string> strs();
  template <typename E>
  E enumerant(std::uint64_t max) {
    const auto v = u64();
    if (v > max) fail("enumerant out of range");
    return static_cast<E>(v);
  }
  // Throws unless every byte was read.
  void finish() const;

 private:
  [[noreturn]] void fail(const char* why) const;
  std::string_view in_;
  std::size_t pos_ = 0;
  const char* what_;
};

// A share's row and the number of its direct rules (denied ones included until purged), kept in
// one value so that the count costs no read and no page of its own.
struct ShareRecord {
  engine::ShareRow row;
  std::uint64_t rule_count = 0;
  friend bool operator==(const ShareRecord&, const ShareRecord&) = default;
};

// What a share holds for one rule identity: the effective rule, while the identity is in the
// effective set, and the share's direct rule of that identity (a denied one included until it is
// purged). A stored record has at least one of the two.
struct RuleRecord {
  std::optional<engine::EffectiveRule> effective;
  std::optional<engine::RuleRow> direct;
  bool empty() const { return !effective && !direct; }
  friend bool operator==(const RuleRecord&, const RuleRecord&) = default;
};

std::string encode(const engine::ShareTypeRow& r);
std::string encode(const engine::ShareRow& r);
std::string encode(const engine::InstanceRow& r);
std::string encode(const engine::GroupRow& r);
std::string encode(const engine::RuleRow& r);
std::string encode(const engine::MappingRow& r);
std::string encode(const engine::EffectiveRule& r);
std::string encode(const ShareRecord& r);
std::string encode(const engine::LockRow& r);
std::string encode(const RuleRecord& r);

// decode<T>(bytes) for each row type; throws RowCorrupt.
template <typename T>
T decode(std::string_view bytes);

// An access group entry as stored under its group's id and its identity key (identity_key()):
// what the key holds is not repeated — the group id, the access type, and access_to when it is
// the identity itself (an ip network given in canonical form, any other type as given) — so
// that more entries share a leaf and fewer leaves hang under the group's branch pages.
std::string encode_entry(const engine::EntryRow& r, std::string_view identity_key);
// Throws RowCorrupt.
engine::EntryRow decode_entry(std::string_view bytes, std::string_view group_id,
                              std::string_view identity_key);

// Joins key components (see the file comment).
std::string key(std::string_view a, std::string_view b);
std::string key(std::string_view a, std::string_view b, std::string_view c);
// The prefix shared by every key(a, …).
std::string key_prefix(std::string_view a);
// The last component of a key made by key(a, b) or key(a, b, c).
std::string_view last_component(std::string_view key, int components);

// An id as a key component: a canonical lowercase UUID (as decide makes them) as 0x01 + its 16
// bytes, any other id as 0x02 + key_prefix(id). Components of canonical UUIDs sort as the ids
// do, and no component is a prefix of another.
std::string id_component(std::string_view id);
// Reads the id component at the front of `key` and removes it from `key`. Throws RowCorrupt.
std::string take_id_component(std::string_view& key);

// The key of an effective rule's identity within a share: type byte + identity.
std::string identity_key(const engine::RuleIdentity& id);

// `v` as 8 big-endian bytes appended to `out` (so that key order is numeric order), and back.
void append_be64(std::string& out, std::uint64_t v);
std::uint64_t read_be64(std::string_view bytes);

}  // namespace agate::projections
