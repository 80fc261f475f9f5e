// The access-group endpoints of the proposal: groups, their entries, and list_shares.
//
//   POST   /v2/{project_id}/access-groups                      create
//   GET    /v2/{project_id}/access-groups[?share_id=S]         list (summaries)
//   GET    /v2/{project_id}/access-groups/detail[?share_id=S]  list with details
//   GET    /v2/{project_id}/access-groups/{id}                 show, with entries
//   PUT    /v2/{project_id}/access-groups/{id}                 update name / description
//   DELETE /v2/{project_id}/access-groups/{id}[?force=true]    delete (force detaches)
//   POST   /v2/{project_id}/access-groups/{id}/action          {"list_shares": {}}
//   POST   /v2/{project_id}/access-groups/{id}/entries         add an entry
//   GET    /v2/{project_id}/access-groups/{id}/entries[/detail] list entries
//   GET    /v2/{project_id}/access-groups/{id}/entries/{eid}   show an entry
//   PUT    /v2/{project_id}/access-groups/{id}/entries/{eid}   change an entry's level
//   DELETE /v2/{project_id}/access-groups/{id}/entries/{eid}   remove an entry
//
// A group's and an entry's view carry their version as an ETag ("42": the log position of the
// last change); If-Match on PUT and DELETE refuses a stale one with 412 (no lost updates).

#include <fmt/format.h>

#include "http/api.h"
#include "http/json_body.h"
#include "http/views.h"

