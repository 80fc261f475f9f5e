#pragma once

// Commands: what callers ask the engine to change. Plain values, built by http/ from requests
// (strings as the caller sent them; validation is decide()'s job) and by the dispatcher.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "events/event.h"

namespace agate::engine {

struct CreateShareType {
  std::string name;
  std::string description;
  bool is_public = true;
  events::Metadata extra_specs;
};

struct DeleteShareType {
  std::string share_type_id;
};

// Admin (2.50): changes a type's name, description or visibility; what is absent stays.
struct UpdateShareType {
  std::string share_type_id;
  std::optional<std::string> name;
  std::optional<std::string> description;  // "" clears it
  std::optional<bool> is_public;
};

struct CreateShare {
  std::string name;
  std::string description;
  std::string share_proto;  // NFS, CIFS, CEPHFS, …
  std::int64_t size_gib = 0;
  std::string share_type;  // a name or an id; empty for the type named "default"
  bool is_public = false;
  std::string availability_zone;
  events::Metadata metadata;
  // Scheduler hints (2.65): ids of shares the new one must be placed with, or away from.
  std::vector<std::string> same_host;
  std::vector<std::string> different_host;
  // The back end to place it on (2.67); heeded for administrators only, as Manila's filter is.
  std::string only_host;
  // The name to make its exports under (2.84), before the type's prefix is put in front.
  std::optional<std::string> mount_point_name;
  // A key manager's reference to the share's encryption key (2.90).
  std::optional<std::string> encryption_key_ref;
};

// Admin: sets a share's status (Manila's reset_status).
struct SetShareStatus {
  std::string share_id;
  std::string status;
};

struct DeleteShare {
  std::string share_id;
};

struct CreateAccessGroup {
  std::string name;
  std::string description;
  std::string access_type;  // as sent; validated as Manila validates access types
};

// if_match, on the commands that change or drop an existing group or entry: the version (the
// ETag) the caller last read; a different current version refuses the command (412).
struct UpdateAccessGroup {
  std::string group_id;
  std::optional<std::string> name;
  std::optional<std::string> description;
  std::optional<std::uint64_t> if_match;
};

struct DeleteAccessGroup {
  std::string group_id;
  bool force = false;  // detach from every share in the same batch instead of refusing
  std::optional<std::uint64_t> if_match;
};

struct AddEntry {
  std::string group_id;
  std::optional<std::string> access_type;  // if given, must be the group's type
  std::string access_to;
  std::optional<std::string> access_level;  // rw | ro; absent or null means rw
};

struct RemoveEntry {
  std::string group_id;
  std::string entry_id;
  std::optional<std::uint64_t> if_match;  // the entry's version
};

// The locks allow_access places with the new rule (2.82): its deletion (with the companion lock
// on the share's deletion) and the visibility of its access_to and access_key.
struct AccessLocks {
  bool lock_deletion = false;
  bool lock_visibility = false;
  std::optional<std::string> lock_reason;  // only with a lock
};

struct AllowAccess {
  std::string share_id;
  std::string access_type;
  std::string access_to;
  std::optional<std::string> access_level;
  events::Metadata metadata;
  AccessLocks locks = {};
};

// Finds `access_id` among the share's rules and then among its group mappings (the proposal's
// deny_access): denies the rule or detaches the group.
struct DenyAccess {
  std::string share_id;
  std::string access_id;
  // Also drop the rule's deletion locks (2.82); without it a locked rule is not denied.
  bool unrestrict = false;
};

// Changes a direct rule's level in place (Manila's update_access, 2.88). `access_level` as sent:
// absent or empty, or not rw / ro, is refused.
struct UpdateAccessLevel {
  std::string rule_id;
  std::optional<std::string> access_level;
};

// Changes an access-group entry's level in place, on every share the group is attached to.
struct UpdateEntryLevel {
  std::string group_id;
  std::string entry_id;
  std::optional<std::string> access_level;
  std::optional<std::uint64_t> if_match;  // the entry's version
};

struct SetRuleMetadata {
  std::string rule_id;
  events::Metadata metadata;
};

struct UnsetRuleMetadata {
  std::string rule_id;
  std::string key;
};

struct AttachGroup {
  std::string share_id;
  std::string group_id;
  AccessLocks locks = {};  // on the mapping, as on a rule
};

// POST /resource-locks (2.81). Strings as sent; resource_type defaults to "share" and
// resource_action to "delete" when absent.
struct CreateResourceLock {
  std::string resource_id;
  std::optional<std::string> resource_type;
  std::optional<std::string> resource_action;
  std::optional<std::string> lock_reason;
};

// PUT /resource-locks/{id}: only the action and the reason change.
struct UpdateResourceLock {
  std::string lock_id;
  std::optional<std::string> resource_action;
  std::optional<std::string> lock_reason;
};

struct DeleteResourceLock {
  std::string lock_id;
};

struct SyncAccess {
  std::string share_id;
};

// From the dispatcher: what a driver did with one instance.
struct RecordDriverOutcome {
  events::DriverOutcome outcome;
};

// Moves a share to the recycle bin (Manila's soft_delete, 2.69) for the configured retention.
// It keeps its instances, its direct rules and its groups (whose entries still reach it), but
// its own access (allow, deny, attach, detach, sync) and its status are frozen until it is
// restored; DeleteShare still deletes it at once.
struct SoftDeleteShare {
  std::string share_id;
};

// Brings a share back from the recycle bin as it went in (Manila's restore). A share that is
// not in the bin is left as it is: no events.
struct RestoreShare {
  std::string share_id;
};

// The system's (engine/recycle_bin.h): deletes, as DeleteShare does, the shares whose time in
// the recycle bin had ended at the decision's time, the earliest first, at most `max_shares`.
struct PurgeExpiredShares {
  std::size_t max_shares = 100;
};

using Command =
    std::variant<CreateShareType, DeleteShareType, CreateShare, SetShareStatus, DeleteShare,
                 CreateAccessGroup, UpdateAccessGroup, DeleteAccessGroup, AddEntry, RemoveEntry,
                 AllowAccess, DenyAccess, SetRuleMetadata, UnsetRuleMetadata, AttachGroup,
                 SyncAccess, RecordDriverOutcome, UpdateShareType, SoftDeleteShare,
                 RestoreShare, PurgeExpiredShares, CreateResourceLock, UpdateResourceLock,
                 DeleteResourceLock, UpdateAccessLevel, UpdateEntryLevel>;

}  // namespace agate::engine
