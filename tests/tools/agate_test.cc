// Integration: the real agate binary against the real agated on a free loopback port. Every
// command, its table and its --json output, its exit status and its error messages.

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/json.hpp>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

#include "tests/support/http_client.h"
#include "tests/support/server_process.h"
#include "tests/support/temp_dir.h"

namespace agate {
namespace {

namespace json = boost::json;
using testing::ServerProcess;

const std::filesystem::path kAgated = AGATE_AGATED_PATH;
const std::filesystem::path kAgate = AGATE_CLI_PATH;
const std::string kAlice = "alice:project-a";
const std::string kMallory = "mallory:project-b";
const std::string kAdmin = "admin:admin-project:admin";

struct Result {
  int status = -1;
  std::string out, err;
};

std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Runs agate with `args` and exactly the environment `env` (plus PATH), its standard output and
// error kept apart.
Result run_agate(const std::filesystem::path& dir, const std::vector<std::string>& args,
                 const std::map<std::string, std::string>& env = {}) {
  const auto out_file = dir / "agate.out";
  const auto err_file = dir / "agate.err";
  const pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    const int out = ::open(out_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    const int err = ::open(err_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (out < 0 || err < 0) ::_exit(126);
    ::dup2(out, STDOUT_FILENO);
    ::dup2(err, STDERR_FILENO);
    std::vector<std::string> strings = {kAgate.string()};
    strings.insert(strings.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& s : strings) argv.push_back(s.data());
    argv.push_back(nullptr);
    std::vector<std::string> env_strings = {"PATH=/usr/bin:/bin"};
    for (const auto& [k, v] : env) env_strings.push_back(k + "=" + v);
    std::vector<char*> envp;
    for (auto& s : env_strings) envp.push_back(s.data());
    envp.push_back(nullptr);
    ::execve(argv[0], argv.data(), envp.data());
    ::_exit(127);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  Result r;
  r.status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  r.out = slurp(out_file);
  r.err = slurp(err_file);
  return r;
}

// The cells of the table row whose first cell is `first`, or empty if there is none.
std::vector<std::string> row(const std::string& table, const std::string& first) {
  std::istringstream in(table);
  for (std::string line; std::getline(in, line);) {
    if (line.size() < 2 || line[0] != '|') continue;
    std::vector<std::string> cells;
    std::size_t start = 1;
    while (true) {
      const auto end = line.find('|', start);
      if (end == std::string::npos) break;
      auto cell = line.substr(start, end - start);
      cell.erase(0, cell.find_first_not_of(' '));
      cell.erase(cell.find_last_not_of(' ') + 1);
      cells.push_back(cell);
      start = end + 1;
    }
    if (!cells.empty() && cells[0] == first) return cells;
  }
  return {};
}

// The value of `property` in a Property | Value table.
std::string property(const std::string& table, const std::string& name) {
  auto cells = row(table, name);
  return cells.size() == 2 ? cells[1] : "<no " + name + ">";
}

// How many lines a table has below its header (a row of several lines counts each).
std::size_t row_count(const std::string& table) {
  std::size_t rules = 0, rows = 0;
  std::istringstream in(table);
  for (std::string line; std::getline(in, line);) {
    if (line.starts_with("+")) ++rules;
    if (line.starts_with("|") && rules == 2) ++rows;
  }
  return rows;
}

// The ERROR line agate prints for a refusal from agated.
::testing::AssertionResult server_error(const Result& r, unsigned status,
                                        const std::string& message) {
  const std::regex pattern(
      "ERROR: " + std::regex_replace(message, std::regex(R"([.^$|()\[\]{}*+?\\])"), R"(\$&)") +
      " \\(HTTP " + std::to_string(status) + "\\) \\(Request-ID: req-[0-9a-f-]{36}\\)\n");
  if (r.status != 1) return ::testing::AssertionFailure() << "exit " << r.status << ": " << r.err;
  if (!std::regex_match(r.err, pattern)) return ::testing::AssertionFailure() << r.err;
  if (!r.out.empty()) return ::testing::AssertionFailure() << "printed " << r.out;
  return ::testing::AssertionSuccess();
}

class AgateTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto args = server_args();
    args.insert(args.end(), {"--durability", "nosync"});
    server_.emplace(kAgated, dir_.path() / "data", args);
    url_ = "http://127.0.0.1:" + std::to_string(server_->port());
    auto r = as(kAdmin, {"type-create", "default"});
    ASSERT_EQ(r.status, 0) << r.err;
  }

  virtual std::vector<std::string> server_args() { return {}; }

  Result as(const std::string& token, std::vector<std::string> args) {
    args.insert(args.begin(), {"--url", url_, "--token", token});
    return run_agate(dir_.path(), args);
  }
  Result alice(std::vector<std::string> args) { return as(kAlice, std::move(args)); }

  // Runs a command that must succeed and returns what it printed.
  std::string ok(std::vector<std::string> args, const std::string& token = kAlice) {
    auto r = as(token, args);
    EXPECT_EQ(r.status, 0) << args[0] << ": " << r.err;
    EXPECT_EQ(r.err, "") << args[0];
    return r.out;
  }

  json::value ok_json(std::vector<std::string> args, const std::string& token = kAlice) {
    args.push_back("--json");
    const auto out = ok(args, token);
    boost::system::error_code ec;
    auto v = json::parse(out, ec);
    EXPECT_FALSE(ec) << out;
    return v;
  }

  std::string create_share(const std::string& name) {
    return property(ok({"create", "NFS", "1", "--name", name}), "id");
  }
  std::string create_group(const std::string& name, const std::string& type) {
    return property(ok({"access-group-create", name, "--access-type", type}), "id");
  }

  // Waits until the share's access_rules_status is `status` (the back end has answered).
  void settle(const std::string& share, const std::string& status = "active") {
    for (int i = 0; i < 400; ++i) {
      if (property(ok({"effective-access", share}), "access_rules_status") == status) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    FAIL() << "share " << share << " never became " << status;
  }

  testing::TempDir dir_;
  std::optional<ServerProcess> server_;
  std::string url_;
};

const std::vector<std::string> kCommands = {"access-group-create",
                                            "access-group-list",
                                            "access-group-show",
                                            "access-group-update",
                                            "access-group-delete",
                                            "access-group-entry-create",
                                            "access-group-entry-delete",
                                            "access-group-entry-list",
                                            "access-group-entry-update",
                                            "access-allow",
                                            "access-update",
                                            "access-deny",
                                            "access-list",
                                            "access-sync",
                                            "effective-access",
                                            "create",
                                            "list",
                                            "show",
                                            "delete",
                                            "type-create",
                                            "type-list",
                                            "type-delete",
                                            "lock-create",
                                            "lock-list",
                                            "lock-show",
                                            "lock-update",
                                            "lock-delete"};

TEST(AgateHelp, EveryCommandHasHelpWithUsageAndTheRequestItMakes) {
  testing::TempDir dir;
  auto top = run_agate(dir.path(), {"--help"});
  EXPECT_EQ(top.status, 0);
  for (const auto& section : {"ENVIRONMENT", "EXIT STATUS", "AGATE_URL", "OS_TOKEN"}) {
    EXPECT_NE(top.out.find(section), std::string::npos) << section;
  }
  for (const auto& c : kCommands) {
    EXPECT_NE(top.out.find("  " + c + " "), std::string::npos) << c;
    auto r = run_agate(dir.path(), {c, "--help"});
    EXPECT_EQ(r.status, 0) << c;
    EXPECT_NE(r.out.find("Usage: agate " + c), std::string::npos) << c << r.out;
    EXPECT_TRUE(std::regex_search(r.out, std::regex("(GET|POST|PUT|DELETE) /v2/"))) << c;
    EXPECT_NE(r.out.find("  agate " + c), std::string::npos) << c << ": no example";
  }
}

TEST_F(AgateTest, TypeCreateListAndDelete) {
  auto out = ok({"type-create", "gold", "false", "--extra-specs", "snapshot_support=False",
                 "--description", "Gold tier"},
                kAdmin);
  EXPECT_EQ(row(out, "ID"), (std::vector<std::string>{"ID", "Name", "visibility", "is_default",
                                                      "required_extra_specs",
                                                      "optional_extra_specs", "Description"}));
  const auto list = ok({"type-list", "--all"}, kAdmin);
  EXPECT_EQ(row_count(list), 2u) << list;
  auto json = ok_json({"type-list"});
  ASSERT_EQ(json.at("share_types").as_array().size(), 2u);
  const auto gold_id = std::string(json.at("share_types").at(1).at("id").as_string());
  auto g = row(list, gold_id);
  ASSERT_EQ(g.size(), 7u) << list;
  EXPECT_EQ(g[1], "gold");
  EXPECT_EQ(g[2], "public");
  EXPECT_EQ(g[3], "-");
  EXPECT_EQ(g[4], "driver_handles_share_servers : false");
  EXPECT_EQ(g[5], "snapshot_support : False");
  EXPECT_EQ(g[6], "Gold tier");
  EXPECT_EQ(row(list, std::string(json.at("share_types").at(0).at("id").as_string()))[3], "YES");

  EXPECT_TRUE(server_error(alice({"type-create", "silver"}), 403,
                           "Policy doesn't allow share_type:create to be performed."));
  EXPECT_EQ(ok({"type-delete", "gold"}, kAdmin), "");
  EXPECT_EQ(row_count(ok({"type-list", "--all"}, kAdmin)), 1u);
  auto r = as(kAdmin, {"type-delete", "gold"});
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.err, "ERROR: No share type with a name or id of 'gold' exists.\n");
}

TEST_F(AgateTest, CreateShowListAndDeleteShares) {
  auto created = ok({"create", "NFS", "1", "--name", "Share 1", "--description", "first",
                     "--metadata", "env=prod"});
  const auto id = property(created, "id");
  EXPECT_EQ(property(created, "name"), "Share 1");
  EXPECT_EQ(property(created, "status"), "available");
  EXPECT_EQ(property(created, "share_proto"), "NFS");
  EXPECT_EQ(property(created, "size"), "1");
  EXPECT_EQ(property(created, "description"), "first");
  EXPECT_EQ(property(created, "share_type_name"), "default");
  EXPECT_EQ(property(created, "metadata"), R"({"env":"prod"})");
  EXPECT_TRUE(row(created, "links").empty());

  auto shown = ok({"show", "Share 1"});
  EXPECT_EQ(property(shown, "id"), id);
  EXPECT_EQ(property(shown, "export_locations"), "path = default:/shares/share-" + id);
  EXPECT_EQ(ok({"show", id}), shown);

  create_share("share2");
  auto list = ok({"list"});
  EXPECT_EQ(row(list, "ID"),
            (std::vector<std::string>{"ID", "Name", "Size", "Share Proto", "Status", "Is Public",
                                      "Share Type Name", "Host", "Availability Zone"}));
  EXPECT_EQ(row_count(list), 2u);
  EXPECT_EQ(row(list, id), (std::vector<std::string>{id, "Share 1", "1", "NFS", "available",
                                                     "False", "default", "", "None"}));
  // An administrator sees other projects' shares with --all-tenants, and their hosts.
  EXPECT_EQ(row_count(ok({"list"}, kAdmin)), 0u);
  auto all = row(ok({"list", "--all-tenants"}, kAdmin), id);
  ASSERT_EQ(all.size(), 9u);
  EXPECT_EQ(all[7], "default");
  EXPECT_EQ(row_count(ok({"list", "--name", "share2"})), 1u);

  EXPECT_EQ(ok({"delete", "Share 1", "share2"}), "");
  EXPECT_EQ(row_count(ok({"list"})), 0u);
  auto r = alice({"show", "Share 1"});
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.err, "ERROR: No share with a name or id of 'Share 1' exists.\n");
  EXPECT_TRUE(server_error(alice({"show", id}), 404, "Share " + id + " could not be found."));
}

TEST_F(AgateTest, CreateRefusedByTheServerPrintsItsMessage) {
  EXPECT_TRUE(server_error(alice({"create", "NFSv9", "1"}), 400,
                           "Invalid share protocol provided: NFSv9. Supported protocols: NFS, "
                           "CIFS, GLUSTERFS, HDFS, CEPHFS, MAPRFS."));
  EXPECT_TRUE(server_error(alice({"create", "NFS", "1", "--share-type", "platinum"}), 404,
                           "Share type platinum could not be found."));
}

TEST_F(AgateTest, DeleteGoesOnPastAFailureAndExitsOne) {
  create_share("a");
  create_share("b");
  auto r = alice({"delete", "a", "nosuch", "b"});
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.err, "ERROR: No share with a name or id of 'nosuch' exists.\n");
  EXPECT_EQ(row_count(ok({"list"})), 0u);
}

