#pragma once

// Manila's rules for share types' extra specs (share_types.py): the required
// driver_handles_share_servers, the boolean optional specs, replication_type, and the boolean
// forms oslo accepts.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "events/event.h"

namespace agate::engine {

// The share type a share is created with when none is named, and the one views mark is_default
// (Manila takes it from its default_share_type option).
inline constexpr std::string_view kDefaultShareType = "default";

inline constexpr std::string_view kDriverHandlesShareServers = "driver_handles_share_servers";
inline constexpr std::string_view kReplicationType = "replication_type";
// Optional specs that must hold a boolean; a type that does not state one means false.
inline constexpr std::string_view kSnapshotSupport = "snapshot_support";
inline constexpr std::string_view kCreateFromSnapshot = "create_share_from_snapshot_support";
inline constexpr std::string_view kRevertToSnapshot = "revert_to_snapshot_support";
inline constexpr std::string_view kMountSnapshot = "mount_snapshot_support";
const std::vector<std::string_view>& boolean_optional_specs();
// Comma-separated availability zone names a share of the type may be created in (2.48).
inline constexpr std::string_view kAvailabilityZones = "availability_zones";
// Whether a share of the type may be given a mount point name (2.84), and what is put in front
// of it ("{project_id}_" when the type does not say).
inline constexpr std::string_view kMountPointNameSupport = "mount_point_name_support";
inline constexpr std::string_view kMountPointPrefix = "provisioning:mount_point_prefix";
// Whether snapshots of the type's shares take the share's access rules (2.99).
inline constexpr std::string_view kSnapshotInheritShareAccess =
    "snapshot_inherit_share_access_support";
// Where a share of the type is encrypted: "share" or "share_server" (2.90).
inline constexpr std::string_view kEncryptionSupport = "encryption_support";
// The smallest and largest share, in GiB, a share of the type may be created with (2.61).
inline constexpr std::string_view kMinShareSize = "provisioning:min_share_size";
inline constexpr std::string_view kMaxShareSize = "provisioning:max_share_size";

// oslo's strutils.bool_from_string (strict): "1", "t", "true", "on", "y", "yes" and their
// negatives, in any case, surrounding spaces ignored; nullopt for anything else.
std::optional<bool> bool_from_string(std::string_view text);
// share_types.parse_boolean_extra_spec: "<is> True", "<is> False" or a bool_from_string value.
std::optional<bool> boolean_extra_spec(std::string_view value);
// What the type states for a boolean spec; false when absent or not a boolean.
bool spec_is_true(const events::Metadata& specs, std::string_view spec);

// Checks a new type's extra specs; returns Manila's 400 message, if any.
std::optional<std::string> check_extra_specs(const events::Metadata& specs);
// The specs as Manila stores them: availability_zones without blanks around its names.
events::Metadata sanitize_extra_specs(events::Metadata specs);

// An integer spec's value as Python's int() reads it (surrounding spaces and a sign allowed);
// nullopt if it is not one or is absent.
std::optional<std::int64_t> integer_spec(const events::Metadata& specs, std::string_view spec);
// The availability zones a type allows, empty if it does not restrict them.
std::vector<std::string> availability_zones_of(const events::Metadata& specs);

}  // namespace agate::engine
