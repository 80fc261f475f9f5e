#include "engine/decide.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <cctype>
#include <set>
#include <stdexcept>

#include "engine/share_type_specs.h"

namespace agate::engine {

namespace {

using events::Event;

// ---- messages Manila gives (manila-compat.md §1, §2) -----------------------------------------

constexpr std::string_view kShareNotFoundForAccess = "NotFound: Resource could not be found.";
constexpr std::string_view kResourceNotFound = "Resource could not be found.";
constexpr std::string_view kCannotAllowInvalidState =
    "New access rules cannot be applied while the share or any of its replicas or migration "
    "copies lacks a valid host or is in an invalid state.";
constexpr std::string_view kCannotDenyInvalidState =
    "Access rules cannot be denied while the share, any of its replicas or migration copies "
    "lacks a valid host or is in an invalid state.";
constexpr std::string_view kCannotAllowWhileError =
    "Access rules cannot be added while the share or any of its replicas or migration copies "
    "has its access_rules_status set to error. Deny any rules in error state and try again.";

// Statuses in which an instance may not take access changes (Manila's TRANSITIONAL_STATUSES).
const std::set<std::string_view> kTransitionalStatuses = {
    "creating",   "deleting",          "extending",         "shrinking",
    "migrating",  "migrating_to",      "ensuring",          "restoring",
    "reverting",  "creating_from_snapshot", "replication_change", "manage_starting",
    "unmanage_starting", "server_migrating", "server_migrating_to"};

const std::set<std::string_view> kShareStatuses = {
    "available", "error",          "creating",       "deleting",         "error_deleting",
    "extending", "extending_error", "shrinking",     "shrinking_error",  "manage_error",
    "unmanage_error", "migrating", "inactive"};

const std::vector<std::string_view> kShareProtocols = {"NFS",  "CIFS",   "GLUSTERFS",
                                                       "HDFS", "CEPHFS", "MAPRFS"};

// Level updates (2.88), as manila/api/v2/share_accesses.py and share/api.py word them.
constexpr std::string_view kMissingLevel = "Invalid input. Missing 'access_level' in update request.";
constexpr std::string_view kCannotUpdateInvalidState =
    "Access rules cannot be updated while the share, any of its replicas or migration copies "
    "lacks a valid host or is in an invalid state.";

// The recycle bin (2.69), as manila/api/v2/shares.py and share/api.py word it.
constexpr std::string_view kNotFoundForSoftDelete = "The resource could not be found.";
constexpr std::string_view kSoftDeletedAlready =
    "Invalid share: The share has been soft deleted already.";
constexpr std::string_view kDeletableStatuses =
    "Invalid share: Share status must be one of ('available', 'error', 'inactive').";

// What may not be done to a share in the recycle bin; `what` as in "Cannot allow access".
std::string soft_deleted_refusal(std::string_view what, std::string_view share_id) {
  return fmt::format("Cannot {} for share '{}' since it has been soft deleted.", what, share_id);
}

bool deletable_status(std::string_view status) {
  return status == "available" || status == "error" || status == "inactive";
}

// Resource locks (2.81, 2.82), as manila/api/v2/resource_locks.py, lock/api.py and
// api/v2/shares.py word them.
constexpr std::size_t kMaxLockReasonLength = 1023;
constexpr std::string_view kLockReasonTooLong =
    "'lock_reason' can contain a maximum of 1023 characters.";
constexpr std::string_view kLockManipulation =
    "Resource lock cannot be manipulated by user. Please contact the administrator.";
constexpr std::string_view kLockResourceId = "Resource ID is required and must be in uuid format.";
constexpr std::string_view kNoSuchResource = "No such resource found.";
constexpr std::string_view kVisibilityLocked =
    "Resource's visibility is already locked by other user.";
constexpr std::string_view kNotSuitableForLocking =
    "Invalid input received: Resource status not suitable for locking.";
constexpr std::string_view kSoftDeletedNotLockable =
    "Invalid input received: Resource cannot be locked since it has been soft deleted.";
constexpr std::string_view kAlreadyVisibilityLocked =
    "Invalid input received: The resource already has a visibility lock.";
constexpr std::string_view kLockReasonWithoutLock =
    "Lock reason can only be specified when locking the visibility or the deletion of an access "
    "rule.";
constexpr std::string_view kCannotDropRestrictions =
    "Unable to drop access rule restrictions that are not placed by you.";

std::string deny_locked(std::string_view share_id) {
  return fmt::format("Cannot deny access for share '{}' since it has been locked. Please remove "
                     "the locks and retry the operation",
                     share_id);
}

std::string lock_not_found(std::string_view id) {
  return fmt::format("Resource lock {} could not be found.", id);
}

// The reason of the share lock that goes with an access rule's deletion lock.
std::string companion_reason(std::string_view rule_lock_id) {
  return fmt::format("Locked by access lock: {}", rule_lock_id);
}

// Share statuses in which a deletion lock is refused (DISALLOWED_STATUS_WHEN_LOCKING_SHARES).
const std::set<std::string_view> kUnlockableShareStatuses = {
    "deleting", "error_deleting", "unmanaging", "manage_error_unmanaging",
    "unmanage_error", "unmanaged", "deleted"};

constexpr std::size_t kMaxNameLength = 255;
// Manila's access_to column is String(255): longer values fail in its database (a 500 there).
constexpr std::size_t kMaxAccessToLength = 255;
constexpr std::size_t kMaxListedShares = 20;

Rejection reject(errc code, std::string message) { return {code, std::move(message)}; }

// Builds events with the command's envelope.
class Emitter {
 public:
  Emitter(const Context& ctx, const DecideInputs& in) : ctx_(ctx), in_(in) {}

  // `project_id` is the project that owns what changed (the caller's unless an admin acts on
  // another project's resource).
  void emit(std::string project_id, events::Body body) {
    Event e;
    e.time_micros = in_.now_micros;
    e.project_id = std::move(project_id);
    e.user_id = ctx_.user_id;
    e.request_id = ctx_.request_id;
    e.body = std::move(body);
    events_.push_back(std::move(e));
  }
  std::string new_id() { return in_.ids->next_id(); }
  std::int64_t now() const { return in_.now_micros; }
  std::vector<Event> take() { return std::move(events_); }

