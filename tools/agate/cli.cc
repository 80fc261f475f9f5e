#include "tools/agate/cli.h"

#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <boost/json.hpp>
#include <cctype>
#include <cstdlib>
#include <functional>
#include <map>
#include <memory>
#include <set>

#include "tools/agate/client.h"
#include "tools/agate/table.h"

namespace agate::cli {

namespace {

namespace json = boost::json;

constexpr const char* kDefaultUrl = "http://127.0.0.1:8786";
constexpr const char* kMaxApiVersion = "2.99";
constexpr int kMaxMinor = 99;

constexpr const char* kMainFooter = R"~(
Every command takes --help. Global options may come before or after the command.

NAMES AND IDS
  Shares, access groups and share types may be given by name or by id. A name is looked up
  by listing what the token can see (every project's objects for an administrator); a name
  that matches nothing, or several objects, is refused: give the id.
  An id that matches nothing gets agated's own answer ("... could not be found.").

OUTPUT
  Tables as the manila client prints them; --json prints agated's JSON answer instead (for
  access-group-list, every page of the answer in one list).
  Commands whose request has no answer body (delete, deny, sync) print nothing.

ENVIRONMENT
  AGATE_URL          the server, as --url (default http://127.0.0.1:8786)
  AGATE_TOKEN        the token, as --token; OS_TOKEN is read when AGATE_TOKEN is not set
  AGATE_API_VERSION  the microversion, as --api-version (default 2.99)
  AGATE_TIMEOUT      seconds to wait for each answer, as --timeout (default 30)

EXIT STATUS
  0  the command did what it was asked
  1  agated refused a request (its message is printed as
     "ERROR: <message> (HTTP <status>) (Request-ID: req-...)"), or a name matched no object
     or several
  2  a usage error, or agated could not be reached or did not answer in time

EXAMPLES
  export AGATE_TOKEN=alice:project-a
  agate create NFS 1 --name share1
  agate access-group-create web --access-type ip --description "Web servers"
  agate access-group-entry-create web ip 10.0.0.0/24 rw
  agate access-allow share1 access-group web
  agate effective-access share1)~";

struct Globals {
  std::string url = kDefaultUrl;
  std::string token;
  std::string api_version = kMaxApiVersion;
  double timeout = 30;
  bool json = false;
};

// "2.N" -> N; throws UsageError otherwise.
int api_minor(const std::string& version) {
  if (version.size() > 2 && version.starts_with("2.") &&
      std::all_of(version.begin() + 2, version.end(),
                  [](char c) { return c >= '0' && c <= '9'; }) &&
      (version.size() == 3 || version[2] != '0') && version.size() < 6) {
    return std::stoi(version.substr(2));
  }
  throw UsageError(
      fmt::format("--api-version {}: expected 2.N, such as {}", version, kMaxApiVersion));
}

bool looks_like_uuid(std::string_view s) {
  if (s.size() != 36) return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash != (s[i] == '-')) return false;
    if (!dash && !std::isxdigit(static_cast<unsigned char>(s[i]))) return false;
  }
  return true;
}

// KEY=VALUE arguments of `option` as a JSON object of strings.
json::object key_values(const std::vector<std::string>& args, std::string_view option) {
  json::object out;
  for (const auto& a : args) {
    const auto eq = a.find('=');
    if (eq == std::string::npos || eq == 0) {
      throw UsageError(fmt::format("{} {}: expected KEY=VALUE", option, a));
    }
    out[a.substr(0, eq)] = a.substr(eq + 1);
  }
  return out;
}

const json::value& member(const json::value& body, std::string_view key) {
  if (const auto* o = body.if_object()) {
    if (const auto* v = o->if_contains(key)) return *v;
  }
  throw CommandError(fmt::format("agated's answer has no '{}'", key));
}

const json::object& object_member(const json::value& body, std::string_view key) {
  const auto& v = member(body, key);
  if (!v.is_object()) throw CommandError(fmt::format("agated's '{}' is not an object", key));
  return v.get_object();
}

const json::array& array_member(const json::value& body, std::string_view key) {
  const auto& v = member(body, key);
  if (!v.is_array()) throw CommandError(fmt::format("agated's '{}' is not a list", key));
  return v.get_array();
}

// The string member `key` of `o`, or "" if it is absent or not a string.
std::string text(const json::value& o, std::string_view key) {
  if (const auto* obj = o.if_object()) {
    if (const auto* v = obj->if_contains(key); v && v->is_string())
      return std::string(v->get_string());
  }
  return "";
}

// The cell of member `key` of `o`: "" when absent.
std::string cell(const json::value& o, std::string_view key) {
  if (const auto* obj = o.if_object()) {
    if (const auto* v = obj->if_contains(key)) return cell_text(*v);
  }
  return "";
}

struct Column {
  std::string header;
  std::string key;
};

std::string list_table(const json::array& items, const std::vector<Column>& columns) {
  Table table;
  for (const auto& c : columns) table.headers.push_back(c.header);
  for (const auto& item : items) {
    std::vector<std::string> row;
    for (const auto& c : columns) row.push_back(cell(item, c.key));
    table.rows.push_back(std::move(row));
  }
  return render(table);
}

