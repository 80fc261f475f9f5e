#include "projections/rows.h"

#include <fmt/format.h>

#include <array>

namespace agate::projections {

// ---- ids --------------------------------------------------------------------------------------

namespace {

constexpr std::size_t kUuidLength = 36;
constexpr std::size_t kPackedUuid = 16;
// Where each byte's two hex digits start in the text form 8-4-4-4-12.
constexpr std::size_t kDigitPairs[kPackedUuid] = {0,  2,  4,  6,  9,  11, 14, 16,
                                                  19, 21, 24, 26, 28, 30, 32, 34};

// The value of a lowercase hex digit, -1 for any other byte.
constexpr auto kHexValue = [] {
  std::array<signed char, 256> t{};
  for (auto& v : t) v = -1;
  for (int c = '0'; c <= '9'; ++c) t[c] = static_cast<signed char>(c - '0');
  for (int c = 'a'; c <= 'f'; ++c) t[c] = static_cast<signed char>(c - 'a' + 10);
  return t;
}();

// Appends the 16 bytes of `id` to `out` if it is a canonical lowercase UUID (and returns true);
// otherwise leaves `out` alone. Byte order follows the text, so packed UUIDs sort as their text.
bool pack_uuid(std::string_view id, std::string& out) {
  if (id.size() != kUuidLength || id[8] != '-' || id[13] != '-' || id[18] != '-' ||
      id[23] != '-') {
    return false;
  }
  char packed[kPackedUuid];
  for (std::size_t i = 0; i < kPackedUuid; ++i) {
    const int high = kHexValue[static_cast<unsigned char>(id[kDigitPairs[i]])];
    const int low = kHexValue[static_cast<unsigned char>(id[kDigitPairs[i] + 1])];
    if ((high | low) < 0) return false;
    packed[i] = static_cast<char>((high << 4) | low);
  }
  out.append(packed, kPackedUuid);
  return true;
}

// The text form of 16 packed bytes.
std::string unpack_uuid(std::string_view packed) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string id(kUuidLength, '-');
  for (std::size_t i = 0; i < kPackedUuid; ++i) {
    const auto b = static_cast<unsigned char>(packed[i]);
    id[kDigitPairs[i]] = kHex[b >> 4];
    id[kDigitPairs[i] + 1] = kHex[b & 15];
  }
  return id;
}

}  // namespace

// ---- primitives -----------------------------------------------------------------------------

RowWriter& RowWriter::u64(std::uint64_t v) {
  while (v >= 0x80) {
    out_.push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out_.push_back(static_cast<char>(v));
  return *this;
}

RowWriter& RowWriter::str(std::string_view s) {
  u64(s.size());
  out_.append(s);
  return *this;
}

RowWriter& RowWriter::id(std::string_view id) {
  out_.push_back('\0');
  if (pack_uuid(id, out_)) return *this;
  out_.pop_back();
  return u64(id.size() + 1).raw(id);
}

RowWriter& RowWriter::ids(const std::vector<std::string>& v) {
  u64(v.size());
  for (const auto& s : v) id(s);
  return *this;
}

RowWriter& RowWriter::kvs(const events::Metadata& m) {
  u64(m.size());
  for (const auto& [k, v] : m) str(k).str(v);
  return *this;
}

RowWriter& RowWriter::strs(const std::vector<std::string>& v) {
  u64(v.size());
  for (const auto& s : v) str(s);
  return *this;
}

void RowReader::fail(const char* why) const {
  throw RowCorrupt(fmt::format("corrupt {} row ({} bytes): {} at byte {}", what_, in_.size(), why, pos_));
}

std::uint64_t RowReader::u64() {
  std::uint64_t v = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    if (pos_ >= in_.size()) fail("truncated integer");
    const auto b = static_cast<unsigned char>(in_[pos_++]);
    v |= std::uint64_t(b & 0x7f) << shift;
    if (!(b & 0x80)) return v;
  }
  fail("integer too long");
}

std::string RowReader::str() {
  const auto n = u64();
  if (n > in_.size() - pos_) fail("truncated string");
  std::string s(in_.substr(pos_, n));
  pos_ += n;
  return s;
}

