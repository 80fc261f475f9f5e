#include "events/event.h"

#include <array>

namespace agate::events {

namespace {

constexpr std::array<std::string_view, 4> kAccessTypeNames = {"ip", "user", "cert", "cephx"};
constexpr std::array<std::string_view, 2> kAccessLevelNames = {"rw", "ro"};

// Index i names alternative i of Body; must follow the schema's union, checked by a test.
constexpr std::array<std::string_view, std::variant_size_v<Body>> kKindNames = {
    "shareTypeCreated",    "shareTypeDeleted",   "shareCreated",       "shareStatusChanged",
    "shareDeleted",        "accessGroupCreated", "accessGroupUpdated", "accessGroupDeleted",
    "entryAdded",          "entryRemoved",       "ruleAllowed",        "ruleDenied",
    "ruleMetadataSet",     "ruleMetadataUnset",  "groupAttached",      "groupDetached",
    "accessSyncRequested", "driverOutcome",      "shareTypeUpdated",   "shareSoftDeleted",
    "shareRestored",       "resourceLockCreated", "resourceLockUpdated", "resourceLockDeleted",
    "ruleLevelUpdated",    "entryLevelUpdated",
};

constexpr std::array<std::string_view, 3> kLockResourceTypeNames = {"share", "access_rule",
                                                                    "access_group"};
constexpr std::array<std::string_view, 2> kLockActionNames = {"delete", "show"};
constexpr std::array<std::string_view, 3> kLockContextNames = {"user", "admin", "service"};

template <typename E, std::size_t N>
std::optional<E> parse_name(const std::array<std::string_view, N>& names, std::string_view s) {
  for (std::size_t i = 0; i < N; ++i) {
    if (names[i] == s) return static_cast<E>(i);
  }
  return std::nullopt;
}

}  // namespace

std::string_view to_string(AccessType t) { return kAccessTypeNames.at(static_cast<size_t>(t)); }

std::string_view to_string(AccessLevel l) { return kAccessLevelNames.at(static_cast<size_t>(l)); }

std::optional<AccessType> parse_access_type(std::string_view s) {
  for (size_t i = 0; i < kAccessTypeNames.size(); ++i) {
    if (kAccessTypeNames[i] == s) return static_cast<AccessType>(i);
  }
  return std::nullopt;
}

std::optional<AccessLevel> parse_access_level(std::string_view s) {
  for (size_t i = 0; i < kAccessLevelNames.size(); ++i) {
    if (kAccessLevelNames[i] == s) return static_cast<AccessLevel>(i);
  }
  return std::nullopt;
}

std::string_view to_string(LockResourceType t) {
  return kLockResourceTypeNames.at(static_cast<size_t>(t));
}
std::string_view to_string(LockAction a) { return kLockActionNames.at(static_cast<size_t>(a)); }
std::string_view to_string(LockContext c) { return kLockContextNames.at(static_cast<size_t>(c)); }

std::optional<LockResourceType> parse_lock_resource_type(std::string_view s) {
  return parse_name<LockResourceType>(kLockResourceTypeNames, s);
}
std::optional<LockAction> parse_lock_action(std::string_view s) {
  return parse_name<LockAction>(kLockActionNames, s);
}

std::string_view kind_name(const Body& body) { return kKindNames.at(body.index()); }

}  // namespace agate::events