// Every member of `o` but those in `skip`, sorted by name, as manilaclient shows an object.
std::vector<std::pair<std::string, std::string>> properties(
    const json::object& o, const std::set<std::string>& skip = {}) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& [key, value] : o) {
    if (!skip.contains(std::string(key))) out.emplace_back(std::string(key), cell_text(value));
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::string group_table(const json::object& group) {
  auto props = properties(group, {"entries"});
  if (const auto* entries = group.if_contains("entries"); entries && entries->is_array()) {
    std::string lines;
    for (const auto& e : entries->get_array()) {
      if (!lines.empty()) lines += '\n';
      lines +=
          fmt::format("{} {} ({})", text(e, "access_to"), text(e, "access_level"), text(e, "id"));
    }
    props.emplace_back("entries", lines);
    std::sort(props.begin(), props.end());
  }
  return render_properties(props);
}

// "k : v" lines, as manila's type-list shows extra specs.
std::string spec_lines(const json::object& specs, const std::set<std::string>& skip = {}) {
  std::string out;
  for (const auto& [key, value] : specs) {
    if (skip.contains(std::string(key))) continue;
    if (!out.empty()) out += '\n';
    out += fmt::format("{} : {}", std::string_view(key), cell_text(value));
  }
  return out;
}

std::string types_table(const std::vector<const json::object*>& types) {
  Table table{{"ID", "Name", "visibility", "is_default", "required_extra_specs",
               "optional_extra_specs", "Description"},
              {}};
  for (const auto* t : types) {
    const json::value* pub = t->if_contains("share_type_access:is_public");
    if (!pub) pub = t->if_contains("os-share-type-access:is_public");
    std::set<std::string> required_keys;
    std::string required, optional;
    if (const auto* r = t->if_contains("required_extra_specs"); r && r->is_object()) {
      for (const auto& [k, v] : r->get_object()) required_keys.insert(std::string(k));
      required = spec_lines(r->get_object());
    }
    if (const auto* e = t->if_contains("extra_specs"); e && e->is_object()) {
      optional = spec_lines(e->get_object(), required_keys);
    }
    table.rows.push_back({text(*t, "id"), text(*t, "name"),
                          pub && pub->is_bool() ? (pub->get_bool() ? "public" : "private") : "",
                          text(*t, "name") == "default" ? "YES" : "-", required, optional,
                          cell(*t, "description")});
  }
  return render(table);
}

class Cli {
 public:
  Cli(std::ostream& out, std::ostream& err);
  int run(int argc, const char* const* argv);

 private:
  using Handler = std::function<int()>;

  CLI::App* command(const std::string& name, const std::string& group,
                    const std::string& description, const std::string& footer, Handler handler);
  void add_group_commands();
  void add_entry_commands();
  void add_access_commands();
  void add_share_commands();
  void add_type_commands();
  void add_lock_commands();

  Client& api();
  int minor() const { return minor_; }
  // Prints the answer's JSON with --json, else the table `table` makes.
  void print(const Reply& reply, const std::function<std::string()>& table);
  void report(const std::exception& e);

  json::array groups(Query query);
  std::string resolve(const std::string& noun, const std::string& show_path,
                      const std::function<json::array()>& list, const std::string& arg);
  std::string resolve_share(const std::string& arg);
  std::string resolve_group(const std::string& arg);
  std::string resolve_type(const std::string& arg);
  std::string action_name(const char* name) const;
  json::array access_rules(const std::string& share_id, Reply& reply);
  std::string deny_target(const std::string& share, const std::string& share_id,
                          const std::string& arg);

  std::ostream& out_;
  std::ostream& err_;
  CLI::App app_;
  Globals globals_;
  int minor_ = kMaxMinor;
  std::optional<Client> client_;
  std::map<const CLI::App*, Handler> handlers_;
};

Cli::Cli(std::ostream& out, std::ostream& err)
    : out_(out),
      err_(err),
      app_("agate — the command-line client of agated, Agate's server", "agate") {
  app_.footer(kMainFooter);
  app_.require_subcommand(0, 1);
  // Global options are accepted after the command as well.
  app_.fallthrough();
  app_.add_option("--url", globals_.url, "agated's address, http://HOST[:PORT][/PATH]")
      ->envname("AGATE_URL")
      ->capture_default_str();
  app_.add_option("--token", globals_.token,
                  "the X-Auth-Token; in agated's noauth mode USER:PROJECT[:admin|:reader]; "
                  "OS_TOKEN is read when neither this nor AGATE_TOKEN is given")
      ->envname("AGATE_TOKEN");
  app_.add_option("--api-version", globals_.api_version,
                  "the Manila microversion to ask for, 2.0 to 2.99")
      ->envname("AGATE_API_VERSION")
      ->capture_default_str();
  app_.add_option("--timeout", globals_.timeout, "seconds to wait for each answer")
      ->envname("AGATE_TIMEOUT")
      ->check(CLI::Range(0.001, 86400.0))
      ->capture_default_str();
  app_.add_flag("--json", globals_.json, "print agated's JSON answer instead of a table");
  add_group_commands();
  add_entry_commands();
  add_access_commands();
  add_share_commands();
  add_type_commands();
  add_lock_commands();
}

CLI::App* Cli::command(const std::string& name, const std::string& group,
                       const std::string& description, const std::string& footer, Handler handler) {
  auto* sub = app_.add_subcommand(name, description);
  sub->group(group);
  sub->footer("\n" + footer +
              "\n\nGlobal options, before or after the command: --url, --token, --api-version, "
              "--timeout, --json (see agate --help).");
  handlers_.emplace(sub, std::move(handler));
  return sub;
}

int Cli::run(int argc, const char* const* argv) {
  try {
    app_.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app_.exit(e, out_, err_) == 0 ? 0 : 2;
  }
  try {
    minor_ = api_minor(globals_.api_version);
    const auto subcommands = app_.get_subcommands();
    if (subcommands.empty()) {
      err_ << app_.help() << "A command is required.\n";
      return 2;
    }
    return handlers_.at(subcommands.front())();
  } catch (const UsageError& e) {
    report(e);
    return 2;
  } catch (const ConnectionError& e) {
    report(e);
    return 2;
  } catch (const std::exception& e) {
    report(e);
    return 1;
  }
}

void Cli::report(const std::exception& e) {
  if (const auto* api = dynamic_cast<const ApiError*>(&e)) {
    err_ << fmt::format("ERROR: {} (HTTP {})", api->what(), api->status());
    if (!api->request_id().empty()) err_ << fmt::format(" (Request-ID: {})", api->request_id());
    err_ << "\n";
  } else {
    err_ << "ERROR: " << e.what() << "\n";
  }
}

Client& Cli::api() {
  if (!client_) {
    auto endpoint = parse_endpoint(globals_.url);
    std::string token = globals_.token;
    if (token.empty()) {
      if (const char* t = std::getenv("OS_TOKEN")) token = t;
    }
    if (token.empty()) {
      throw UsageError("no token: give --token, or set AGATE_TOKEN (or OS_TOKEN)");
    }
    client_.emplace(std::move(endpoint), std::move(token), globals_.api_version,
                    std::chrono::milliseconds(static_cast<long long>(globals_.timeout * 1000)));
  }
  return *client_;
}

void Cli::print(const Reply& reply, const std::function<std::string()>& table) {
  out_ << (globals_.json ? pretty_json(reply.body) : table());
}

// Every access group `query` selects. agated answers a group list with 1000 groups at most
// unless asked for a page, so the pages are asked for one after the other.
json::array Cli::groups(Query query) {
  constexpr std::size_t kPage = 1000;
  query.emplace_back("limit", std::to_string(kPage));
  query.emplace_back("offset", "");
  json::array all;
  for (std::size_t offset = 0;; offset += kPage) {
    query.back().second = std::to_string(offset);
    auto reply = api().get("access-groups", query);
    const auto& page = array_member(reply.body, "access-groups");
    for (const auto& g : page) all.push_back(g);
    if (page.size() < kPage) return all;
  }
}

std::string Cli::resolve(const std::string& noun, const std::string& show_path,
                         const std::function<json::array()>& list, const std::string& arg) {
  // An id is shown first; if it is not found, it may still be a name, and if it is not that
  // either, agated's own 404 is the answer.
  std::optional<ApiError> missing;
  if (looks_like_uuid(arg)) {
    try {
      api().get(show_path + arg);
      return arg;
    } catch (const ApiError& e) {
      if (e.status() != 404) throw;
      missing = e;
    }
  }
  std::vector<std::string> matches;
  for (const auto& item : list()) {
    if (text(item, "id") == arg || text(item, "name") == arg) matches.push_back(text(item, "id"));
  }
  if (matches.empty()) {
    if (missing) throw *missing;
    throw CommandError(fmt::format("No {} with a name or id of '{}' exists.", noun, arg));
  }
  if (matches.size() > 1) {
    throw CommandError(fmt::format("Multiple {}s are named '{}' ({}); give an id instead.", noun,
                                   arg, fmt::join(matches, ", ")));
  }
  return matches.front();
}

std::string Cli::resolve_share(const std::string& arg) {
  return resolve(
      "share", "shares/",
      [&] {
        auto r = api().get("shares", {{"name", arg}, {"all_tenants", "1"}});
        return array_member(r.body, "shares");
      },
      arg);
}

std::string Cli::resolve_group(const std::string& arg) {
  return resolve(
      "access group", "access-groups/",
      [&] {
        return groups({{"all_tenants", "1"}});
      },
      arg);
}

std::string Cli::resolve_type(const std::string& arg) {
  return resolve(
      "share type", "types/",
      [&] {
        auto r = api().get("types", {{"is_public", "all"}});
        return array_member(r.body, "share_types");
      },
      arg);
}

// The share action's name at the chosen microversion: "os-<name>" before 2.7.
std::string Cli::action_name(const char* name) const {
  return minor() >= 7 ? name : fmt::format("os-{}", name);
}

json::array Cli::access_rules(const std::string& share_id, Reply& reply) {
  if (minor() >= 45) {
    reply = api().get("share-access-rules", {{"share_id", share_id}});
  } else {
    reply = api().post("shares/" + share_id + "/action", {{action_name("access_list"), nullptr}});
  }
  return array_member(reply.body, "access_list");
}

// The id deny_access takes for `arg` on the share: a rule's or a group mapping's id as given,
// or the mapping of the attached group that `arg` names.
std::string Cli::deny_target(const std::string& share, const std::string& share_id,
                             const std::string& arg) {
  Reply reply;
  const auto rules = access_rules(share_id, reply);
  for (const auto& r : rules) {
    if (text(r, "id") == arg) return arg;
  }
  std::vector<std::string> matches;
  for (const auto& g : groups({{"share_id", share_id}, {"all_tenants", "1"}})) {
    if (text(g, "id") == arg || text(g, "name") == arg) matches.push_back(text(g, "id"));
  }
  if (matches.size() > 1) {
    throw CommandError(
        fmt::format("Multiple access groups attached to share {} are named '{}' "
                    "({}); give an id instead.",
                    share, arg, fmt::join(matches, ", ")));
  }
  if (matches.size() == 1) {
    for (const auto& r : rules) {
      if (text(r, "access_type") == "access_group" && text(r, "access_to") == matches.front()) {
        return text(r, "id");
      }
    }
  }
  if (looks_like_uuid(arg)) return arg;  // agated says what it is not
  throw CommandError(fmt::format(
      "Share {} has no access rule with the id '{}' and no access group of that name or id "
      "attached.",
      share, arg));
}

void Cli::add_group_commands() {
  const std::string group = "Access groups";
  {
    struct Opts {
      std::string name, type, description;
    };
    auto o = std::make_shared<Opts>();
    auto* c = command(
        "access-group-create", group, "Create an access group.",
        R"(An access group is a named set of entries of one access type (ip, user, cert or cephx),
owned by the token's project. Names are unique within a project. Prints the new group.

  agate access-group-create AG1 --access-type user --description "First Access Group"

POST /v2/access-groups)",
        [this, o] {
          json::object g{{"name", o->name}, {"access_type", o->type}};
          if (!o->description.empty()) g["description"] = o->description;
          auto r = api().post("access-groups", {{"access-group", g}});
          print(r, [&] { return group_table(object_member(r.body, "access-group")); });
          return 0;
        });
    c->add_option("NAME", o->name, "the group's name")->required();
    c->add_option("--access-type,--access_type", o->type,
                  "the type of every entry: ip, user, cert or cephx")
        ->required();
    c->add_option("--description", o->description, "a description, at most 255 characters");
  }
  {
    struct Opts {
      std::string share;
      bool all_tenants = false;
    };
    auto o = std::make_shared<Opts>();
    auto* c = command(
        "access-group-list", group, "List access groups.",
        R"(Lists the token's project's access groups, or with --share the groups attached to a share.

  agate access-group-list
  agate access-group-list --share "Share 1"

GET /v2/access-groups[?share_id=S], a page of 1000 at a time)",
        [this, o] {
          Query q;
          // The share narrows the list; all_tenants lets an administrator see the groups on
          // another project's share.
          if (!o->share.empty()) q.emplace_back("share_id", resolve_share(o->share));
          if (o->all_tenants || !o->share.empty()) q.emplace_back("all_tenants", "1");
          Reply r;
          r.body = {{"access-groups", groups(q)}};
          print(r, [&] {
            return list_table(r.body.at("access-groups").as_array(),
                              {{"ID", "id"},
                               {"Name", "name"},
                               {"Type", "access_type"},
                               {"Description", "description"}});
          });
          return 0;
        });
    c->add_option("--share", o->share, "only the groups attached to this share (name or id)");
    c->add_flag("--all-tenants", o->all_tenants, "every project's groups (administrators)");
  }
  {
    auto g = std::make_shared<std::string>();
    auto* c =
        command("access-group-show", group, "Show an access group and its entries.",
                R"(  agate access-group-show AG1

GET /v2/access-groups/{id})",
                [this, g] {
                  auto r = api().get("access-groups/" + resolve_group(*g));
                  print(r, [&] { return group_table(object_member(r.body, "access-group")); });
                  return 0;
                });
    c->add_option("GROUP", *g, "the group's name or id")->required();
  }
  {
    struct Opts {
      std::string group;
      std::optional<std::string> name, description;
    };
    auto o = std::make_shared<Opts>();
    auto* c = command(
        "access-group-update", group, "Rename an access group or change its description.",
        R"(Give --name, --description or both. Prints the group as it now is.

  agate access-group-update AG1 --description "Web servers"

PUT /v2/access-groups/{id})",
        [this, o] {
          if (!o->name && !o->description) {
            throw UsageError("access-group-update: give --name or --description");
          }
          json::object g;
          if (o->name) g["name"] = *o->name;
          if (o->description) g["description"] = *o->description;
          auto r = api().put("access-groups/" + resolve_group(o->group), {{"access-group", g}});
          print(r, [&] { return group_table(object_member(r.body, "access-group")); });
          return 0;
        });
    c->add_option("GROUP", o->group, "the group's name or id")->required();
    c->add_option("--name", o->name, "the new name");
    c->add_option("--description", o->description, "the new description");
  }
  {
    struct Opts {
      std::vector<std::string> groups;
      bool force = false;
    };
    auto o = std::make_shared<Opts>();
    auto* c = command(
        "access-group-delete", group, "Delete access groups.",
        R"(A group still attached to shares is refused, naming the shares, unless --force is given:
then it is detached from every share in the same change and their access is applied again.
Each group is deleted on its own; the exit status is 1 if any could not be.

  agate access-group-delete AG1
  agate access-group-delete AG1 AG2 --force

DELETE /v2/access-groups/{id}[?force=true])",
        [this, o] {
          int status = 0;
          for (const auto& g : o->groups) {
            try {
              Query q;
              if (o->force) q.emplace_back("force", "true");
              api().del("access-groups/" + resolve_group(g), q);
            } catch (const ApiError& e) {
              report(e);
              status = 1;
            } catch (const CommandError& e) {
              report(e);
              status = 1;
            }
          }
          return status;
        });
    c->add_option("GROUP", o->groups, "the groups' names or ids")->required();
    c->add_flag("--force", o->force, "detach the group from its shares first");
  }
}