TEST_F(AgateTest, AccessGroupCreateShowUpdateListDelete) {
  auto created = ok({"access-group-create", "AG1", "--description", "First Access Group",
                     "--access_type", "user"});
  const auto id = property(created, "id");
  EXPECT_EQ(property(created, "name"), "AG1");
  EXPECT_EQ(property(created, "access_type"), "user");
  EXPECT_EQ(property(created, "description"), "First Access Group");
  EXPECT_EQ(property(created, "entry_count"), "0");
  EXPECT_EQ(property(created, "project_id"), "project-a");
  EXPECT_EQ(property(created, "updated_at"), "None");
  EXPECT_TRUE(std::regex_match(property(created, "created_at"),
                               std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6})")));
  // Properties are sorted, as manilaclient prints an object.
  EXPECT_LT(created.find("| access_type"), created.find("| created_at"));
  EXPECT_LT(created.find("| id "), created.find("| name "));

  create_group("AG2", "ip");
  auto list = ok({"access-group-list"});
  EXPECT_EQ(row(list, "ID"), (std::vector<std::string>{"ID", "Name", "Type", "Description"}));
  EXPECT_EQ(row(list, id), (std::vector<std::string>{id, "AG1", "user", "First Access Group"}));
  EXPECT_EQ(row_count(list), 2u);

  auto updated = ok({"access-group-update", "AG1", "--description", "Web servers"});
  EXPECT_EQ(property(updated, "description"), "Web servers");
  EXPECT_NE(property(updated, "updated_at"), "None");
  updated = ok({"access-group-update", id, "--name", "web"});
  EXPECT_EQ(property(updated, "name"), "web");
  EXPECT_EQ(property(ok({"access-group-show", "web"}), "description"), "Web servers");

  EXPECT_EQ(ok({"access-group-delete", "web", "AG2"}), "");
  EXPECT_EQ(row_count(ok({"access-group-list"})), 0u);
  EXPECT_TRUE(server_error(alice({"access-group-show", id}), 404,
                           "Access group " + id + " could not be found."));
  auto r = alice({"access-group-show", "web"});
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.err, "ERROR: No access group with a name or id of 'web' exists.\n");
}