std::string RowReader::id() {
  const auto n = u64();
  if (n == 0) {
    if (kPackedUuid > in_.size() - pos_) fail("truncated id");
    auto id = unpack_uuid(in_.substr(pos_, kPackedUuid));
    pos_ += kPackedUuid;
    return id;
  }
  if (n - 1 > in_.size() - pos_) fail("truncated id");
  std::string s(in_.substr(pos_, n - 1));
  pos_ += n - 1;
  return s;
}

std::vector<std::string> RowReader::ids() {
  std::vector<std::string> v;
  for (auto n = u64(); n > 0; --n) v.push_back(id());
  return v;
}

events::Metadata RowReader::kvs() {
  events::Metadata m;
  for (auto n = u64(); n > 0; --n) {
    auto k = str();
    m.emplace(std::move(k), str());
  }
  return m;
}

std::vector<std::string> RowReader::strs() {
  std::vector<std::string> v;
  for (auto n = u64(); n > 0; --n) v.push_back(str());
  return v;
}

void RowReader::finish() const {
  if (pos_ != in_.size()) fail("trailing bytes");
}

// ---- rows -----------------------------------------------------------------------------------

namespace {

constexpr std::uint64_t kMaxAccessType = 3;
constexpr std::uint64_t kMaxAccessLevel = 1;

void write_key(RowWriter& w, const events::RuleKey& k) {
  w.u64(static_cast<std::uint64_t>(k.access_type)).str(k.access_to);
}

events::RuleKey read_key(RowReader& r) {
  auto type = r.enumerant<events::AccessType>(kMaxAccessType);
  return {type, r.str()};
}

}  // namespace

std::string encode(const engine::ShareTypeRow& r) {
  std::string out;
  RowWriter(out).id(r.id).str(r.project_id).str(r.name).str(r.description).boolean(r.is_public)
      .kvs(r.extra_specs).i64(r.created_at);
  return out;
}

template <>
engine::ShareTypeRow decode(std::string_view bytes) {
  RowReader r(bytes, "share type");
  engine::ShareTypeRow row;
  row.id = r.id();
  row.project_id = r.str();
  row.name = r.str();
  row.description = r.str();
  row.is_public = r.boolean();
  row.extra_specs = r.kvs();
  row.created_at = r.i64();
  r.finish();
  return row;
}

namespace {

void write_share(RowWriter& w, const engine::ShareRow& r) {
  w.id(r.id).str(r.project_id).str(r.user_id).str(r.name).str(r.description).str(r.share_proto)
      .u64(r.size_gib).id(r.share_type_id).boolean(r.is_public).str(r.status)
      .str(r.availability_zone).kvs(r.metadata).ids(r.instance_ids).i64(r.created_at)
      .i64(r.updated_at).u64(r.desired_version).boolean(r.is_soft_deleted)
      .i64(r.scheduled_to_be_deleted_at).str(r.mount_point_name)
      .boolean(r.snapshot_inherit_share_access_support);
}

engine::ShareRow read_share(RowReader& r) {
  engine::ShareRow row;
  row.id = r.id();
  row.project_id = r.str();
  row.user_id = r.str();
  row.name = r.str();
  row.description = r.str();
  row.share_proto = r.str();
  row.size_gib = r.u64();
  row.share_type_id = r.id();
  row.is_public = r.boolean();
  row.status = r.str();
  row.availability_zone = r.str();
  row.metadata = r.kvs();
  row.instance_ids = r.ids();
  row.created_at = r.i64();
  row.updated_at = r.i64();
  row.desired_version = r.u64();
  row.is_soft_deleted = r.boolean();
  row.scheduled_to_be_deleted_at = r.i64();
  row.mount_point_name = r.str();
  row.snapshot_inherit_share_access_support = r.boolean();
  return row;
}

}  // namespace

std::string encode(const engine::ShareRow& r) {
  std::string out;
  RowWriter w(out);
  write_share(w, r);
  return out;
}

template <>
engine::ShareRow decode(std::string_view bytes) {
  RowReader r(bytes, "share");
  auto row = read_share(r);
  r.finish();
  return row;
}