void Cli::add_entry_commands() {
  const std::string group = "Access group entries";
  {
    struct Opts {
      std::string group, type, to, level;
      std::optional<std::string> level_option;
    };
    auto o = std::make_shared<Opts>();
    auto* c = command(
        "access-group-entry-create", group, "Add an entry to an access group.",
        R"(The entry's ACCESS_TYPE must be the group's. ACCESS_TO is validated as Manila validates an
access rule of that type. ACCESS_LEVEL is rw (the default) or ro. Every share the group is attached
to gets the new rule; an entry that would grant a share a rule it already has at the other level
is refused, naming the shares.

  agate access-group-entry-create AG1 user demo rw
  agate access-group-entry-create web ip 10.0.0.0/24 --access-level ro

POST /v2/access-groups/{id}/entries)",
        [this, o] {
          std::string level = o->level;
          if (o->level_option) {
            if (!level.empty() && level != *o->level_option) {
              throw UsageError("access-group-entry-create: ACCESS_LEVEL and --access-level differ");
            }
            level = *o->level_option;
          }
          json::object e{{"access_type", o->type}, {"access_to", o->to}};
          if (!level.empty()) e["access_level"] = level;
          auto r =
              api().post("access-groups/" + resolve_group(o->group) + "/entries", {{"entry", e}});
          print(r, [&] {
            return list_table(json::array{object_member(r.body, "entry")},
                              {{"ID", "id"},
                               {"Access_type", "access_type"},
                               {"Access_to", "access_to"},
                               {"Access_level", "access_level"}});
          });
          return 0;
        });
    c->add_option("GROUP", o->group, "the group's name or id")->required();
    c->add_option("ACCESS_TYPE", o->type, "ip, user, cert or cephx: the group's type")->required();
    c->add_option("ACCESS_TO", o->to, "the address, user, certificate name or cephx id")
        ->required();
    c->add_option("ACCESS_LEVEL", o->level, "rw or ro (default rw)");
    c->add_option("--access-level,--access_level", o->level_option, "rw or ro, as ACCESS_LEVEL");
  }
  {
    struct Opts {
      std::string first, second;
    };
    auto o = std::make_shared<Opts>();
    auto* c = command(
        "access-group-entry-delete", group, "Remove an entry from an access group.",
        R"(With one argument, ENTRY is an entry's id, looked for in every access group the token can
see. With two, the first names the group and the second is an entry's id or its access_to.
Every share the group is attached to loses the rule, unless another source still grants it.

  agate access-group-entry-delete 84bc33b5-590c-4476-8295-02e0a4687715
  agate access-group-entry-delete AG1 demo

DELETE /v2/access-groups/{id}/entries/{entry_id})",
        [this, o] {
          std::string group_id, entry_id;
          if (o->second.empty()) {
            entry_id = o->first;
            for (const auto& g : groups({{"all_tenants", "1"}})) {
              auto entries = api().get("access-groups/" + text(g, "id") + "/entries");
              for (const auto& e : array_member(entries.body, "entries")) {
                if (text(e, "id") == entry_id) group_id = text(g, "id");
              }
              if (!group_id.empty()) break;
            }
            if (group_id.empty()) {
              throw CommandError(
                  fmt::format("No access group holds an entry with the id '{}'.", entry_id));
            }
          } else {
            group_id = resolve_group(o->first);
            entry_id = o->second;
            auto entries = api().get("access-groups/" + group_id + "/entries");
            for (const auto& e : array_member(entries.body, "entries")) {
              if (text(e, "access_to") == o->second) entry_id = text(e, "id");
            }
          }
          api().del("access-groups/" + group_id + "/entries/" + percent_encode(entry_id));
          return 0;
        });
    c->add_option("GROUP_OR_ENTRY", o->first, "the entry's id; or the group, if ENTRY follows")
        ->required();
    c->add_option("ENTRY", o->second, "the entry's id or its access_to, in GROUP");
  }
  {
    struct Opts {
      std::string group, entry, level;
    };
    auto o = std::make_shared<Opts>();
    auto* c = command(
        "access-group-entry-update", group, "Change the access level of an access group's entry.",
        R"(ENTRY is an entry's id or its access_to, in GROUP. The entry's rule takes the new level on
every share the group is attached to, as one change; it is refused (nothing changes) if another
source grants the same rule on one of those shares at the current level.

  agate access-group-entry-update AG1 10.0.0.0/24 --access-level ro

PUT /v2/access-groups/{id}/entries/{entry_id} {"entry": {"access_level": ...}})",
        [this, o] {
          const auto group_id = resolve_group(o->group);
          std::string entry_id = o->entry;
          auto entries = api().get("access-groups/" + group_id + "/entries");
          for (const auto& e : array_member(entries.body, "entries")) {
            if (text(e, "access_to") == o->entry) entry_id = text(e, "id");
          }
          auto r = api().put("access-groups/" + group_id + "/entries/" + percent_encode(entry_id),
                             {{"entry", {{"access_level", o->level}}}});
          print(r, [&] {
            return list_table(json::array{object_member(r.body, "entry")},
                              {{"ID", "id"},
                               {"Access_type", "access_type"},
                               {"Access_to", "access_to"},
                               {"Access_level", "access_level"}});
          });
          return 0;
        });
    c->add_option("GROUP", o->group, "the group's name or id")->required();
    c->add_option("ENTRY", o->entry, "the entry's id or its access_to")->required();
    c->add_option("--access-level,--access_level", o->level, "rw or ro")->required();
  }
  {
    auto g = std::make_shared<std::string>();
    auto* c = command("access-group-entry-list", group, "List the entries of an access group.",
                      R"(  agate access-group-entry-list AG1

GET /v2/access-groups/{id}/entries/detail)",
                      [this, g] {
                        auto r =
                            api().get("access-groups/" + resolve_group(*g) + "/entries/detail");
                        print(r, [&] {
                          return list_table(array_member(r.body, "entries"),
                                            {{"ID", "id"},
                                             {"access_group_id", "access_group_id"},
                                             {"access_type", "access_type"},
                                             {"access_to", "access_to"},
                                             {"access_level", "access_level"}});
                        });
                        return 0;
                      });
    c->add_option("GROUP", *g, "the group's name or id")->required();
  }
}

