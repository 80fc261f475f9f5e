#include "engine/share_type_specs.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
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
  for (auto key : boolean_optional_specs()) {
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
  return std::nullopt;
}

}  // namespace agate::engine
