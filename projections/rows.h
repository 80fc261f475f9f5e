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

#include <cstdint>
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
  RowWriter& kvs(const events::Metadata& m);
  RowWriter& strs(const std::vector<std::string>& v);

 private:
  std::string& out_;
};

class RowReader {
 public:
  RowReader(std::string_view in, const char* what) : in_(in), what_(what) {}
  std::uint64_t u64();
  std::int64_t i64() { return static_cast<std::int64_t>(u64()); }
  bool boolean() { return u64() != 0; }
  std::string str();
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

std::string encode(const engine::ShareTypeRow& r);
std::string encode(const engine::ShareRow& r);
std::string encode(const engine::InstanceRow& r);
std::string encode(const engine::GroupRow& r);
std::string encode(const engine::EntryRow& r);
std::string encode(const engine::RuleRow& r);
std::string encode(const engine::MappingRow& r);
std::string encode(const engine::EffectiveRule& r);

// decode<T>(bytes) for each row type; throws RowCorrupt.
template <typename T>
T decode(std::string_view bytes);

// Joins key components (see the file comment).
std::string key(std::string_view a, std::string_view b);
std::string key(std::string_view a, std::string_view b, std::string_view c);
// The prefix shared by every key(a, …).
std::string key_prefix(std::string_view a);
// The last component of a key made by key(a, b) or key(a, b, c).
std::string_view last_component(std::string_view key, int components);

// The key of an effective rule's identity within a share: type byte + identity.
std::string identity_key(const engine::RuleIdentity& id);

}  // namespace agate::projections