void Cli::add_access_commands() {
  const std::string group = "Share access";
  {
    struct Opts {
      std::string share, type, to;
      std::optional<std::string> level;
      std::vector<std::string> metadata;
      bool lock_visibility = false, lock_deletion = false;
      std::optional<std::string> lock_reason;
    };
    auto o = std::make_shared<Opts>();
    auto* c = command(
        "access-allow", group, "Allow access to a share: a rule, or an access group.",
        R"(ACCESS_TYPE is ip, user, cert or cephx for one rule, whose ACCESS_TO is the address, user,
certificate name or cephx id; or access-group to attach a group, whose ACCESS_TO is the group's
name or id (each entry carries its own level, so --access-level does not apply). Prints the rule,
or the group's mapping in the shape of a rule: its id is what access-deny takes.

  agate access-allow "Share 1" ip 10.0.0.0/24 --access-level ro
  agate access-allow "Share 1" access-group AG1
  agate access-allow "Share 1" ip 10.0.0.9 --lock-deletion --lock-visibility --lock-reason db

--lock-deletion (2.82) locks the rule (or the attachment) against access-deny without
--unrestrict, and the share against deletion; --lock-visibility hides access_to and access_key
from those who may not drop the lock; --lock-reason says why.

POST /v2/shares/{id}/action {"allow_access": ...}  ("os-allow_access" before 2.7))",
        [this, o] {
          const auto share_id = resolve_share(o->share);
          json::object a;
          if (o->type == "access-group" || o->type == "access_group") {
            a["access_type"] = "access_group";
            a["access_to"] = resolve_group(o->to);
          } else {
            a["access_type"] = o->type;
            a["access_to"] = o->to;
          }
          if (o->level) a["access_level"] = *o->level;
          if (!o->metadata.empty()) {
            if (minor() < 45) throw UsageError("--metadata needs --api-version 2.45 or later");
            a["metadata"] = key_values(o->metadata, "--metadata");
          }
          if (o->lock_visibility || o->lock_deletion || o->lock_reason) {
            if (minor() < 82) {
              throw UsageError("--lock-deletion, --lock-visibility and --lock-reason need "
                               "--api-version 2.82 or later");
            }
            if (o->lock_deletion) a["lock_deletion"] = true;
            if (o->lock_visibility) a["lock_visibility"] = true;
            if (o->lock_reason) a["lock_reason"] = *o->lock_reason;
          }
          auto r = api().post("shares/" + share_id + "/action", {{action_name("allow_access"), a}});
          print(r, [&] { return render_properties(properties(object_member(r.body, "access"))); });
          return 0;
        });
    c->add_option("SHARE", o->share, "the share's name or id")->required();
    c->add_option("ACCESS_TYPE", o->type, "ip, user, cert, cephx, or access-group")->required();
    c->add_option("ACCESS_TO", o->to, "what to allow: an address, a user, ..., or a group")
        ->required();
    c->add_option("--access-level,--access_level", o->level, "rw (the default) or ro");
    c->add_option("--metadata", o->metadata, "KEY=VALUE metadata of the rule (2.45 and later)");
    c->add_flag("--lock-deletion,--lock_deletion", o->lock_deletion,
                "lock the rule against deletion, and the share with it (2.82)");
    c->add_flag("--lock-visibility,--lock_visibility", o->lock_visibility,
                "hide access_to and access_key from others (2.82)");
    c->add_option("--lock-reason,--lock_reason", o->lock_reason, "why the rule is locked (2.82)");
  }
  {
    struct Opts {
      std::string share;
      std::vector<std::string> ids;
      bool unrestrict = false;
    };
    auto o = std::make_shared<Opts>();
    auto* c = command(
        "access-deny", group, "Deny access to a share: remove a rule, or detach an access group.",
        R"(Each ID is an access rule's id (as access-list shows it), a group mapping's id, or the
name or id of an access group attached to the share. A denied rule stays listed as
queued_to_deny until the back end has removed it; a detached group's rules leave the share unless
another source still grants them. The exit status is 1 if any could not be denied.

  agate access-deny "Share 1" 13a2c9f3-4ab5-4a8e-9a4f-1a0c3b7e5d21
  agate access-deny "Share 1" AG1
  agate access-deny "Share 1" 13a2c9f3-4ab5-4a8e-9a4f-1a0c3b7e5d21 --unrestrict

--unrestrict drops the deletion locks of a locked rule (or attachment) with it, if you may.

POST /v2/shares/{id}/action {"deny_access": {"access_id": ...}}  ("os-deny_access" before 2.7))",
        [this, o] {
          const auto share_id = resolve_share(o->share);
          int status = 0;
          for (const auto& id : o->ids) {
            try {
              json::object d{{"access_id", deny_target(o->share, share_id, id)}};
              if (o->unrestrict) d["unrestrict"] = true;
              api().post("shares/" + share_id + "/action", {{action_name("deny_access"), d}});
            } catch (const ApiError& e) {
              report(e);
              status = 1;
            } catch (const CommandError& e) {
              report(e);
              status = 1;
            }
          }
          return status;
        });
    c->add_option("SHARE", o->share, "the share's name or id")->required();
    c->add_option("ID", o->ids, "rule ids, mapping ids or attached groups")->required();
    c->add_flag("--unrestrict", o->unrestrict, "also drop the rule's deletion locks (2.82)");
  }
  {
    struct Opts {
      std::string id, level;
    };
    auto o = std::make_shared<Opts>();
    auto* c = command(
        "access-update", group, "Change the access level of an access rule (2.88 and later).",
        R"(ID is the rule's id, as access-list shows it. The rule keeps its id and metadata; it shows as
queued_to_update, then updating, until its back ends have the new level (active), or error. A
rule that attaches an access group has no level of its own (change its entries' instead), and a
level another source grants the same rule at on the share is refused.

  agate access-update 13a2c9f3-4ab5-4a8e-9a4f-1a0c3b7e5d21 --access-level ro

PUT /v2/share-access-rules/{id} {"update_access": {"access_level": ...}})",
        [this, o] {
          if (minor() < 88) throw UsageError("access-update needs --api-version 2.88 or later");
          auto r = api().put("share-access-rules/" + percent_encode(o->id),
                             {{"update_access", {{"access_level", o->level}}}});
          print(r, [&] { return render_properties(properties(object_member(r.body, "access"))); });
          return 0;
        });
    c->add_option("ID", o->id, "the rule's id")->required();
    c->add_option("--access-level,--access_level", o->level, "rw or ro")->required();
  }
  {
    auto share = std::make_shared<std::string>();
    auto* c = command(
        "access-list", group, "List a share's access rules and attached access groups.",
        R"(Attached groups are listed as rules of type access_group whose access_to is the group's id.
state is the rule's progress to the back end (queued_to_apply, applying, queued_to_update,
updating, active, error, queued_to_deny, denying); access_key appears from 2.21, the times from 2.33.

  agate access-list "Share 1"

GET /v2/share-access-rules?share_id=S (2.45 and later),
POST /v2/shares/{id}/action {"access_list": null} before)",
        [this, share] {
          Reply r;
          const auto rules = access_rules(resolve_share(*share), r);
          std::vector<Column> columns = {{"id", "id"},
                                         {"access_type", "access_type"},
                                         {"access_to", "access_to"},
                                         {"access_level", "access_level"},
                                         {"state", "state"}};
          if (minor() >= 21) columns.push_back({"access_key", "access_key"});
          if (minor() >= 33) {
            columns.push_back({"created_at", "created_at"});
            columns.push_back({"updated_at", "updated_at"});
          }
          print(r, [&] { return list_table(rules, columns); });
          return 0;
        });
    c->add_option("SHARE", *share, "the share's name or id")->required();
  }
  {
    auto share = std::make_shared<std::string>();
    auto* c = command(
        "access-sync", group, "Apply a share's access again on its back ends.",
        R"(Every instance of the share is reconciled again with its whole rule set; this is how a
share whose access_rules_status is error after a partial failure is retried. Meanwhile the
share's access_rules_status is syncing.

  agate access-sync "Share 1"

POST /v2/shares/{id}/action {"access_sync": {}})",
        [this, share] {
          api().post("shares/" + resolve_share(*share) + "/action",
                     {{"access_sync", json::object{}}});
          return 0;
        });
    c->add_option("SHARE", *share, "the share's name or id")->required();
  }
  {
    auto share = std::make_shared<std::string>();
    auto* c = command(
        "effective-access", group, "Show what a share's back ends are asked to enforce.",
        R"(The share's effective rules, the union of its own rules and of its attached groups' entries,
each with its state and its sources; then each instance with what its back end last reported.
access_to is the rule's identity (for ip the canonical network, 10.0.0.1 -> 10.0.0.1/32).

  agate effective-access "Share 1"

GET /v2/shares/{id}/effective-access)",
        [this, share] {
          const auto share_id = resolve_share(*share);
          auto r = api().get("shares/" + share_id + "/effective-access");
          print(r, [&] {
            const auto& e = object_member(r.body, "effective_access");
            std::string out = render_properties(properties(e, {"rules", "instances"}));
            std::map<std::string, std::string> group_names;
            bool has_group = false;
            for (const auto& rule : e.at("rules").as_array()) {
              for (const auto& s : rule.at("sources").as_array()) {
                has_group = has_group || text(s, "type") == "access_group";
              }
            }
            if (has_group) {
              for (const auto& g : groups({{"share_id", share_id}, {"all_tenants", "1"}})) {
                group_names[text(g, "id")] = text(g, "name");
              }
            }
            Table rules{
                {"access_type", "access_to", "access_level", "state", "access_key", "sources"}, {}};
            for (const auto& rule : e.at("rules").as_array()) {
              std::string sources;
              for (const auto& s : rule.at("sources").as_array()) {
                if (!sources.empty()) sources += '\n';
                if (text(s, "type") == "rule") {
                  sources += fmt::format("rule {}", text(s, "rule_id"));
                } else {
                  const auto id = text(s, "access_group_id");
                  const auto name = group_names.count(id) ? group_names[id] : id;
                  sources += fmt::format("access group {} entry {}", name, text(s, "entry_id"));
                }
              }
              rules.rows.push_back({cell(rule, "access_type"), cell(rule, "access_to"),
                                    cell(rule, "access_level"), cell(rule, "state"),
                                    cell(rule, "access_key"), sources});
            }
            out += render(rules);
            out += list_table(e.at("instances").as_array(),
                              {{"instance", "id"},
                               {"host", "host"},
                               {"status", "status"},
                               {"access_rules_status", "access_rules_status"},
                               {"access_status_message", "access_status_message"},
                               {"applied_version", "applied_version"}});
            return out;
          });
          return 0;
        });
    c->add_option("SHARE", *share, "the share's name or id")->required();
  }
}