TEST_F(AgateTest, AccessGroupRefusalsPrintTheServersMessage) {
  create_group("AG1", "user");
  EXPECT_TRUE(server_error(alice({"access-group-create", "AG1", "--access-type", "user"}), 409,
                           "Access group named 'AG1' already exists."));
  EXPECT_TRUE(server_error(alice({"access-group-create", "AG3", "--access-type", "bogus"}), 400,
                           "Only 'ip', 'user', 'cert' or 'cephx' access types are supported."));
}

TEST_F(AgateTest, EntriesCreateListShowAndDelete) {
  const auto group = create_group("AG1", "user");
  auto created = ok({"access-group-entry-create", "AG1", "user", "admin", "rw"});
  EXPECT_EQ(row(created, "ID"),
            (std::vector<std::string>{"ID", "Access_type", "Access_to", "Access_level"}));
  EXPECT_EQ(row_count(created), 1u);
  created = ok({"access-group-entry-create", group, "user", "demo", "--access-level", "ro"});
  auto json = ok_json({"access-group-entry-create", "AG1", "user", "guest"});
  EXPECT_EQ(json.at("entry").at("access_level"), "rw");
  const std::string guest(json.at("entry").at("id").as_string());

  auto list = ok({"access-group-entry-list", "AG1"});
  EXPECT_EQ(row(list, "ID"), (std::vector<std::string>{"ID", "access_group_id", "access_type",
                                                       "access_to", "access_level"}));
  EXPECT_EQ(row_count(list), 3u);
  EXPECT_EQ(row(list, guest), (std::vector<std::string>{guest, group, "user", "guest", "rw"}));

  auto shown = ok({"access-group-show", "AG1"});
  EXPECT_EQ(property(shown, "entry_count"), "3");
  EXPECT_NE(shown.find("| demo ro ("), std::string::npos) << shown;
  EXPECT_EQ(
      ok_json({"access-group-show", "AG1"}).at("access-group").at("entries").as_array().size(), 3u);

  EXPECT_TRUE(server_error(alice({"access-group-entry-create", "AG1", "ip", "10.0.0.1"}), 400,
                           "Access group " + group +
                               " holds 'user' entries; an entry of type 'ip' cannot be added to "
                               "it."));

  // By access_to within the group, and by id alone.
  EXPECT_EQ(ok({"access-group-entry-delete", "AG1", "demo"}), "");
  EXPECT_EQ(ok({"access-group-entry-delete", guest}), "");
  list = ok({"access-group-entry-list", "AG1"});
  EXPECT_EQ(row_count(list), 1u);
  EXPECT_EQ(row(list, "ID").size(), 5u);
  EXPECT_NE(list.find("| admin "), std::string::npos) << list;
  auto r = alice({"access-group-entry-delete", guest});
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.err, "ERROR: No access group holds an entry with the id '" + guest + "'.\n");
  EXPECT_TRUE(server_error(alice({"access-group-entry-delete", "AG1", guest}), 404,
                           "Access group entry " + guest + " could not be found."));
}

