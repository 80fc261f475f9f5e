// Shares and share types, in Manila's wire format (docs/api/shares.md).
//
//   POST   /v2/{project_id}/types                          create a share type (admin)
//   GET    /v2/{project_id}/types[?is_public=&extra_specs=] list share types
//   GET    /v2/{project_id}/types/default                  the type named "default"
//   GET    /v2/{project_id}/types/{id}                     show a share type
//   PUT    /v2/{project_id}/types/{id}                     update a share type (admin, >= 2.50)
//   DELETE /v2/{project_id}/types/{id}                     delete a share type (admin)
//   POST   /v2/{project_id}/shares                         create a share
//   GET    /v2/{project_id}/shares[/detail][?filters]      list shares (summaries / details);
//                                                          the recycle bin's only with
//                                                          is_soft_deleted=true (>= 2.69)
//   GET    /v2/{project_id}/shares/{id}                    show a share
//   DELETE /v2/{project_id}/shares/{id}                    delete a share
//   GET    /v2/{project_id}/shares/{id}/export_locations[/{el_id}]      (>= 2.9)
//   GET    /v2/{project_id}/share-replicas[/detail][?share_id=]          (>= 2.11; always empty)
//
// POST /v2/shares/{id}/action lives in routes_access.cc (soft_delete and restore too).
//
// Views follow manila/api/views/shares.py, types.py and export_locations.py by microversion.
// Another project's share, and a private share type seen by a non-admin, are "not found".

#include <fmt/format.h>

#include <algorithm>
#include <boost/uuid/name_generator_sha1.hpp>
#include <boost/uuid/string_generator.hpp>
#include <boost/uuid/uuid_io.hpp>
#include <cctype>
#include <charconv>
#include <compare>
#include <map>
#include <set>

#include "engine/share_type_specs.h"
#include "http/api.h"
#include "http/json_body.h"
#include "http/views.h"

namespace agate::http {

namespace {

using engine::ApiVersion;
using engine::ShareRow;
using engine::ShareTypeRow;
namespace json = boost::json;

using engine::bool_from_string;
using engine::boolean_extra_spec;
using engine::kCreateFromSnapshot;
using engine::kMountSnapshot;
using engine::kReplicationType;
using engine::kRevertToSnapshot;
using engine::kSnapshotSupport;
constexpr std::string_view kDhss = engine::kDriverHandlesShareServers;

// Extra specs a non-admin may see (constants.ExtraSpecs.TENANT_VISIBLE = REQUIRED + OPTIONAL).
// share_backend_name and every driver-specific spec stay hidden.
const std::set<std::string, std::less<>> kTenantVisibleSpecs = {
    "driver_handles_share_servers",  "snapshot_support",
    "create_share_from_snapshot_support", "revert_to_snapshot_support",
    "replication_type",              "mount_snapshot_support",
    "mount_point_name_support",      "snapshot_inherit_share_access_support",
    "availability_zones",            "encryption_support",
    "provisioning:max_share_size",   "provisioning:min_share_size",
    "provisioning:max_share_extend_size", "provisioning:mount_point_prefix",
    "default_qos_type"};


constexpr std::string_view kUnrecognisedBoolean =
    "acceptable values are: '0', '1', 'f', 'false', 'n', 'no', 'off', 'on', 't', 'true', 'y', "
    "'yes'";

bool at_least(const ApiRequest& req, int minor) { return !(req.version() < ApiVersion{2, minor}); }

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}


// A share's capability as its type states it; false when the type does not say (Manila's
// INFERRED_OPTIONAL_MAP) or says something that is not a boolean.
bool type_says(const ShareTypeRow* type, std::string_view spec) {
  if (!type) return false;
  auto it = type->extra_specs.find(std::string(spec));
  return it != type->extra_specs.end() && boolean_extra_spec(it->second).value_or(false);
}

json::value nullable(const std::string& s) {
  if (s.empty()) return nullptr;
  return json::value(s);
}

std::string json_kind(const json::value& v) {
  switch (v.kind()) {
    case json::kind::null: return "null";
    case json::kind::bool_: return "a boolean";
    case json::kind::int64:
    case json::kind::uint64:
    case json::kind::double_: return "a number";
    case json::kind::string: return "a string";
    case json::kind::array: return "an array";
    case json::kind::object: return "an object";
  }
  return "a value";
}

// A boolean query parameter, read as Manila reads it (bool_from_string, strict). Returns the 400
// message if the value is not a boolean; nullopt if absent.
boost::system::result<std::optional<bool>, std::string> query_bool(const ApiRequest& req,
                                                                   std::string_view key) {
  auto v = req.query_value(key);
  if (!v) return std::optional<bool>();
  if (auto b = bool_from_string(*v)) return std::optional<bool>(*b);
  return fmt::format("Invalid input received: Unrecognized value '{}', {}.", *v,
                     kUnrecognisedBoolean);
}

// Python's int() of a query parameter: optional whitespace and sign, decimal digits.

// Parses the filters manilaclient sends as str(dict), e.g. "{'k': 'v', 'dhss': False}": a flat
// dict literal whose keys are quoted strings and whose values are quoted strings, True, False,
// None or integers. Values come back as Python's str() renders them. nullopt if malformed.
std::optional<events::Metadata> parse_dict_literal(std::string_view text) {
  std::size_t i = 0;
  auto skip = [&] {
    while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i]))) ++i;
  };
  auto quoted = [&]() -> std::optional<std::string> {
    if (i >= text.size() || (text[i] != '\'' && text[i] != '"')) return std::nullopt;
    const char quote = text[i++];
    std::string out;
    while (i < text.size() && text[i] != quote) {
      if (text[i] == '\\' && i + 1 < text.size()) ++i;
      out += text[i++];
    }
    if (i >= text.size()) return std::nullopt;
    ++i;
    return out;
  };
  auto scalar = [&]() -> std::optional<std::string> {
    if (auto s = quoted()) return s;
    const std::size_t start = i;
    while (i < text.size() && (std::isalnum(static_cast<unsigned char>(text[i])) ||
                               text[i] == '-' || text[i] == '+')) {
      ++i;
    }
    const std::string_view word = text.substr(start, i - start);
    if (word == "True" || word == "False" || word == "None") return std::string(word);
    if (auto n = parse_query_int(word)) return std::to_string(*n);
    return std::nullopt;
  };
  events::Metadata out;
  skip();
  if (i >= text.size() || text[i++] != '{') return std::nullopt;
  skip();
  while (i < text.size() && text[i] != '}') {
    auto key = quoted();
    skip();
    if (!key || i >= text.size() || text[i++] != ':') return std::nullopt;
    skip();
    auto value = scalar();
    if (!value) return std::nullopt;
    out.insert_or_assign(std::move(*key), std::move(*value));
    skip();
    if (i < text.size() && text[i] == ',') {
      ++i;
      skip();
    } else if (i >= text.size() || text[i] != '}') {
      return std::nullopt;
    }
  }
  if (i >= text.size()) return std::nullopt;
  ++i;
  skip();
  if (i != text.size()) return std::nullopt;
  return out;
}

