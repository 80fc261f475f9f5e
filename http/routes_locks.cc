// Resource locks (Manila 2.81):
//
//   POST   /v2/{project_id}/resource-locks        {"resource_lock": {resource_id, resource_type,
//                                                  resource_action, lock_reason}}  -> 200
//   GET    /v2/{project_id}/resource-locks        filters, limit/offset, sort_key/sort_dir,
//                                                  with_count, created_since/created_before
//   GET    /v2/{project_id}/resource-locks/{id}
//   PUT    /v2/{project_id}/resource-locks/{id}   {"resource_lock": {resource_action, lock_reason}}
//   DELETE /v2/{project_id}/resource-locks/{id}   -> 204
//
// Every check of a lock against the state is decide()'s (engine/decide.cc); this file reads
// bodies and queries and renders Manila's view (manila/api/views/resource_locks.py).

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <tuple>

#include "http/api.h"
#include "http/json_body.h"
#include "http/views.h"
#include "projections/audit.h"

namespace agate::http {

namespace {

namespace json = boost::json;
using engine::LockRow;

constexpr engine::ApiVersion kLocksVersion{2, 81};

boost::json::value nullable(const std::string& s) {
  if (s.empty()) return nullptr;
  return json::string(s);
}

json::object lock_view(const ApiRequest& req, const LockRow& l) {
  const std::string base = host_url(req.raw);
  const auto& project = req.context.project_id;
  json::array links{
      json::object{{"rel", "self"},
                   {"href", fmt::format("{}/v2/{}/resource-locks/{}", base, project, l.id)}},
      json::object{{"rel", "bookmark"},
                   {"href", fmt::format("{}/{}/resource-locks/{}", base, project, l.id)}}};
  return {{"id", l.id},
          {"user_id", l.user_id},
          {"project_id", l.project_id},
          {"lock_context", events::to_string(l.lock_context)},
          {"resource_type", events::to_string(l.resource_type)},
          {"resource_id", l.resource_id},
          {"resource_action", events::to_string(l.resource_action)},
          {"lock_reason", nullable(l.lock_reason)},
          {"created_at", time_value(l.created_at)},
          {"updated_at", time_value(l.updated_at)},
          {"links", std::move(links)}};
}

Response lock_response(Services& s, const ApiRequest& req, const std::string& id) {
  auto txn = begin_read(s, req);
  auto lock = s.store.lock(txn, id);
  if (!lock) {
    return error_response(req, 404, fmt::format("Resource lock {} could not be found.", id));
  }
  return json_response(req, 200, {{"resource_lock", lock_view(req, *lock)}});
}

// The "resource_lock" object of a body, or Manila's 400.
boost::system::result<json::object, std::string> lock_body(const ApiRequest& req) {
  auto body = parse_object(req.raw.body());
  if (!body) return body.error();
  auto it = body->find("resource_lock");
  if (it == body->end() || !it->value().is_object()) return std::string("Malformed request body.");
  return it->value().as_object();
}

void create_lock(Services& s, const ApiRequest& req, Respond respond) {
  auto lock = lock_body(req);
  if (!lock) return respond(error_response(req, 400, lock.error()));
  ObjectReader r(*lock, "resource_lock");
  engine::CreateResourceLock c;
  c.resource_id = r.string("resource_id").value_or("");
  c.resource_type = r.string("resource_type");
  c.resource_action = r.string("resource_action");
  c.lock_reason = r.string("lock_reason");
  if (auto e = r.finish()) return respond(error_response(req, 400, *e));
  submit(
      s, req, std::move(c),
      [&s, req](const std::vector<events::Event>& events) {
        const auto& created = std::get<events::ResourceLockCreated>(events.at(0).body);
        return lock_response(s, req, created.lock_id);
      },
      std::move(respond));
}

void update_lock(Services& s, const ApiRequest& req, Respond respond) {
  const std::string id = req.params[0];
  {
    // An unknown lock is a 404 before the body is looked at (Manila gets the lock first).
    auto txn = begin_read(s, req);
    auto existing = s.store.lock(txn, id);
    if (!existing || !(req.context.is_admin || existing->project_id == req.context.project_id)) {
      return respond(
          error_response(req, 404, fmt::format("Resource lock {} could not be found.", id)));
    }
  }
  auto lock = lock_body(req);
  if (!lock) return respond(error_response(req, 400, lock.error()));
  for (const auto& member : *lock) {
    if (member.key() != "resource_action" && member.key() != "lock_reason") {
      return respond(
          error_response(req, 400, "Only 'resource_action' and 'lock_reason' can be updated."));
    }
  }
  ObjectReader r(*lock, "resource_lock");
  engine::UpdateResourceLock c;
  c.lock_id = id;
  c.resource_action = r.string("resource_action");
  if (lock->contains("lock_reason")) c.lock_reason = r.string("lock_reason").value_or("");
  if (auto e = r.finish()) return respond(error_response(req, 400, *e));
  submit(
      s, req, std::move(c),
      [&s, req, id](const std::vector<events::Event>&) { return lock_response(s, req, id); },
      std::move(respond));
}

void delete_lock(Services& s, const ApiRequest& req, Respond respond) {
  submit(
      s, req, engine::DeleteResourceLock{req.params[0]},
      [req](const auto&) { return empty_response(req, 204); }, std::move(respond));
}

void show_lock(Services& s, const ApiRequest& req, Respond respond) {
  auto txn = begin_read(s, req);
  auto lock = s.store.lock(txn, req.params[0]);
  if (!lock || !(req.context.is_admin || lock->project_id == req.context.project_id)) {
    return respond(error_response(
        req, 404, fmt::format("Resource lock {} could not be found.", req.params[0])));
  }
  respond(json_response(req, 200, {{"resource_lock", lock_view(req, *lock)}}));
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// oslo's bool_from_string, strict.
std::optional<bool> parse_bool(std::string_view text) {
  const std::string v = lower(text);
  if (v == "1" || v == "t" || v == "true" || v == "on" || v == "y" || v == "yes") return true;
  if (v == "0" || v == "f" || v == "false" || v == "off" || v == "n" || v == "no") return false;
  return std::nullopt;
}

// The lock's field `key` as text, for filters and sorting; nullopt for an unknown key.
std::optional<std::string> field(const LockRow& l, std::string_view key) {
  if (key == "id") return l.id;
  if (key == "user_id") return l.user_id;
  if (key == "project_id") return l.project_id;
  if (key == "resource_id") return l.resource_id;
  if (key == "resource_type") return std::string(events::to_string(l.resource_type));
  if (key == "resource_action") return std::string(events::to_string(l.resource_action));
  if (key == "lock_context") return std::string(events::to_string(l.lock_context));
  if (key == "lock_reason") return l.lock_reason;
  return std::nullopt;
}

constexpr std::array<std::string_view, 8> kExactFilters = {
    "id",           "user_id",    "project_id", "resource_id", "resource_type", "resource_action",
    "lock_context", "lock_reason"};

void list_locks(Services& s, const ApiRequest& req, Respond respond) {
  const auto& ctx = req.context;
  auto bad = [&](std::string message) { respond(error_response(req, 400, message)); };

  std::optional<std::size_t> limit;
  std::size_t offset = 0;
  for (auto [key, target] : {std::pair{"limit", 0}, std::pair{"offset", 1}}) {
    if (auto v = req.query_value(key)) {
      auto n = parse_query_int(*v);
      if (!n) return bad(fmt::format("{} param must be an integer", key));
      if (*n < 0) return bad(fmt::format("{} param must be positive", key));
      if (target == 0) {
        limit = static_cast<std::size_t>(*n);
      } else {
        offset = static_cast<std::size_t>(*n);
      }
    }
  }
  bool with_count = false;
  bool all_projects = false;
  for (auto [key, target] :
       {std::pair{"with_count", &with_count}, std::pair{"all_projects", &all_projects}}) {
    if (auto v = req.query_value(key)) {
      auto b = parse_bool(*v);
      if (!b) return bad(fmt::format("Invalid value '{}' for '{}': not a boolean.", *v, key));
      *target = *b;
    }
  }
  // Other projects' locks are for administrators and services; others asking are given their
  // own project's (Manila drops the filter with a warning).
  if (!(ctx.is_admin || ctx.is_service)) all_projects = false;

  std::optional<std::int64_t> since, before;
  for (auto [key, target] :
       {std::pair{"created_since", &since}, std::pair{"created_before", &before}}) {
    if (auto v = req.query_value(key)) {
      *target = projections::audit::parse_time(*v);
      if (!*target) return bad(fmt::format("Invalid value specified for the query key: {}", key));
    }
  }

  const std::string sort_key = req.query_value("sort_key").value_or("created_at");
  const std::string sort_dir = lower(req.query_value("sort_dir").value_or("desc"));
  if (sort_dir != "asc" && sort_dir != "desc") {
    return bad(fmt::format(
        "Invalid input received: Wrong sorting data provided: sort key is '{}' and sort "
        "direction is '{}'.",
        sort_key, req.query_value("sort_dir").value_or("")));
  }
  const bool by_time = sort_key == "created_at" || sort_key == "updated_at";
  if (!by_time && !field(LockRow{}, sort_key)) {
    return bad(fmt::format("Invalid input received: Wrong sorting key provided - '{}'.", sort_key));
  }

  std::optional<std::string> project = ctx.project_id;
  if (auto p = req.query_value("project_id")) {
    if (*p != ctx.project_id && !ctx.is_admin) {
      return respond(error_response(req, 403,
                                    "Policy doesn't allow resource_lock:get_all_projects "
                                    "to be performed."));
    }
    project = *p;
  } else if (all_projects) {
    project.reset();
  }

  auto txn = begin_read(s, req);
  std::vector<LockRow> locks;
  for (auto& l : s.store.locks(txn)) {
    if (project && l.project_id != *project) continue;
    if (since && l.created_at < *since) continue;
    if (before && l.created_at > *before) continue;
    bool keep = true;
    for (auto key : kExactFilters) {
      if (key == "project_id") continue;  // above
      if (auto v = req.query_value(key); v && field(l, key) != *v) keep = false;
    }
    if (auto v = req.query_value("lock_reason~");
        v && l.lock_reason.find(*v) == std::string::npos) {
      keep = false;
    }
    if (keep) locks.push_back(std::move(l));
  }
  txn.abort();

  const bool ascending = sort_dir == "asc";
  std::stable_sort(locks.begin(), locks.end(), [&](const LockRow& a, const LockRow& b) {
    bool less;
    if (by_time) {
      const auto ta = sort_key == "created_at" ? a.created_at : a.updated_at;
      const auto tb = sort_key == "created_at" ? b.created_at : b.updated_at;
      less = std::tie(ta, a.id) < std::tie(tb, b.id);
      return ascending ? less : std::tie(tb, b.id) < std::tie(ta, a.id);
    }
    const auto fa = *field(a, sort_key), fb = *field(b, sort_key);
    return ascending ? std::tie(fa, a.id) < std::tie(fb, b.id)
                     : std::tie(fb, b.id) < std::tie(fa, a.id);
  });

  const std::size_t total = locks.size();
  const std::size_t first = std::min(offset, total);
  const std::size_t last = limit ? std::min(total, first + *limit) : total;
  json::array views;
  for (std::size_t i = first; i < last; ++i) views.push_back(lock_view(req, locks[i]));
  json::object body{{"resource_locks", std::move(views)}};
  if (with_count && total > 0) body["count"] = total;
  // Manila's next link: when a page is full, the same query with the last lock as marker.
  if (limit && *limit > 0 && last - first == *limit) {
    std::string query;
    for (const auto& [k, v] : req.query) {
      if (k == "marker") continue;
      query += fmt::format("{}{}={}", query.empty() ? "" : "&", k, v);
    }
    query += fmt::format("{}marker={}", query.empty() ? "" : "&", locks[last - 1].id);
    body["resource_locks_links"] = json::array{
        json::object{{"rel", "next"},
                     {"href", fmt::format("{}/v2/{}/resource-locks?{}", host_url(req.raw),
                                          ctx.project_id, valid_utf8(query))}}};
  }
  respond(json_response(req, 200, body));
}

}  // namespace

void add_resource_lock_routes(std::vector<Route>& routes) {
  routes.push_back({Verb::post, "resource-locks", create_lock, kLocksVersion});
  routes.push_back({Verb::get, "resource-locks", list_locks, kLocksVersion});
  routes.push_back({Verb::get, "resource-locks/{}", show_lock, kLocksVersion});
  routes.push_back({Verb::put, "resource-locks/{}", update_lock, kLocksVersion});
  routes.push_back({Verb::delete_, "resource-locks/{}", delete_lock, kLocksVersion});
}

}  // namespace agate::http
