#pragma once

// The domain's values: what the engine decides about and what projections hold. Plain,
// comparable structs; no storage here.

#include <boost/system/result.hpp>
#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/access_validation.h"
#include "events/event.h"

namespace agate::engine {

using events::AccessLevel;
using events::AccessType;
using events::Metadata;

// Why a command was refused. http/ maps each to its status and Manila fault name.
enum class errc {
  bad_request,   // 400
  forbidden,     // 403
  not_found,     // 404
  conflict,      // 409
  over_limit,    // 413
  out_of_space,  // 507: the LMDB map or the disk is full
  unavailable,   // 503: an infrastructure failure; nothing was written
  // 412: If-Match named another version than the object's. Stored as a number (idempotency
  // records): new codes go last.
  precondition_failed,
};

std::string_view to_string(errc code);

struct Rejection {
  errc code = errc::bad_request;
  std::string message;
  friend bool operator==(const Rejection&, const Rejection&) = default;
};

[[noreturn]] void throw_exception_from_error(const Rejection& r, const boost::source_location& loc);

// Who asks, and in which dialect. The project is the caller's (from the token).
struct Context {
  std::string project_id;
  std::string user_id;
  std::string request_id;
  bool is_admin = false;
  bool is_reader = false;  // may list and show, not change (Manila's reader role)
  // The request carried a valid service token with the service role (Manila's is_service):
  // locks it places are of the "service" context.
  bool is_service = false;
  ApiVersion version{2, 0};
};

// Limits on the model, with generous defaults; exceeding one is a 413.
struct Limits {
  std::uint64_t max_entries_per_group = 10'000;
  std::uint64_t max_groups_per_share = 100;
  std::uint64_t max_rules_per_share = 10'000;
};

// ---- projection rows ----------------------------------------------------------------------

struct ShareTypeRow {
  std::string id;
  std::string project_id;  // who created it
  std::string name;
  std::string description;
  bool is_public = true;
  Metadata extra_specs;
  std::int64_t created_at = 0;
  friend bool operator==(const ShareTypeRow&, const ShareTypeRow&) = default;
};

struct InstanceRow {
  std::string id;
  std::string share_id;
  std::string host;  // back end; empty if none could be chosen
  std::string status;
  std::vector<std::string> export_locations;
  std::int64_t created_at = 0;
  std::int64_t updated_at = 0;
  // What the back end last reported (driver outcomes).
  std::uint64_t applied_version = 0;  // desired version of the last outcome recorded
  bool has_error = false;             // the last outcome failed, wholly or for some rules
  bool sync_requested = false;        // access_sync asked for a full re-apply not yet reported
  std::string status_message;         // access_status_message
  std::vector<events::RuleFailure> failures;
  std::vector<events::AccessKey> access_keys;
  friend bool operator==(const InstanceRow&, const InstanceRow&) = default;
};

struct ShareRow {
  std::string id;
  std::string project_id;
  std::string user_id;
  std::string name;
  std::string description;
  std::string share_proto;
  std::uint64_t size_gib = 0;
  std::string share_type_id;
  bool is_public = false;
  std::string status;
  std::string availability_zone;
  Metadata metadata;
  std::vector<std::string> instance_ids;
  std::int64_t created_at = 0;
  std::int64_t updated_at = 0;
  // The version of the share's effective rule set: bumped whenever the set changes. Every
  // instance's desired version is this.
  std::uint64_t desired_version = 0;
  // In the recycle bin (soft-deleted) until restored, or deleted for good once
  // scheduled_to_be_deleted_at (µs; 0 outside the bin) has passed.
  bool is_soft_deleted = false;
  std::int64_t scheduled_to_be_deleted_at = 0;
  std::string mount_point_name;  // 2.84; empty when the back end chose the name
  bool snapshot_inherit_share_access_support = false;  // 2.99, from the type at creation
  friend bool operator==(const ShareRow&, const ShareRow&) = default;
};

struct GroupRow {
  std::string id;
  std::string project_id;
  std::string name;
  std::string description;
  AccessType access_type = AccessType::ip;
  std::int64_t created_at = 0;
  std::int64_t updated_at = 0;  // 0: never updated
  std::uint64_t entry_count = 0;
  std::uint64_t share_count = 0;
  // The log position of the last event that changed this row (its ETag): a rename, an entry
  // added, removed or changed, a share attached or detached.
  std::uint64_t version = 0;
  friend bool operator==(const GroupRow&, const GroupRow&) = default;
};

struct EntryRow {
  std::string id;
  std::string group_id;
  AccessType access_type = AccessType::ip;  // the group's
  std::string access_to;                    // as given
  AccessLevel access_level = AccessLevel::rw;
  std::int64_t created_at = 0;
  std::uint64_t version = 0;  // the log position of its addition or its last level change (ETag)
  friend bool operator==(const EntryRow&, const EntryRow&) = default;
};

// A direct rule (Manila's share_access_map row).
struct RuleRow {
  std::string id;
  std::string share_id;
  AccessType access_type = AccessType::ip;
  std::string access_to;  // as given
  AccessLevel access_level = AccessLevel::rw;
  Metadata metadata;
  std::int64_t created_at = 0;
  std::int64_t updated_at = 0;
  // Set when the rule was denied: the share's desired version without it. The row stays
  // (Manila shows it as queued_to_deny / denying) until every instance has applied that version.
  std::uint64_t denied_version = 0;
  friend bool operator==(const RuleRow&, const RuleRow&) = default;
};

// A group attached to a share (share_access_group_mapping).
struct MappingRow {
  std::string id;
  std::string share_id;
  std::string group_id;
  std::int64_t created_at = 0;
  friend bool operator==(const MappingRow&, const MappingRow&) = default;
};

// A resource lock (Manila's resource_locks row, 2.81). project_id and user_id are who placed it.
struct LockRow {
  std::string id;
  std::string project_id;
  std::string user_id;
  events::LockContext lock_context = events::LockContext::user;
  events::LockResourceType resource_type = events::LockResourceType::share;
  std::string resource_id;
  events::LockAction resource_action = events::LockAction::delete_;
  std::string lock_reason;
  std::string share_id;  // the share the resource is or belongs to; empty for an access group
  std::int64_t created_at = 0;
  std::int64_t updated_at = 0;  // 0: never updated
  friend bool operator==(const LockRow&, const LockRow&) = default;
};

// The context a request places locks in: service, else admin, else user (Manila's order).
events::LockContext lock_context_of(const Context& ctx);
// Whether `ctx` may change or drop `lock`, as far as the lock's context goes: an admin's lock
// only by an admin, a service's lock not by a user (Manila's _check_allow_lock_manipulation).
bool context_may_manipulate(const Context& ctx, const LockRow& lock);
// Whether `ctx` may change or drop `lock` at all: the context rule, and the requester is an
// admin, a service or the user who placed it (Manila's default policy).
bool may_manipulate(const Context& ctx, const LockRow& lock);
// Whether an access rule under the visibility lock `lock` is shown to `ctx` with access_to and
// access_key hidden (Manila's access_is_restricted).
bool access_is_restricted(const Context& ctx, const LockRow& lock);

}  // namespace agate::engine
