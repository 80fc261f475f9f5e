#pragma once

// The event model: plain, comparable values mirroring events/event.capnp one to one.
// The engine decides events, projections apply them, the codec turns them into bytes.

#include <compare>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace agate::events {

// A position in the event log. The first event is at 1; 0 means "before the first event".
struct Seq {
  std::uint64_t value = 0;
  friend auto operator<=>(const Seq&, const Seq&) = default;
  Seq next() const { return Seq{value + 1}; }
};

enum class AccessType : std::uint8_t { ip, user, cert, cephx };
enum class AccessLevel : std::uint8_t { rw, ro };

std::string_view to_string(AccessType t);
std::string_view to_string(AccessLevel l);
// Case-sensitive, as Manila: "ip", "user", "cert", "cephx"; "rw", "ro".
std::optional<AccessType> parse_access_type(std::string_view s);
std::optional<AccessLevel> parse_access_level(std::string_view s);

// Ordered by key, so two equal maps encode to equal bytes.
using Metadata = std::map<std::string, std::string>;

struct RuleKey {
  AccessType access_type = AccessType::ip;
  std::string access_to;
  friend auto operator<=>(const RuleKey&, const RuleKey&) = default;
};

struct ShareTypeCreated {
  std::string share_type_id;
  std::string name;
  std::string description;
  bool is_public = true;
  Metadata extra_specs;
  friend bool operator==(const ShareTypeCreated&, const ShareTypeCreated&) = default;
};

struct ShareTypeDeleted {
  std::string share_type_id;
  friend bool operator==(const ShareTypeDeleted&, const ShareTypeDeleted&) = default;
};

// The type's name, description and visibility after an update (2.50).
struct ShareTypeUpdated {
  std::string share_type_id;
  std::string name;
  std::string description;
  bool is_public = true;
  friend bool operator==(const ShareTypeUpdated&, const ShareTypeUpdated&) = default;
};

struct ShareInstance {
  std::string instance_id;
  std::string host;  // back end name; empty when none could be chosen
  std::string status;
  std::vector<std::string> export_locations;
  friend bool operator==(const ShareInstance&, const ShareInstance&) = default;
};

struct ShareCreated {
  std::string share_id;
  std::string name;
  std::string description;
  std::string share_proto;
  std::uint64_t size_gib = 0;
  std::string share_type_id;
  bool is_public = false;
  std::string status;
  std::string availability_zone;
  Metadata metadata;
  std::vector<ShareInstance> instances;
  std::string mount_point_name;  // with the type's prefix; empty when the back end chose it
  bool snapshot_inherit_share_access_support = false;
  friend bool operator==(const ShareCreated&, const ShareCreated&) = default;
};

struct InstanceStatus {
  std::string instance_id;
  std::string status;
  friend bool operator==(const InstanceStatus&, const InstanceStatus&) = default;
};

struct ShareStatusChanged {
  std::string share_id;
  std::string status;
  std::vector<InstanceStatus> instances;
  friend bool operator==(const ShareStatusChanged&, const ShareStatusChanged&) = default;
};

struct ShareDeleted {
  std::string share_id;
  friend bool operator==(const ShareDeleted&, const ShareDeleted&) = default;
};

// The share went to the recycle bin; see event.capnp.
struct ShareSoftDeleted {
  std::string share_id;
  std::int64_t scheduled_to_be_deleted_at_micros = 0;
  friend bool operator==(const ShareSoftDeleted&, const ShareSoftDeleted&) = default;
};

struct ShareRestored {
  std::string share_id;
  friend bool operator==(const ShareRestored&, const ShareRestored&) = default;
};

struct AccessGroupCreated {
  std::string group_id;
  std::string name;
  std::string description;
  AccessType access_type = AccessType::ip;
  friend bool operator==(const AccessGroupCreated&, const AccessGroupCreated&) = default;
};

// The group's name and description after the update.
struct AccessGroupUpdated {
  std::string group_id;
  std::string name;
  std::string description;
  friend bool operator==(const AccessGroupUpdated&, const AccessGroupUpdated&) = default;
};

struct AccessGroupDeleted {
  std::string group_id;
  friend bool operator==(const AccessGroupDeleted&, const AccessGroupDeleted&) = default;
};

struct EntryAdded {
  std::string group_id;
  std::string entry_id;
  std::string access_to;
  AccessLevel access_level = AccessLevel::rw;
  friend bool operator==(const EntryAdded&, const EntryAdded&) = default;
};

struct EntryRemoved {
  std::string group_id;
  std::string entry_id;
  friend bool operator==(const EntryRemoved&, const EntryRemoved&) = default;
};

struct RuleAllowed {
  std::string share_id;
  std::string rule_id;
  AccessType access_type = AccessType::ip;
  std::string access_to;
  AccessLevel access_level = AccessLevel::rw;
  Metadata metadata;
  friend bool operator==(const RuleAllowed&, const RuleAllowed&) = default;
};

struct RuleDenied {
  std::string share_id;
  std::string rule_id;
  friend bool operator==(const RuleDenied&, const RuleDenied&) = default;
};