namespace agate::http {

namespace {

namespace bhttp = boost::beast::http;

std::string not_found(std::string_view id) {
  return fmt::format("Access group {} could not be found.", id);
}

// The group if the caller may see it.
std::optional<engine::GroupRow> visible_group(Services& s, const ApiRequest& req,
                                              const lmdb::Txn& txn, std::string_view id) {
  auto g = s.store.group(txn, id);
  if (!g || (!req.context.is_admin && g->project_id != req.context.project_id)) return std::nullopt;
  return g;
}

// The ETag of a version: a strong entity tag, the version in quotes.
std::string etag(std::uint64_t version) { return fmt::format("\"{}\"", version); }

Response with_etag(Response res, std::uint64_t version) {
  res.set(bhttp::field::etag, etag(version));
  return res;
}

// The version If-Match names: none when the header is absent or "*" (the object exists, which
// the command checks anyway); else one strong entity tag as ETag gives it.
boost::system::result<std::optional<std::uint64_t>, std::string> if_match(const ApiRequest& req) {
  const auto it = req.raw.find(bhttp::field::if_match);
  if (it == req.raw.end()) return std::optional<std::uint64_t>{};
  std::string_view v = it->value();
  while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
  while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.remove_suffix(1);
  if (v == "*") return std::optional<std::uint64_t>{};
  auto refuse = [&] {
    return fmt::format(
        "If-Match must be one entity tag as ETag gives it, such as \"42\", or *; not '{}'.",
        std::string_view(it->value()).substr(0, 64));
  };
  if (v.size() < 3 || v.front() != '"' || v.back() != '"') return refuse();
  const auto version = parse_position(v.substr(1, v.size() - 2));
  if (!version) return refuse();
  return version;
}

// Whose groups a list shows: the caller's project, or every project for an admin asking
// all_tenants=1 (as Manila's lists).
std::optional<std::string> list_scope(const ApiRequest& req) {
  const auto all = req.query_value("all_tenants");
  if (req.context.is_admin && all && (*all == "1" || *all == "true" || *all == "True")) {
    return std::nullopt;
  }
  return req.context.project_id;
}

// limit and offset, as the share lists read them; returns the 400 message if malformed.
boost::system::result<projections::Page, std::string> page_of(const ApiRequest& req) {
  projections::Page page;
  for (auto [key, out] : {std::pair{"limit", &page.limit}, std::pair{"offset", &page.offset}}) {
    if (auto v = req.query_value(key)) {
      auto n = parse_query_int(*v);
      if (!n) return fmt::format("{} param must be an integer", key);
      if (*n < 0) return fmt::format("{} param must be positive", key);
      *out = static_cast<std::size_t>(*n);
    }
  }
  return page;
}

void list_groups(Services& s, const ApiRequest& req, Respond respond, bool detail) {
  auto page = page_of(req);
  if (!page) return respond(error_response(req, 400, page.error()));
  auto txn = begin_read(s, req);
  std::optional<std::string> share_id = req.query_value("share_id");
  if (share_id) {
    // A share the caller cannot see has no groups to show.
    auto share = s.store.share(txn, *share_id);
    if (!share || (!req.context.is_admin && share->project_id != req.context.project_id)) {
      return respond(json_response(req, 200, {{"access-groups", boost::json::array{}}}));
    }
  }
  boost::json::array out;
  for (const auto& g : s.store.list_groups(txn, list_scope(req), share_id, *page)) {
    auto view = detail ? group_detail(g) : group_summary(g);
    if (share_id) view["share_id"] = *share_id;
    out.push_back(std::move(view));
  }
  respond(json_response(req, 200, {{"access-groups", std::move(out)}}));
}

boost::json::object show_view(Services& s, const lmdb::Txn& txn, const engine::GroupRow& g) {
  auto view = group_detail(g);
  boost::json::array entries;
  for (const auto& e : s.store.entries(txn, g.id)) entries.push_back(entry_view(e));
  view["entries"] = std::move(entries);
  return view;
}

// Answers with the group as it is after the command that created or changed it.
std::function<Response(const std::vector<events::Event>&)> respond_with_group(
    Services& s, const ApiRequest& req, std::string group_id, unsigned status) {
  return [&s, req, group_id = std::move(group_id), status](const std::vector<events::Event>& events) {
    std::string id = group_id;
    for (const auto& e : events) {
      if (auto* c = std::get_if<events::AccessGroupCreated>(&e.body)) id = c->group_id;
    }
    auto txn = begin_read(s, req);
    auto g = s.store.group(txn, id);
    if (!g) return error_response(req, 404, not_found(id));
    return with_etag(json_response(req, status, {{"access-group", group_detail(*g)}}), g->version);
  };
}

void create_group(Services& s, const ApiRequest& req, Respond respond) {
  auto body = parse_object(req.raw.body());
  if (!body) return respond(error_response(req, 400, body.error()));
  auto member = only_member(*body, "access-group");
  if (!member) return respond(error_response(req, 400, member.error()));
  ObjectReader r(**member, "access-group");
  engine::CreateAccessGroup c;
  c.name = r.required_string("name");
  c.description = r.string("description").value_or("");
  c.access_type = r.required_string("access_type");
  if (auto e = r.finish()) return respond(error_response(req, 400, *e));
  submit(s, req, std::move(c), respond_with_group(s, req, "", 200), std::move(respond));
}

void show_group(Services& s, const ApiRequest& req, Respond respond) {
  auto txn = begin_read(s, req);
  auto g = visible_group(s, req, txn, req.params[0]);
  if (!g) return respond(error_response(req, 404, not_found(req.params[0])));
  respond(with_etag(json_response(req, 200, {{"access-group", show_view(s, txn, *g)}}),
                    g->version));
}

void update_group(Services& s, const ApiRequest& req, Respond respond) {
  auto body = parse_object(req.raw.body());
  if (!body) return respond(error_response(req, 400, body.error()));
  auto member = only_member(*body, "access-group");
  if (!member) return respond(error_response(req, 400, member.error()));
  ObjectReader r(**member, "access-group");
  engine::UpdateAccessGroup c;
  c.group_id = req.params[0];
  c.name = r.string("name", false);
  c.description = r.string("description", false);
  if (auto e = r.finish()) return respond(error_response(req, 400, *e));
  auto version = if_match(req);
  if (!version) return respond(error_response(req, 400, version.error()));
  c.if_match = *version;
  submit(s, req, std::move(c), respond_with_group(s, req, req.params[0], 200), std::move(respond));
}

void delete_group(Services& s, const ApiRequest& req, Respond respond) {
  bool force = false;
  if (auto f = req.query_value("force")) {
    if (*f == "true" || *f == "True" || *f == "1") {
      force = true;
    } else if (!(*f == "false" || *f == "False" || *f == "0")) {
      return respond(error_response(req, 400, "'force' must be true or false."));
    }
  }
  auto version = if_match(req);
  if (!version) return respond(error_response(req, 400, version.error()));
  submit(s, req, engine::DeleteAccessGroup{req.params[0], force, *version},
         [req](const auto&) { return empty_response(req, 202); }, std::move(respond));
}

void group_action(Services& s, const ApiRequest& req, Respond respond) {
  auto body = parse_object(req.raw.body());
  if (!body) return respond(error_response(req, 400, "Malformed request body"));
  if (body->size() != 1) return respond(error_response(req, 400, "Malformed request body"));
  const auto& [name, value] = *body->begin();
  if (name != "list_shares") {
    return respond(error_response(
        req, 400, fmt::format("There is no such action: {}", std::string_view(name))));
  }
  if (!value.is_null() && !(value.is_object() && value.as_object().empty())) {
    return respond(error_response(req, 400, "'list_shares' takes no arguments."));
  }
  auto txn = begin_read(s, req);
  auto g = visible_group(s, req, txn, req.params[0]);
  if (!g) return respond(error_response(req, 404, not_found(req.params[0])));
  boost::json::array shares;
  for (const auto& m : s.store.shares_of_group(txn, g->id)) {
    auto share = s.store.share(txn, m.share_id);
    shares.push_back({{"access_group_id", g->id},
                      {"share_id", m.share_id},
                      {"share_name", share ? share->name : ""},
                      {"share_description", share ? share->description : ""},
                      {"mapping_id", m.id}});
  }
  respond(json_response(req, 200, {{"shares", std::move(shares)}}));
}

void add_entry(Services& s, const ApiRequest& req, Respond respond) {
  auto body = parse_object(req.raw.body());
  if (!body) return respond(error_response(req, 400, body.error()));
  auto member = only_member(*body, "entry");
  if (!member) return respond(error_response(req, 400, member.error()));
  ObjectReader r(**member, "entry");
  engine::AddEntry c;
  c.group_id = req.params[0];
  c.access_type = r.string("access_type");
  c.access_to = r.required_string("access_to");
  c.access_level = r.string("access_level");
  if (auto e = r.finish()) return respond(error_response(req, 400, *e));
  submit(
      s, req, std::move(c),
      [&s, req](const std::vector<events::Event>& events) {
        const auto& added = std::get<events::EntryAdded>(events.at(0).body);
        auto txn = begin_read(s, req);
        auto state = s.store.state(txn);
        auto entry = state->entry(added.group_id, added.entry_id);
        if (!entry) return error_response(req, 404, "The entry was removed meanwhile.");
        return with_etag(json_response(req, 200, {{"entry", entry_view(*entry)}}),
                         entry->version);
      },
      std::move(respond));
}

void list_entries(Services& s, const ApiRequest& req, Respond respond) {
  auto txn = begin_read(s, req);
  auto g = visible_group(s, req, txn, req.params[0]);
  if (!g) return respond(error_response(req, 404, not_found(req.params[0])));
  boost::json::array entries;
  for (const auto& e : s.store.entries(txn, g->id)) entries.push_back(entry_view(e));
  respond(json_response(req, 200, {{"entries", std::move(entries)}}));
}

void show_entry(Services& s, const ApiRequest& req, Respond respond) {
  auto txn = begin_read(s, req);
  auto g = visible_group(s, req, txn, req.params[0]);
  if (!g) return respond(error_response(req, 404, not_found(req.params[0])));
  auto entry = s.store.state(txn)->entry(g->id, req.params[1]);
  if (!entry) {
    return respond(error_response(
        req, 404, fmt::format("Access group entry {} could not be found.", req.params[1])));
  }
  respond(with_etag(json_response(req, 200, {{"entry", entry_view(*entry)}}), entry->version));
}

// {"entry": {"access_level": "ro" | "rw"}}: the entry's level changes on every share the group
// is attached to, as one change. Answers with the entry.
void update_entry(Services& s, const ApiRequest& req, Respond respond) {
  auto body = parse_object(req.raw.body());
  if (!body) return respond(error_response(req, 400, body.error()));
  auto member = only_member(*body, "entry");
  if (!member) return respond(error_response(req, 400, member.error()));
  ObjectReader r(**member, "entry");
  engine::UpdateEntryLevel c;
  c.group_id = req.params[0];
  c.entry_id = req.params[1];
  c.access_level = r.string("access_level");
  if (auto e = r.finish()) return respond(error_response(req, 400, *e));
  auto version = if_match(req);
  if (!version) return respond(error_response(req, 400, version.error()));
  c.if_match = *version;
  submit(
      s, req, std::move(c),
      [&s, req](const std::vector<events::Event>&) {
        auto txn = begin_read(s, req);
        auto entry = s.store.state(txn)->entry(req.params[0], req.params[1]);
        if (!entry) return error_response(req, 404, "The entry was removed meanwhile.");
        return with_etag(json_response(req, 200, {{"entry", entry_view(*entry)}}),
                         entry->version);
      },
      std::move(respond));
}

void remove_entry(Services& s, const ApiRequest& req, Respond respond) {
  auto version = if_match(req);
  if (!version) return respond(error_response(req, 400, version.error()));
  submit(s, req, engine::RemoveEntry{req.params[0], req.params[1], *version},
         [req](const auto&) { return empty_response(req, 202); }, std::move(respond));
}

}  // namespace

void add_access_group_routes(std::vector<Route>& routes) {
  routes.push_back({Verb::post, "access-groups", create_group});
  routes.push_back({Verb::get, "access-groups",
                    [](Services& s, const ApiRequest& r, Respond d) { list_groups(s, r, d, false); }});
  routes.push_back({Verb::get, "access-groups/detail",
                    [](Services& s, const ApiRequest& r, Respond d) { list_groups(s, r, d, true); }});
  routes.push_back({Verb::get, "access-groups/{}", show_group});
  routes.push_back({Verb::put, "access-groups/{}", update_group});
  routes.push_back({Verb::delete_, "access-groups/{}", delete_group});
  // Its only action, list_shares, reads: readers may call it.
  routes.push_back({Verb::post, "access-groups/{}/action", group_action, kMinVersion, kMaxVersion,
                    true});
  routes.push_back({Verb::post, "access-groups/{}/entries", add_entry});
  routes.push_back({Verb::get, "access-groups/{}/entries", list_entries});
  routes.push_back({Verb::get, "access-groups/{}/entries/detail", list_entries});
  routes.push_back({Verb::get, "access-groups/{}/entries/{}", show_entry});
  routes.push_back({Verb::put, "access-groups/{}/entries/{}", update_entry});
  routes.push_back({Verb::delete_, "access-groups/{}/entries/{}", remove_entry});
}

}  // namespace agate::http