// Whether `specs` holds every pair of `wanted`. A non-admin matches only on specs it may see, so
// that the filter cannot probe hidden ones such as share_backend_name.
bool specs_match(const events::Metadata& specs, const events::Metadata& wanted, bool admin) {
  for (const auto& [k, v] : wanted) {
    if (!admin && !kTenantVisibleSpecs.contains(k)) return false;
    auto it = specs.find(k);
    if (it == specs.end() || it->second != v) return false;
  }
  return true;
}

std::string share_not_found(std::string_view id) {
  return fmt::format("Share {} could not be found.", id);
}

std::string type_not_found(std::string_view id) {
  return fmt::format("Share type {} could not be found.", id);
}

// ---- share types ----------------------------------------------------------------------------

// Manila's view (views/types.py): extra specs trimmed to the tenant-visible ones for non-admins,
// required_extra_specs, the is_public key of the version, inferred defaults (>= 2.24, non-admin)
// and description (>= 2.41).
json::object type_view(const ApiRequest& req, const ShareTypeRow& t) {
  const bool admin = req.context.is_admin;
  json::object specs;
  for (const auto& [k, v] : t.extra_specs) {
    if (admin || kTenantVisibleSpecs.contains(k)) specs[k] = v;
  }
  json::object required;
  if (auto it = t.extra_specs.find(std::string(kDhss));
      it != t.extra_specs.end() && bool_from_string(it->second)) {
    required[kDhss] = it->second;
  }
  if (!admin && at_least(req, 24)) {
    for (auto key : engine::boolean_optional_specs()) {
      if (!specs.contains(key)) specs[key] = false;
    }
  }
  // Inferred for non-admins from 2.99 only (Manila defers it from the ones above).
  if (!admin && at_least(req, 99) && !specs.contains(engine::kSnapshotInheritShareAccess)) {
    specs[engine::kSnapshotInheritShareAccess] = false;
  }
  json::object o{{"id", t.id},
                 {"name", t.name},
                 {"extra_specs", std::move(specs)},
                 {"required_extra_specs", std::move(required)}};
  if (at_least(req, 7)) {
    o["share_type_access:is_public"] = t.is_public;
  } else {
    o["os-share-type-access:is_public"] = t.is_public;
  }
  if (at_least(req, 41)) o["description"] = nullable(t.description);
  // Manila's default type is the one configuration names; Agate's is the one named "default".
  if (at_least(req, 46)) o["is_default"] = t.name == engine::kDefaultShareType;
  return o;
}

// Manila answers a single type under both "share_type" and "volume_type".
json::object type_body(const ApiRequest& req, const ShareTypeRow& t) {
  auto view = type_view(req, t);
  return {{"share_type", view}, {"volume_type", view}};
}

std::optional<ShareTypeRow> visible_type(Services& s, const ApiRequest& req, const lmdb::Txn& txn,
                                         std::string_view id) {
  auto type = s.store.state(txn)->share_type(id);
  if (!type || (!type->is_public && !req.context.is_admin)) return std::nullopt;
  return type;
}

// Reads "extra_specs": values may be strings, booleans or integers (manilaclient sends
// driver_handles_share_servers as a JSON boolean); Manila stores str(value).
std::optional<events::Metadata> read_extra_specs(const json::object& o, const std::string& where,
                                                 ObjectReader& r) {
  r.ignore("extra_specs");
  events::Metadata specs;
  const auto* v = o.if_contains("extra_specs");
  if (!v || v->is_null()) return specs;
  if (!v->is_object()) {
    r.fail(fmt::format("'extra_specs' in '{}' must be an object, not {}.", where, json_kind(*v)));
    return std::nullopt;
  }
  for (const auto& member : v->as_object()) {
    const auto& value = member.value();
    std::string text;
    if (value.is_string()) {
      text = std::string(value.as_string());
    } else if (value.is_bool()) {
      text = value.as_bool() ? "True" : "False";
    } else if (value.is_int64()) {
      text = std::to_string(value.as_int64());
    } else if (value.is_uint64()) {
      text = std::to_string(value.as_uint64());
    } else {
      r.fail(fmt::format(
          "'extra_specs' in '{}' must map names to strings, booleans or integers; '{}' is {}.",
          where, std::string_view(member.key()), json_kind(value)));
      return std::nullopt;
    }
    specs.insert_or_assign(std::string(member.key()), std::move(text));
  }
  return specs;
}