TEST_F(AgateTest, AccessUpdateChangesARulesLevel) {
  const auto share = create_share("Share 1");
  const auto rule =
      property(ok({"access-allow", "Share 1", "ip", "10.0.0.0/24", "--access-level", "ro"}), "id");
  settle(share);
  auto updated = ok({"access-update", rule, "--access-level", "rw"});
  EXPECT_EQ(property(updated, "id"), rule);
  EXPECT_EQ(property(updated, "access_level"), "rw");
  EXPECT_EQ(property(updated, "state"), "queued_to_update");
  settle(share);
  const auto listed = row(ok({"access-list", "Share 1"}), rule);
  ASSERT_GE(listed.size(), 5u);
  EXPECT_EQ(std::vector<std::string>(listed.begin(), listed.begin() + 5),
            (std::vector<std::string>{rule, "ip", "10.0.0.0/24", "rw", "active"}));
  EXPECT_TRUE(server_error(alice({"access-update", rule, "--access-level", "xx"}), 400,
                           "Invalid or unsupported share access level: xx."));
  EXPECT_TRUE(server_error(alice({"access-update", "no-such-rule", "--access-level", "ro"}), 404,
                           "Share access rule no-such-rule not found."));
  auto old = alice({"--api-version", "2.87", "access-update", rule, "--access-level", "ro"});
  EXPECT_EQ(old.status, 2);
  EXPECT_EQ(old.err, "ERROR: access-update needs --api-version 2.88 or later\n");
}

TEST_F(AgateTest, AccessGroupEntryUpdateChangesTheLevelOnEveryAttachedShare) {
  const auto share = create_share("Share 1");
  const auto second = create_share("Share 2");
  const auto group = create_group("AG1", "ip");
  ok({"access-group-entry-create", "AG1", "ip", "10.0.0.0/24", "rw"});
  ok({"access-allow", "Share 1", "access-group", "AG1"});
  ok({"access-allow", "Share 2", "access-group", "AG1"});
  settle(share);
  auto updated = ok({"access-group-entry-update", "AG1", "10.0.0.0/24", "--access-level", "ro"});
  EXPECT_EQ(row(updated, "ID"),
            (std::vector<std::string>{"ID", "Access_type", "Access_to", "Access_level"}));
  EXPECT_NE(updated.find("| ro "), std::string::npos) << updated;
  for (const auto& s : {share, second}) {
    settle(s);
    auto e = ok_json({"effective-access", s});
    EXPECT_EQ(e.at("effective_access").at("rules").at(0).at("access_level"), "ro") << s;
  }
  // A direct rule granting it ro: the entry may not become rw (nothing changes).
  const auto rule =
      property(ok({"access-allow", "Share 2", "ip", "10.0.0.0/24", "--access-level", "ro"}), "id");
  auto refused = alice({"access-group-entry-update", group, "10.0.0.0/24", "--access-level", "rw"});
  EXPECT_EQ(refused.status, 1);
  EXPECT_NE(refused.err.find("granted by access rule " + rule + " on share " + second),
            std::string::npos)
      << refused.err;
  EXPECT_NE(ok({"access-group-entry-list", "AG1"}).find("| ro "), std::string::npos);
}

