#include "engine/share_type_specs.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <set>

namespace agate::engine {

namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string_view trim(std::string_view s) {
  auto space = [](char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; };
  while (!s.empty() && space(s.front())) s.remove_prefix(1);
  while (!s.empty() && space(s.back())) s.remove_suffix(1);
  return s;
}

const std::set<std::string, std::less<>> kReplicationTypes = {"writable", "readable", "dr"};

// The comma-separated parts of `s`, empty ones included.
std::vector<std::string_view> split(std::string_view s) {
  std::vector<std::string_view> parts;
  while (true) {
    const auto comma = s.find(',');
    parts.push_back(s.substr(0, comma));
    if (comma == std::string_view::npos) return parts;
    s.remove_prefix(comma + 1);
  }
}

// Python's int() of a string: optional spaces around, an optional sign, decimal digits (and
// single underscores between them, which int() also takes).
std::optional<std::int64_t> python_int(std::string_view text) {
  std::string_view v = trim(text);
  bool negative = false;
  if (!v.empty() && (v.front() == '+' || v.front() == '-')) {
    negative = v.front() == '-';
    v.remove_prefix(1);
  }
  if (v.empty() || v.front() == '_' || v.back() == '_') return std::nullopt;
  std::int64_t n = 0;
  char previous = 0;
  for (char c : v) {
    if (c == '_') {
      if (previous == '_') return std::nullopt;
    } else if (std::isdigit(static_cast<unsigned char>(c))) {
      if (n > (INT64_MAX - (c - '0')) / 10) return std::nullopt;  // too large for Agate anyway
      n = n * 10 + (c - '0');
    } else {
      return std::nullopt;
    }
    previous = c;
  }
  return negative ? -n : n;
}

}  // namespace

const std::vector<std::string_view>& boolean_optional_specs() {
  static const std::vector<std::string_view> specs = {kSnapshotSupport, kCreateFromSnapshot,
                                                      kRevertToSnapshot, kMountSnapshot};
  return specs;
}

std::optional<bool> bool_from_string(std::string_view text) {
  const std::string v = lower(trim(text));
  if (v == "1" || v == "t" || v == "true" || v == "on" || v == "y" || v == "yes") return true;
  if (v == "0" || v == "f" || v == "false" || v == "off" || v == "n" || v == "no") return false;
  return std::nullopt;
}

std::optional<bool> boolean_extra_spec(std::string_view value) {
  const std::string_view v = trim(value);
  if (lower(v.substr(0, 4)) == "<is>") {
    const std::string rest = lower(trim(v.substr(4)));
    if (rest == "true") return true;
    if (rest == "false") return false;
    return std::nullopt;
  }
  return bool_from_string(v);
}

bool spec_is_true(const events::Metadata& specs, std::string_view spec) {
  auto it = specs.find(std::string(spec));
  return it != specs.end() && boolean_extra_spec(it->second).value_or(false);
}

std::optional<std::string> check_extra_specs(const events::Metadata& specs) {
  auto dhss = specs.find(std::string(kDriverHandlesShareServers));
  if (dhss == specs.end()) {
    return fmt::format("Invalid extra_spec: Required extra specs '{}' not specified.",
                       kDriverHandlesShareServers);
  }
  if (!bool_from_string(dhss->second)) {
    return fmt::format("Invalid extra_spec: Value of required extra_spec {} is not valid.",
                       kDriverHandlesShareServers);
  }
  for (auto key : {kSnapshotSupport, kCreateFromSnapshot, kRevertToSnapshot, kMountSnapshot,
                   kMountPointNameSupport, kSnapshotInheritShareAccess}) {
    auto it = specs.find(std::string(key));
    if (it != specs.end() && !boolean_extra_spec(it->second)) {
      return fmt::format("Invalid extra_spec: Invalid boolean extra spec {} : {}.", key,
                         it->second);
    }
  }
  if (auto it = specs.find(std::string(kReplicationType));
      it != specs.end() && !kReplicationTypes.contains(it->second)) {
    return fmt::format("Invalid extra_spec: Value of optional extra_spec {} is not valid.",
                       kReplicationType);
  }
  if (auto it = specs.find(std::string(kEncryptionSupport));
      it != specs.end() && it->second != "share" && it->second != "share_server") {
    return fmt::format("Invalid extra_spec: Value of optional extra_spec {} is not valid.",
                       kEncryptionSupport);
  }
  // A list of names with none empty (share_types.is_valid_csv).
  if (auto it = specs.find(std::string(kAvailabilityZones)); it != specs.end()) {
    for (auto name : split(it->second)) {
      if (trim(name).empty()) {
        return fmt::format("Invalid extra_spec: Value of optional extra_spec {} is not valid.",
                           kAvailabilityZones);
      }
    }
  }
  // Manila checks these with validate_integer(value, 'share_size', min_value=1), whose 400
  // escapes its caller with oslo's own words.
  for (auto key : {kMinShareSize, kMaxShareSize}) {
    auto it = specs.find(std::string(key));
    if (it == specs.end()) continue;
    auto n = python_int(it->second);
    if (!n) return "share_size must be an integer";
    if (*n < 1) return "share_size must be >= 1";
  }
  return std::nullopt;
}

events::Metadata sanitize_extra_specs(events::Metadata specs) {
  if (auto it = specs.find(std::string(kAvailabilityZones)); it != specs.end()) {
    std::string clean;
    for (auto name : split(it->second)) {
      if (name.empty()) continue;
      if (!clean.empty()) clean += ',';
      clean += trim(name);
    }
    it->second = std::move(clean);
  }
  return specs;
}

std::optional<std::int64_t> integer_spec(const events::Metadata& specs, std::string_view spec) {
  auto it = specs.find(std::string(spec));
  if (it == specs.end()) return std::nullopt;
  return python_int(it->second);
}

std::vector<std::string> availability_zones_of(const events::Metadata& specs) {
  std::vector<std::string> zones;
  auto it = specs.find(std::string(kAvailabilityZones));
  if (it == specs.end()) return zones;
  for (auto name : split(it->second)) {
    if (!trim(name).empty()) zones.emplace_back(trim(name));
  }
  return zones;
}

}  // namespace agate::engine
