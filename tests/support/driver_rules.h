#pragma once

// Helpers shared by the file-writing drivers' tests: rules, requests, readable descriptions.

#include <fmt/format.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "drivers/driver.h"

namespace agate::testing {

using DriverRules = std::map<events::RuleKey, events::AccessLevel>;

inline drivers::AccessRule ip(std::string network,
                              events::AccessLevel level = events::AccessLevel::rw) {
  return {{events::AccessType::ip, std::move(network)}, level};
}

inline drivers::AccessRule user(std::string name,
                                events::AccessLevel level = events::AccessLevel::rw) {
  return {{events::AccessType::user, std::move(name)}, level};
}

// Rules as text, for readable comparisons: "ip:10.0.0.0/24=rw user:alice=ro".
inline std::string describe(const DriverRules& rules) {
  std::string out;
  for (const auto& [key, level] : rules) {
    out += fmt::format("{}{}:{}={}", out.empty() ? "" : " ", events::to_string(key.access_type),
                       key.access_to, events::to_string(level));
  }
  return out;
}

inline std::string describe(const std::set<events::RuleKey>& keys) {
  DriverRules rules;
  for (const auto& k : keys) rules[k] = events::AccessLevel::rw;
  return describe(rules);
}

inline std::string describe(const std::map<std::string, DriverRules>& instances) {
  std::string out;
  for (const auto& [instance, rules] : instances) out += instance + ": " + describe(rules) + "\n";
  return out;
}

// A request for `instance` of `share` on back end `host`, every rule to be on it.
inline drivers::UpdateRequest request_for(const std::string& host, const std::string& proto,
                                          const std::string& export_path,
                                          const std::string& instance, const std::string& share,
                                          std::vector<drivers::AccessRule> rules) {
  drivers::UpdateRequest r;
  r.instance = {instance, share, host, proto, export_path};
  r.access_rules = std::move(rules);
  return r;
}

inline std::string read_text(const std::filesystem::path& file) {
  std::ifstream in(file);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace agate::testing