struct RuleMetadataSet {
  std::string share_id;
  std::string rule_id;
  Metadata metadata;
  friend bool operator==(const RuleMetadataSet&, const RuleMetadataSet&) = default;
};

struct RuleMetadataUnset {
  std::string share_id;
  std::string rule_id;
  std::vector<std::string> keys;
  friend bool operator==(const RuleMetadataUnset&, const RuleMetadataUnset&) = default;
};

// A direct rule's level changed in place (2.88); see event.capnp.
struct RuleLevelUpdated {
  std::string share_id;
  std::string rule_id;
  AccessLevel access_level = AccessLevel::rw;
  friend bool operator==(const RuleLevelUpdated&, const RuleLevelUpdated&) = default;
};

// An access-group entry's level changed in place, on every share the group reaches.
struct EntryLevelUpdated {
  std::string group_id;
  std::string entry_id;
  AccessLevel access_level = AccessLevel::rw;
  friend bool operator==(const EntryLevelUpdated&, const EntryLevelUpdated&) = default;
};

struct GroupAttached {
  std::string share_id;
  std::string group_id;
  std::string mapping_id;
  friend bool operator==(const GroupAttached&, const GroupAttached&) = default;
};

struct GroupDetached {
  std::string share_id;
  std::string group_id;
  std::string mapping_id;
  friend bool operator==(const GroupDetached&, const GroupDetached&) = default;
};

struct AccessSyncRequested {
  std::string share_id;
  friend bool operator==(const AccessSyncRequested&, const AccessSyncRequested&) = default;
};

struct RuleFailure {
  RuleKey rule;
  std::string message;
  friend bool operator==(const RuleFailure&, const RuleFailure&) = default;
};

struct AccessKey {
  RuleKey rule;
  std::string access_key;
  friend bool operator==(const AccessKey&, const AccessKey&) = default;
};

struct AppliedRule {
  RuleKey rule;
  AccessLevel level = AccessLevel::rw;
  friend bool operator==(const AppliedRule&, const AppliedRule&) = default;
};

struct DriverOutcome {
  std::string share_id;
  std::string instance_id;
  std::uint64_t applied_version = 0;
  bool call_succeeded = true;
  std::string message;  // why the whole call failed; empty on success
  std::vector<RuleFailure> failures;
  std::vector<AccessKey> access_keys;
  // What the driver was told to change (see event.capnp): with the instance's earlier outcomes,
  // which rules its back end holds.
  std::vector<AppliedRule> added;
  std::vector<RuleKey> removed;
  bool full_sync = false;
  friend bool operator==(const DriverOutcome&, const DriverOutcome&) = default;
};

// Resource locks (event.capnp).
enum class LockResourceType : std::uint8_t { share, access_rule, access_group };
enum class LockAction : std::uint8_t { delete_, show };
enum class LockContext : std::uint8_t { user, admin, service };

// Manila's names: "share", "access_rule", Agate's "access_group"; "delete", "show"; "user",
// "admin", "service".
std::string_view to_string(LockResourceType t);
std::string_view to_string(LockAction a);
std::string_view to_string(LockContext c);
std::optional<LockResourceType> parse_lock_resource_type(std::string_view s);
std::optional<LockAction> parse_lock_action(std::string_view s);

struct ResourceLockCreated {
  std::string lock_id;
  LockResourceType resource_type = LockResourceType::share;
  std::string resource_id;
  LockAction resource_action = LockAction::delete_;
  LockContext lock_context = LockContext::user;
  std::string lock_reason;
  std::string share_id;  // the share the resource is or belongs to; empty for an access group
  friend bool operator==(const ResourceLockCreated&, const ResourceLockCreated&) = default;
};

struct ResourceLockUpdated {
  std::string lock_id;
  LockAction resource_action = LockAction::delete_;
  std::string lock_reason;
  std::string share_id;
  friend bool operator==(const ResourceLockUpdated&, const ResourceLockUpdated&) = default;
};

struct ResourceLockDeleted {
  std::string lock_id;
  std::string share_id;
  friend bool operator==(const ResourceLockDeleted&, const ResourceLockDeleted&) = default;
};

// The alternatives are in the order of the schema's union; kind_name() names them as the schema.
using Body =
    std::variant<ShareTypeCreated, ShareTypeDeleted, ShareCreated, ShareStatusChanged, ShareDeleted,
                 AccessGroupCreated, AccessGroupUpdated, AccessGroupDeleted, EntryAdded,
                 EntryRemoved, RuleAllowed, RuleDenied, RuleMetadataSet, RuleMetadataUnset,
                 GroupAttached, GroupDetached, AccessSyncRequested, DriverOutcome,
                 ShareTypeUpdated, ShareSoftDeleted, ShareRestored, ResourceLockCreated,
                 ResourceLockUpdated, ResourceLockDeleted, RuleLevelUpdated, EntryLevelUpdated>;

struct Event {
  Seq seq;  // assigned by the log on append
  std::int64_t time_micros = 0;
  std::string project_id;
  std::string user_id;
  std::string request_id;
  Body body;
  friend bool operator==(const Event&, const Event&) = default;
};

// The schema's name of the event's kind ("ruleAllowed", …).
std::string_view kind_name(const Body& body);

}  // namespace agate::events