void Cli::add_share_commands() {
  const std::string group = "Shares";
  auto share_table = [](const json::object& share, const json::value* locations) {
    auto props = properties(share, {"links"});
    if (locations) {
      std::string lines;
      for (const auto& l : locations->as_array()) {
        for (const char* key : {"path", "preferred", "id"}) {
          if (!l.as_object().contains(key)) continue;
          if (!lines.empty()) lines += '\n';
          lines += fmt::format("{} = {}", key, cell(l, key));
        }
      }
      std::erase_if(props, [](const auto& p) { return p.first == "export_locations"; });
      props.emplace_back("export_locations", lines);
      std::sort(props.begin(), props.end());
    }
    return render_properties(props);
  };
  {
    struct Opts {
      std::string proto, name, description, type, zone;
      int size = 0;
      std::vector<std::string> metadata;
      bool is_public = false;
    };
    auto o = std::make_shared<Opts>();
    auto* c = command(
        "create", group, "Create a share.",
        R"(SHARE_PROTO is NFS, CIFS, GLUSTERFS, HDFS, CEPHFS or MAPRFS; SIZE is in GiB. Without
--share-type the type named "default" is used. The share is placed on the back end its type
names (share_backend_name), or the default back end. Prints the share.

  agate create NFS 1 --name "Share 1"
  agate create CIFS 10 --name finance --share-type gold --metadata env=prod

POST /v2/shares)",
        [this, o, share_table] {
          json::object s{{"share_proto", o->proto}, {"size", o->size}};
          if (!o->name.empty()) s["name"] = o->name;
          if (!o->description.empty()) s["description"] = o->description;
          if (!o->type.empty()) s["share_type"] = o->type;
          if (!o->zone.empty()) s["availability_zone"] = o->zone;
          if (o->is_public) s["is_public"] = true;
          if (!o->metadata.empty()) s["metadata"] = key_values(o->metadata, "--metadata");
          auto r = api().post("shares", {{"share", s}});
          print(r, [&] { return share_table(object_member(r.body, "share"), nullptr); });
          return 0;
        });
    c->add_option("SHARE_PROTO", o->proto, "the protocol: NFS, CIFS, ...")->required();
    c->add_option("SIZE", o->size, "the size in GiB")->required();
    c->add_option("--name", o->name, "the share's name");
    c->add_option("--description", o->description, "a description");
    c->add_option("--share-type,--share_type", o->type, "the share type's name or id");
    c->add_option("--metadata", o->metadata, "KEY=VALUE metadata of the share");
    c->add_option("--availability-zone", o->zone, "recorded as given");
    c->add_flag("--public", o->is_public, "record the share as public");
  }
  {
    struct Opts {
      std::string access_group, name, status;
      bool all_tenants = false;
    };
    auto o = std::make_shared<Opts>();
    auto* c = command("list", group, "List shares.",
                      R"(  agate list
  agate list --access-group AG1     the shares AG1 is attached to

GET /v2/shares/detail[?access_group=G])",
                      [this, o] {
                        Query q;
                        if (!o->access_group.empty()) {
                          q.emplace_back("access_group", resolve_group(o->access_group));
                        }
                        if (!o->name.empty()) q.emplace_back("name", o->name);
                        if (!o->status.empty()) q.emplace_back("status", o->status);
                        if (o->all_tenants) q.emplace_back("all_tenants", "1");
                        auto r = api().get("shares/detail", q);
                        print(r, [&] {
                          return list_table(array_member(r.body, "shares"),
                                            {{"ID", "id"},
                                             {"Name", "name"},
                                             {"Size", "size"},
                                             {"Share Proto", "share_proto"},
                                             {"Status", "status"},
                                             {"Is Public", "is_public"},
                                             {"Share Type Name", "share_type_name"},
                                             {"Host", "host"},
                                             {"Availability Zone", "availability_zone"}});
                        });
                        return 0;
                      });
    c->add_option("--access-group,--access_group", o->access_group,
                  "only the shares this access group (name or id) is attached to");
    c->add_option("--name", o->name, "only the shares of this name");
    c->add_option("--status", o->status, "only the shares in this status");
    c->add_flag("--all-tenants", o->all_tenants, "every project's shares (administrators)");
  }
  {
    auto share = std::make_shared<std::string>();
    auto* c = command(
        "show", group, "Show a share.",
        R"(From 2.9 the export locations come from their own endpoint and are shown with the share.

  agate show "Share 1"

GET /v2/shares/{id}, GET /v2/shares/{id}/export_locations)",
        [this, share, share_table] {
          const auto id = resolve_share(*share);
          auto r = api().get("shares/" + id);
          print(r, [&] {
            std::optional<Reply> locations;
            if (minor() >= 9) locations = api().get("shares/" + id + "/export_locations");
            return share_table(object_member(r.body, "share"),
                               locations ? &member(locations->body, "export_locations") : nullptr);
          });
          return 0;
        });
    c->add_option("SHARE", *share, "the share's name or id")->required();
  }
  {
    auto shares = std::make_shared<std::vector<std::string>>();
    auto* c = command(
        "delete", group, "Delete shares.",
        R"(The share, its access rules and its group attachments are gone. Each share is deleted on
its own; the exit status is 1 if any could not be.

  agate delete "Share 1"

DELETE /v2/shares/{id})",
        [this, shares] {
          int status = 0;
          for (const auto& s : *shares) {
            try {
              api().del("shares/" + resolve_share(s));
            } catch (const ApiError& e) {
              report(e);
              status = 1;
            } catch (const CommandError& e) {
              report(e);
              status = 1;
            }
          }
          return status;
        });
    c->add_option("SHARE", *shares, "the shares' names or ids")->required();
  }
}