void create_type(Services& s, const ApiRequest& req, Respond respond) {
  // Manila authorizes before it reads the body.
  if (!req.context.is_admin) {
    return respond(
        error_response(req, 403, "Policy doesn't allow share_type:create to be performed."));
  }
  auto body = parse_object(req.raw.body());
  if (!body) return respond(error_response(req, 400, body.error()));
  // Manila also takes the body under its Cinder-era name.
  const std::string key =
      !body->contains("share_type") && body->contains("volume_type") ? "volume_type" : "share_type";
  auto member = only_member(*body, key);
  if (!member) return respond(error_response(req, 400, member.error()));
  ObjectReader r(**member, key);
  engine::CreateShareType c;
  c.name = r.required_string("name");
  auto description = r.string("description");
  if (description && !description->empty() && !at_least(req, 41)) {
    r.fail(
        "'description' key is not supported by this microversion. Use 2.41 or greater "
        "microversion to be able to use 'description' in share type.");
  }
  c.description = description.value_or("");
  // The extension-style key wins when both are sent, as in Manila.
  auto legacy_public = r.boolean("os-share-type-access:is_public");
  auto is_public = r.boolean("share_type_access:is_public");
  c.is_public = legacy_public ? *legacy_public : is_public.value_or(true);
  auto specs = read_extra_specs(**member, key, r);
  if (auto e = r.finish()) return respond(error_response(req, 400, *e));
  c.extra_specs = std::move(*specs);
  // Before 2.24 snapshot_support was implied (Manila's set_defaults).
  if (!at_least(req, 24)) c.extra_specs.try_emplace(std::string(kSnapshotSupport), "True");

  submit(
      s, req, std::move(c),
      [&s, req](const std::vector<events::Event>& events) {
        std::string id;
        for (const auto& e : events) {
          if (auto* b = std::get_if<events::ShareTypeCreated>(&e.body)) id = b->share_type_id;
        }
        auto txn = begin_read(s, req);
        auto type = s.store.state(txn)->share_type(id);
        if (!type) return error_response(req, 404, type_not_found(id));
        return json_response(req, 200, type_body(req, *type));
      },
      std::move(respond));
}

void list_types(Services& s, const ApiRequest& req, Respond respond) {
  // Public types only, unless an admin asks otherwise: is_public=false lists the private ones,
  // is_public=all (or None) both.
  bool by_visibility = true, want_public = true;
  if (auto p = req.query_value("is_public"); p && req.context.is_admin) {
    if (lower(*p) == "all" || *p == "None") {
      by_visibility = false;
    } else if (auto b = bool_from_string(*p)) {
      want_public = *b;
    } else {
      return respond(error_response(req, 400, fmt::format("Invalid is_public filter [{}]", *p)));
    }
  }
  std::optional<events::Metadata> wanted_specs;
  if (auto f = req.query_value("extra_specs"); f && !f->empty()) {
    if (!at_least(req, 43)) {
      return respond(error_response(
          req, 400,
          "Filter by 'extra_specs' is not supported by this microversion. Use 2.43 or greater "
          "microversion to be able to use filter search by 'extra_specs'."));
    }
    wanted_specs = parse_dict_literal(*f);
    if (!wanted_specs) {
      return respond(error_response(
          req, 400, "Malformed 'extra_specs' filter: a dict such as {'key': 'value'} is expected."));
    }
  }
  auto txn = begin_read(s, req);
  auto types = s.store.list_share_types(txn);
  std::stable_sort(types.begin(), types.end(),
                   [](const auto& a, const auto& b) { return a.name < b.name; });
  json::array out;
  for (const auto& t : types) {
    if (!req.context.is_admin && !t.is_public) continue;
    if (by_visibility && t.is_public != want_public) continue;
    if (wanted_specs && !specs_match(t.extra_specs, *wanted_specs, req.context.is_admin)) continue;
    out.push_back(type_view(req, t));
  }
  respond(json_response(req, 200, {{"share_types", out}, {"volume_types", out}}));
}

void show_type(Services& s, const ApiRequest& req, Respond respond) {
  auto txn = begin_read(s, req);
  auto type = visible_type(s, req, txn, req.params[0]);
  if (!type) return respond(error_response(req, 404, type_not_found(req.params[0])));
  respond(json_response(req, 200, type_body(req, *type)));
}

// Manila's default type comes from configuration (default_share_type) and is read with an
// admin context; Agate's is the type named "default".
void show_default_type(Services& s, const ApiRequest& req, Respond respond) {
  auto txn = begin_read(s, req);
  auto type = s.store.state(txn)->share_type_by_name(engine::kDefaultShareType);
  if (!type) return respond(error_response(req, 404, "Default share type not found"));
  respond(json_response(req, 200, type_body(req, *type)));
}