TEST_F(AgateTest, AllowAGroupAndARuleThenListTheShareAccess) {
  const auto share = create_share("Share 1");
  const auto group = create_group("AG1", "user");
  ok({"access-group-entry-create", "AG1", "user", "admin", "rw"});
  ok({"access-group-entry-create", "AG1", "user", "demo", "ro"});

  auto mapping = ok({"access-allow", "Share 1", "access-group", "AG1"});
  EXPECT_EQ(property(mapping, "access_type"), "access_group");
  EXPECT_EQ(property(mapping, "access_to"), group);
  EXPECT_EQ(property(mapping, "share_id"), share);
  const auto mapping_id = property(mapping, "id");
  auto rule = ok({"access-allow", share, "ip", "10.0.0.0/24", "--access-level", "ro", "--metadata",
                  "owner=web"});
  EXPECT_EQ(property(rule, "access_level"), "ro");
  EXPECT_EQ(property(rule, "metadata"), R"({"owner":"web"})");
  const auto rule_id = property(rule, "id");
  settle(share);

  auto list = ok({"access-list", "Share 1"});
  EXPECT_EQ(row(list, "id"),
            (std::vector<std::string>{"id", "access_type", "access_to", "access_level", "state",
                                      "access_key", "created_at", "updated_at"}));
  EXPECT_EQ(row_count(list), 2u);
  auto m = row(list, mapping_id);
  ASSERT_EQ(m.size(), 8u) << list;
  EXPECT_EQ(m[1], "access_group");
  EXPECT_EQ(m[2], group);
  EXPECT_EQ(m[3], "None");
  EXPECT_EQ(m[4], "active");
  auto r = row(list, rule_id);
  ASSERT_EQ(r.size(), 8u);
  EXPECT_EQ(r[2], "10.0.0.0/24");
  EXPECT_EQ(r[3], "ro");

  auto groups = ok({"access-group-list", "--share", "Share 1"});
  EXPECT_EQ(row_count(groups), 1u);
  EXPECT_EQ(row(groups, group).at(1), "AG1");
  create_share("Share 2");
  EXPECT_EQ(row_count(ok({"access-group-list", "--share", "Share 2"})), 0u);

  auto shares = ok({"list", "--access-group", "AG1"});
  EXPECT_EQ(row_count(shares), 1u);
  EXPECT_EQ(row(shares, share).at(1), "Share 1");

  auto effective = ok({"effective-access", "Share 1"});
  EXPECT_EQ(property(effective, "share_id"), share);
  EXPECT_EQ(property(effective, "access_rules_status"), "active");
  EXPECT_NE(effective.find("| user        | admin       | rw           | active |"),
            std::string::npos)
      << effective;
  EXPECT_NE(effective.find("access group AG1 entry "), std::string::npos) << effective;
  EXPECT_NE(effective.find("| ip          | 10.0.0.0/24 | ro           | active |"),
            std::string::npos)
      << effective;
  EXPECT_NE(effective.find("rule " + rule_id), std::string::npos) << effective;
  EXPECT_NE(effective.find("| instance "), std::string::npos) << effective;
  auto ejson = ok_json({"effective-access", share});
  EXPECT_EQ(ejson.at("effective_access").at("rules").as_array().size(), 3u);
}

TEST_F(AgateTest, AllowRefusalsPrintTheServersMessage) {
  const auto share = create_share("Share 1");
  create_group("AG1", "user");
  ok({"access-group-entry-create", "AG1", "user", "admin", "rw"});
  ok({"access-allow", "Share 1", "access-group", "AG1"});
  // The proposal's case 1: a rule contradicting one the group grants.
  auto r = alice({"access-allow", "Share 1", "user", "admin", "--access-level", "ro"});
  EXPECT_EQ(r.status, 1);
  EXPECT_TRUE(std::regex_search(
      r.err, std::regex(R"(^ERROR: Access rule user:admin \(ro\) conflicts with .* \(HTTP 409\) )"
                        R"(\(Request-ID: req-[0-9a-f-]+\)\n$)")))
      << r.err;
  EXPECT_TRUE(server_error(alice({"access-allow", "Share 1", "ip", "10.0.0.1/24"}), 400,
                           "10.0.0.1/24 has host bits set"));
  EXPECT_TRUE(server_error(alice({"access-allow", share, "access-group", "AG1"}), 400,
                           "Share access access_group:" +
                               property(ok({"access-group-show", "AG1"}), "id") + " exists."));
  r = alice({"access-allow", "Share 1", "access-group", "nosuch"});
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.err, "ERROR: No access group with a name or id of 'nosuch' exists.\n");
}

TEST_F(AgateTest, DenyTakesARuleIdOrAnAttachedGroup) {
  const auto share = create_share("Share 1");
  create_group("AG1", "user");
  create_group("AG2", "ip");
  ok({"access-group-entry-create", "AG1", "user", "admin"});
  const auto mapping1 = property(ok({"access-allow", "Share 1", "access-group", "AG1"}), "id");
  const auto mapping2 = property(ok({"access-allow", "Share 1", "access-group", "AG2"}), "id");
  const auto rule = property(ok({"access-allow", "Share 1", "cert", "client.example.com"}), "id");

  EXPECT_EQ(ok({"access-deny", "Share 1", "AG1"}), "");
  EXPECT_EQ(ok({"access-deny", share, mapping2}), "");
  auto list = ok({"access-list", "Share 1"});
  EXPECT_TRUE(row(list, mapping1).empty());
  EXPECT_TRUE(row(list, mapping2).empty());
  EXPECT_FALSE(row(list, rule).empty());
  EXPECT_EQ(row_count(ok({"access-group-list", "--share", "Share 1"})), 0u);

  EXPECT_EQ(ok({"access-deny", "Share 1", rule}), "");
  settle(share);
  EXPECT_EQ(row_count(ok({"access-list", "Share 1"})), 0u);

  auto r = alice({"access-deny", "Share 1", "AG1"});
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.err,
            "ERROR: Share Share 1 has no access rule with the id 'AG1' and no access group of "
            "that name or id attached.\n");
  EXPECT_TRUE(
      server_error(alice({"access-deny", "Share 1", rule}), 404, "Resource could not be found."));
}

