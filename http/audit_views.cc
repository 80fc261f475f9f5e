#include "http/audit_views.h"

namespace agate::http {

namespace audit = projections::audit;

namespace {

boost::json::value optional_cause(const std::optional<audit::Cause>& c) {
  if (!c) return nullptr;
  return cause_view(*c);
}

boost::json::object rule_view(const engine::RuleIdentity& rule, events::AccessLevel level) {
  return {{"access_type", events::to_string(rule.access_type)},
          {"access_to", rule.identity},
          {"access_level", events::to_string(level)}};
}

boost::json::array sources_view(const std::vector<engine::RuleSource>& sources) {
  boost::json::array out;
  for (const auto& s : sources) out.push_back(source_view(s));
  return out;
}

boost::json::object outcome_view(const audit::DriverReport& r) {
  boost::json::array failures;
  for (const auto& f : r.failures) {
    failures.push_back({{"access_type", events::to_string(f.rule.access_type)},
                        {"access_to", f.rule.access_to},
                        {"message", f.message}});
  }
  return {{"seq", r.cause.seq.value},           {"time", audit::format_time(r.cause.time_micros)},
          {"instance_id", r.instance_id},       {"applied_version", r.applied_version},
          {"call_succeeded", r.call_succeeded}, {"message", r.message},
          {"failures", std::move(failures)}};
}

}  // namespace

boost::json::object cause_view(const audit::Cause& c) {
  return {{"seq", c.seq.value},   {"time", audit::format_time(c.time_micros)},
          {"kind", c.kind},       {"project_id", c.project_id},
          {"user_id", c.user_id}, {"request_id", c.request_id}};
}

boost::json::object source_view(const engine::RuleSource& s, const std::string* mapping_id) {
  if (s.kind == engine::RuleSource::Kind::direct) return {{"type", "rule"}, {"rule_id", s.id}};
  boost::json::object o{
      {"type", "access_group"}, {"access_group_id", s.id}, {"entry_id", s.entry_id}};
  if (mapping_id) o["mapping_id"] = *mapping_id;
  return o;
}

boost::json::object access_at_view(const audit::ShareAccessAt& a) {
  boost::json::array rules;
  for (const auto& rule : a.rules) {
    boost::json::array sources;
    for (const auto& s : rule.sources) {
      auto it = a.mappings.find(s.id);
      sources.push_back(source_view(
          s, s.kind == engine::RuleSource::Kind::group && it != a.mappings.end() ? &it->second
                                                                                 : nullptr));
    }
    auto o = rule_view(rule.key(), rule.access_level);
    o["since_version"] = rule.since_version;
    o["sources"] = std::move(sources);
    rules.push_back(std::move(o));
  }
  boost::json::value as_of_time = nullptr;
  if (a.as_of_seq.value != 0) as_of_time = audit::format_time(a.as_of_time);
  return {{"effective_access",
           {{"share_id", a.share_id},
            {"project_id", a.project_id},
            {"name", a.name},
            {"existed", a.existed},
            {"as_of", {{"seq", a.as_of_seq.value}, {"time", as_of_time}}},
            {"created", optional_cause(a.created)},
            {"deleted", optional_cause(a.deleted)},
            {"desired_version", a.desired_version},
            {"rules", std::move(rules)}}}};
}

boost::json::object access_history_view(const audit::AccessHistory& h) {
  boost::json::array changes;
  for (const auto& c : h.changes) {
    boost::json::array added, removed, outcomes;
    for (const auto& d : c.deltas) {
      auto o = rule_view(d.rule, d.level);
      o["sources"] = sources_view(d.sources);
      (d.added ? added : removed).push_back(std::move(o));
    }
    for (const auto& r : c.outcomes) outcomes.push_back(outcome_view(r));
    changes.push_back({{"cause", cause_view(c.cause)},
                       {"version", c.version},
                       {"added", std::move(added)},
                       {"removed", std::move(removed)},
                       {"rules_after", c.rules_after},
                       {"driver_outcomes", std::move(outcomes)}});
  }
  boost::json::array others;
  for (const auto& r : h.other_outcomes) others.push_back(outcome_view(r));
  boost::json::array locks;
  for (const auto& l : h.locks) {
    boost::json::object o{{"cause", cause_view(l.cause)}, {"lock_id", l.lock_id},
                          {"change", l.change}};
    if (l.resource_type) o["resource_type"] = events::to_string(*l.resource_type);
    if (!l.resource_id.empty()) o["resource_id"] = l.resource_id;
    if (l.resource_action) o["resource_action"] = events::to_string(*l.resource_action);
    if (l.lock_context) o["lock_context"] = events::to_string(*l.lock_context);
    if (l.lock_reason) o["lock_reason"] = *l.lock_reason;
    locks.push_back(std::move(o));
  }
  return {{"access_history",
           {{"share_id", h.share_id},
            {"project_id", h.project_id},
            {"name", h.name},
            {"created", optional_cause(h.created)},
            {"deleted", optional_cause(h.deleted)},
            {"changes", std::move(changes)},
            {"other_driver_outcomes", std::move(others)},
            {"locks", std::move(locks)}}}};
}

boost::json::object who_had_access_view(const audit::WhoQuery& q,
                                        const std::vector<audit::AccessInterval>& intervals) {
  boost::json::array out;
  for (const auto& in : intervals) {
    auto o = rule_view(in.rule, in.level);
    o["share_id"] = in.share_id;
    o["project_id"] = in.project_id;
    o["share_name"] = in.share_name;
    o["granted"] = cause_view(in.granted);
    o["revoked"] = optional_cause(in.revoked);
    o["sources"] = sources_view(in.sources);
    out.push_back(std::move(o));
  }
  boost::json::value type = nullptr, share = nullptr;
  if (q.access_type) type = events::to_string(*q.access_type);
  if (q.share_id) share = *q.share_id;
  return {{"who_had_access",
           {{"access_to", q.access_to},
            {"access_type", type},
            {"share_id", share},
            {"containing", q.containing},
            {"from", audit::format_time(q.from_micros)},
            {"to", audit::format_time(q.to_micros)},
            {"intervals", std::move(out)}}}};
}

}  // namespace agate::http
