#include "tools/agate-admin/event_json.h"

#include <utility>

#include "projections/audit.h"

namespace agate::admin {

namespace {

namespace json = boost::json;
using namespace events;

json::object metadata(const Metadata& m) {
  json::object o;
  for (const auto& [k, v] : m) o[k] = v;
  return o;
}

json::object rule_key(const RuleKey& k) {
  return {{"access_type", to_string(k.access_type)}, {"access_to", k.access_to}};
}

json::object body(const ShareTypeCreated& b) {
  return {{"share_type_id", b.share_type_id},
          {"name", b.name},
          {"description", b.description},
          {"is_public", b.is_public},
          {"extra_specs", metadata(b.extra_specs)}};
}
json::object body(const ShareTypeDeleted& b) { return {{"share_type_id", b.share_type_id}}; }
json::object body(const ShareTypeUpdated& b) {
  return {{"share_type_id", b.share_type_id},
          {"name", b.name},
          {"description", b.description},
          {"is_public", b.is_public}};
}
// Who placed a lock is the envelope's project_id and user_id; what and why is here.
json::object body(const ResourceLockCreated& b) {
  return {{"lock_id", b.lock_id},
          {"resource_type", to_string(b.resource_type)},
          {"resource_id", b.resource_id},
          {"resource_action", to_string(b.resource_action)},
          {"lock_context", to_string(b.lock_context)},
          {"lock_reason", b.lock_reason},
          {"share_id", b.share_id}};
}
json::object body(const ResourceLockUpdated& b) {
  return {{"lock_id", b.lock_id},
          {"resource_action", to_string(b.resource_action)},
          {"lock_reason", b.lock_reason},
          {"share_id", b.share_id}};
}
json::object body(const ResourceLockDeleted& b) {
  return {{"lock_id", b.lock_id}, {"share_id", b.share_id}};
}
json::object body(const ShareCreated& b) {
  json::array instances;
  for (const auto& in : b.instances) {
    json::array exports;
    for (const auto& x : in.export_locations) exports.push_back(json::string(x));
    instances.push_back({{"instance_id", in.instance_id},
                         {"host", in.host},
                         {"status", in.status},
                         {"export_locations", std::move(exports)}});
  }
  return {{"share_id", b.share_id},
          {"name", b.name},
          {"description", b.description},
          {"share_proto", b.share_proto},
          {"size_gib", b.size_gib},
          {"share_type_id", b.share_type_id},
          {"is_public", b.is_public},
          {"status", b.status},
          {"availability_zone", b.availability_zone},
          {"metadata", metadata(b.metadata)},
          {"instances", std::move(instances)},
          {"mount_point_name", b.mount_point_name},
          {"snapshot_inherit_share_access_support", b.snapshot_inherit_share_access_support}};
}
json::object body(const ShareStatusChanged& b) {
  json::array instances;
  for (const auto& in : b.instances) {
    instances.push_back({{"instance_id", in.instance_id}, {"status", in.status}});
  }
  return {{"share_id", b.share_id}, {"status", b.status}, {"instances", std::move(instances)}};
}
json::object body(const ShareDeleted& b) { return {{"share_id", b.share_id}}; }
json::object body(const ShareSoftDeleted& b) {
  return {{"share_id", b.share_id},
          {"scheduled_to_be_deleted_at",
           projections::audit::format_time(b.scheduled_to_be_deleted_at_micros)}};
}
json::object body(const ShareRestored& b) { return {{"share_id", b.share_id}}; }
json::object body(const RuleLevelUpdated& b) {
  return {{"share_id", b.share_id},
          {"rule_id", b.rule_id},
          {"access_level", to_string(b.access_level)}};
}
json::object body(const EntryLevelUpdated& b) {
  return {{"group_id", b.group_id},
          {"entry_id", b.entry_id},
          {"access_level", to_string(b.access_level)}};
}
json::object body(const AccessGroupCreated& b) {
  return {{"group_id", b.group_id},
          {"name", b.name},
          {"description", b.description},
          {"access_type", to_string(b.access_type)}};
}
json::object body(const AccessGroupUpdated& b) {
  return {{"group_id", b.group_id}, {"name", b.name}, {"description", b.description}};
}
json::object body(const AccessGroupDeleted& b) { return {{"group_id", b.group_id}}; }
json::object body(const EntryAdded& b) {
  return {{"group_id", b.group_id},
          {"entry_id", b.entry_id},
          {"access_to", b.access_to},
          {"access_level", to_string(b.access_level)}};
}
json::object body(const EntryRemoved& b) {
  return {{"group_id", b.group_id}, {"entry_id", b.entry_id}};
}
json::object body(const RuleAllowed& b) {
  return {{"share_id", b.share_id},
          {"rule_id", b.rule_id},
          {"access_type", to_string(b.access_type)},
          {"access_to", b.access_to},
          {"access_level", to_string(b.access_level)},
          {"metadata", metadata(b.metadata)}};
}
json::object body(const RuleDenied& b) {
  return {{"share_id", b.share_id}, {"rule_id", b.rule_id}};
}
json::object body(const RuleMetadataSet& b) {
  return {{"share_id", b.share_id}, {"rule_id", b.rule_id}, {"metadata", metadata(b.metadata)}};
}
json::object body(const RuleMetadataUnset& b) {
  json::array keys;
  for (const auto& k : b.keys) keys.push_back(json::string(k));
  return {{"share_id", b.share_id}, {"rule_id", b.rule_id}, {"keys", std::move(keys)}};
}
json::object body(const GroupAttached& b) {
  return {{"share_id", b.share_id}, {"group_id", b.group_id}, {"mapping_id", b.mapping_id}};
}
json::object body(const GroupDetached& b) {
  return {{"share_id", b.share_id}, {"group_id", b.group_id}, {"mapping_id", b.mapping_id}};
}
json::object body(const AccessSyncRequested& b) { return {{"share_id", b.share_id}}; }
json::object body(const DriverOutcome& b) {
  json::array failures, keys, added, removed;
  for (const auto& f : b.failures) {
    auto o = rule_key(f.rule);
    o["message"] = f.message;
    failures.push_back(std::move(o));
  }
  for (const auto& k : b.access_keys) {
    auto o = rule_key(k.rule);
    o["access_key"] = k.access_key;
    keys.push_back(std::move(o));
  }
  for (const auto& a : b.added) {
    auto o = rule_key(a.rule);
    o["access_level"] = to_string(a.level);
    added.push_back(std::move(o));
  }
  for (const auto& r : b.removed) removed.push_back(rule_key(r));
  return {{"share_id", b.share_id},
          {"instance_id", b.instance_id},
          {"applied_version", b.applied_version},
          {"call_succeeded", b.call_succeeded},
          {"message", b.message},
          {"failures", std::move(failures)},
          {"access_keys", std::move(keys)},
          {"added", std::move(added)},
          {"removed", std::move(removed)},
          {"full_sync", b.full_sync}};
}

}  // namespace

json::object event_json(const Event& e) {
  return {{"seq", e.seq.value},
          {"time", projections::audit::format_time(e.time_micros)},
          {"kind", kind_name(e.body)},
          {"project_id", e.project_id},
          {"user_id", e.user_id},
          {"request_id", e.request_id},
          {"body", std::visit([](const auto& b) { return body(b); }, e.body)}};
}

std::string_view share_of(const Body& body) {
  return std::visit(
      [](const auto& b) -> std::string_view {
        if constexpr (requires { b.share_id; }) {
          return b.share_id;
        } else {
          return {};
        }
      },
      body);
}

std::string_view group_of(const Body& body) {
  return std::visit(
      [](const auto& b) -> std::string_view {
        if constexpr (requires { b.group_id; }) {
          return b.group_id;
        } else {
          return {};
        }
      },
      body);
}

const std::vector<std::string>& kind_names() {
  static const std::vector<std::string> names = []<std::size_t... I>(std::index_sequence<I...>) {
    return std::vector<std::string>{std::string(kind_name(Body(std::in_place_index<I>)))...};
  }
  (std::make_index_sequence<std::variant_size_v<Body>>());
  return names;
}

}  // namespace agate::admin