void Cli::add_type_commands() {
  const std::string group = "Share types";
  {
    struct Opts {
      std::string name, dhss = "false", description;
      std::vector<std::string> specs;
      bool is_public = true;
    };
    auto o = std::make_shared<Opts>();
    auto* c = command(
        "type-create", group, "Create a share type (administrators).",
        R"(SPEC_DRIVER_HANDLES_SHARE_SERVERS is the driver_handles_share_servers extra spec; Agate's
back ends need false. share_backend_name=NAME among --extra-specs places the type's shares on
that back end. A type named "default" is used by create without --share-type.

  agate type-create default
  agate type-create gold false --extra-specs share_backend_name=nfs1 snapshot_support=False

POST /v2/types)",
        [this, o] {
          auto specs = key_values(o->specs, "--extra-specs");
          specs["driver_handles_share_servers"] = o->dhss;
          json::object t{{"name", o->name}, {"extra_specs", specs}};
          t[minor() >= 7 ? "share_type_access:is_public" : "os-share-type-access:is_public"] =
              o->is_public;
          if (!o->description.empty()) t["description"] = o->description;
          auto r = api().post("types", {{"share_type", t}});
          print(r, [&] { return types_table({&object_member(r.body, "share_type")}); });
          return 0;
        });
    c->add_option("NAME", o->name, "the type's name")->required();
    c->add_option("SPEC_DRIVER_HANDLES_SHARE_SERVERS", o->dhss, "true or false")
        ->capture_default_str();
    c->add_option("--extra-specs,--extra_specs", o->specs, "KEY=VALUE extra specs");
    c->add_option("--is-public,--is_public", o->is_public, "true or false")->capture_default_str();
    c->add_option("--description", o->description, "a description (2.41 and later)");
  }
  {
    auto all = std::make_shared<bool>(false);
    auto* c =
        command("type-list", group, "List share types.",
                R"(Members see the public types; administrators see the private ones too with --all.

  agate type-list

GET /v2/types[?is_public=all])",
                [this, all] {
                  Query q;
                  if (*all) q.emplace_back("is_public", "all");
                  auto r = api().get("types", q);
                  print(r, [&] {
                    std::vector<const json::object*> types;
                    for (const auto& t : array_member(r.body, "share_types")) {
                      types.push_back(&t.as_object());
                    }
                    return types_table(types);
                  });
                  return 0;
                });
    c->add_flag("--all", *all, "public and private types (administrators)");
  }
  {
    auto types = std::make_shared<std::vector<std::string>>();
    auto* c = command(
        "type-delete", group, "Delete share types (administrators).",
        R"(A type that shares still have is refused. The exit status is 1 if any could not be deleted.

  agate type-delete gold

DELETE /v2/types/{id})",
        [this, types] {
          int status = 0;
          for (const auto& t : *types) {
            try {
              api().del("types/" + resolve_type(t));
            } catch (const ApiError& e) {
              report(e);
              status = 1;
            } catch (const CommandError& e) {
              report(e);
              status = 1;
            }
          }
          return status;
        });
    c->add_option("TYPE", *types, "the types' names or ids")->required();
  }
}

}  // namespace