std::string encode(const engine::InstanceRow& r) {
  std::string out;
  RowWriter w(out);
  w.id(r.id).id(r.share_id).str(r.host).str(r.status).strs(r.export_locations)
      .i64(r.created_at).i64(r.updated_at).u64(r.applied_version).boolean(r.has_error)
      .boolean(r.sync_requested).str(r.status_message).u64(r.failures.size());
  for (const auto& f : r.failures) {
    write_key(w, f.rule);
    w.str(f.message);
  }
  w.u64(r.access_keys.size());
  for (const auto& k : r.access_keys) {
    write_key(w, k.rule);
    w.str(k.access_key);
  }
  return out;
}

template <>
engine::InstanceRow decode(std::string_view bytes) {
  RowReader r(bytes, "share instance");
  engine::InstanceRow row;
  row.id = r.id();
  row.share_id = r.id();
  row.host = r.str();
  row.status = r.str();
  row.export_locations = r.strs();
  row.created_at = r.i64();
  row.updated_at = r.i64();
  row.applied_version = r.u64();
  row.has_error = r.boolean();
  row.sync_requested = r.boolean();
  row.status_message = r.str();
  for (auto n = r.u64(); n > 0; --n) {
    auto key = read_key(r);
    row.failures.push_back({std::move(key), r.str()});
  }
  for (auto n = r.u64(); n > 0; --n) {
    auto key = read_key(r);
    row.access_keys.push_back({std::move(key), r.str()});
  }
  r.finish();
  return row;
}

std::string encode(const engine::GroupRow& r) {
  std::string out;
  RowWriter(out).id(r.id).str(r.project_id).str(r.name).str(r.description)
      .u64(static_cast<std::uint64_t>(r.access_type)).i64(r.created_at).i64(r.updated_at)
      .u64(r.entry_count).u64(r.share_count).u64(r.version);
  return out;
}

template <>
engine::GroupRow decode(std::string_view bytes) {
  RowReader r(bytes, "access group");
  engine::GroupRow row;
  row.id = r.id();
  row.project_id = r.str();
  row.name = r.str();
  row.description = r.str();
  row.access_type = r.enumerant<events::AccessType>(kMaxAccessType);
  row.created_at = r.i64();
  row.updated_at = r.i64();
  row.entry_count = r.u64();
  row.share_count = r.u64();
  row.version = r.u64();
  r.finish();
  return row;
}

std::string encode_entry(const engine::EntryRow& r, std::string_view identity_key) {
  const bool same = !identity_key.empty() && identity_key.substr(1) == r.access_to;
  std::string out;
  RowWriter w(out);
  w.id(r.id).u64(static_cast<std::uint64_t>(r.access_level)).i64(r.created_at).u64(r.version)
      .boolean(same);
  if (!same) w.str(r.access_to);
  return out;
}

engine::EntryRow decode_entry(std::string_view bytes, std::string_view group_id,
                              std::string_view identity_key) {
  if (identity_key.empty()) throw RowCorrupt("corrupt key: an entry without an identity");
  const auto type = static_cast<unsigned char>(identity_key[0]);
  if (type > kMaxAccessType) throw RowCorrupt("corrupt key: access type out of range");
  RowReader r(bytes, "access group entry");
  engine::EntryRow row;
  row.id = r.id();
  row.group_id = std::string(group_id);
  row.access_type = static_cast<events::AccessType>(type);
  row.access_level = r.enumerant<events::AccessLevel>(kMaxAccessLevel);
  row.created_at = r.i64();
  row.version = r.u64();
  row.access_to = r.boolean() ? std::string(identity_key.substr(1)) : r.str();
  r.finish();
  return row;
}