// PUT /types/{id} (2.50): name, description and share_type_access:is_public, each optional.
void update_type(Services& s, const ApiRequest& req, Respond respond) {
  // Manila authorizes before it reads the body.
  if (!req.context.is_admin) {
    return respond(
        error_response(req, 403, "Policy doesn't allow share_type:update to be performed."));
  }
  auto body = parse_object(req.raw.body());
  if (!body) return respond(error_response(req, 400, body.error()));
  const std::string key =
      !body->contains("share_type") && body->contains("volume_type") ? "volume_type" : "share_type";
  const auto* member = body->if_contains(key);
  // Manila answers a body without the object with webob's bare 400.
  if (!member || !member->is_object()) return respond(error_response(req, 400, kCouldNotComply));
  ObjectReader r(member->as_object(), key);
  engine::UpdateShareType c;
  c.share_type_id = req.params[0];
  c.name = r.string("name");
  c.description = r.string("description");
  if (const auto* p = member->as_object().if_contains("share_type_access:is_public");
      p && !p->is_null()) {
    r.ignore("share_type_access:is_public");
    std::optional<bool> value;
    if (p->is_bool()) value = p->as_bool();
    if (p->is_string()) value = bool_from_string(p->as_string());
    if (!value) r.fail("share_type_access:is_public has a non-boolean value.");
    c.is_public = value;
  } else {
    r.ignore("share_type_access:is_public");
  }
  if (auto e = r.finish()) return respond(error_response(req, 400, *e));
  submit(
      s, req, std::move(c),
      [&s, req](const std::vector<events::Event>&) {
        auto txn = begin_read(s, req);
        auto type = s.store.state(txn)->share_type(req.params[0]);
        if (!type) return error_response(req, 404, type_not_found(req.params[0]));
        return json_response(req, 200, type_body(req, *type));
      },
      std::move(respond));
}

void delete_type(Services& s, const ApiRequest& req, Respond respond) {
  submit(s, req, engine::DeleteShareType{req.params[0]},
         [req](const auto&) { return empty_response(req, 202); }, std::move(respond));
}

// ---- shares ---------------------------------------------------------------------------------

std::optional<ShareRow> visible_share(Services& s, const ApiRequest& req, const lmdb::Txn& txn,
                                      std::string_view id) {
  auto share = s.store.share(txn, id);
  if (!share || (!req.context.is_admin && share->project_id != req.context.project_id)) {
    return std::nullopt;
  }
  return share;
}

// Export locations have no id of their own in Agate: each gets a name-based UUID (v5) of its
// instance and path, stable for as long as both are.
std::string export_location_id(const engine::InstanceRow& in, std::string_view path) {
  static const boost::uuids::uuid kNamespace =
      boost::uuids::string_generator()("5d0b6f0e-9a3c-4f57-8e43-6a3c1f0b2d71");
  boost::uuids::name_generator_sha1 generate(kNamespace);
  return boost::uuids::to_string(generate(in.id + "\n" + std::string(path)));
}

// views/export_locations.py: id, path, preferred (>= 2.14); share_instance_id and is_admin_only
// for admins; created_at and updated_at in the single (detail) view.
json::object export_location_view(const ApiRequest& req, const engine::InstanceRow& in,
                                   std::size_t index, bool detail) {
  const auto& path = in.export_locations[index];
  json::object o{{"id", export_location_id(in, path)}, {"path", path}};
  if (at_least(req, 14)) o["preferred"] = index == 0;
  // Export location metadata (2.87) holds no key but "preferred", which is shown on its own.
  if (at_least(req, 87)) o["metadata"] = json::object{};
  if (req.context.is_admin) {
    o["share_instance_id"] = in.id;
    o["is_admin_only"] = false;
  }
  if (detail) {
    o["created_at"] = time_value(in.created_at);
    o["updated_at"] = time_value(in.updated_at);
  }
  return o;
}

// Builds share views for one request within one read transaction.
class ShareViews {
 public:
  ShareViews(Services& s, const ApiRequest& req, const lmdb::Txn& txn)
      : s_(s), req_(req), txn_(txn) {
    base_ = host_url(req.raw);
  }

  // The share's type, if it still exists.
  const ShareTypeRow* type(const std::string& id) {
    if (!types_loaded_) {
      for (auto& t : s_.store.list_share_types(txn_)) types_.emplace(t.id, std::move(t));
      types_loaded_ = true;
    }
    auto it = types_.find(id);
    return it == types_.end() ? nullptr : &it->second;
  }

  std::vector<engine::InstanceRow> instances(const ShareRow& share) const {
    return s_.store.instances(txn_, share);
  }

  // Manila's links: self under /v2, bookmark without the version; both name the caller's project.
  json::array links(const std::string& id) const {
    const auto& project = req_.context.project_id;
    return {json::object{{"rel", "self"},
                         {"href", fmt::format("{}/v2/{}/shares/{}", base_, project, id)}},
            json::object{{"rel", "bookmark"},
                         {"href", fmt::format("{}/{}/shares/{}", base_, project, id)}}};
  }

  json::object summary(const ShareRow& share) const {
    return {{"id", share.id}, {"name", nullable(share.name)}, {"links", links(share.id)}};
  }