 private:
  const Context& ctx_;
  const DecideInputs& in_;
  std::vector<Event> events_;
};

bool visible(const Context& ctx, std::string_view owner) {
  return ctx.is_admin || owner == ctx.project_id;
}

std::string upper(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

// A mount point name template expanded as Manila's str.format over the request context does it,
// for the fields Agate's context has ({project_id}, {user_id}; {tenant} and {user} are their old
// names); "{{" and "}}" are braces. nullopt for any other field or a stray brace.
std::optional<std::string> expand_mount_point(std::string_view text, const Context& ctx) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if ((c == '{' || c == '}') && i + 1 < text.size() && text[i + 1] == c) {
      out.push_back(c);
      ++i;
    } else if (c == '}') {
      return std::nullopt;
    } else if (c == '{') {
      const auto end = text.find('}', i);
      if (end == std::string_view::npos) return std::nullopt;
      const auto field = text.substr(i + 1, end - i - 1);
      if (field == "project_id" || field == "tenant") {
        out += ctx.project_id;
      } else if (field == "user_id" || field == "user") {
        out += ctx.user_id;
      } else {
        return std::nullopt;
      }
      i = end;
    } else {
      out.push_back(c);
    }
  }
  return out;
}

bool valid_mount_point(std::string_view name) {
  return name.size() <= 255 && std::all_of(name.begin(), name.end(), [](char c) {
           return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-';
         });
}

// The instances of `share` that take access rules, or the reason they cannot.
struct InstanceCheck {
  bool host_or_state_invalid = false;
  bool any_access_error = false;
};

InstanceCheck check_instances(const State& state, const ShareRow& share, const ApiVersion& v) {
  InstanceCheck r;
  if (share.instance_ids.empty()) r.host_or_state_invalid = true;
  for (const auto& id : share.instance_ids) {
    auto in = state.instance(id);
    if (!in || in->host.empty() || kTransitionalStatuses.contains(in->status) ||
        (in->status == "error" && v < ApiVersion{2, 74})) {
      r.host_or_state_invalid = true;
    }
    if (in && access_rules_status(share, *in) == "error") r.any_access_error = true;
  }
  return r;
}

std::string describe_rule(AccessType type, std::string_view access_to, AccessLevel level) {
  return fmt::format("{}:{} ({})", events::to_string(type), access_to, events::to_string(level));
}

// "access rule <id>" or "access group <name> (<id>) entry <id>"
std::string describe_source(const State& state, const RuleSource& source) {
  if (source.kind == RuleSource::Kind::direct) return "access rule " + source.id;
  if (auto g = state.group(source.id)) {
    return fmt::format("access group {} ({}) entry {}", g->name, g->id, source.entry_id);
  }
  return describe(source);
}

// oslo's uuidutils.is_uuid_like: 32 hex digits once "urn:", "uuid:", braces and dashes are
// dropped, in any case.
bool is_uuid_like(std::string_view text) {
  std::string_view v = text;
  for (std::string_view prefix : {"urn:", "uuid:"}) {
    if (v.substr(0, prefix.size()) == prefix) v.remove_prefix(prefix.size());
  }
  while (!v.empty() && v.front() == '{') v.remove_prefix(1);
  while (!v.empty() && v.back() == '}') v.remove_suffix(1);
  std::size_t digits = 0;
  for (char c : v) {
    if (c == '-') continue;
    if (!std::isxdigit(static_cast<unsigned char>(c))) return false;
    ++digits;
  }
  return digits == 32;
}

std::string_view trim_spaces(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

std::string join(const std::vector<std::string>& parts, std::string_view separator) {
  std::string out;
  for (const auto& p : parts) {
    if (!out.empty()) out += separator;
    out += p;
  }
  return out;
}

std::string list_shares(const std::vector<std::string>& ids) {
  std::string out;
  for (std::size_t i = 0; i < ids.size() && i < kMaxListedShares; ++i) {
    if (i) out += ", ";
    out += ids[i];
  }
  if (ids.size() > kMaxListedShares) out += fmt::format(" and {} more", ids.size() - kMaxListedShares);
  return out;
}

std::optional<Rejection> check_access_to_length(std::string_view access_to) {
  if (access_to.size() > kMaxAccessToLength) {
    return reject(errc::bad_request,
                  fmt::format("access_to must be at most {} characters.", kMaxAccessToLength));
  }
  return std::nullopt;
}

std::optional<Rejection> check_name(std::string_view what, std::string_view name, bool required) {
  if (required && name.empty()) return reject(errc::bad_request, fmt::format("{} name is required.", what));
  if (name.size() > kMaxNameLength) {
    return reject(errc::bad_request,
                  fmt::format("{} name must be at most {} characters.", what, kMaxNameLength));
  }
  return std::nullopt;
}

std::optional<Rejection> check_description(std::string_view what, std::string_view d) {
  if (d.size() > kMaxNameLength) {
    return reject(errc::bad_request,
                  fmt::format("{} description must be at most {} characters.", what, kMaxNameLength));
  }
  return std::nullopt;
}

// The refusal of a command whose If-Match names another version than the object's current one.
std::optional<Rejection> check_if_match(std::string_view what, std::string_view id,
                                        std::uint64_t current,
                                        const std::optional<std::uint64_t>& if_match) {
  if (!if_match || *if_match == current) return std::nullopt;
  return reject(errc::precondition_failed,
                fmt::format("{} {} is at version {}, not {} (If-Match): it has changed since it "
                            "was read. Read it again and retry.",
                            what, id, current, *if_match));
}

// ---- the deciders, one per command ----------------------------------------------------------

class Decider {
 public:
  Decider(const State& state, const Context& ctx, const DecideInputs& in)
      : s_(state), ctx_(ctx), out_(ctx, in) {}

  Decision operator()(const CreateShareType& c) {
    if (!ctx_.is_admin) {
      return reject(errc::forbidden, "Policy doesn't allow share_type:create to be performed.");
    }
    if (auto r = check_name("Share type", c.name, true)) return *r;
    if (auto r = check_description("Share type", c.description)) return *r;
    for (const auto& [k, v] : c.extra_specs) {
      if (k.empty() || k.size() > 255 || v.size() > 255) {
        return reject(errc::bad_request,
                      "Invalid extra_spec: keys must be 1-255 characters and values at most 255.");
      }
    }
    if (auto m = check_extra_specs(c.extra_specs)) return reject(errc::bad_request, *m);
    if (s_.share_type_by_name(c.name)) {
      return reject(errc::conflict, fmt::format("Share Type {} already exists.", c.name));
    }
    out_.emit(ctx_.project_id,
              events::ShareTypeCreated{out_.new_id(), c.name, c.description, c.is_public,
                                       sanitize_extra_specs(c.extra_specs)});
    return out_.take();
  }

  // Manila's share_types update (2.50), its checks in its order.
  Decision operator()(const UpdateShareType& c) {
    if (!ctx_.is_admin) {
      return reject(errc::forbidden, "Policy doesn't allow share_type:update to be performed.");
    }
    if (c.name) {
      if (trim_spaces(*c.name).empty()) {
        return reject(errc::bad_request, "Share type name cannot be empty.");
      }
      if (c.name->size() > 255) {
        return reject(errc::bad_request,
                      "Share type name cannot be greater than 255 characters in length.");
      }
    }
    if (c.description && c.description->size() > 255) {
      return reject(errc::bad_request,
                    "Share type description cannot be greater than 255 characters in length.");
    }
    if (!c.name && !c.description && !c.is_public) {
      return reject(errc::bad_request,
                    "Specify share type name, description, share_type_access:is_public or a "
                    "combination thereof.");
    }
    auto type = s_.share_type(c.share_type_id);
    if (!type) {
      return reject(errc::not_found, fmt::format("ShareTypeNotFound: Share type {} could not be "
                                                 "found.",
                                                 c.share_type_id));
    }
    if (c.name) {
      if (auto other = s_.share_type_by_name(*c.name); other && other->id != type->id) {
        return reject(errc::conflict, fmt::format("Share Type {} already exists.", *c.name));
      }
    }
    events::ShareTypeUpdated updated{type->id, c.name.value_or(type->name),
                                     c.description.value_or(type->description),
                                     c.is_public.value_or(type->is_public)};
    if (updated.name == type->name && updated.description == type->description &&
        updated.is_public == type->is_public) {
      return out_.take();  // nothing changes: nothing to record
    }
    out_.emit(type->project_id, std::move(updated));
    return out_.take();
  }

  Decision operator()(const DeleteShareType& c) {
    if (!ctx_.is_admin) {
      return reject(errc::forbidden, "Policy doesn't allow share_type:delete to be performed.");
    }
    auto type = s_.share_type(c.share_type_id);
    if (!type) {
      return reject(errc::not_found, fmt::format("Share type {} could not be found.", c.share_type_id));
    }
    if (s_.share_type_in_use(type->id)) {
      return reject(errc::bad_request,
                    fmt::format("Share Type {} deletion is not allowed with shares present with "
                                "the type.",
                                type->id));
    }
    out_.emit(type->project_id, events::ShareTypeDeleted{type->id});
    return out_.take();
  }

  Decision operator()(const CreateShare& c) {
    const std::string proto = upper(c.share_proto);
    if (std::find(kShareProtocols.begin(), kShareProtocols.end(), proto) == kShareProtocols.end()) {
      return reject(errc::bad_request,
                    fmt::format("Invalid share protocol provided: {}. Supported protocols: NFS, "
                                "CIFS, GLUSTERFS, HDFS, CEPHFS, MAPRFS.",
                                c.share_proto));
    }
    if (c.size_gib <= 0) {
      return reject(errc::bad_request,
                    fmt::format("Share size '{}' must be an integer and greater than 0", c.size_gib));
    }
    if (auto r = check_name("Share", c.name, false)) return *r;
    if (auto r = check_description("Share", c.description)) return *r;
    if (auto m = check_metadata(c.metadata, MetadataContext::allow_access)) {
      return reject(errc::bad_request, *m);
    }
    std::optional<ShareTypeRow> type;
    if (c.share_type.empty()) {
      type = s_.share_type_by_name(kDefaultShareType);
      if (!type) {
        return reject(errc::bad_request,
                      "There is no default share type available. You must pick a valid share "
                      "type to create a share.");
      }
    } else {
      type = s_.share_type(c.share_type);
      if (!type) type = s_.share_type_by_name(c.share_type);
      // A private type is not found for anyone but an administrator.
      if (!type || (!type->is_public && !ctx_.is_admin)) {
        return reject(errc::not_found,
                      fmt::format("Share type {} could not be found.", c.share_type));
      }
    }
    // Agate has no share networks: a type whose driver handles share servers cannot be used.
    if (spec_is_true(type->extra_specs, kDriverHandlesShareServers)) {
      return reject(errc::bad_request,
                    "Share network must be set when the driver_handles_share_servers is true.");
    }

    // The size the type allows (2.61; Manila checks it at every version).
    if (auto min = integer_spec(type->extra_specs, kMinShareSize); min && c.size_gib < *min) {
      return reject(errc::bad_request,
                    fmt::format("Invalid input received: Specified share size of '{}' is less "
                                "than the minimum required size of '{}' for share type '{}'.",
                                c.size_gib, *min, type->name));
    }
    if (auto max = integer_spec(type->extra_specs, kMaxShareSize); max && c.size_gib > *max) {
      return reject(errc::bad_request,
                    fmt::format("Invalid input received: Specified share size of '{}' is greater "
                                "than the maximum allowable size of '{}' for share type '{}'.",
                                c.size_gib, *max, type->name));
    }
    // The availability zones the type allows (2.48); the type is named as the caller named it.
    const auto zones = availability_zones_of(type->extra_specs);
    if (ctx_.version >= ApiVersion{2, 48} && !c.availability_zone.empty() && !zones.empty() &&
        std::find(zones.begin(), zones.end(), c.availability_zone) == zones.end()) {
      return reject(errc::bad_request,
                    fmt::format("Share type {} is not supported within the availability zone "
                                "chosen {}.",
                                c.share_type.empty() ? type->name : c.share_type,
                                c.availability_zone));
    }
    // Encryption (2.90) needs a type whose driver handles share servers, which Agate cannot use
    // (above): a key reference is always refused, with the reason Manila gives for the type.
    if (c.encryption_key_ref) {
      auto support = type->extra_specs.find(std::string(kEncryptionSupport));
      if (support == type->extra_specs.end() ||
          (support->second != "share" && support->second != "share_server")) {
        return reject(errc::bad_request,
                      fmt::format("Share type {} extra-specs 'encryption_support' is missing "
                                  "valid value e.g. share, share_server.",
                                  type->name));
      }
      return reject(errc::bad_request,
                    fmt::format("Share type {} must set dhss=True for share encryption.",
                                type->name));
    }
    // The mount point name (2.84): only where the type allows it, behind the type's prefix.
    std::string mount_point;
    if (c.mount_point_name) {
      if (!spec_is_true(type->extra_specs, kMountPointNameSupport)) {
        return reject(errc::bad_request,
                      fmt::format("Invalid input received: Setting a mount point name is not "
                                  "supported by the share type used: {}.",
                                  type->id));
      }
      auto prefix = type->extra_specs.find(std::string(kMountPointPrefix));
      const std::string templ =
          (prefix == type->extra_specs.end() ? std::string("{project_id}_") : prefix->second) +
          *c.mount_point_name;
      auto expanded = expand_mount_point(templ, ctx_);
      if (!expanded || !valid_mount_point(*expanded)) {
        return reject(errc::bad_request,
                      fmt::format("Invalid mount_point_name: {}", expanded.value_or(templ)));
      }
      mount_point = std::move(*expanded);
    }
    // Scheduler hints name shares the caller can see, by id (Manila's _validate_scheduler_hints).
    std::vector<std::string> same_hosts, different_hosts;
    for (auto [ids, hosts] : {std::pair{&c.same_host, &same_hosts},
                              std::pair{&c.different_host, &different_hosts}}) {
      for (const auto& id : *ids) {
        if (!is_uuid_like(id)) {
          return reject(errc::bad_request, fmt::format("{} is not a valid uuid.", id));
        }
        auto other = s_.share(id);
        if (!other || (!ctx_.is_admin && other->project_id != ctx_.project_id)) {
          return reject(errc::not_found,
                        fmt::format("ShareNotFound: Share {} could not be found.", id));
        }
        for (const auto& in_id : other->instance_ids) {
          if (auto in = s_.instance(in_id)) hosts->push_back(in->host);
        }
      }
    }

    // Placement: the back end the type names, else the default one; for an administrator, the
    // one only_host names. A back end that does not exist, or that the hints rule out, leaves the
    // share in error with no host, as Manila's scheduler does when no host passes its filters.
    std::string backend;
    if (ctx_.is_admin && !c.only_host.empty()) {
      backend = c.only_host;
    } else if (auto it = type->extra_specs.find("share_backend_name");
               it != type->extra_specs.end()) {
      backend = it->second;
    } else {
      backend = s_.default_backend();
    }
    const bool hints_hold =
        std::all_of(same_hosts.begin(), same_hosts.end(),
                    [&](const std::string& h) { return h == backend; }) &&
        std::none_of(different_hosts.begin(), different_hosts.end(),
                     [&](const std::string& h) { return h == backend; });
    const bool placed = !backend.empty() && s_.backend_exists(backend) && hints_hold;
    // Two shares exported under one name on one back end would share their clients.
    if (placed && !mount_point.empty()) {
      if (auto other = s_.share_by_mount_point(backend, mount_point)) {
        return reject(errc::conflict,
                      fmt::format("Mount point name {} is already in use on back end {}.",
                                  mount_point, backend));
      }
    }

    // Manila records the hints in the new share's metadata.
    events::Metadata metadata = c.metadata;
    if (!c.same_host.empty()) metadata["__affinity_same_host"] = join(c.same_host, ",");
    if (!c.different_host.empty()) {
      metadata["__affinity_different_host"] = join(c.different_host, ",");
    }

    const std::string share_id = out_.new_id();
    events::ShareInstance instance{out_.new_id(), placed ? backend : "",
                                   placed ? "available" : "error", {}};
    if (placed) {
      const std::string leaf = mount_point.empty() ? "share-" + share_id : mount_point;
      instance.export_locations.push_back(proto == "CIFS"
                                              ? fmt::format("\\\\{}\\{}", backend, leaf)
                                              : fmt::format("{}:/shares/{}", backend, leaf));
    }
    out_.emit(ctx_.project_id,
              events::ShareCreated{share_id, c.name, c.description, proto,
                                   static_cast<std::uint64_t>(c.size_gib), type->id, c.is_public,
                                   instance.status, c.availability_zone, metadata, {instance},
                                   mount_point,
                                   spec_is_true(type->extra_specs, kSnapshotInheritShareAccess)});
    return out_.take();
  }

  Decision operator()(const SetShareStatus& c) {
    if (!ctx_.is_admin) {
      return reject(errc::forbidden, "Policy doesn't allow share:reset_status to be performed.");
    }
    auto share = s_.share(c.share_id);
    if (!share) {
      return reject(errc::not_found, fmt::format("Share {} could not be found.", c.share_id));
    }
    if (share->is_soft_deleted) {
      return reject(errc::forbidden,
                    fmt::format("status cannot be reset for share '{}' since it has been soft "
                                "deleted.",
                                share->id));
    }
    if (!kShareStatuses.contains(c.status)) {
      return reject(errc::bad_request, fmt::format("Invalid status '{}' for a share.", c.status));
    }
    events::ShareStatusChanged e{share->id, c.status, {}};
    for (const auto& id : share->instance_ids) e.instances.push_back({id, c.status});
    out_.emit(share->project_id, std::move(e));
    return out_.take();
  }

  Decision operator()(const DeleteShare& c) {
    auto share = s_.share(c.share_id);
    if (!share || !visible(ctx_, share->project_id)) {
      return reject(errc::not_found, fmt::format("Share {} could not be found.", c.share_id));
    }
    if (auto r = refused_by_locks(share->id)) return *r;
    // A share in the recycle bin is deleted at once, as Manila does.
    if (!deletable_status(share->status)) {
      return reject(errc::forbidden, std::string(kDeletableStatuses));
    }
    drop_locks_of_share(*share);
    out_.emit(share->project_id, events::ShareDeleted{share->id});
    return out_.take();
  }

  Decision operator()(const SoftDeleteShare& c) {
    auto share = s_.share(c.share_id);
    if (!share || !visible(ctx_, share->project_id)) {
      return reject(errc::not_found, std::string(kNotFoundForSoftDelete));
    }
    if (auto r = refused_by_locks(share->id)) return *r;
    if (share->is_soft_deleted) return reject(errc::forbidden, std::string(kSoftDeletedAlready));
    if (!deletable_status(share->status)) {
      return reject(errc::forbidden, std::string(kDeletableStatuses));
    }
    out_.emit(share->project_id,
              events::ShareSoftDeleted{share->id,
                                       out_.now() + s_.soft_deleted_share_retention_micros()});
    return out_.take();
  }

  Decision operator()(const RestoreShare& c) {
    auto share = s_.share(c.share_id);
    if (!share || !visible(ctx_, share->project_id)) {
      return reject(errc::not_found, fmt::format("No share exists with ID {}.", c.share_id));
    }
    if (!share->is_soft_deleted) return out_.take();
    if (share->status == "deleting" || share->status == "error_deleting") {
      return reject(errc::forbidden,
                    fmt::format("Share {} is being deleted or has suffered an error during "
                                "deletion, cannot be restored.",
                                share->id));
    }
    out_.emit(share->project_id, events::ShareRestored{share->id});
    return out_.take();
  }

  Decision operator()(const PurgeExpiredShares& c) {
    if (!ctx_.is_admin) {
      return reject(errc::forbidden, "Only the system purges the recycle bin.");
    }
    for (const auto& id : s_.expired_shares(out_.now(), c.max_shares)) {
      auto share = s_.share(id);
      if (!share || !share->is_soft_deleted) {
        throw std::logic_error("the recycle bin lists share " + id + ", which is not in it");
      }
      drop_locks_of_share(*share);
      out_.emit(share->project_id, events::ShareDeleted{share->id});
    }
    return out_.take();
  }

  Decision operator()(const CreateAccessGroup& c) {
    if (auto r = check_name("Access group", c.name, true)) return *r;
    if (auto r = check_description("Access group", c.description)) return *r;
    if (auto m = check_access_type(c.access_type, ctx_.version)) return reject(errc::bad_request, *m);
    if (s_.group_id_by_name(ctx_.project_id, c.name)) {
      return reject(errc::conflict, fmt::format("Access group named '{}' already exists.", c.name));
    }
    out_.emit(ctx_.project_id,
              events::AccessGroupCreated{out_.new_id(), c.name, c.description,
                                         *events::parse_access_type(c.access_type)});
    return out_.take();
  }

  Decision operator()(const UpdateAccessGroup& c) {
    auto group = visible_group(c.group_id);
    if (!group) return group.error();
    if (auto r = check_if_match("Access group", group->id, group->version, c.if_match)) return *r;
    if (!c.name && !c.description) {
      return reject(errc::bad_request, "Nothing to update: give a name or a description.");
    }
    const std::string name = c.name.value_or(group->name);
    const std::string description = c.description.value_or(group->description);
    if (auto r = check_name("Access group", name, true)) return *r;
    if (auto r = check_description("Access group", description)) return *r;
    if (name != group->name) {
      if (auto other = s_.group_id_by_name(group->project_id, name); other && *other != group->id) {
        return reject(errc::conflict, fmt::format("Access group named '{}' already exists.", name));
      }
    }
    out_.emit(group->project_id, events::AccessGroupUpdated{group->id, name, description});
    return out_.take();
  }

  Decision operator()(const DeleteAccessGroup& c) {
    auto group = visible_group(c.group_id);
    if (!group) return group.error();
    if (auto r = check_if_match("Access group", group->id, group->version, c.if_match)) return *r;
    if (auto r = refused_by_locks(group->id)) return *r;
    std::vector<MappingRow> mappings;
    s_.for_each_share_of_group(group->id, [&](const MappingRow& m) { mappings.push_back(m); });
    // A locked attachment is not detached by force either.
    {
      std::vector<std::string> ids;
      for (const auto& m : mappings) {
        for (const auto& l : locks_of(m.id, events::LockAction::delete_)) ids.push_back(l.id);
      }
      if (!ids.empty()) return reject(errc::forbidden, locked_refusal(ids));
    }
    if (!mappings.empty() && !c.force) {
      std::vector<std::string> shares;
      for (const auto& m : mappings) shares.push_back(m.share_id);
      return reject(errc::conflict,
                    fmt::format("Access group {} is attached to {} share(s): {}. Detach it first, "
                                "or delete it with force.",
                                group->id, shares.size(), list_shares(shares)));
    }
    for (const auto& m : mappings) {
      auto share = s_.share(m.share_id);
      drop_locks_of_access(m.id, m.share_id);
      out_.emit(share ? share->project_id : group->project_id,
                events::GroupDetached{m.share_id, group->id, m.id});
    }
    out_.emit(group->project_id, events::AccessGroupDeleted{group->id});
    return out_.take();
  }

  Decision operator()(const AddEntry& c) {
    auto group = visible_group(c.group_id);
    if (!group) return group.error();
    if (c.access_type) {
      if (auto m = check_access_type(*c.access_type, ctx_.version)) {
        return reject(errc::bad_request, *m);
      }
      if (*events::parse_access_type(*c.access_type) != group->access_type) {
        return reject(errc::bad_request,
                      fmt::format("Access group {} holds '{}' entries; an entry of type '{}' "
                                  "cannot be added to it.",
                                  group->id, events::to_string(group->access_type),
                                  *c.access_type));
      }
    }
    if (auto m = check_access_to(group->access_type, c.access_to, ctx_.version)) {
      return reject(errc::bad_request, *m);
    }
    if (auto r = check_access_to_length(c.access_to)) return *r;
    auto level = parse_level(c.access_level);
    if (!level) return level.error();
    const RuleIdentity key{group->access_type, rule_identity(group->access_type, c.access_to)};
    if (s_.entry_by_identity(group->id, key.identity)) {
      return reject(errc::bad_request,
                    fmt::format("Access group entry {}:{} exists.",
                                events::to_string(group->access_type), c.access_to));
    }
    if (group->entry_count >= s_.limits().max_entries_per_group) {
      return reject(errc::over_limit,
                    fmt::format("Access group {} already has {} entries, the most allowed.",
                                group->id, group->entry_count));
    }
    // The new entry reaches every share the group is attached to: it must conflict with none.
    std::vector<std::string> conflicting;
    std::optional<RuleConflict> first;
    s_.for_each_share_of_group(group->id, [&](const MappingRow& m) {
      auto existing = s_.effective_rule(m.share_id, key);
      if (auto conflict = check_grant(existing ? &*existing : nullptr, *level)) {
        conflicting.push_back(m.share_id);
        if (!first) first = conflict;
      }
    });
    if (!conflicting.empty()) {
      return reject(errc::conflict,
                    fmt::format("Access rule {} from access group {} conflicts with access rule "
                                "{} granted by {} on share(s): {}.",
                                describe_rule(key.access_type, c.access_to, *level), group->id,
                                describe_rule(key.access_type, first->rule.identity,
                                              first->existing_level),
                                describe_source(s_, first->existing_source),
                                list_shares(conflicting)));
    }
    out_.emit(group->project_id,
              events::EntryAdded{group->id, out_.new_id(), c.access_to, *level});
    return out_.take();
  }

  Decision operator()(const RemoveEntry& c) {
    auto group = visible_group(c.group_id);
    if (!group) return group.error();
    auto entry = s_.entry(group->id, c.entry_id);
    if (!entry) {
      return reject(errc::not_found,
                    fmt::format("Access group entry {} could not be found.", c.entry_id));
    }
    if (auto r = check_if_match("Access group entry", entry->id, entry->version, c.if_match)) {
      return *r;
    }
    out_.emit(group->project_id, events::EntryRemoved{group->id, entry->id});
    return out_.take();
  }

  Decision operator()(const AllowAccess& c) {
    auto share = visible_share(c.share_id);
    if (!share) return share.error();
    if (share->is_soft_deleted) {
      return reject(errc::forbidden, soft_deleted_refusal("allow access", share->id));
    }
    const auto instances = check_instances(s_, *share, ctx_.version);
    if (ctx_.version < ApiVersion{2, 28} && instances.any_access_error) {
      return reject(errc::bad_request, std::string(kCannotAllowWhileError));
    }
    if (auto r = check_access_locks(c.locks)) return *r;
    if (auto m = check_access_type(c.access_type, ctx_.version)) return reject(errc::bad_request, *m);
    const AccessType type = *events::parse_access_type(c.access_type);
    if (auto m = check_access_to(type, c.access_to, ctx_.version)) return reject(errc::bad_request, *m);
    if (auto r = check_access_to_length(c.access_to)) return *r;
    auto level = parse_level(c.access_level);
    if (!level) return level.error();
    if (auto m = check_metadata(c.metadata, MetadataContext::allow_access)) {
      return reject(errc::bad_request, *m);
    }
    const RuleIdentity key{type, rule_identity(type, c.access_to)};
    if (s_.rule_by_identity(share->id, key)) {
      return reject(errc::bad_request,
                    fmt::format("Share access {}:{} exists.", c.access_type, c.access_to));
    }
    if (instances.host_or_state_invalid) {
      return reject(errc::bad_request, std::string(kCannotAllowInvalidState));
    }
    if (s_.rule_count(share->id) >= s_.limits().max_rules_per_share) {
      return reject(errc::over_limit,
                    fmt::format("Share {} already has {} access rules, the most allowed.",
                                share->id, s_.rule_count(share->id)));
    }
    auto existing = s_.effective_rule(share->id, key);
    if (auto conflict = check_grant(existing ? &*existing : nullptr, *level)) {
      return reject(errc::conflict,
                    fmt::format("Access rule {} conflicts with access rule {} granted by {} on "
                                "share {}.",
                                describe_rule(type, c.access_to, *level),
                                describe_rule(type, conflict->rule.identity, conflict->existing_level),
                                describe_source(s_, conflict->existing_source), share->id));
    }
    const std::string rule_id = out_.new_id();
    out_.emit(share->project_id,
              events::RuleAllowed{share->id, rule_id, type, c.access_to, *level, c.metadata});
    place_access_locks(c.locks, rule_id, share->id);
    return out_.take();
  }

  Decision operator()(const DenyAccess& c) {
    auto share = visible_share(c.share_id);
    if (!share) return share.error();
    if (share->is_soft_deleted) {
      return reject(errc::forbidden, soft_deleted_refusal("deny access", share->id));
    }
    auto rule = s_.rule(c.access_id);
    std::optional<MappingRow> mapping;
    if (!rule || rule->share_id != share->id) {
      rule.reset();
      mapping = s_.mapping(c.access_id);
      if (!mapping || mapping->share_id != share->id) {
        return reject(errc::not_found, std::string(kResourceNotFound));
      }
    }
    // Deletion locks hold the rule (or the attachment) back unless the caller asks to drop them
    // and may drop every one (Manila's _check_for_access_rule_locks).
    const auto deletion_locks = locks_of(c.access_id, events::LockAction::delete_);
    if (!deletion_locks.empty()) {
      if (!c.unrestrict) return reject(errc::forbidden, deny_locked(share->id));
      for (const auto& lock : deletion_locks) {
        if (!may_manipulate(ctx_, lock) || !visible(ctx_, lock.project_id)) {
          return reject(errc::forbidden, std::string(kCannotDropRestrictions));
        }
      }
    }
    if (check_instances(s_, *share, ctx_.version).host_or_state_invalid) {
      return reject(errc::bad_request, std::string(kCannotDenyInvalidState));
    }
    if (rule) {
      if (rule->denied_version != 0) return out_.take();  // already being denied
      drop_locks_of_access(rule->id, share->id);
      out_.emit(share->project_id, events::RuleDenied{share->id, rule->id});
    } else {
      drop_locks_of_access(mapping->id, share->id);
      out_.emit(share->project_id, events::GroupDetached{share->id, mapping->group_id, mapping->id});
    }
    return out_.take();
  }

  // Manila's update (share_accesses.py) and update_access (share/api.py), in their order: the
  // level, the rule, a level it already has (nothing to do), the share's instances. Manila lets
  // a level change through while an instance is in error, at every version.
  Decision operator()(const UpdateAccessLevel& c) {
    auto level = parse_updated_level(c.access_level);
    if (!level) return level.error();
    auto rule = s_.rule(c.rule_id);
    std::optional<ShareRow> share;
    if (rule) share = s_.share(rule->share_id);
    if (!rule || !share || !visible(ctx_, share->project_id)) {
      if (auto mapping = s_.mapping(c.rule_id)) {
        if (auto of = s_.share(mapping->share_id); of && visible(ctx_, of->project_id)) {
          return reject(errc::bad_request,
                        fmt::format("Access rule {} attaches access group {}: it has no level of "
                                    "its own. Change the level of the group's entries instead.",
                                    mapping->id, mapping->group_id));
        }
      }
      return reject(errc::not_found, fmt::format("Share access rule {} not found.", c.rule_id));
    }
    if (rule->access_level == *level) return out_.take();
    if (rule->denied_version != 0) {
      return reject(errc::bad_request,
                    fmt::format("Access rule {} is being denied: its level cannot be changed.",
                                rule->id));
    }
    if (share->is_soft_deleted) {
      return reject(errc::forbidden, soft_deleted_refusal("update access", share->id));
    }
    if (check_instances(s_, *share, ApiVersion{2, 74}).host_or_state_invalid) {
      return reject(errc::bad_request, std::string(kCannotUpdateInvalidState));
    }
    const RuleIdentity key{rule->access_type, rule_identity(rule->access_type, rule->access_to)};
    if (auto effective = s_.effective_rule(share->id, key)) {
      if (auto others = other_sources(*effective, RuleSource::direct(rule->id)); !others.empty()) {
        return reject(errc::conflict,
                      fmt::format("Access rule {} conflicts with access rule {} granted by {} on "
                                  "share {}.",
                                  describe_rule(key.access_type, rule->access_to, *level),
                                  describe_rule(key.access_type, effective->access_to,
                                                effective->access_level),
                                  describe_sources(others), share->id));
      }
    }
    out_.emit(share->project_id, events::RuleLevelUpdated{share->id, rule->id, *level});
    return out_.take();
  }

  // The same for an access-group entry: one change, on every share the group is attached to,
  // refused as a whole if it conflicts on any of them with another source of the same rule.
  Decision operator()(const UpdateEntryLevel& c) {
    auto level = parse_updated_level(c.access_level);
    if (!level) return level.error();
    auto group = visible_group(c.group_id);
    if (!group) return group.error();
    auto entry = s_.entry(group->id, c.entry_id);
    if (!entry) {
      return reject(errc::not_found,
                    fmt::format("Access group entry {} could not be found.", c.entry_id));
    }
    if (auto r = check_if_match("Access group entry", entry->id, entry->version, c.if_match)) {
      return *r;
    }
    if (entry->access_level == *level) return out_.take();
    const RuleIdentity key{entry->access_type, rule_identity(entry->access_type, entry->access_to)};
    const auto source = RuleSource::group(group->id, entry->id);
    std::vector<std::string> conflicts;
    s_.for_each_share_of_group(group->id, [&](const MappingRow& m) {
      auto effective = s_.effective_rule(m.share_id, key);
      if (!effective) return;
      if (auto others = other_sources(*effective, source); !others.empty()) {
        conflicts.push_back(fmt::format(
            "access rule {} granted by {} on share {}",
            describe_rule(key.access_type, effective->access_to, effective->access_level),
            describe_sources(others), m.share_id));
      }
    });
    if (!conflicts.empty()) {
      std::string joined;
      for (std::size_t i = 0; i < conflicts.size() && i < kMaxListedShares; ++i) {
        joined += (i ? "; " : "") + conflicts[i];
      }
      if (conflicts.size() > kMaxListedShares) {
        joined += fmt::format("; and {} more", conflicts.size() - kMaxListedShares);
      }
      return reject(errc::conflict,
                    fmt::format("Access rule {} from access group {} entry {} conflicts with {}.",
                                describe_rule(key.access_type, entry->access_to, *level),
                                group->id, entry->id, joined));
    }
    out_.emit(group->project_id, events::EntryLevelUpdated{group->id, entry->id, *level});
    return out_.take();
  }

  Decision operator()(const SetRuleMetadata& c) {
    auto rule = visible_rule(c.rule_id);
    if (!rule) return rule.error();
    if (auto m = check_metadata(c.metadata, MetadataContext::metadata_update)) {
      return reject(errc::bad_request, *m);
    }
    out_.emit(owner_of_share(rule->share_id),
              events::RuleMetadataSet{rule->share_id, rule->id, c.metadata});
    return out_.take();
  }

  Decision operator()(const UnsetRuleMetadata& c) {
    auto rule = visible_rule(c.rule_id);
    if (!rule) return rule.error();
    if (!rule->metadata.contains(c.key)) {
      return reject(errc::not_found, "Share access rule metadata does not exist.");
    }
    out_.emit(owner_of_share(rule->share_id),
              events::RuleMetadataUnset{rule->share_id, rule->id, {c.key}});
    return out_.take();
  }

  Decision operator()(const AttachGroup& c) {
    auto share = visible_share(c.share_id);
    if (!share) return share.error();
    if (share->is_soft_deleted) {
      return reject(errc::forbidden, soft_deleted_refusal("allow access", share->id));
    }
    if (auto r = check_access_locks(c.locks)) return *r;
    auto group = visible_group(c.group_id);
    if (!group) return group.error();
    if (group->project_id != share->project_id) {
      return reject(errc::bad_request,
                    fmt::format("Access group {} and share {} belong to different projects.",
                                group->id, share->id));
    }
    if (s_.mapping_of(share->id, group->id)) {
      return reject(errc::bad_request,
                    fmt::format("Share access access_group:{} exists.", group->id));
    }
    if (check_instances(s_, *share, ctx_.version).host_or_state_invalid) {
      return reject(errc::bad_request, std::string(kCannotAllowInvalidState));
    }
    std::uint64_t attached = 0;
    s_.for_each_group_of_share(share->id, [&](const MappingRow&) { ++attached; });
    if (attached >= s_.limits().max_groups_per_share) {
      return reject(errc::over_limit,
                    fmt::format("Share {} already has {} access groups attached, the most allowed.",
                                share->id, attached));
    }
    // Every entry of the group must agree with the share's rules and its other groups.
    std::vector<std::string> conflicts;
    s_.for_each_entry(group->id, [&](const EntryRow& e) {
      const RuleIdentity key{e.access_type, rule_identity(e.access_type, e.access_to)};
      auto existing = s_.effective_rule(share->id, key);
      if (auto conflict = check_grant(existing ? &*existing : nullptr, e.access_level)) {
        conflicts.push_back(fmt::format(
            "entry {} {} conflicts with access rule {} granted by {}", e.id,
            describe_rule(e.access_type, e.access_to, e.access_level),
            describe_rule(e.access_type, conflict->rule.identity, conflict->existing_level),
            describe_source(s_, conflict->existing_source)));
      }
    });
    if (!conflicts.empty()) {
      std::string joined;
      for (std::size_t i = 0; i < conflicts.size() && i < kMaxListedShares; ++i) {
        joined += (i ? "; " : "") + conflicts[i];
      }
      if (conflicts.size() > kMaxListedShares) {
        joined += fmt::format("; and {} more", conflicts.size() - kMaxListedShares);
      }
      return reject(errc::conflict,
                    fmt::format("Access group {} cannot be attached to share {}: {}.", group->id,
                                share->id, joined));
    }
    const std::string mapping_id = out_.new_id();
    out_.emit(share->project_id, events::GroupAttached{share->id, group->id, mapping_id});
    place_access_locks(c.locks, mapping_id, share->id);
    return out_.take();
  }

  Decision operator()(const SyncAccess& c) {
    auto share = visible_share(c.share_id);
    if (!share) return share.error();
    if (share->is_soft_deleted) {
      return reject(errc::forbidden, soft_deleted_refusal("sync access", share->id));
    }
    out_.emit(share->project_id, events::AccessSyncRequested{share->id});
    return out_.take();
  }

  Decision operator()(const RecordDriverOutcome& c) {
    auto instance = s_.instance(c.outcome.instance_id);
    if (!instance) {
      // An instance of a deleted share, whose back end was told to drop everything.
      if (auto retired = s_.retired_instance(c.outcome.instance_id);
          retired && retired->share_id == c.outcome.share_id) {
        out_.emit(ctx_.project_id, c.outcome);
        return out_.take();
      }
    }
    if (!instance || instance->share_id != c.outcome.share_id) {
      return reject(errc::not_found,
                    fmt::format("Share instance {} could not be found.", c.outcome.instance_id));
    }
    if (auto share = s_.share(instance->share_id);
        !share || c.outcome.applied_version > share->desired_version) {
      return reject(errc::bad_request,
                    fmt::format("Share instance {} has no desired version {}.", instance->id,
                                c.outcome.applied_version));
    }
    out_.emit(owner_of_share(instance->share_id), c.outcome);
    return out_.take();
  }

  // ---- resource locks (2.81) ----------------------------------------------------------------

  Decision operator()(const CreateResourceLock& c) {
    using events::LockAction;
    using events::LockResourceType;
    if (c.lock_reason && c.lock_reason->size() > kMaxLockReasonLength) {
      return reject(errc::bad_request, std::string(kLockReasonTooLong));
    }
    const std::string type_text = c.resource_type.value_or("share");
    const auto type = events::parse_lock_resource_type(type_text);
    if (!type) {
      return reject(errc::bad_request,
                    "'resource_type' is required and must be one of ('share', 'access_rule', "
                    "'access_group')");
    }
    const std::string action_text =
        c.resource_action && !c.resource_action->empty() ? *c.resource_action : "delete";
    const auto action = events::parse_lock_action(action_text);
    if (!action || (*action == LockAction::show && *type != LockResourceType::access_rule)) {
      return reject(errc::bad_request, actions_refusal(*type));
    }
    if (!is_uuid_like(c.resource_id)) {
      return reject(errc::bad_request, std::string(kLockResourceId));
    }
    if (*action == LockAction::show && !locks_of(c.resource_id, LockAction::show).empty()) {
      return reject(errc::conflict, std::string(kVisibilityLocked));
    }
    auto resource = lockable(*type, c.resource_id, *action);
    if (!resource) return resource.error();
    out_.emit(ctx_.project_id,
              events::ResourceLockCreated{out_.new_id(), *type, c.resource_id, *action,
                                          lock_context_of(ctx_), c.lock_reason.value_or(""),
                                          *resource});
    return out_.take();
  }

  Decision operator()(const UpdateResourceLock& c) {
    auto lock = visible_lock(c.lock_id);
    if (!lock) return lock.error();
    if (c.lock_reason && c.lock_reason->size() > kMaxLockReasonLength) {
      return reject(errc::bad_request, std::string(kLockReasonTooLong));
    }
    std::optional<events::LockAction> action;
    if (c.resource_action) {
      action = events::parse_lock_action(c.resource_action->empty() ? "delete"
                                                                    : *c.resource_action);
      if (!action || (*action == events::LockAction::show &&
                      lock->resource_type != events::LockResourceType::access_rule)) {
        return reject(errc::bad_request, actions_refusal(lock->resource_type));
      }
    }
    if (!owner_admin_or_service(*lock)) {
      return reject(errc::forbidden, "Policy doesn't allow resource_lock:update to be performed.");
    }
    if (!context_may_manipulate(ctx_, *lock)) {
      return reject(errc::forbidden, std::string(kLockManipulation));
    }
    if (action) {
      if (*action == events::LockAction::show &&
          lock->resource_action != events::LockAction::show &&
          !locks_of(lock->resource_id, events::LockAction::show).empty()) {
        return reject(errc::bad_request, std::string(kAlreadyVisibilityLocked));
      }
      auto resource = lockable(lock->resource_type, lock->resource_id, *action);
      if (!resource) {
        // The resource exists (the lock would have gone with it): only its state refuses.
        return reject(errc::bad_request, resource.error().message);
      }
    }
    out_.emit(lock->project_id,
              events::ResourceLockUpdated{lock->id, action.value_or(lock->resource_action),
                                          c.lock_reason.value_or(lock->lock_reason),
                                          lock->share_id});
    return out_.take();
  }

  Decision operator()(const DeleteResourceLock& c) {
    auto lock = visible_lock(c.lock_id);
    if (!lock) return lock.error();
    if (!owner_admin_or_service(*lock)) {
      return reject(errc::forbidden, "Policy doesn't allow resource_lock:delete to be performed.");
    }
    if (!context_may_manipulate(ctx_, *lock)) {
      return reject(errc::forbidden, std::string(kLockManipulation));
    }
    out_.emit(lock->project_id, events::ResourceLockDeleted{lock->id, lock->share_id});
    return out_.take();
  }

 private:
  // Manila's message for an action the resource type has no lock for.
  static std::string actions_refusal(events::LockResourceType type) {
    return type == events::LockResourceType::access_rule
               ? "'resource_action' can only be one of ['delete', 'show']"
               : "'resource_action' can only be one of ['delete']";
  }

  // The requester is an administrator, a service or the user who placed the lock (Manila's
  // default policy for updating and deleting locks).
  bool owner_admin_or_service(const LockRow& lock) const {
    return ctx_.is_admin || ctx_.is_service ||
           (lock.user_id == ctx_.user_id && lock.project_id == ctx_.project_id);
  }

  // The lock, if the requester may see it: administrators see every project's, others their
  // project's (Manila's project_only query).
  boost::system::result<LockRow, Rejection> visible_lock(const std::string& id) {
    auto lock = s_.lock(id);
    if (!lock || !visible(ctx_, lock->project_id)) {
      return reject(errc::not_found, lock_not_found(id));
    }
    return *lock;
  }

  // The locks on `resource_id`, of one action if given.
  std::vector<LockRow> locks_of(std::string_view resource_id,
                                std::optional<events::LockAction> action = std::nullopt) const {
    std::vector<LockRow> out;
    s_.for_each_lock_of(resource_id, [&](const LockRow& l) {
      if (!action || l.resource_action == *action) out.push_back(l);
    });
    return out;
  }

  // "Resource lock/s [a, b] prevent delete action."
  static std::string locked_refusal(const std::vector<std::string>& lock_ids) {
    return fmt::format("Resource lock/s [{}] prevent delete action.", join(lock_ids, ", "));
  }

  // The 403 a share or group under deletion locks gets when deleted.
  std::optional<Rejection> refused_by_locks(std::string_view resource_id) const {
    std::vector<std::string> ids;
    for (const auto& l : locks_of(resource_id, events::LockAction::delete_)) ids.push_back(l.id);
    if (ids.empty()) return std::nullopt;
    return reject(errc::forbidden, locked_refusal(ids));
  }

  // Checks that the resource exists for the requester and may take a lock of `action`; returns
  // the share it is or belongs to ("" for an access group).
  boost::system::result<std::string, Rejection> lockable(events::LockResourceType type,
                                                         const std::string& id,
                                                         events::LockAction action) {
    using events::LockResourceType;
    if (type == LockResourceType::share) {
      auto share = s_.share(id);
      if (!share || !visible(ctx_, share->project_id)) {
        return reject(errc::bad_request, std::string(kNoSuchResource));
      }
      if (kUnlockableShareStatuses.contains(share->status)) {
        return reject(errc::conflict, std::string(kNotSuitableForLocking));
      }
      if (share->is_soft_deleted) {
        return reject(errc::conflict, std::string(kSoftDeletedNotLockable));
      }
      return share->id;
    }
    if (type == LockResourceType::access_group) {
      auto group = s_.group(id);
      if (!group || !visible(ctx_, group->project_id)) {
        return reject(errc::bad_request, std::string(kNoSuchResource));
      }
      return std::string();
    }
    // An access rule: a direct rule, or an attached group's mapping (shown as a rule).
    std::string share_id;
    bool being_denied = false;
    if (auto rule = s_.rule(id)) {
      share_id = rule->share_id;
      being_denied = rule->denied_version != 0;
    } else if (auto mapping = s_.mapping(id)) {
      share_id = mapping->share_id;
    } else {
      return reject(errc::bad_request, std::string(kNoSuchResource));
    }
    auto share = s_.share(share_id);
    if (!share || !visible(ctx_, share->project_id)) {
      return reject(errc::bad_request, std::string(kNoSuchResource));
    }
    // A rule being denied takes no lock (Manila refuses deletion locks on it; a visibility lock
    // would outlive the rule here, whose locks go when it is denied).
    (void)action;
    if (being_denied) return reject(errc::conflict, std::string(kNotSuitableForLocking));
    return share_id;
  }

  std::optional<Rejection> check_access_locks(const AccessLocks& locks) const {
    if (!locks.lock_deletion && !locks.lock_visibility && locks.lock_reason) {
      return reject(errc::bad_request, std::string(kLockReasonWithoutLock));
    }
    if (locks.lock_reason && locks.lock_reason->size() > kMaxLockReasonLength) {
      return reject(errc::bad_request, std::string(kLockReasonTooLong));
    }
    return std::nullopt;
  }

  // The locks allow_access asked for on a new rule (or mapping) `access_id` of `share_id`, in
  // Manila's order: the rule's deletion, the share's deletion, the rule's visibility.
  void place_access_locks(const AccessLocks& locks, const std::string& access_id,
                          const std::string& share_id) {
    using events::LockAction;
    using events::LockResourceType;
    const auto context = lock_context_of(ctx_);
    const std::string reason = locks.lock_reason.value_or("");
    if (locks.lock_deletion) {
      const std::string rule_lock = out_.new_id();
      out_.emit(ctx_.project_id,
                events::ResourceLockCreated{rule_lock, LockResourceType::access_rule, access_id,
                                            LockAction::delete_, context, reason, share_id});
      out_.emit(ctx_.project_id,
                events::ResourceLockCreated{out_.new_id(), LockResourceType::share, share_id,
                                            LockAction::delete_, context,
                                            companion_reason(rule_lock), share_id});
    }
    if (locks.lock_visibility) {
      out_.emit(ctx_.project_id,
                events::ResourceLockCreated{out_.new_id(), LockResourceType::access_rule,
                                            access_id, LockAction::show, context, reason,
                                            share_id});
    }
  }

  // Every lock on a rule (or mapping) that goes away, and the share locks that went with its
  // deletion locks.
  void drop_locks_of_access(const std::string& access_id, const std::string& share_id) {
    for (const auto& lock : locks_of(access_id)) {
      if (lock.resource_action == events::LockAction::delete_) {
        const std::string reason = companion_reason(lock.id);
        for (const auto& share_lock : locks_of(share_id, events::LockAction::delete_)) {
          if (share_lock.lock_reason == reason) {
            out_.emit(share_lock.project_id,
                      events::ResourceLockDeleted{share_lock.id, share_lock.share_id});
          }
        }
      }
      out_.emit(lock.project_id, events::ResourceLockDeleted{lock.id, lock.share_id});
    }
  }

  // The locks left on a share's rules and mappings when it is deleted (visibility locks, and
  // deletion locks placed on a rule alone). The share has no deletion lock of its own here.
  void drop_locks_of_share(const ShareRow& share) {
    std::vector<std::string> ids;
    s_.for_each_rule(share.id, [&](const RuleRow& r) { ids.push_back(r.id); });
    s_.for_each_group_of_share(share.id, [&](const MappingRow& m) { ids.push_back(m.id); });
    for (const auto& id : ids) {
      for (const auto& lock : locks_of(id)) {
        out_.emit(lock.project_id, events::ResourceLockDeleted{lock.id, lock.share_id});
      }
    }
  }

  boost::system::result<ShareRow, Rejection> visible_share(const std::string& id) {
    auto share = s_.share(id);
    if (!share || !visible(ctx_, share->project_id)) {
      return reject(errc::not_found, std::string(kShareNotFoundForAccess));
    }
    return *share;
  }

  boost::system::result<GroupRow, Rejection> visible_group(const std::string& id) {
    auto group = s_.group(id);
    if (!group || !visible(ctx_, group->project_id)) {
      return reject(errc::not_found, fmt::format("Access group {} could not be found.", id));
    }
    return *group;
  }

  boost::system::result<RuleRow, Rejection> visible_rule(const std::string& id) {
    auto rule = s_.rule(id);
    if (!rule) return reject(errc::not_found, std::string(kResourceNotFound));
    auto share = s_.share(rule->share_id);
    if (!share || !visible(ctx_, share->project_id)) {
      return reject(errc::not_found, std::string(kResourceNotFound));
    }
    return *rule;
  }

  std::string owner_of_share(const std::string& share_id) {
    auto share = s_.share(share_id);
    return share ? share->project_id : ctx_.project_id;
  }

  boost::system::result<AccessLevel, Rejection> parse_level(
      const std::optional<std::string>& level) {
    if (auto m = check_access_level(level ? std::optional<std::string_view>(*level) : std::nullopt)) {
      return reject(errc::bad_request, *m);
    }
    return level ? *events::parse_access_level(*level) : AccessLevel::rw;
  }

  // The level of a level update, with Manila's messages for a missing or unknown one.
  static boost::system::result<AccessLevel, Rejection> parse_updated_level(
      const std::optional<std::string>& level) {
    if (!level || level->empty()) return reject(errc::bad_request, std::string(kMissingLevel));
    auto parsed = events::parse_access_level(*level);
    if (!parsed) {
      return reject(errc::bad_request,
                    fmt::format("Invalid or unsupported share access level: {}.", *level));
    }
    return *parsed;
  }

  // "access rule <id>", "access group <name> (<id>) entry <id>", joined with " and ".
  std::string describe_sources(const std::vector<RuleSource>& sources) const {
    std::vector<std::string> parts;
    for (const auto& source : sources) parts.push_back(describe_source(s_, source));
    return join(parts, " and ");
  }

  const State& s_;
  const Context& ctx_;
  Emitter out_;
};

// Version-7 UUIDs (RFC 9562): 48 bits of milliseconds since the epoch, then a 12-bit counter
// that keeps ids made within one millisecond in order, then 62 random bits. Ids made one after
// another sort one after another, so the rows and index entries keyed by new ids land at the end
// of their key ranges — a few pages per commit instead of one random page per id.
class TimeOrderedIds final : public IdSource {
 public:
  // `clock` gives milliseconds since the epoch; `rng` the random bits.
  TimeOrderedIds(std::function<std::uint64_t()> clock, std::mt19937_64 rng)
      : clock_(std::move(clock)), rng_(rng) {}

  std::string next_id() override {
    std::uint64_t ms = clock_();
    if (ms <= last_ms_) {
      ms = last_ms_;
      if (++counter_ > 0xfff) {  // 4,096 ids in one millisecond: borrow the next one
        ms = ++last_ms_;
        counter_ = 0;
      }
    } else {
      last_ms_ = ms;
      counter_ = 0;
    }
    const std::uint64_t high = (ms << 16) | (0x7u << 12) | counter_;
    const std::uint64_t low = (rng_() & 0x3fffffffffffffffULL) | 0x8000000000000000ULL;
    return fmt::format("{:08x}-{:04x}-{:04x}-{:04x}-{:012x}", high >> 32, (high >> 16) & 0xffff,
                       high & 0xffff, low >> 48, low & 0xffffffffffffULL);
  }

 private:
  std::function<std::uint64_t()> clock_;
  std::mt19937_64 rng_;
  std::uint64_t last_ms_ = 0;
  std::uint64_t counter_ = 0;
};

}  // namespace

std::unique_ptr<IdSource> make_random_ids() {
  std::random_device entropy;
  const std::uint64_t seed = (std::uint64_t{entropy()} << 32) ^ entropy();
  return std::make_unique<TimeOrderedIds>(
      [] {
        return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                              std::chrono::system_clock::now().time_since_epoch())
                                              .count());
      },
      std::mt19937_64(seed));
}

std::unique_ptr<IdSource> make_seeded_ids(std::uint64_t seed) {
  // A clock of its own, starting at a fixed moment and moving a millisecond per id: the same
  // seed gives the same ids.
  auto tick = std::make_shared<std::uint64_t>(1764000000000ULL + (seed % 1000000) * 1000);
  return std::make_unique<TimeOrderedIds>([tick] { return (*tick)++; }, std::mt19937_64(seed));
}

std::string_view access_rules_status(const ShareRow& share, const InstanceRow& instance) {
  if (instance.has_error) return "error";
  if (instance.applied_version < share.desired_version || instance.sync_requested) {
    return "syncing";
  }
  return "active";
}

Decision decide(const State& state, const Context& context, const Command& command,
                const DecideInputs& inputs) {
  Decider decider(state, context, inputs);
  return std::visit(decider, command);
}

}  // namespace agate::engine