void Cli::add_lock_commands() {
  const std::string group = "Resource locks";
  const std::vector<Column> columns = {{"id", "id"},
                                       {"resource_id", "resource_id"},
                                       {"resource_type", "resource_type"},
                                       {"resource_action", "resource_action"},
                                       {"lock_context", "lock_context"},
                                       {"lock_reason", "lock_reason"},
                                       {"created_at", "created_at"}};
  auto need_locks = [this] {
    if (minor() < 81) throw UsageError("resource locks need --api-version 2.81 or later");
  };
  auto show_lock = [this](const Reply& r) {
    print(r, [&] { return render_properties(properties(object_member(r.body, "resource_lock"))); });
  };
  {
    struct Opts {
      std::string resource, type = "share", action = "delete";
      std::optional<std::string> reason;
    };
    auto o = std::make_shared<Opts>();
    auto* c = command(
        "lock-create", group, "Lock an action on a share, an access rule or an access group.",
        R"(RESOURCE is a share's name or id, an access rule's id (or an attached group's mapping id),
or an access group's name or id, as --resource-type says. A deletion lock refuses deleting the
share (also to the recycle bin), denying the rule, or deleting the group; a visibility lock
(--resource-action show, access rules only) hides the rule's access_to and access_key from
those who may not drop the lock.

  agate lock-create "Share 1" --reason "nightly backup"
  agate lock-create 13a2c9f3-4ab5-4a8e-9a4f-1a0c3b7e5d21 --resource-type access_rule \
      --resource-action show

POST /v2/resource-locks (2.81 and later))",
        [this, o, need_locks, show_lock] {
          need_locks();
          std::string id = o->resource;
          if (o->type == "share") id = resolve_share(o->resource);
          if (o->type == "access_group") id = resolve_group(o->resource);
          json::object l{{"resource_id", id},
                         {"resource_type", o->type},
                         {"resource_action", o->action}};
          if (o->reason) l["lock_reason"] = *o->reason;
          show_lock(api().post("resource-locks", {{"resource_lock", l}}));
          return 0;
        });
    c->add_option("RESOURCE", o->resource, "what to lock")->required();
    c->add_option("--resource-type,--resource_type", o->type,
                  "share (the default), access_rule or access_group")
        ->check(CLI::IsMember({"share", "access_rule", "access_group"}));
    c->add_option("--resource-action,--resource_action", o->action,
                  "delete (the default) or show");
    c->add_option("--reason,--lock-reason", o->reason, "why (at most 1023 characters)");
  }
  {
    struct Opts {
      std::optional<std::string> resource, type, action, context, reason;
      bool all_projects = false;
      std::optional<int> limit, offset;
      std::optional<std::string> sort_key, sort_dir;
    };
    auto o = std::make_shared<Opts>();
    auto* c = command(
        "lock-list", group, "List resource locks.",
        R"(Your project's locks, the newest first; an administrator may ask for every project's.

  agate lock-list --resource-type share
  agate lock-list --all-projects --limit 10

GET /v2/resource-locks (2.81 and later))",
        [this, o, columns, need_locks] {
          need_locks();
          Query q;
          if (o->resource) q.emplace_back("resource_id", *o->resource);
          if (o->type) q.emplace_back("resource_type", *o->type);
          if (o->action) q.emplace_back("resource_action", *o->action);
          if (o->context) q.emplace_back("lock_context", *o->context);
          if (o->reason) q.emplace_back("lock_reason~", *o->reason);
          if (o->all_projects) q.emplace_back("all_projects", "true");
          if (o->limit) q.emplace_back("limit", std::to_string(*o->limit));
          if (o->offset) q.emplace_back("offset", std::to_string(*o->offset));
          if (o->sort_key) q.emplace_back("sort_key", *o->sort_key);
          if (o->sort_dir) q.emplace_back("sort_dir", *o->sort_dir);
          auto r = api().get("resource-locks", q);
          print(r, [&] { return list_table(array_member(r.body, "resource_locks"), columns); });
          return 0;
        });
    c->add_option("--resource-id,--resource_id", o->resource, "locks of this resource id");
    c->add_option("--resource-type,--resource_type", o->type, "share, access_rule, access_group");
    c->add_option("--resource-action,--resource_action", o->action, "delete or show");
    c->add_option("--lock-context,--lock_context", o->context, "user, admin or service");
    c->add_option("--reason", o->reason, "locks whose reason contains this text");
    c->add_flag("--all-projects,--all_projects", o->all_projects, "every project's (admin)");
    c->add_option("--limit", o->limit, "at most this many");
    c->add_option("--offset", o->offset, "skip this many");
    c->add_option("--sort-key,--sort_key", o->sort_key, "created_at (the default), ...");
    c->add_option("--sort-dir,--sort_dir", o->sort_dir, "desc (the default) or asc");
  }
  {
    auto id = std::make_shared<std::string>();
    auto* c = command("lock-show", group, "Show a resource lock.",
                      "  agate lock-show LOCK_ID\n\nGET /v2/resource-locks/{id} (2.81 and later)",
                      [this, id, need_locks, show_lock] {
                        need_locks();
                        show_lock(api().get("resource-locks/" + percent_encode(*id)));
                        return 0;
                      });
    c->add_option("LOCK", *id, "the lock's id")->required();
  }
  {
    struct Opts {
      std::string id;
      std::optional<std::string> action, reason;
    };
    auto o = std::make_shared<Opts>();
    auto* c = command(
        "lock-update", group, "Change a resource lock's action or reason.",
        R"(Only the action and the reason change; a lock placed by an administrator is changed only by
an administrator, one placed by a service not by a user.

  agate lock-update LOCK_ID --reason "kept for the audit"

PUT /v2/resource-locks/{id} (2.81 and later))",
        [this, o, need_locks, show_lock] {
          need_locks();
          json::object l;
          if (o->action) l["resource_action"] = *o->action;
          if (o->reason) l["lock_reason"] = *o->reason;
          if (l.empty()) throw UsageError("give --resource-action or --reason");
          show_lock(api().put("resource-locks/" + percent_encode(o->id), {{"resource_lock", l}}));
          return 0;
        });
    c->add_option("LOCK", o->id, "the lock's id")->required();
    c->add_option("--resource-action,--resource_action", o->action, "delete or show");
    c->add_option("--reason,--lock-reason", o->reason, "why");
  }
  {
    auto ids = std::make_shared<std::vector<std::string>>();
    auto* c = command("lock-delete", group, "Delete resource locks.",
                      "The exit status is 1 if any could not be deleted.\n\n"
                      "  agate lock-delete LOCK_ID\n\n"
                      "DELETE /v2/resource-locks/{id} (2.81 and later)",
                      [this, ids, need_locks] {
                        need_locks();
                        int status = 0;
                        for (const auto& id : *ids) {
                          try {
                            api().del("resource-locks/" + percent_encode(id));
                          } catch (const ApiError& e) {
                            report(e);
                            status = 1;
                          }
                        }
                        return status;
                      });
    c->add_option("LOCK", *ids, "lock ids")->required();
  }
}

int run(int argc, const char* const* argv, std::ostream& out, std::ostream& err) {
  Cli cli(out, err);
  return cli.run(argc, argv);
}

}  // namespace agate::cli