namespace {

void write_rule(RowWriter& w, const engine::RuleRow& r) {
  w.id(r.id).id(r.share_id).u64(static_cast<std::uint64_t>(r.access_type)).str(r.access_to)
      .u64(static_cast<std::uint64_t>(r.access_level)).kvs(r.metadata).i64(r.created_at)
      .i64(r.updated_at).u64(r.denied_version);
}

engine::RuleRow read_rule(RowReader& r) {
  engine::RuleRow row;
  row.id = r.id();
  row.share_id = r.id();
  row.access_type = r.enumerant<events::AccessType>(kMaxAccessType);
  row.access_to = r.str();
  row.access_level = r.enumerant<events::AccessLevel>(kMaxAccessLevel);
  row.metadata = r.kvs();
  row.created_at = r.i64();
  row.updated_at = r.i64();
  row.denied_version = r.u64();
  return row;
}

}  // namespace

std::string encode(const engine::RuleRow& r) {
  std::string out;
  RowWriter w(out);
  write_rule(w, r);
  return out;
}

template <>
engine::RuleRow decode(std::string_view bytes) {
  RowReader r(bytes, "access rule");
  auto row = read_rule(r);
  r.finish();
  return row;
}

std::string encode(const engine::MappingRow& r) {
  std::string out;
  RowWriter(out).id(r.id).id(r.share_id).id(r.group_id).i64(r.created_at);
  return out;
}

template <>
engine::MappingRow decode(std::string_view bytes) {
  RowReader r(bytes, "access group mapping");
  engine::MappingRow row;
  row.id = r.id();
  row.share_id = r.id();
  row.group_id = r.id();
  row.created_at = r.i64();
  r.finish();
  return row;
}

std::string encode(const engine::LockRow& r) {
  std::string out;
  RowWriter(out)
      .id(r.id)
      .str(r.project_id)
      .str(r.user_id)
      .u64(static_cast<std::uint64_t>(r.lock_context))
      .u64(static_cast<std::uint64_t>(r.resource_type))
      .id(r.resource_id)
      .u64(static_cast<std::uint64_t>(r.resource_action))
      .str(r.lock_reason)
      .id(r.share_id)
      .i64(r.created_at)
      .i64(r.updated_at);
  return out;
}

template <>
engine::LockRow decode(std::string_view bytes) {
  RowReader r(bytes, "resource lock");
  engine::LockRow row;
  row.id = r.id();
  row.project_id = r.str();
  row.user_id = r.str();
  row.lock_context = r.enumerant<events::LockContext>(2);
  row.resource_type = r.enumerant<events::LockResourceType>(2);
  row.resource_id = r.id();
  row.resource_action = r.enumerant<events::LockAction>(1);
  row.lock_reason = r.str();
  row.share_id = r.id();
  row.created_at = r.i64();
  row.updated_at = r.i64();
  r.finish();
  return row;
}

namespace {

void write_effective(RowWriter& w, const engine::EffectiveRule& r) {
  w.u64(static_cast<std::uint64_t>(r.access_type)).str(r.access_to)
      .u64(static_cast<std::uint64_t>(r.access_level)).u64(r.since_version).u64(r.sources.size());
  for (const auto& s : r.sources) {
    w.u64(static_cast<std::uint64_t>(s.kind)).id(s.id).id(s.entry_id);
  }
  w.u64(r.entered_version);
}

engine::EffectiveRule read_effective(RowReader& r) {
  engine::EffectiveRule row;
  row.access_type = r.enumerant<events::AccessType>(kMaxAccessType);
  row.access_to = r.str();
  row.access_level = r.enumerant<events::AccessLevel>(kMaxAccessLevel);
  row.since_version = r.u64();
  for (auto n = r.u64(); n > 0; --n) {
    engine::RuleSource s;
    s.kind = r.enumerant<engine::RuleSource::Kind>(1);
    s.id = r.id();
    s.entry_id = r.id();
    row.sources.push_back(std::move(s));
  }
  row.entered_version = r.u64();
  return row;
}

}  // namespace

std::string encode(const engine::EffectiveRule& r) {
  std::string out;
  RowWriter w(out);
  write_effective(w, r);
  return out;
}

template <>
engine::EffectiveRule decode(std::string_view bytes) {
  RowReader r(bytes, "effective rule");
  auto row = read_effective(r);
  r.finish();
  return row;
}

// ---- storage records ------------------------------------------------------------------------

