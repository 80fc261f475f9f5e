#include "events/codec.h"

#include <capnp/message.h>
#include <capnp/serialize.h>
#include <fmt/format.h>
#include <kj/exception.h>
#include <kj/io.h>

#include <boost/crc.hpp>
#if defined(__x86_64__)
#include <nmmintrin.h>
#endif
#include <algorithm>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <type_traits>

#include "events/event.capnp.h"

namespace agate::events {

namespace {

namespace s = ::agate::schema;

// ---- values -> Cap'n Proto ----------------------------------------------------------------

capnp::Text::Reader text(const std::string& s) { return {s.data(), s.size()}; }

s::AccessType to_capnp(AccessType t) { return static_cast<s::AccessType>(t); }
s::AccessLevel to_capnp(AccessLevel l) { return static_cast<s::AccessLevel>(l); }
s::LockResourceType to_capnp(LockResourceType t) { return static_cast<s::LockResourceType>(t); }
s::LockAction to_capnp(LockAction a) { return static_cast<s::LockAction>(a); }
s::LockContext to_capnp(LockContext c) { return static_cast<s::LockContext>(c); }

void write_kvs(capnp::List<s::KeyValue>::Builder out, const Metadata& kvs) {
  unsigned i = 0;
  for (const auto& [k, v] : kvs) {
    out[i].setKey(text(k));
    out[i].setValue(text(v));
    ++i;
  }
}

void write_texts(capnp::List<capnp::Text>::Builder out, const std::vector<std::string>& v) {
  for (unsigned i = 0; i < v.size(); ++i) out.set(i, text(v[i]));
}

void write_rule_key(s::RuleKey::Builder b, const RuleKey& k) {
  b.setAccessType(to_capnp(k.access_type));
  b.setAccessTo(text(k.access_to));
}

void write(s::ShareTypeCreated::Builder b, const ShareTypeCreated& e) {
  b.setShareTypeId(text(e.share_type_id));
  b.setName(text(e.name));
  b.setDescription(text(e.description));
  b.setIsPublic(e.is_public);
  write_kvs(b.initExtraSpecs(e.extra_specs.size()), e.extra_specs);
}

void write(s::ShareTypeDeleted::Builder b, const ShareTypeDeleted& e) {
  b.setShareTypeId(text(e.share_type_id));
}

void write(s::ShareTypeUpdated::Builder b, const ShareTypeUpdated& e) {
  b.setShareTypeId(text(e.share_type_id));
  b.setName(text(e.name));
  b.setDescription(text(e.description));
  b.setIsPublic(e.is_public);
}

void write(s::ShareCreated::Builder b, const ShareCreated& e) {
  b.setShareId(text(e.share_id));
  b.setName(text(e.name));
  b.setDescription(text(e.description));
  b.setShareProto(text(e.share_proto));
  b.setSizeGib(e.size_gib);
  b.setShareTypeId(text(e.share_type_id));
  b.setIsPublic(e.is_public);
  b.setStatus(text(e.status));
  b.setAvailabilityZone(text(e.availability_zone));
  write_kvs(b.initMetadata(e.metadata.size()), e.metadata);
  auto instances = b.initInstances(e.instances.size());
  for (unsigned i = 0; i < e.instances.size(); ++i) {
    const auto& in = e.instances[i];
    instances[i].setInstanceId(text(in.instance_id));
    instances[i].setHost(text(in.host));
    instances[i].setStatus(text(in.status));
    write_texts(instances[i].initExportLocations(in.export_locations.size()), in.export_locations);
  }
  b.setMountPointName(text(e.mount_point_name));
  b.setSnapshotInheritShareAccessSupport(e.snapshot_inherit_share_access_support);
}

void write(s::ShareStatusChanged::Builder b, const ShareStatusChanged& e) {
  b.setShareId(text(e.share_id));
  b.setStatus(text(e.status));
  auto instances = b.initInstances(e.instances.size());
  for (unsigned i = 0; i < e.instances.size(); ++i) {
    instances[i].setInstanceId(text(e.instances[i].instance_id));
    instances[i].setStatus(text(e.instances[i].status));
  }
}

void write(s::ShareDeleted::Builder b, const ShareDeleted& e) { b.setShareId(text(e.share_id)); }

void write(s::ShareSoftDeleted::Builder b, const ShareSoftDeleted& e) {
  b.setShareId(text(e.share_id));
  b.setScheduledToBeDeletedAtMicros(e.scheduled_to_be_deleted_at_micros);
}

void write(s::ShareRestored::Builder b, const ShareRestored& e) { b.setShareId(text(e.share_id)); }

void write(s::ResourceLockCreated::Builder b, const ResourceLockCreated& e) {
  b.setLockId(text(e.lock_id));
  b.setResourceType(to_capnp(e.resource_type));
  b.setResourceId(text(e.resource_id));
  b.setResourceAction(to_capnp(e.resource_action));
  b.setLockContext(to_capnp(e.lock_context));
  b.setLockReason(text(e.lock_reason));
  b.setShareId(text(e.share_id));
}

void write(s::ResourceLockUpdated::Builder b, const ResourceLockUpdated& e) {
  b.setLockId(text(e.lock_id));
  b.setResourceAction(to_capnp(e.resource_action));
  b.setLockReason(text(e.lock_reason));
  b.setShareId(text(e.share_id));
}

void write(s::ResourceLockDeleted::Builder b, const ResourceLockDeleted& e) {
  b.setLockId(text(e.lock_id));
  b.setShareId(text(e.share_id));
}

void write(s::AccessGroupCreated::Builder b, const AccessGroupCreated& e) {
  b.setGroupId(text(e.group_id));
  b.setName(text(e.name));
  b.setDescription(text(e.description));
  b.setAccessType(to_capnp(e.access_type));
}

void write(s::AccessGroupUpdated::Builder b, const AccessGroupUpdated& e) {
  b.setGroupId(text(e.group_id));
  b.setName(text(e.name));
  b.setDescription(text(e.description));
}

void write(s::AccessGroupDeleted::Builder b, const AccessGroupDeleted& e) {
  b.setGroupId(text(e.group_id));
}

void write(s::EntryAdded::Builder b, const EntryAdded& e) {
  b.setGroupId(text(e.group_id));
  b.setEntryId(text(e.entry_id));
  b.setAccessTo(text(e.access_to));
  b.setAccessLevel(to_capnp(e.access_level));
}

void write(s::EntryRemoved::Builder b, const EntryRemoved& e) {
  b.setGroupId(text(e.group_id));
  b.setEntryId(text(e.entry_id));
}

void write(s::RuleLevelUpdated::Builder b, const RuleLevelUpdated& e) {
  b.setShareId(text(e.share_id));
  b.setRuleId(text(e.rule_id));
  b.setAccessLevel(to_capnp(e.access_level));
}

void write(s::EntryLevelUpdated::Builder b, const EntryLevelUpdated& e) {
  b.setGroupId(text(e.group_id));
  b.setEntryId(text(e.entry_id));
  b.setAccessLevel(to_capnp(e.access_level));
}

void write(s::RuleAllowed::Builder b, const RuleAllowed& e) {
  b.setShareId(text(e.share_id));
  b.setRuleId(text(e.rule_id));
  b.setAccessType(to_capnp(e.access_type));
  b.setAccessTo(text(e.access_to));
  b.setAccessLevel(to_capnp(e.access_level));
  write_kvs(b.initMetadata(e.metadata.size()), e.metadata);
}

void write(s::RuleDenied::Builder b, const RuleDenied& e) {
  b.setShareId(text(e.share_id));
  b.setRuleId(text(e.rule_id));
}

void write(s::RuleMetadataSet::Builder b, const RuleMetadataSet& e) {
  b.setShareId(text(e.share_id));
  b.setRuleId(text(e.rule_id));
  write_kvs(b.initMetadata(e.metadata.size()), e.metadata);
}

void write(s::RuleMetadataUnset::Builder b, const RuleMetadataUnset& e) {
  b.setShareId(text(e.share_id));
  b.setRuleId(text(e.rule_id));
  write_texts(b.initKeys(e.keys.size()), e.keys);
}

void write(s::GroupAttached::Builder b, const GroupAttached& e) {
  b.setShareId(text(e.share_id));
  b.setGroupId(text(e.group_id));
  b.setMappingId(text(e.mapping_id));
}

void write(s::GroupDetached::Builder b, const GroupDetached& e) {
  b.setShareId(text(e.share_id));
  b.setGroupId(text(e.group_id));
  b.setMappingId(text(e.mapping_id));
}

void write(s::AccessSyncRequested::Builder b, const AccessSyncRequested& e) {
  b.setShareId(text(e.share_id));
}

void write(s::DriverOutcome::Builder b, const DriverOutcome& e) {
  b.setShareId(text(e.share_id));
  b.setInstanceId(text(e.instance_id));
  b.setAppliedVersion(e.applied_version);
  b.setCallSucceeded(e.call_succeeded);
  b.setMessage(text(e.message));
  auto failures = b.initFailures(e.failures.size());
  for (unsigned i = 0; i < e.failures.size(); ++i) {
    write_rule_key(failures[i].initRule(), e.failures[i].rule);
    failures[i].setMessage(text(e.failures[i].message));
  }
  auto keys = b.initAccessKeys(e.access_keys.size());
  for (unsigned i = 0; i < e.access_keys.size(); ++i) {
    write_rule_key(keys[i].initRule(), e.access_keys[i].rule);
    keys[i].setAccessKey(text(e.access_keys[i].access_key));
  }
  auto added = b.initAdded(e.added.size());
  for (unsigned i = 0; i < e.added.size(); ++i) {
    write_rule_key(added[i].initRule(), e.added[i].rule);
    added[i].setLevel(to_capnp(e.added[i].level));
  }
  auto removed = b.initRemoved(e.removed.size());
  for (unsigned i = 0; i < e.removed.size(); ++i) write_rule_key(removed[i], e.removed[i]);
  b.setFullSync(e.full_sync);
}

void write_body(s::Event::Body::Builder b, const Body& body) {
  // One arm per alternative; the init* call picks the union member.
  std::visit(
      [&](const auto& e) {
        using T = std::decay_t<decltype(e)>;
        if constexpr (std::is_same_v<T, ShareTypeCreated>)
          write(b.initShareTypeCreated(), e);
        else if constexpr (std::is_same_v<T, ShareTypeDeleted>)
          write(b.initShareTypeDeleted(), e);
        else if constexpr (std::is_same_v<T, ShareTypeUpdated>)
          write(b.initShareTypeUpdated(), e);
        else if constexpr (std::is_same_v<T, ShareCreated>)
          write(b.initShareCreated(), e);
        else if constexpr (std::is_same_v<T, ShareStatusChanged>)
          write(b.initShareStatusChanged(), e);
        else if constexpr (std::is_same_v<T, ShareDeleted>)
          write(b.initShareDeleted(), e);
        else if constexpr (std::is_same_v<T, AccessGroupCreated>)
          write(b.initAccessGroupCreated(), e);
        else if constexpr (std::is_same_v<T, AccessGroupUpdated>)
          write(b.initAccessGroupUpdated(), e);
        else if constexpr (std::is_same_v<T, AccessGroupDeleted>)
          write(b.initAccessGroupDeleted(), e);
        else if constexpr (std::is_same_v<T, EntryAdded>)
          write(b.initEntryAdded(), e);
        else if constexpr (std::is_same_v<T, EntryRemoved>)
          write(b.initEntryRemoved(), e);
        else if constexpr (std::is_same_v<T, RuleAllowed>)
          write(b.initRuleAllowed(), e);
        else if constexpr (std::is_same_v<T, RuleDenied>)
          write(b.initRuleDenied(), e);
        else if constexpr (std::is_same_v<T, RuleMetadataSet>)
          write(b.initRuleMetadataSet(), e);
        else if constexpr (std::is_same_v<T, RuleMetadataUnset>)
          write(b.initRuleMetadataUnset(), e);
        else if constexpr (std::is_same_v<T, GroupAttached>)
          write(b.initGroupAttached(), e);
        else if constexpr (std::is_same_v<T, GroupDetached>)
          write(b.initGroupDetached(), e);
        else if constexpr (std::is_same_v<T, AccessSyncRequested>)
          write(b.initAccessSyncRequested(), e);
        else if constexpr (std::is_same_v<T, DriverOutcome>)
          write(b.initDriverOutcome(), e);
        else if constexpr (std::is_same_v<T, ShareSoftDeleted>)
          write(b.initShareSoftDeleted(), e);
        else if constexpr (std::is_same_v<T, ShareRestored>)
          write(b.initShareRestored(), e);
        else if constexpr (std::is_same_v<T, ResourceLockCreated>)
          write(b.initResourceLockCreated(), e);
        else if constexpr (std::is_same_v<T, ResourceLockUpdated>)
          write(b.initResourceLockUpdated(), e);
        else if constexpr (std::is_same_v<T, ResourceLockDeleted>)
          write(b.initResourceLockDeleted(), e);
        else if constexpr (std::is_same_v<T, RuleLevelUpdated>)
          write(b.initRuleLevelUpdated(), e);
        else if constexpr (std::is_same_v<T, EntryLevelUpdated>)
          write(b.initEntryLevelUpdated(), e);
        else
          static_assert(!sizeof(T), "every event kind must be encoded");
      },
      body);
}

// ---- Cap'n Proto -> values ----------------------------------------------------------------

// Thrown inside decode() only, and caught there: a record names something this reader cannot
// represent.
struct Unrepresentable {
  DecodeErrc code;
  std::string message;
};

std::string str(capnp::Text::Reader t) { return std::string(t.begin(), t.size()); }

AccessType from_capnp(s::AccessType t, const char* where) {
  auto raw = static_cast<std::uint16_t>(t);
  if (raw > static_cast<std::uint16_t>(AccessType::cephx)) {
    throw Unrepresentable{DecodeErrc::unknown_enumerant,
                          fmt::format("unknown access type {} in {}", raw, where)};
  }
  return static_cast<AccessType>(raw);
}

AccessLevel from_capnp(s::AccessLevel l, const char* where) {
  auto raw = static_cast<std::uint16_t>(l);
  if (raw > static_cast<std::uint16_t>(AccessLevel::ro)) {
    throw Unrepresentable{DecodeErrc::unknown_enumerant,
                          fmt::format("unknown access level {} in {}", raw, where)};
  }
  return static_cast<AccessLevel>(raw);
}

// An enumerant of a lock's enums, or the decoder's unknown_enumerant.
template <typename E, typename S>
E lock_enum(S raw_value, E last, const char* what) {
  auto raw = static_cast<std::uint16_t>(raw_value);
  if (raw > static_cast<std::uint16_t>(last)) {
    throw Unrepresentable{DecodeErrc::unknown_enumerant,
                          fmt::format("unknown {} {} in a resource lock event", what, raw)};
  }
  return static_cast<E>(raw);
}

Metadata read_kvs(capnp::List<s::KeyValue>::Reader list) {
  Metadata out;
  for (auto kv : list) out.insert_or_assign(str(kv.getKey()), str(kv.getValue()));
  return out;
}

std::vector<std::string> read_texts(capnp::List<capnp::Text>::Reader list) {
  std::vector<std::string> out;
  out.reserve(list.size());
  for (auto t : list) out.push_back(str(t));
  return out;
}

RuleKey read_rule_key(s::RuleKey::Reader r, const char* where) {
  return {from_capnp(r.getAccessType(), where), str(r.getAccessTo())};
}

ShareTypeCreated read(s::ShareTypeCreated::Reader r) {
  return {str(r.getShareTypeId()), str(r.getName()), str(r.getDescription()), r.getIsPublic(),
          read_kvs(r.getExtraSpecs())};
}

ShareTypeDeleted read(s::ShareTypeDeleted::Reader r) { return {str(r.getShareTypeId())}; }

ShareTypeUpdated read(s::ShareTypeUpdated::Reader r) {
  return {str(r.getShareTypeId()), str(r.getName()), str(r.getDescription()), r.getIsPublic()};
}

ShareCreated read(s::ShareCreated::Reader r) {
  ShareCreated e{str(r.getShareId()),
                 str(r.getName()),
                 str(r.getDescription()),
                 str(r.getShareProto()),
                 r.getSizeGib(),
                 str(r.getShareTypeId()),
                 r.getIsPublic(),
                 str(r.getStatus()),
                 str(r.getAvailabilityZone()),
                 read_kvs(r.getMetadata()),
                 {},
                 str(r.getMountPointName()),
                 r.getSnapshotInheritShareAccessSupport()};
  for (auto in : r.getInstances()) {
    e.instances.push_back({str(in.getInstanceId()), str(in.getHost()), str(in.getStatus()),
                           read_texts(in.getExportLocations())});
  }
  return e;
}

ShareStatusChanged read(s::ShareStatusChanged::Reader r) {
  ShareStatusChanged e{str(r.getShareId()), str(r.getStatus()), {}};
  for (auto in : r.getInstances()) {
    e.instances.push_back({str(in.getInstanceId()), str(in.getStatus())});
  }
  return e;
}

ShareDeleted read(s::ShareDeleted::Reader r) { return {str(r.getShareId())}; }

ShareSoftDeleted read(s::ShareSoftDeleted::Reader r) {
  return {str(r.getShareId()), r.getScheduledToBeDeletedAtMicros()};
}

ShareRestored read(s::ShareRestored::Reader r) { return {str(r.getShareId())}; }

AccessGroupCreated read(s::AccessGroupCreated::Reader r) {
  return {str(r.getGroupId()), str(r.getName()), str(r.getDescription()),
          from_capnp(r.getAccessType(), "accessGroupCreated")};
}

AccessGroupUpdated read(s::AccessGroupUpdated::Reader r) {
  return {str(r.getGroupId()), str(r.getName()), str(r.getDescription())};
}

AccessGroupDeleted read(s::AccessGroupDeleted::Reader r) { return {str(r.getGroupId())}; }

EntryAdded read(s::EntryAdded::Reader r) {
  return {str(r.getGroupId()), str(r.getEntryId()), str(r.getAccessTo()),
          from_capnp(r.getAccessLevel(), "entryAdded")};
}

EntryRemoved read(s::EntryRemoved::Reader r) { return {str(r.getGroupId()), str(r.getEntryId())}; }

RuleLevelUpdated read(s::RuleLevelUpdated::Reader r) {
  return {str(r.getShareId()), str(r.getRuleId()),
          from_capnp(r.getAccessLevel(), "ruleLevelUpdated")};
}

EntryLevelUpdated read(s::EntryLevelUpdated::Reader r) {
  return {str(r.getGroupId()), str(r.getEntryId()),
          from_capnp(r.getAccessLevel(), "entryLevelUpdated")};
}

RuleAllowed read(s::RuleAllowed::Reader r) {
  return {str(r.getShareId()),
          str(r.getRuleId()),
          from_capnp(r.getAccessType(), "ruleAllowed"),
          str(r.getAccessTo()),
          from_capnp(r.getAccessLevel(), "ruleAllowed"),
          read_kvs(r.getMetadata())};
}

RuleDenied read(s::RuleDenied::Reader r) { return {str(r.getShareId()), str(r.getRuleId())}; }

RuleMetadataSet read(s::RuleMetadataSet::Reader r) {
  return {str(r.getShareId()), str(r.getRuleId()), read_kvs(r.getMetadata())};
}

RuleMetadataUnset read(s::RuleMetadataUnset::Reader r) {
  return {str(r.getShareId()), str(r.getRuleId()), read_texts(r.getKeys())};
}

GroupAttached read(s::GroupAttached::Reader r) {
  return {str(r.getShareId()), str(r.getGroupId()), str(r.getMappingId())};
}

GroupDetached read(s::GroupDetached::Reader r) {
  return {str(r.getShareId()), str(r.getGroupId()), str(r.getMappingId())};
}

AccessSyncRequested read(s::AccessSyncRequested::Reader r) { return {str(r.getShareId())}; }

DriverOutcome read(s::DriverOutcome::Reader r) {
  DriverOutcome e;
  e.share_id = str(r.getShareId());
  e.instance_id = str(r.getInstanceId());
  e.applied_version = r.getAppliedVersion();
  e.call_succeeded = r.getCallSucceeded();
  e.message = str(r.getMessage());
  for (auto f : r.getFailures()) {
    e.failures.push_back({read_rule_key(f.getRule(), "driverOutcome"), str(f.getMessage())});
  }
  for (auto k : r.getAccessKeys()) {
    e.access_keys.push_back({read_rule_key(k.getRule(), "driverOutcome"), str(k.getAccessKey())});
  }
  for (auto a : r.getAdded()) {
    e.added.push_back({read_rule_key(a.getRule(), "driverOutcome"),
                       from_capnp(a.getLevel(), "driverOutcome")});
  }
  for (auto k : r.getRemoved()) e.removed.push_back(read_rule_key(k, "driverOutcome"));
  e.full_sync = r.getFullSync();
  return e;
}

ResourceLockCreated read(s::ResourceLockCreated::Reader r) {
  return {str(r.getLockId()),
          lock_enum(r.getResourceType(), LockResourceType::access_group, "resource type"),
          str(r.getResourceId()),
          lock_enum(r.getResourceAction(), LockAction::show, "resource action"),
          lock_enum(r.getLockContext(), LockContext::service, "lock context"),
          str(r.getLockReason()),
          str(r.getShareId())};
}

ResourceLockUpdated read(s::ResourceLockUpdated::Reader r) {
  return {str(r.getLockId()), lock_enum(r.getResourceAction(), LockAction::show, "resource action"),
          str(r.getLockReason()), str(r.getShareId())};
}

ResourceLockDeleted read(s::ResourceLockDeleted::Reader r) {
  return {str(r.getLockId()), str(r.getShareId())};
}

Body read_body(s::Event::Body::Reader b) {
  using W = s::Event::Body::Which;
  switch (b.which()) {
    case W::SHARE_TYPE_CREATED:
      return read(b.getShareTypeCreated());
    case W::SHARE_TYPE_DELETED:
      return read(b.getShareTypeDeleted());
    case W::SHARE_TYPE_UPDATED:
      return read(b.getShareTypeUpdated());
    case W::SHARE_CREATED:
      return read(b.getShareCreated());
    case W::SHARE_STATUS_CHANGED:
      return read(b.getShareStatusChanged());
    case W::SHARE_DELETED:
      return read(b.getShareDeleted());
    case W::ACCESS_GROUP_CREATED:
      return read(b.getAccessGroupCreated());
    case W::ACCESS_GROUP_UPDATED:
      return read(b.getAccessGroupUpdated());
    case W::ACCESS_GROUP_DELETED:
      return read(b.getAccessGroupDeleted());
    case W::ENTRY_ADDED:
      return read(b.getEntryAdded());
    case W::ENTRY_REMOVED:
      return read(b.getEntryRemoved());
    case W::RULE_ALLOWED:
      return read(b.getRuleAllowed());
    case W::RULE_DENIED:
      return read(b.getRuleDenied());
    case W::RULE_METADATA_SET:
      return read(b.getRuleMetadataSet());
    case W::RULE_METADATA_UNSET:
      return read(b.getRuleMetadataUnset());
    case W::GROUP_ATTACHED:
      return read(b.getGroupAttached());
    case W::GROUP_DETACHED:
      return read(b.getGroupDetached());
    case W::ACCESS_SYNC_REQUESTED:
      return read(b.getAccessSyncRequested());
    case W::DRIVER_OUTCOME:
      return read(b.getDriverOutcome());
    case W::SHARE_SOFT_DELETED:
      return read(b.getShareSoftDeleted());
    case W::SHARE_RESTORED:
      return read(b.getShareRestored());
    case W::RESOURCE_LOCK_CREATED:
      return read(b.getResourceLockCreated());
    case W::RESOURCE_LOCK_UPDATED:
      return read(b.getResourceLockUpdated());
    case W::RESOURCE_LOCK_DELETED:
      return read(b.getResourceLockDeleted());
    case W::RULE_LEVEL_UPDATED:
      return read(b.getRuleLevelUpdated());
    case W::ENTRY_LEVEL_UPDATED:
      return read(b.getEntryLevelUpdated());
  }
  throw Unrepresentable{DecodeErrc::unknown_kind,
                        fmt::format("unknown event kind {} (written by a newer schema?)",
                                    static_cast<std::uint16_t>(b.which()))};
}

using Crc32c = boost::crc_optimal<32, 0x1EDC6F41, 0xFFFFFFFF, 0xFFFFFFFF, true, true>;

#if defined(__x86_64__)
// The SSE 4.2 crc32 instruction computes CRC-32C: about ten times the table-driven speed, which
// matters when a rebuild checks every record of the log.
__attribute__((target("sse4.2"))) std::uint32_t crc32c_sse42(std::string_view bytes) {
  std::uint64_t crc = 0xFFFFFFFFu;
  const char* p = bytes.data();
  std::size_t n = bytes.size();
  for (; n >= 8; p += 8, n -= 8) {
    std::uint64_t chunk;
    std::memcpy(&chunk, p, 8);
    crc = _mm_crc32_u64(crc, chunk);
  }
  auto c32 = static_cast<std::uint32_t>(crc);
  for (; n > 0; ++p, --n) c32 = _mm_crc32_u8(c32, static_cast<unsigned char>(*p));
  return c32 ^ 0xFFFFFFFFu;
}
#endif

void store_le32(char* p, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<char>((v >> (8 * i)) & 0xff);
}

std::uint32_t load_le32(const char* p) {
  std::uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v |= std::uint32_t(static_cast<unsigned char>(p[i])) << (8 * i);
  return v;
}

DecodeError error(DecodeErrc code, std::string message) { return {code, std::move(message)}; }

}  // namespace

std::string_view to_string(DecodeErrc code) {
  switch (code) {
    case DecodeErrc::truncated:
      return "truncated";
    case DecodeErrc::too_large:
      return "too large";
    case DecodeErrc::checksum_mismatch:
      return "checksum mismatch";
    case DecodeErrc::unknown_format:
      return "unknown record format";
    case DecodeErrc::malformed:
      return "malformed message";
    case DecodeErrc::trailing_bytes:
      return "trailing bytes";
    case DecodeErrc::unknown_kind:
      return "unknown event kind";
    case DecodeErrc::unknown_enumerant:
      return "unknown enumerant";
  }
  return "unknown decode error";
}

void throw_exception_from_error(const DecodeError& e, const boost::source_location&) {
  throw std::runtime_error("event decode: " + e.message);
}

std::uint32_t crc32c(std::string_view bytes) {
#if defined(__x86_64__)
  static const bool hardware = __builtin_cpu_supports("sse4.2");
  if (hardware) return crc32c_sse42(bytes);
#endif
  return crc32c_portable(bytes);
}

std::uint32_t crc32c_portable(std::string_view bytes) {
  Crc32c crc;
  crc.process_bytes(bytes.data(), bytes.size());
  return crc.checksum();
}

void encode_into(const Event& event, std::string& out) {
  // A per-thread first segment, large enough for any event Agate writes today, so that encoding
  // does not allocate. MallocMessageBuilder requires it zeroed; the words used are zeroed again
  // after each message.
  constexpr std::size_t kScratchWords = 1024;
  thread_local std::unique_ptr<capnp::word[]> scratch = [] {
    auto p = std::make_unique<capnp::word[]>(kScratchWords);
    std::memset(p.get(), 0, kScratchWords * sizeof(capnp::word));
    return p;
  }();
  capnp::MallocMessageBuilder message(kj::arrayPtr(scratch.get(), kScratchWords));
  KJ_DEFER({
    auto segments = message.getSegmentsForOutput();
    if (segments.size() > 0 && segments[0].begin() == scratch.get()) {
      std::memset(scratch.get(), 0, segments[0].size() * sizeof(capnp::word));
    }
  });
  auto root = message.initRoot<s::Event>();
  root.setSeq(event.seq.value);
  root.setTimeMicros(event.time_micros);
  root.setProjectId(text(event.project_id));
  root.setUserId(text(event.user_id));
  root.setRequestId(text(event.request_id));
  write_body(root.initBody(), event.body);

  const std::size_t words = capnp::computeSerializedSizeInWords(message);
  out.assign(kRecordHeaderBytes + words * sizeof(capnp::word), '\0');
  out[4] = static_cast<char>(kRecordFormat);
  kj::ArrayOutputStream stream(kj::arrayPtr(
      reinterpret_cast<kj::byte*>(out.data() + kRecordHeaderBytes), words * sizeof(capnp::word)));
  capnp::writeMessage(stream, message);
  store_le32(out.data(), crc32c(std::string_view(out).substr(4)));
}

std::string encode(const Event& event) {
  std::string out;
  encode_into(event, out);
  return out;
}

boost::system::result<Event, DecodeError> decode(std::string_view record,
                                                 const DecodeLimits& limits) {
  if (record.size() < kRecordHeaderBytes) {
    return error(DecodeErrc::truncated,
                 fmt::format("record of {} bytes is shorter than its {}-byte header", record.size(),
                             kRecordHeaderBytes));
  }
  if (record.size() > limits.max_record_bytes) {
    return error(DecodeErrc::too_large, fmt::format("record of {} bytes exceeds the limit of {}",
                                                    record.size(), limits.max_record_bytes));
  }
  const std::uint32_t stored = load_le32(record.data());
  const std::uint32_t computed = crc32c(record.substr(4));
  if (stored != computed) {
    return error(DecodeErrc::checksum_mismatch,
                 fmt::format("checksum mismatch: stored {:#010x}, computed {:#010x} over {} bytes",
                             stored, computed, record.size() - 4));
  }
  if (record[4] != static_cast<char>(kRecordFormat) || record[5] != 0 || record[6] != 0 ||
      record[7] != 0) {
    return error(DecodeErrc::unknown_format,
                 fmt::format("unknown record format {} (this reader knows {})",
                             static_cast<unsigned char>(record[4]), kRecordFormat));
  }
  const std::string_view payload = record.substr(kRecordHeaderBytes);
  if (payload.size() % sizeof(capnp::word) != 0) {
    return error(
        DecodeErrc::truncated,
        fmt::format("message of {} bytes is not a whole number of 8-byte words", payload.size()));
  }

  // FlatArrayMessageReader needs word-aligned memory; LMDB only promises 2-byte alignment.
  kj::Array<capnp::word> aligned_copy;
  kj::ArrayPtr<const capnp::word> words;
  const std::size_t n_words = payload.size() / sizeof(capnp::word);
  if (reinterpret_cast<std::uintptr_t>(payload.data()) % alignof(capnp::word) == 0) {
    words = {reinterpret_cast<const capnp::word*>(payload.data()), n_words};
  } else {
    aligned_copy = kj::heapArray<capnp::word>(n_words);
    std::memcpy(aligned_copy.begin(), payload.data(), payload.size());
    words = {aligned_copy.begin(), aligned_copy.size()};
  }

  capnp::ReaderOptions options;
  // A message Agate writes is read once over, so reading it costs at most its own size. Lists of
  // empty structs cost nothing to store but one word each to read: without this bound a record
  // of a few hundred bytes could decode into a million rules (and an event too big to encode).
  options.traversalLimitInWords = std::min<std::uint64_t>(limits.traversal_limit_words, n_words);
  options.nestingLimit = limits.nesting_limit;
  try {
    capnp::FlatArrayMessageReader reader(words, options);
    if (reader.getEnd() != words.end()) {
      return error(DecodeErrc::trailing_bytes,
                   fmt::format("{} bytes follow the end of the message",
                               (words.end() - reader.getEnd()) * sizeof(capnp::word)));
    }
    auto root = reader.getRoot<s::Event>();
    Event event;
    event.seq = Seq{root.getSeq()};
    event.time_micros = root.getTimeMicros();
    event.project_id = str(root.getProjectId());
    event.user_id = str(root.getUserId());
    event.request_id = str(root.getRequestId());
    event.body = read_body(root.getBody());
    return event;
  } catch (const Unrepresentable& u) {
    return error(u.code, u.message);
  } catch (const kj::Exception& e) {
    return error(DecodeErrc::malformed,
                 fmt::format("malformed Cap'n Proto message: {}", e.getDescription().cStr()));
  }
}

}  // namespace agate::events