TEST_F(AgateTest, SyncIsAcceptedAndPrintsNothing) {
  const auto share = create_share("Share 1");
  ok({"access-allow", "Share 1", "ip", "10.0.0.1"});
  EXPECT_EQ(ok({"access-sync", "Share 1"}), "");
  settle(share);
  EXPECT_EQ(property(ok({"show", share}), "access_rules_status"), "active");
  auto r = alice({"access-sync", "nosuch"});
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.err, "ERROR: No share with a name or id of 'nosuch' exists.\n");
}

// A back end that refuses 3.3.3.3, as in the proposal's case 3.
class AgateFailingBackendTest : public AgateTest {
 protected:
  std::vector<std::string> server_args() override {
    const auto config = dir_.path() / "agate.toml";
    std::ofstream(config) << "[backends.default]\n"
                             "driver = \"fake\"\n"
                             "fail_rules_matching = \"^3\\\\.3\\\\.3\\\\.3\"\n"
                             "failure_message = \"export refused\"\n";
    return {"--config", config.string()};
  }
};

TEST_F(AgateFailingBackendTest, EffectiveAccessShowsAPartialFailureAndSyncRetries) {
  const auto share = create_share("Share 1");
  create_group("AG1", "ip");
  for (const auto* address : {"1.1.1.1", "2.2.2.2", "3.3.3.3"}) {
    ok({"access-group-entry-create", "AG1", "ip", address});
  }
  const auto mapping = property(ok({"access-allow", "Share 1", "access-group", "AG1"}), "id");
  settle(share, "error");

  auto effective = ok({"effective-access", "Share 1"});
  EXPECT_NE(effective.find("| ip          | 3.3.3.3/32 | rw           | error  |"),
            std::string::npos)
      << effective;
  EXPECT_NE(effective.find("| ip          | 1.1.1.1/32 | rw           | active |"),
            std::string::npos)
      << effective;
  EXPECT_TRUE(std::regex_search(effective,
                                std::regex(R"(\| error +\| [^|]*3\.3\.3\.3[^|]*export refused)")))
      << effective;
  EXPECT_EQ(row(ok({"access-list", "Share 1"}), mapping).at(4), "error");
  EXPECT_EQ(property(ok({"show", "Share 1"}), "access_rules_status"), "error");

  // Retrying is accepted; this back end still refuses the address.
  EXPECT_EQ(ok({"access-sync", "Share 1"}), "");
  settle(share, "error");
  // Removing the entry the back end refuses brings the share back.
  ok({"access-group-entry-delete", "AG1", "3.3.3.3"});
  settle(share, "active");
}

TEST_F(AgateTest, GroupDeleteRefusedWhileAttachedUnlessForced) {
  create_share("Share 1");
  const auto group = create_group("AG1", "ip");
  ok({"access-allow", "Share 1", "access-group", "AG1"});
  auto r = alice({"access-group-delete", "AG1"});
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("ERROR: Access group " + group + " is attached to 1 share(s)"),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("(HTTP 409) (Request-ID: req-"), std::string::npos) << r.err;
  EXPECT_EQ(ok({"access-group-delete", "AG1", "--force"}), "");
  EXPECT_EQ(row_count(ok({"access-list", "Share 1"})), 0u);
}

TEST_F(AgateTest, JsonPrintsTheServersAnswerWhereverTheFlagIs) {
  create_share("Share 1");
  auto before = as(kAlice, {"--json", "list"});
  auto after = as(kAlice, {"list", "--json"});
  ASSERT_EQ(before.status, 0) << before.err;
  EXPECT_EQ(before.out, after.out);
  auto v = json::parse(before.out);
  ASSERT_EQ(v.at("shares").as_array().size(), 1u);
  EXPECT_EQ(v.at("shares").at(0).at("name"), "Share 1");
  EXPECT_TRUE(v.at("shares").at(0).as_object().contains("links"));
  EXPECT_EQ(before.out.substr(0, 16), "{\n  \"shares\": [\n");

  auto group = ok_json({"access-group-create", "AG1", "--access-type", "ip"});
  EXPECT_EQ(group.at("access-group").at("name"), "AG1");
  EXPECT_EQ(ok_json({"access-group-list"}).at("access-groups").at(0).at("id"),
            group.at("access-group").at("id"));
  auto rule = ok_json({"access-allow", "Share 1", "access-group", "AG1"});
  EXPECT_EQ(rule.at("access").at("access_type"), "access_group");
  EXPECT_EQ(ok_json({"access-list", "Share 1"}).at("access_list").as_array().size(), 1u);
  EXPECT_EQ(ok_json({"access-group-entry-list", "AG1"}).at("entries").as_array().size(), 0u);
  EXPECT_TRUE(ok_json({"type-list"}).as_object().contains("share_types"));
  EXPECT_EQ(ok({"access-sync", "Share 1", "--json"}), "");
}

TEST_F(AgateTest, AmbiguousNamesAreRefusedAndIdsStillWork) {
  const auto a = create_share("dup");
  const auto b = create_share("dup");
  auto r = alice({"show", "dup"});
  EXPECT_EQ(r.status, 1);
  EXPECT_TRUE(r.err.starts_with("ERROR: Multiple shares are named 'dup' (")) << r.err;
  EXPECT_NE(r.err.find(a), std::string::npos);
  EXPECT_NE(r.err.find(b), std::string::npos);
  EXPECT_TRUE(r.err.ends_with("); give an id instead.\n")) << r.err;
  EXPECT_EQ(property(ok({"show", a}), "id"), a);
}