  json::object detail(const ShareRow& share) {
    const ShareTypeRow* t = type(share.share_type_id);
    const auto insts = instances(share);
    json::object metadata;
    for (const auto& [k, v] : share.metadata) metadata[k] = v;
    // Before 2.6 "share_type" is the type's name; volume_type stays the name at every version.
    const json::value type_name = t ? json::value(t->name) : json::value(share.share_type_id);
    json::object o{{"id", share.id},
                   {"size", static_cast<std::int64_t>(share.size_gib)},
                   {"availability_zone", nullable(share.availability_zone)},
                   {"created_at", time_value(share.created_at)},
                   {"status", share.status},
                   {"name", nullable(share.name)},
                   {"description", nullable(share.description)},
                   {"project_id", share.project_id},
                   {"snapshot_id", nullptr},
                   {"share_network_id", nullptr},
                   {"share_proto", share.share_proto},
                   {"metadata", std::move(metadata)},
                   {"share_type", type_name},
                   {"volume_type", type_name},
                   {"links", links(share.id)},
                   {"is_public", share.is_public}};
    if (!at_least(req_, 9)) {
      json::array paths;
      for (const auto& in : insts) {
        for (const auto& p : in.export_locations) paths.push_back(json::value(p));
      }
      o["export_location"] = paths.empty() ? json::value(nullptr) : paths.front();
      o["export_locations"] = std::move(paths);
    }
    if (at_least(req_, 2)) o["snapshot_support"] = type_says(t, kSnapshotSupport);
    if (at_least(req_, 5)) o["task_state"] = nullptr;
    if (at_least(req_, 6)) {
      o["share_type"] = share.share_type_id;
      o["share_type_name"] = t ? json::value(t->name) : json::value(nullptr);
    }
    if (at_least(req_, 10)) {
      std::string status = s_.store.share_access_rules_status(txn_, share);
      if (!at_least(req_, 28) && status == "syncing") status = "out_of_sync";
      o["access_rules_status"] = status;
    }
    if (at_least(req_, 11)) {
      json::value replication = nullptr;
      if (t) {
        if (auto it = t->extra_specs.find(std::string(kReplicationType));
            it != t->extra_specs.end()) {
          replication = json::value(it->second);
        }
      }
      o["replication_type"] = replication;
      o["has_replicas"] = false;
    }
    if (at_least(req_, 16)) o["user_id"] = share.user_id;
    if (at_least(req_, 24)) o["create_share_from_snapshot_support"] = type_says(t, kCreateFromSnapshot);
    if (at_least(req_, 27)) o["revert_to_snapshot_support"] = type_says(t, kRevertToSnapshot);
    if (at_least(req_, 31)) {
      o["share_group_id"] = nullptr;
      o["source_share_group_snapshot_member_id"] = nullptr;
    }
    if (at_least(req_, 32)) o["mount_snapshot_support"] = type_says(t, kMountSnapshot);
    // Manila's share manager sets 100% once the back end has made the share; a share no back
    // end took (error at creation) has none.
    if (at_least(req_, 54)) {
      const bool made = std::any_of(insts.begin(), insts.end(),
                                    [](const auto& in) { return !in.host.empty(); });
      o["progress"] = made ? json::value("100%") : json::value(nullptr);
    }
    // Agate has no share backups to restore a share from.
    if (at_least(req_, 80)) o["source_backup_id"] = nullptr;
    // Encryption needs share servers, which Agate does not manage (2.90).
    if (at_least(req_, 90)) o["encryption_key_ref"] = nullptr;
    if (at_least(req_, 99)) {
      o["snapshot_inherit_share_access_support"] = share.snapshot_inherit_share_access_support;
    }
    if (at_least(req_, 69)) {
      o["is_soft_deleted"] = share.is_soft_deleted;
      o["scheduled_to_be_deleted_at"] = time_value(share.scheduled_to_be_deleted_at);
    }
    if (req_.context.is_admin) {
      o["share_server_id"] = nullptr;
      o["host"] = insts.empty() ? json::value(nullptr) : nullable(insts.front().host);
    }
    return o;
  }

 private:
  Services& s_;
  const ApiRequest& req_;
  const lmdb::Txn& txn_;
  std::string base_;
  bool types_loaded_ = false;
  std::map<std::string, ShareTypeRow, std::less<>> types_;
};

// Answers with the share the command created.
std::function<Response(const std::vector<events::Event>&)> respond_with_share(Services& s,
                                                                             const ApiRequest& req) {
  return [&s, req](const std::vector<events::Event>& events) {
    std::string id;
    for (const auto& e : events) {
      if (auto* c = std::get_if<events::ShareCreated>(&e.body)) id = c->share_id;
    }
    auto txn = begin_read(s, req);
    auto share = s.store.share(txn, id);
    if (!share) return error_response(req, 404, share_not_found(id));
    ShareViews views(s, req, txn);
    return json_response(req, 200, {{"share", views.detail(*share)}});
  };
}

// A key Agate accepts only as null (or empty): it has no snapshots, share networks or groups.
void refuse_unless_null(ObjectReader& r, std::string_view key, std::string_view what) {
  if (auto v = r.string(key); v && !v->empty()) {
    r.fail(fmt::format("'{}' must be null: Agate has no {}.", key, what));
  }
}

