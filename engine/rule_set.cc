#include "engine/rule_set.h"

#include <algorithm>

namespace agate::engine {

std::string describe(const RuleSource& source) {
  if (source.kind == RuleSource::Kind::direct) return "access rule " + source.id;
  return "access group " + source.id + " entry " + source.entry_id;
}

std::optional<RuleConflict> check_grant(const EffectiveRule* existing, events::AccessLevel level) {
  if (!existing || existing->access_level == level) return std::nullopt;
  return RuleConflict{existing->key(), existing->access_level, level,
                      existing->sources.empty() ? RuleSource{} : existing->sources.front()};
}

boost::system::result<SetChange, RuleConflict> grant(std::optional<EffectiveRule>& rule,
                                                     const RuleIdentity& key,
                                                     events::AccessLevel level,
                                                     const RuleSource& source,
                                                     std::uint64_t version) {
  if (!rule) {
    rule = EffectiveRule{key.access_type, key.identity, level, version, {source}, version};
    return SetChange::added;
  }
  if (auto conflict = check_grant(&*rule, level)) return *conflict;
  auto& sources = rule->sources;
  auto at = std::lower_bound(sources.begin(), sources.end(), source);
  if (at == sources.end() || *at != source) sources.insert(at, source);
  return SetChange::none;
}

std::vector<RuleSource> other_sources(const EffectiveRule& rule, const RuleSource& source) {
  std::vector<RuleSource> out;
  for (const auto& s : rule.sources) {
    if (s != source) out.push_back(s);
  }
  return out;
}

boost::system::result<SetChange, RuleConflict> change_level(std::optional<EffectiveRule>& rule,
                                                            const RuleSource& source,
                                                            events::AccessLevel level,
                                                            std::uint64_t version) {
  if (!rule || !std::binary_search(rule->sources.begin(), rule->sources.end(), source)) {
    return SetChange::none;
  }
  if (rule->access_level == level) return SetChange::none;
  if (auto others = other_sources(*rule, source); !others.empty()) {
    return RuleConflict{rule->key(), rule->access_level, level, others.front()};
  }
  rule->access_level = level;
  rule->since_version = version;
  return SetChange::updated;
}

SetChange revoke(std::optional<EffectiveRule>& rule, const RuleSource& source) {
  if (!rule) return SetChange::none;
  auto& sources = rule->sources;
  auto at = std::lower_bound(sources.begin(), sources.end(), source);
  if (at == sources.end() || *at != source) return SetChange::none;
  sources.erase(at);
  if (!sources.empty()) return SetChange::none;
  rule.reset();
  return SetChange::removed;
}

boost::system::result<SetChange, RuleConflict> RuleSet::grant(const RuleIdentity& key,
                                                              events::AccessLevel level,
                                                              const RuleSource& source,
                                                              std::uint64_t version) {
  std::optional<EffectiveRule> rule;
  auto it = rules_.find(key);
  if (it != rules_.end()) rule = it->second;
  auto change = engine::grant(rule, key, level, source, version);
  if (change) rules_.insert_or_assign(key, std::move(*rule));
  return change;
}

SetChange RuleSet::revoke(const RuleIdentity& key, const RuleSource& source) {
  auto it = rules_.find(key);
  if (it == rules_.end()) return SetChange::none;
  std::optional<EffectiveRule> rule = it->second;
  const auto change = engine::revoke(rule, source);
  if (rule) {
    it->second = std::move(*rule);
  } else {
    rules_.erase(it);
  }
  return change;
}

boost::system::result<SetChange, RuleConflict> RuleSet::change_level(const RuleIdentity& key,
                                                                     const RuleSource& source,
                                                                     events::AccessLevel level,
                                                                     std::uint64_t version) {
  auto it = rules_.find(key);
  if (it == rules_.end()) return SetChange::none;
  std::optional<EffectiveRule> rule = it->second;
  auto change = engine::change_level(rule, source, level, version);
  if (change) it->second = std::move(*rule);
  return change;
}

const EffectiveRule* RuleSet::find(const RuleIdentity& key) const {
  auto it = rules_.find(key);
  return it == rules_.end() ? nullptr : &it->second;
}

}  // namespace agate::engine