TEST_F(AgateTest, NamesResolveOnlyWithinWhatTheTokenSees) {
  create_share("Share 1");
  const auto group = create_group("AG1", "ip");
  auto r = as(kMallory, {"access-group-show", "AG1"});
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.err, "ERROR: No access group with a name or id of 'AG1' exists.\n");
  EXPECT_TRUE(server_error(as(kMallory, {"access-group-show", group}), 404,
                           "Access group " + group + " could not be found."));
  r = as(kMallory, {"access-list", "Share 1"});
  EXPECT_EQ(r.status, 1);
  // An administrator lists every project's groups when asked, and resolves every project's
  // names.
  EXPECT_EQ(row_count(ok({"access-group-list"}, kAdmin)), 0u);
  EXPECT_EQ(row(ok({"access-group-list", "--all-tenants"}, kAdmin), group).at(1), "AG1");
  EXPECT_EQ(property(ok({"access-group-show", "AG1"}, kAdmin), "id"), group);
  EXPECT_EQ(row_count(ok({"access-list", "Share 1"}, kAdmin)), 0u);
}

TEST_F(AgateTest, GroupsPastTheServersFirstPageAreListedAndFound) {
  // agated answers a group list with 1000 groups unless asked for another page.
  const std::vector<std::pair<std::string, std::string>> headers = {{"X-Auth-Token", kAlice}};
  for (int i = 0; i < 1001; ++i) {
    auto res = testing::http_request(
        server_->port(), boost::beast::http::verb::post, "/v2/access-groups",
        R"({"access-group": {"name": "g)" + std::to_string(i) + R"(", "access_type": "ip"}})",
        headers);
    ASSERT_EQ(res.result_int(), 200u) << res.body();
  }
  auto first_page =
      json::parse(testing::http_request(server_->port(), boost::beast::http::verb::get,
                                        "/v2/access-groups", "", headers)
                      .body());
  ASSERT_EQ(first_page.at("access-groups").as_array().size(), 1000u);
  std::set<std::string> names;
  for (const auto& g : first_page.at("access-groups").as_array()) {
    names.insert(std::string(g.at("name").as_string()));
  }
  std::string beyond;
  for (int i = 0; i < 1001 && beyond.empty(); ++i) {
    if (!names.contains("g" + std::to_string(i))) beyond = "g" + std::to_string(i);
  }

  EXPECT_EQ(row_count(ok({"access-group-list"})), 1001u);
  EXPECT_EQ(ok_json({"access-group-list"}).at("access-groups").as_array().size(), 1001u);
  EXPECT_EQ(property(ok({"access-group-show", beyond}), "name"), beyond);
  // An entry given by its id alone is looked for in every page of groups.
  const auto entry = ok_json({"access-group-entry-create", beyond, "ip", "10.9.9.9"});
  EXPECT_EQ(ok({"access-group-entry-delete", std::string(entry.at("entry").at("id").as_string())}),
            "");
  EXPECT_EQ(row_count(ok({"access-group-entry-list", beyond})), 0u);
}

TEST_F(AgateTest, OlderMicroversionsUseTheActionsOfTheirTime) {
  create_share("Share 1");
  auto allowed = ok({"--api-version", "2.6", "access-allow", "Share 1", "ip", "10.0.0.1"});
  EXPECT_EQ(property(allowed, "access_to"), "10.0.0.1");
  EXPECT_EQ(property(allowed, "created_at"), "<no created_at>") << "created_at is 2.33";
  auto list = ok({"--api-version", "2.6", "access-list", "Share 1"});
  EXPECT_EQ(row(list, "id"),
            (std::vector<std::string>{"id", "access_type", "access_to", "access_level", "state"}));
  EXPECT_EQ(row_count(list), 1u);
  list = ok({"--api-version", "2.44", "access-list", "Share 1"});
  EXPECT_EQ(row(list, "id").size(), 8u);
  auto rules = ok_json({"--api-version", "2.44", "access-list", "Share 1"});
  const std::string rule(rules.at("access_list").at(0).at("id").as_string());
  EXPECT_EQ(ok({"--api-version", "2.6", "access-deny", "Share 1", rule}), "");
  // Versions agated does not serve are its 406.
  EXPECT_TRUE(server_error(alice({"--api-version", "2.100", "list"}), 406,
                           "Version 2.100 is not supported by the API. Minimum is 2.0 and maximum "
                           "is 2.99."));
}

TEST_F(AgateTest, LockCommandsCreateListShowUpdateAndDelete) {
  const auto share = create_share("Share 1");
  const auto created = ok({"lock-create", "Share 1", "--reason", "nightly backup"});
  const auto id = property(created, "id");
  EXPECT_EQ(property(created, "resource_id"), share);
  EXPECT_EQ(property(created, "resource_type"), "share");
  EXPECT_EQ(property(created, "lock_context"), "user");
  EXPECT_EQ(property(created, "lock_reason"), "nightly backup");
  EXPECT_EQ(row_count(ok({"lock-list"})), 1u);
  EXPECT_EQ(row(ok({"lock-list", "--resource-type", "share"}), id).at(1), share);
  EXPECT_EQ(property(ok({"lock-show", id}), "resource_action"), "delete");
  EXPECT_EQ(property(ok({"lock-update", id, "--reason", "kept"}), "lock_reason"), "kept");
  // The share may not be deleted while locked.
  EXPECT_TRUE(server_error(alice({"delete", "Share 1"}), 403,
                           "Resource lock/s [" + id + "] prevent delete action."));
  EXPECT_EQ(ok({"lock-delete", id}), "");
  EXPECT_EQ(row_count(ok({"lock-list"})), 0u);
  // Below 2.81 there are no locks to ask for.
  auto old = alice({"--api-version", "2.80", "lock-list"});
  EXPECT_EQ(old.status, 2) << old.err;
}