// Manila's scheduler hints: same_host and different_host each a string of share ids separated
// by commas, only_host a back end's name; other keys go to its scheduler, which Agate does not
// have, and are ignored.
void read_scheduler_hints(const json::object& hints, bool with_only_host, engine::CreateShare& c,
                          ObjectReader& r) {
  auto ids = [&](std::string_view key, std::vector<std::string>& out) {
    const auto* v = hints.if_contains(key);
    if (!v || v->is_null()) return;
    if (!v->is_string()) {
      r.fail(fmt::format("'{}' in 'scheduler_hints' must be a string of share ids separated by "
                         "commas, not {}.",
                         key, json_kind(*v)));
      return;
    }
    std::string_view text = v->as_string();
    if (text.empty()) return;
    while (true) {
      const auto comma = text.find(',');
      out.emplace_back(text.substr(0, comma));
      if (comma == std::string_view::npos) break;
      text.remove_prefix(comma + 1);
    }
  };
  ids("same_host", c.same_host);
  ids("different_host", c.different_host);
  if (!with_only_host) return;
  if (const auto* v = hints.if_contains("only_host"); v && !v->is_null()) {
    if (!v->is_string()) {
      r.fail(fmt::format("'only_host' in 'scheduler_hints' must be a string, not {}.",
                         json_kind(*v)));
      return;
    }
    c.only_host = std::string(v->as_string());
  }
}

void create_share(Services& s, const ApiRequest& req, Respond respond) {
  auto body = parse_object(req.raw.body());
  if (!body) return respond(error_response(req, 400, body.error()));
  auto member = only_member(*body, "share");
  if (!member) return respond(error_response(req, 400, member.error()));
  const json::object& share = **member;
  ObjectReader r(share, "share");
  engine::CreateShare c;

  auto size = r.integer("size");
  if (!size && !r.error()) r.fail("'size' is required in 'share'.");
  c.size_gib = size.value_or(0);
  c.share_proto = r.required_string("share_proto");
  // Manila takes display_name / display_description too; name / description win when not empty.
  auto name = r.string("name");
  auto display_name = r.string("display_name");
  c.name = name && !name->empty() ? *name : display_name.value_or("");
  auto description = r.string("description");
  auto display_description = r.string("display_description");
  c.description =
      description && !description->empty() ? *description : display_description.value_or("");
  if (share.contains("share_type") && share.contains("volume_type")) {
    r.fail("Cannot specify both share_type and volume_type");
  }
  auto type = r.string("share_type");
  auto volume_type = r.string("volume_type");
  c.share_type = type ? *type : volume_type.value_or("");
  c.is_public = r.boolean("is_public").value_or(false);
  c.metadata = r.string_map("metadata").value_or(events::Metadata{});
  c.availability_zone = r.string("availability_zone").value_or("");
  refuse_unless_null(r, "snapshot_id", "snapshots");
  refuse_unless_null(r, "share_network_id", "share networks");
  // Below 2.31 Manila drops share_group_id unread.
  if (at_least(req, 31)) {
    refuse_unless_null(r, "share_group_id", "share groups");
  } else {
    r.ignore("share_group_id");
  }
  // Scheduler hints are read from 2.65 on (only_host from 2.67); below, Manila ignores them.
  r.ignore("scheduler_hints");
  if (const auto* hints = share.if_contains("scheduler_hints");
      hints && !hints->is_null() && !hints->is_object()) {
    r.fail(fmt::format("'scheduler_hints' in 'share' must be an object, not {}.",
                       json_kind(*hints)));
  } else if (hints && hints->is_object() && at_least(req, 65)) {
    read_scheduler_hints(hints->as_object(), at_least(req, 67), c, r);
  }
  // Below 2.84 and 2.90 Manila leaves these in the body unread.
  if (at_least(req, 84)) {
    c.mount_point_name = r.string("mount_point_name");
  } else {
    r.ignore("mount_point_name");
  }
  if (at_least(req, 90)) {
    c.encryption_key_ref = r.string("encryption_key_ref");
  } else {
    r.ignore("encryption_key_ref");
  }
  if (auto e = r.finish()) return respond(error_response(req, 400, *e));

  submit(s, req, std::move(c), respond_with_share(s, req), std::move(respond));
}

void show_share(Services& s, const ApiRequest& req, Respond respond) {
  auto txn = begin_read(s, req);
  auto share = visible_share(s, req, txn, req.params[0]);
  if (!share) return respond(error_response(req, 404, share_not_found(req.params[0])));
  ShareViews views(s, req, txn);
  respond(json_response(req, 200, {{"share", views.detail(*share)}}));
}

void delete_share(Services& s, const ApiRequest& req, Respond respond) {
  submit(s, req, engine::DeleteShare{req.params[0]},
         [req](const auto&) { return empty_response(req, 202); }, std::move(respond));
}

// What a share list asks for, as Manila's _get_shares reads it.
struct ShareQuery {
  projections::ShareFilter filter;
  bool match_none = false;  // a filter no Agate share can satisfy (snapshot_id=…, …)
  std::optional<std::string> name_like, description, description_like, host;
  std::optional<std::string> export_location_id, export_location_path;
  std::optional<std::string> availability_zone, mount_point_name;
  std::optional<events::Metadata> metadata, extra_specs;
  std::string sort_key = "created_at";
  bool ascending = false;
  std::optional<std::size_t> limit;
  std::size_t offset = 0;
  bool with_count = false;
};

const std::set<std::string, std::less<>> kSortKeys = {
    "id",         "created_at", "updated_at",    "display_name", "display_description",
    "size",       "status",     "share_type_id", "project_id",   "user_id",
    "share_proto", "availability_zone", "is_public"};