std::string encode(const ShareRecord& r) {
  std::string out;
  RowWriter w(out);
  write_share(w, r.row);
  w.u64(r.rule_count);
  return out;
}

template <>
ShareRecord decode(std::string_view bytes) {
  RowReader r(bytes, "share record");
  ShareRecord rec;
  rec.row = read_share(r);
  rec.rule_count = r.u64();
  r.finish();
  return rec;
}

// A flags integer (1: effective rule, 2: direct rule), then the parts present, in that order.
std::string encode(const RuleRecord& r) {
  std::string out;
  RowWriter w(out);
  w.u64((r.effective ? 1 : 0) | (r.direct ? 2 : 0));
  if (r.effective) write_effective(w, *r.effective);
  if (r.direct) write_rule(w, *r.direct);
  return out;
}

template <>
RuleRecord decode(std::string_view bytes) {
  RowReader r(bytes, "rule record");
  RuleRecord rec;
  const auto flags = r.u64();
  if (flags == 0 || flags > 3) throw RowCorrupt("corrupt rule record: no part or unknown flags");
  if (flags & 1) rec.effective = read_effective(r);
  if (flags & 2) rec.direct = read_rule(r);
  r.finish();
  return rec;
}

// ---- keys -----------------------------------------------------------------------------------

namespace {

void append_component(std::string& out, std::string_view c) {
  if (c.size() > 0xffff) throw std::length_error("key component longer than 65535 bytes");
  out.push_back(static_cast<char>(c.size() >> 8));
  out.push_back(static_cast<char>(c.size() & 0xff));
  out.append(c);
}

}  // namespace

std::string key_prefix(std::string_view a) {
  std::string out;
  append_component(out, a);
  return out;
}

std::string key(std::string_view a, std::string_view b) {
  std::string out = key_prefix(a);
  out.append(b);
  return out;
}

std::string key(std::string_view a, std::string_view b, std::string_view c) {
  std::string out = key_prefix(a);
  append_component(out, b);
  out.append(c);
  return out;
}

std::string_view last_component(std::string_view k, int components) {
  for (int i = 1; i < components; ++i) {
    if (k.size() < 2) throw RowCorrupt("corrupt key: truncated component length");
    const std::size_t n = (static_cast<unsigned char>(k[0]) << 8) | static_cast<unsigned char>(k[1]);
    if (k.size() < 2 + n) throw RowCorrupt("corrupt key: truncated component");
    k.remove_prefix(2 + n);
  }
  return k;
}

std::string id_component(std::string_view id) {
  std::string out(1, '\x01');
  if (pack_uuid(id, out)) return out;
  out[0] = '\x02';
  out.append(key_prefix(id));
  return out;
}

std::string take_id_component(std::string_view& key) {
  if (key.empty()) throw RowCorrupt("corrupt key: missing id component");
  if (key[0] == '\x01') {
    if (key.size() < 1 + kPackedUuid) throw RowCorrupt("corrupt key: truncated uuid component");
    auto id = unpack_uuid(key.substr(1, kPackedUuid));
    key.remove_prefix(1 + kPackedUuid);
    return id;
  }
  if (key[0] != '\x02' || key.size() < 3) throw RowCorrupt("corrupt key: bad id component");
  const std::size_t n =
      (static_cast<unsigned char>(key[1]) << 8) | static_cast<unsigned char>(key[2]);
  if (key.size() < 3 + n) throw RowCorrupt("corrupt key: truncated id component");
  std::string id(key.substr(3, n));
  key.remove_prefix(3 + n);
  return id;
}

std::string identity_key(const engine::RuleIdentity& id) {
  std::string out(1, static_cast<char>(id.access_type));
  out.append(id.identity);
  return out;
}

void append_be64(std::string& out, std::uint64_t v) {
  for (int shift = 56; shift >= 0; shift -= 8) {
    out.push_back(static_cast<char>((v >> shift) & 0xff));
  }
}

std::uint64_t read_be64(std::string_view bytes) {
  if (bytes.size() < 8) throw RowCorrupt("corrupt key: truncated 8-byte integer");
  std::uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | static_cast<unsigned char>(bytes[i]);
  return v;
}

}  // namespace agate::projections