TEST_F(AgateTest, AccessAllowAndDenyTakeTheLockFlags) {
  create_share("Share 1");
  const auto rule = property(ok({"access-allow", "Share 1", "ip", "10.0.0.9", "--lock-deletion",
                                 "--lock-visibility", "--lock-reason", "db"}),
                             "id");
  auto locks = ok_json({"lock-list"});
  ASSERT_EQ(locks.at("resource_locks").as_array().size(), 3u);
  for (const auto& l : locks.at("resource_locks").as_array()) {
    if (l.at("resource_type") == "access_rule") {
      EXPECT_EQ(l.at("resource_id").as_string(), rule);
    }
  }
  EXPECT_TRUE(server_error(alice({"access-deny", "Share 1", rule}), 403,
                           "Cannot deny access for share '" +
                               property(ok({"show", "Share 1"}), "id") +
                               "' since it has been locked. Please remove the locks and retry "
                               "the operation"));
  EXPECT_EQ(ok({"access-deny", "Share 1", rule, "--unrestrict"}), "");
  EXPECT_TRUE(ok_json({"lock-list"}).at("resource_locks").as_array().empty());
  auto old = alice({"--api-version", "2.81", "access-allow", "Share 1", "ip", "10.0.0.8",
                    "--lock-deletion"});
  EXPECT_EQ(old.status, 2) << old.err;
}

TEST_F(AgateTest, UrlAndTokenComeFromTheEnvironment) {
  create_share("Share 1");
  auto r = run_agate(dir_.path(), {"list"}, {{"AGATE_URL", url_}, {"AGATE_TOKEN", kAlice}});
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(row_count(r.out), 1u);
  r = run_agate(dir_.path(), {"list"}, {{"AGATE_URL", url_}, {"OS_TOKEN", kAlice}});
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(row_count(r.out), 1u);
  // AGATE_TOKEN wins over OS_TOKEN, and --token over both.
  r = run_agate(dir_.path(), {"list"},
                {{"AGATE_URL", url_}, {"AGATE_TOKEN", kMallory}, {"OS_TOKEN", kAlice}});
  EXPECT_EQ(row_count(r.out), 0u);
  r = run_agate(dir_.path(), {"--token", kAlice, "list"},
                {{"AGATE_URL", url_}, {"AGATE_TOKEN", kMallory}});
  EXPECT_EQ(row_count(r.out), 1u);
  r = run_agate(dir_.path(), {"list"}, {{"AGATE_URL", url_}});
  EXPECT_EQ(r.status, 2);
  EXPECT_EQ(r.err, "ERROR: no token: give --token, or set AGATE_TOKEN (or OS_TOKEN)\n");
  r = run_agate(dir_.path(), {"list", "--json"},
                {{"AGATE_URL", url_ + "/v2/project-a"}, {"AGATE_TOKEN", kAlice}});
  EXPECT_EQ(r.status, 0) << r.err;
}

TEST_F(AgateTest, AMalformedTokenIsTheServers401) {
  EXPECT_EQ(alice({"list"}).status, 0);
  auto r = as("a:b:c:d", {"list"});
  EXPECT_EQ(r.status, 1);
  EXPECT_TRUE(r.err.starts_with("ERROR: ")) << r.err;
  EXPECT_NE(r.err.find("(HTTP 401)"), std::string::npos) << r.err;
}

TEST(AgateConnection, NoServerIsExitTwoNamingTheAddress) {
  testing::TempDir dir;
  boost::asio::io_context ioc;
  unsigned short port = 0;
  {
    boost::asio::ip::tcp::acceptor a(ioc, {boost::asio::ip::make_address("127.0.0.1"), 0});
    port = a.local_endpoint().port();
  }
  const auto url = "http://127.0.0.1:" + std::to_string(port);
  auto r = run_agate(dir.path(), {"--url", url, "--token", kAlice, "list"});
  EXPECT_EQ(r.status, 2);
  EXPECT_EQ(r.err, "ERROR: cannot connect to " + url + ": Connection refused\n");
  EXPECT_EQ(r.out, "");
}

TEST(AgateConnection, ASilentServerIsATimeoutAndExitTwo) {
  testing::TempDir dir;
  boost::asio::io_context ioc;
  // Listens but never accepts: the connection completes in the backlog, no answer ever comes.
  boost::asio::ip::tcp::acceptor a(ioc, {boost::asio::ip::make_address("127.0.0.1"), 0});
  const auto url = "http://127.0.0.1:" + std::to_string(a.local_endpoint().port());
  const auto start = std::chrono::steady_clock::now();
  auto r = run_agate(dir.path(), {"--url", url, "--token", kAlice, "--timeout", "0.3", "list"});
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  EXPECT_EQ(r.status, 2);
  EXPECT_EQ(r.err, "ERROR: no answer from " + url + " within 0.3 s\n");
}

}  // namespace
}  // namespace agate
