#pragma once

// The effective rule set of a share, as a pure algebra.
//
// A share's effective rules are the union of its direct rules and the entries of every group
// attached to it. One rule is one (access type, identity) — the identity is the canonical
// network for ip, the access_to itself otherwise (see rule_identity()) — with one level and the
// set of sources granting it. A rule stays while any source remains. A grant that would give a
// rule a second level is a conflict and changes nothing.
//
// The functions on one EffectiveRule are what projections use on their stored rules; RuleSet
// puts them together for a whole share (tests, point-in-time views).

#include <boost/system/result.hpp>
#include <compare>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "events/event.h"

namespace agate::engine {

// Who grants a rule: a direct rule (its id), or a group's entry.
struct RuleSource {
  enum class Kind : std::uint8_t { direct = 0, group = 1 };
  Kind kind = Kind::direct;
  std::string id;        // the rule id (direct) or the group id (group)
  std::string entry_id;  // group only
  friend auto operator<=>(const RuleSource&, const RuleSource&) = default;

  static RuleSource direct(std::string rule_id) { return {Kind::direct, std::move(rule_id), {}}; }
  static RuleSource group(std::string group_id, std::string entry_id) {
    return {Kind::group, std::move(group_id), std::move(entry_id)};
  }
};

// Names a source in words for messages: "access rule <id>", "access group <id> entry <id>".
std::string describe(const RuleSource& source);

// The key of an effective rule within a share.
struct RuleIdentity {
  events::AccessType access_type = events::AccessType::ip;
  std::string identity;
  friend auto operator<=>(const RuleIdentity&, const RuleIdentity&) = default;
};

struct EffectiveRule {
  events::AccessType access_type = events::AccessType::ip;
  std::string access_to;  // the identity: canonical network for ip, as given otherwise
  events::AccessLevel access_level = events::AccessLevel::rw;
  // The share's desired version when this rule (at this level) entered the set.
  std::uint64_t since_version = 0;
  std::vector<RuleSource> sources;  // sorted, unique, never empty in a stored rule
  // The share's desired version when the rule entered the set at any level: since_version
  // unless its level was changed in place (change_level()), which makes since_version later.
  // A back end that has applied entered_version but not since_version holds the old level.
  std::uint64_t entered_version = 0;
  friend bool operator==(const EffectiveRule&, const EffectiveRule&) = default;

  RuleIdentity key() const { return {access_type, access_to}; }
};

// A grant refused because the rule already exists at another level.
struct RuleConflict {
  RuleIdentity rule;
  events::AccessLevel existing_level = events::AccessLevel::rw;
  events::AccessLevel requested_level = events::AccessLevel::rw;
  RuleSource existing_source;  // the first of the existing rule's sources
  friend bool operator==(const RuleConflict&, const RuleConflict&) = default;
};

// Returns the conflict a grant of `level` would make with `existing`, if any.
std::optional<RuleConflict> check_grant(const EffectiveRule* existing, events::AccessLevel level);

// What a grant or a revoke did to the effective set.
enum class SetChange : std::uint8_t {
  none,     // only the sources changed (or nothing at all)
  added,    // a rule entered the set
  removed,  // a rule left the set
  updated,  // a rule in the set took another level
};

// Grants `key` at `level` from `source`. `rule` is the stored rule (nullopt if none) and is
// updated in place; `version` becomes since_version of a new rule. Returns the conflict, and
// changes nothing, if the rule exists at another level.
[[nodiscard]] boost::system::result<SetChange, RuleConflict> grant(std::optional<EffectiveRule>& rule,
                                                                   const RuleIdentity& key,
                                                                   events::AccessLevel level,
                                                                   const RuleSource& source,
                                                                   std::uint64_t version);

// Changes the level at which `source` grants `rule` to `level` (Manila's update_access): the
// rule keeps its sources and entered_version, and since_version becomes `version`. Returns the
// conflict, and changes nothing, if another source grants the rule too (it grants it at the
// current level: the proposal's case 1). A level already held is SetChange::none. `source`
// must be one of the rule's sources.
[[nodiscard]] boost::system::result<SetChange, RuleConflict> change_level(
    std::optional<EffectiveRule>& rule, const RuleSource& source, events::AccessLevel level,
    std::uint64_t version);

// Every source of `rule` other than `source`: those a level change of `source` conflicts with.
std::vector<RuleSource> other_sources(const EffectiveRule& rule, const RuleSource& source);

// Revokes `source`'s grant from `rule` (which becomes nullopt when its last source goes).
// Revoking a source that does not grant the rule changes nothing.
SetChange revoke(std::optional<EffectiveRule>& rule, const RuleSource& source);

// A whole share's effective rules.
class RuleSet {
 public:
  [[nodiscard]] boost::system::result<SetChange, RuleConflict> grant(const RuleIdentity& key,
                                                                     events::AccessLevel level,
                                                                     const RuleSource& source,
                                                                     std::uint64_t version = 0);
  SetChange revoke(const RuleIdentity& key, const RuleSource& source);
  [[nodiscard]] boost::system::result<SetChange, RuleConflict> change_level(
      const RuleIdentity& key, const RuleSource& source, events::AccessLevel level,
      std::uint64_t version = 0);

  const EffectiveRule* find(const RuleIdentity& key) const;
  const std::map<RuleIdentity, EffectiveRule>& rules() const { return rules_; }
  std::size_t size() const { return rules_.size(); }
  friend bool operator==(const RuleSet&, const RuleSet&) = default;

 private:
  std::map<RuleIdentity, EffectiveRule> rules_;
};

}  // namespace agate::engine