std::weak_ordering compare_shares(std::string_view key, const ShareRow& a, const ShareRow& b) {
  if (key == "created_at") return a.created_at <=> b.created_at;
  if (key == "updated_at") return a.updated_at <=> b.updated_at;
  if (key == "display_name") return a.name <=> b.name;
  if (key == "display_description") return a.description <=> b.description;
  if (key == "size") return a.size_gib <=> b.size_gib;
  if (key == "status") return a.status <=> b.status;
  if (key == "share_type_id") return a.share_type_id <=> b.share_type_id;
  if (key == "project_id") return a.project_id <=> b.project_id;
  if (key == "user_id") return a.user_id <=> b.user_id;
  if (key == "share_proto") return a.share_proto <=> b.share_proto;
  if (key == "availability_zone") return a.availability_zone <=> b.availability_zone;
  if (key == "is_public") return a.is_public <=> b.is_public;
  return a.id <=> b.id;
}

boost::system::result<ShareQuery, std::string> share_query(const ApiRequest& req) {
  ShareQuery q;
  if (auto v = req.query_value("offset")) {
    auto n = parse_query_int(*v);
    if (!n) return std::string("offset param must be an integer");
    if (*n < 0) return std::string("offset param must be positive");
    q.offset = static_cast<std::size_t>(*n);
  }
  if (auto v = req.query_value("limit")) {
    auto n = parse_query_int(*v);
    if (!n) return std::string("limit param must be an integer");
    if (*n < 0) return std::string("limit param must be positive");
    q.limit = static_cast<std::size_t>(*n);
  }
  if (at_least(req, 42)) {
    auto count = query_bool(req, "with_count");
    if (!count) return count.error();
    q.with_count = count->value_or(false);
  }
  auto all = query_bool(req, "all_tenants");
  if (!all) return all.error();
  if (req.context.is_admin && all->value_or(false)) {
    q.filter.project_id = req.query_value("project_id");  // every project unless narrowed
  } else {
    q.filter.project_id = req.context.project_id;
  }
  q.filter.name = req.query_value("name");
  if (!q.filter.name) q.filter.name = req.query_value("display_name");
  q.filter.status = req.query_value("status");
  q.filter.share_type_id = req.query_value("share_type_id");
  if (!q.filter.share_type_id) q.filter.share_type_id = req.query_value("volume_type_id");
  q.filter.access_group_id = req.query_value("access_group");
  q.host = req.query_value("host");
  if (at_least(req, 35)) {
    q.export_location_id = req.query_value("export_location_id");
    q.export_location_path = req.query_value("export_location_path");
  }
  if (at_least(req, 36)) {
    q.name_like = req.query_value("name~");
    q.description = req.query_value("description");
    q.description_like = req.query_value("description~");
  }
  for (auto key : {"metadata", "extra_specs"}) {
    auto text = req.query_value(key);
    if (!text) continue;
    auto parsed = parse_dict_literal(*text);
    if (!parsed) {
      return fmt::format("Malformed '{}' filter: a dict such as {{'key': 'value'}} is expected.",
                         key);
    }
    (std::string_view(key) == "metadata" ? q.metadata : q.extra_specs) = std::move(parsed);
  }
  for (auto key : {"snapshot_id", "share_network_id", "share_server_id", "share_group_id",
                   "share_group_snapshot_id"}) {
    if (auto v = req.query_value(key); v && !v->empty()) q.match_none = true;
  }
  // No Agate share has an encryption key (2.90); Manila drops the filter for non-admins.
  if (auto v = req.query_value("encryption_key_ref");
      v && !v->empty() && at_least(req, 90) && req.context.is_admin) {
    q.match_none = true;
  }
  // An unknown zone matches no share (2.97; below, Manila drops the filter).
  if (at_least(req, 97)) q.availability_zone = req.query_value("availability_zone");
  q.mount_point_name = req.query_value("mount_point_name");
  // Lists hold the shares in the recycle bin only when asked for them (2.69), and never mix
  // them with the others; below 2.69 Manila drops the parameter.
  if (at_least(req, 69)) {
    if (auto v = req.query_value("is_soft_deleted")) {
      auto b = bool_from_string(*v);
      if (!b) {
        return fmt::format("Invalid value {} for is_soft_deleted. Expecting a boolean.", *v);
      }
      q.filter.soft_deleted = *b;
    }
  }
  // is_public is accepted and ignored: another project's public share is never listed
  // (docs/api/shares.md).
  if (auto k = req.query_value("sort_key")) q.sort_key = *k == "name" ? "display_name" : *k;
  if (auto d = req.query_value("sort_dir")) {
    const std::string dir = lower(*d);
    if (dir != "asc" && dir != "desc") {
      return fmt::format(
          "Invalid input received: Wrong sorting data provided: sort key is '{}' and sort "
          "direction is '{}'.",
          q.sort_key, *d);
    }
    q.ascending = dir == "asc";
  }
  if (!kSortKeys.contains(q.sort_key)) {
    return fmt::format("Invalid input received: Wrong sorting key provided - '{}'.", q.sort_key);
  }
  return q;
}

bool contains_folded(std::string_view haystack, std::string_view needle) {
  return lower(haystack).find(lower(needle)) != std::string::npos;
}

// The filters the store does not apply.
bool matches(const ShareQuery& q, ShareViews& views, const ShareRow& share, bool admin) {
  if (q.name_like && !contains_folded(share.name, *q.name_like)) return false;
  if (q.availability_zone && share.availability_zone != *q.availability_zone) return false;
  if (q.mount_point_name && share.mount_point_name != *q.mount_point_name) return false;
  if (q.description && share.description != *q.description) return false;
  if (q.description_like && !contains_folded(share.description, *q.description_like)) return false;
  if (q.metadata) {
    for (const auto& [k, v] : *q.metadata) {
      auto it = share.metadata.find(k);
      if (it == share.metadata.end() || it->second != v) return false;
    }
  }
  if (q.extra_specs) {
    const ShareTypeRow* t = views.type(share.share_type_id);
    if (!t || !specs_match(t->extra_specs, *q.extra_specs, admin)) return false;
  }
  if (q.host || q.export_location_id || q.export_location_path) {
    bool host = !q.host, id = !q.export_location_id, path = !q.export_location_path;
    for (const auto& in : views.instances(share)) {
      if (q.host && in.host == *q.host) host = true;
      for (const auto& p : in.export_locations) {
        if (q.export_location_path && p == *q.export_location_path) path = true;
        if (q.export_location_id && export_location_id(in, p) == *q.export_location_id) id = true;
      }
    }
    if (!host || !id || !path) return false;
  }
  return true;
}

void list_shares(Services& s, const ApiRequest& req, Respond respond, bool detail) {
  auto q = share_query(req);
  if (!q) return respond(error_response(req, 400, q.error()));
  auto txn = begin_read(s, req);
  ShareViews views(s, req, txn);
  std::vector<ShareRow> rows;
  bool empty = q->match_none;
  if (q->filter.access_group_id) {
    // A group the caller cannot see has no shares to show.
    auto g = s.store.group(txn, *q->filter.access_group_id);
    if (!g || (!req.context.is_admin && g->project_id != req.context.project_id)) empty = true;
  }
  if (!empty) {
    // TODO(perf): sorting needs every matching row; an index by created_at would let a page be
    // read directly.
    rows = s.store.list_shares(txn, q->filter, projections::Page{SIZE_MAX, 0});
    std::erase_if(rows, [&](const ShareRow& r) { return !matches(*q, views, r, req.context.is_admin); });
    std::stable_sort(rows.begin(), rows.end(), [&](const ShareRow& a, const ShareRow& b) {
      auto order = compare_shares(q->sort_key, a, b);
      if (order == 0) order = a.id <=> b.id;
      return q->ascending ? order < 0 : order > 0;
    });
  }
  const std::size_t total = rows.size();
  const std::size_t first = std::min(q->offset, total);
  const std::size_t last = q->limit ? std::min(total, first + std::min(*q->limit, total)) : total;
  json::array out;
  for (std::size_t i = first; i < last; ++i) {
    out.push_back(detail ? views.detail(rows[i]) : views.summary(rows[i]));
  }
  json::object body{{"shares", std::move(out)}};
  if (q->with_count) body["count"] = total;
  respond(json_response(req, 200, body));
}

void list_export_locations(Services& s, const ApiRequest& req, Respond respond) {
  auto txn = begin_read(s, req);
  auto share = visible_share(s, req, txn, req.params[0]);
  if (!share) return respond(error_response(req, 404, share_not_found(req.params[0])));
  json::array out;
  for (const auto& in : s.store.instances(txn, *share)) {
    for (std::size_t i = 0; i < in.export_locations.size(); ++i) {
      out.push_back(export_location_view(req, in, i, false));
    }
  }
  respond(json_response(req, 200, {{"export_locations", std::move(out)}}));
}

void show_export_location(Services& s, const ApiRequest& req, Respond respond) {
  auto txn = begin_read(s, req);
  auto share = visible_share(s, req, txn, req.params[0]);
  if (!share) return respond(error_response(req, 404, share_not_found(req.params[0])));
  for (const auto& in : s.store.instances(txn, *share)) {
    for (std::size_t i = 0; i < in.export_locations.size(); ++i) {
      if (export_location_id(in, in.export_locations[i]) == req.params[1]) {
        return respond(json_response(
            req, 200, {{"export_location", export_location_view(req, in, i, true)}}));
      }
    }
  }
  respond(error_response(req, 404,
                         fmt::format("Export location {} could not be found.", req.params[1])));
}

// Agate has no replicas; the clients and test suites still ask.
void list_replicas(Services&, const ApiRequest& req, Respond respond) {
  respond(json_response(req, 200, {{"share_replicas", json::array{}}}));
}

}  // namespace

void add_share_type_routes(std::vector<Route>& routes) {
  routes.push_back({Verb::post, "types", create_type});
  routes.push_back({Verb::get, "types", list_types});
  routes.push_back({Verb::get, "types/default", show_default_type});  // before types/{}
  routes.push_back({Verb::get, "types/{}", show_type});
  routes.push_back({Verb::put, "types/{}", update_type, {2, 50}});
  routes.push_back({Verb::delete_, "types/{}", delete_type});
}

void add_share_routes(std::vector<Route>& routes) {
  routes.push_back({Verb::post, "shares", create_share});
  routes.push_back({Verb::get, "shares",
                    [](Services& s, const ApiRequest& r, Respond d) { list_shares(s, r, d, false); }});
  routes.push_back({Verb::get, "shares/detail",  // before shares/{}
                    [](Services& s, const ApiRequest& r, Respond d) { list_shares(s, r, d, true); }});
  routes.push_back({Verb::get, "shares/{}", show_share});
  routes.push_back({Verb::delete_, "shares/{}", delete_share});
  routes.push_back({Verb::get, "shares/{}/export_locations", list_export_locations, {2, 9}});
  routes.push_back({Verb::get, "shares/{}/export_locations/{}", show_export_location, {2, 9}});
  routes.push_back({Verb::get, "share-replicas", list_replicas, {2, 11}});
  routes.push_back({Verb::get, "share-replicas/detail", list_replicas, {2, 11}});
}

}  // namespace agate::http
