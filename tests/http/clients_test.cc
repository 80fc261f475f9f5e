// Integration: the real OpenStack clients against the real agated on a free loopback port —
// `manila` (python3-manilaclient 4.1.1) and `openstack share …` (python3-openstackclient with
// manilaclient's plugin), both from Debian 12, installed by tools/install-deps.
//
// `manila` discovers the server's versions and speaks the highest both know (its own maximum,
// 2.72), so it needs nothing more than --os-token and --bypass-url. The openstack plugin does not
// discover: it sends its own maximum, 2.72, which Agate serves, so `openstack share` needs no
// version option either.

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <filesystem>
#include <regex>

#include "tests/support/server_process.h"
#include "tests/support/temp_dir.h"

namespace agate {
namespace {

using testing::RunResult;
using testing::ServerProcess;

const std::filesystem::path kAgated = AGATE_AGATED_PATH;
const std::filesystem::path kManila = "/usr/bin/manila";
const std::filesystem::path kOpenstack = "/usr/bin/openstack";

// The value in a `manila` table row "| name | value |", or "" if there is none.
std::string field(const std::string& table, const std::string& name) {
  const std::regex row("^\\| " + name + " +\\| (.*?) *\\|$");
  std::smatch m;
  std::istringstream lines(table);
  for (std::string line; std::getline(lines, line);) {
    if (std::regex_match(line, m, row)) return m[1];
  }
  return "";
}

int count(const std::string& text, const std::string& what) {
  int n = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

class ClientsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!std::filesystem::exists(kManila) || !std::filesystem::exists(kOpenstack)) {
      GTEST_SKIP() << "python3-manilaclient and python3-openstackclient are not installed "
                      "(tools/install-deps installs them)";
    }
    server_ = std::make_unique<ServerProcess>(kAgated, dir_.path() / "data",
                                              std::vector<std::string>{"--durability", "nosync"});
    std::filesystem::create_directories(dir_.path() / "home");
  }

  std::string v2() const { return "http://127.0.0.1:" + std::to_string(server_->port()) + "/v2"; }

  // Runs a client in a clean environment (no OS_* variables of the caller's) with `args`.
  RunResult run(const std::filesystem::path& client, std::vector<std::string> args) {
    std::vector<std::string> all = {"-i", "PATH=/usr/bin:/bin",
                                    "HOME=" + (dir_.path() / "home").string(), "LANG=C.UTF-8",
                                    client.string()};
    all.insert(all.end(), args.begin(), args.end());
    return testing::run_process("/usr/bin/env", all, std::chrono::seconds(60));
  }

  RunResult manila(const std::string& token, std::vector<std::string> args) {
    std::vector<std::string> all = {"--os-token", token, "--bypass-url", v2()};
    all.insert(all.end(), args.begin(), args.end());
    return run(kManila, all);
  }

  // `openstack share …` without Keystone: admin_token with our token, or auth type none.
  // `version`, if given, goes in --os-share-api-version.
  RunResult openstack(const std::string& token, std::vector<std::string> args,
                      const std::string& version = "") {
    std::vector<std::string> all;
    if (token.empty()) {
      all = {"--os-auth-type", "none", "--os-endpoint", v2()};
    } else {
      all = {"--os-auth-type", "admin_token", "--os-endpoint", v2(), "--os-token", token};
    }
    if (!version.empty()) {
      all.push_back("--os-share-api-version");
      all.push_back(version);
    }
    all.insert(all.end(), args.begin(), args.end());
    return run(kOpenstack, all);
  }

  static boost::json::value json_of(const RunResult& r) {
    boost::system::error_code ec;
    auto v = boost::json::parse(r.output, ec);
    EXPECT_FALSE(ec) << r.output;
    return v;
  }

  std::string log() const { return server_->output(); }

  testing::TempDir dir_;
  std::unique_ptr<ServerProcess> server_;
};

#define ASSERT_RAN(r) ASSERT_EQ((r).exit_code, 0) << (r).output

TEST_F(ClientsTest, ManilaCliManagesTypesSharesAndAccessRules) {
  const std::string admin = "admin:admin-project:admin", alice = "alice:project-a";

  // The type named "default" is what `manila create` without --share-type looks for.
  auto type = manila(admin, {"type-create", "default", "false"});
  ASSERT_RAN(type);
  EXPECT_EQ(field(type.output, "Name"), "default");
  EXPECT_EQ(field(type.output, "Visibility"), "public");
  EXPECT_EQ(field(type.output, "is_default"), "YES");  // 2.46
  EXPECT_EQ(count(log(), "GET / 300"), 1) << "version discovery";
  auto updated = manila(admin, {"type-update", "default", "--description", "The usual"});  // 2.50
  ASSERT_RAN(updated);
  EXPECT_EQ(field(updated.output, "Description"), "The usual");

  auto plain = manila(alice, {"create", "NFS", "1", "--name", "plain"});
  ASSERT_RAN(plain);
  const std::string share = field(plain.output, "id");
  EXPECT_EQ(field(plain.output, "share_type_name"), "default");
  EXPECT_EQ(field(plain.output, "share_proto"), "NFS");
  auto typed = manila(alice, {"create", "NFS", "2", "--name", "typed", "--share-type", "default"});
  ASSERT_RAN(typed);
  EXPECT_EQ(field(typed.output, "size"), "2");

  auto list = manila(alice, {"list"});
  ASSERT_RAN(list);
  EXPECT_NE(list.output.find("| plain "), std::string::npos) << list.output;
  EXPECT_NE(list.output.find("| typed "), std::string::npos) << list.output;
  auto show = manila(alice, {"show", share});
  ASSERT_RAN(show);
  EXPECT_EQ(field(show.output, "name"), "plain");
  EXPECT_EQ(field(show.output, "access_rules_status"), "active");

  auto ip = manila(alice, {"access-allow", share, "ip", "10.0.0.0/24", "--access-level", "ro",
                           "--metadata", "k1=v1"});
  ASSERT_RAN(ip);
  const std::string rule = field(ip.output, "id");
  EXPECT_EQ(field(ip.output, "access_to"), "10.0.0.0/24");
  EXPECT_EQ(field(ip.output, "access_level"), "ro");
  EXPECT_EQ(field(ip.output, "metadata"), "{'k1': 'v1'}");
  auto user = manila(alice, {"access-allow", share, "user", "alice_01"});
  ASSERT_RAN(user);
  EXPECT_EQ(field(user.output, "access_level"), "rw");
  auto cert = manila(alice, {"access-allow", share, "cert", "client.example.com",
                             "--access-level", "ro"});
  ASSERT_RAN(cert);
  EXPECT_EQ(field(cert.output, "access_type"), "cert");
  auto bad = manila(alice, {"access-allow", share, "ip", "10.0.0.1/24"});
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_NE(bad.output.find("ERROR: 10.0.0.1/24 has host bits set"), std::string::npos)
      << bad.output;

  // At the negotiated 2.72 (2.45 or later) the list comes from /share-access-rules; at 2.44
  // from the action.
  auto rules = manila(alice, {"access-list", share});
  ASSERT_RAN(rules);
  for (const char* to : {"10.0.0.0/24", "alice_01", "client.example.com"}) {
    EXPECT_NE(rules.output.find(to), std::string::npos) << rules.output;
  }
  EXPECT_EQ(count(log(), "GET /v2/share-access-rules?share_id=" + share + " 200"), 1) << log();
  const int actions = count(log(), "POST /v2/shares/" + share + "/action 200");
  auto old = manila(alice, {"--os-share-api-version", "2.44", "access-list", share});
  ASSERT_RAN(old);
  EXPECT_NE(old.output.find("alice_01"), std::string::npos) << old.output;
  EXPECT_EQ(count(log(), "POST /v2/shares/" + share + "/action 200"), actions + 1);

  auto shown = manila(alice, {"access-show", rule});
  ASSERT_RAN(shown);
  EXPECT_EQ(field(shown.output, "share_id"), share);
  EXPECT_EQ(field(shown.output, "access_type"), "ip");
  ASSERT_RAN(manila(alice, {"access-metadata", rule, "set", "k2=v2"}));
  ASSERT_RAN(manila(alice, {"access-metadata", rule, "unset", "k1"}));
  EXPECT_EQ(field(manila(alice, {"access-show", rule}).output, "metadata"), "{'k2': 'v2'}");

  // A reader sees the rules and may change nothing.
  auto reader = manila("rita:project-a:reader", {"access-list", share});
  ASSERT_RAN(reader);
  EXPECT_NE(reader.output.find("alice_01"), std::string::npos);
  auto refused = manila("rita:project-a:reader", {"access-allow", share, "ip", "10.9.0.0/16"});
  EXPECT_NE(refused.exit_code, 0);
  EXPECT_NE(refused.output.find("ERROR: Policy doesn't allow"), std::string::npos)
      << refused.output;

  ASSERT_RAN(manila(alice, {"access-deny", share, rule}));
  auto after = manila(alice, {"access-list", share});
  ASSERT_RAN(after);
  EXPECT_EQ(after.output.find("10.0.0.0/24"), std::string::npos) << after.output;
  EXPECT_NE(after.output.find("alice_01"), std::string::npos);

  ASSERT_RAN(manila(alice, {"delete", share}));
  auto gone = manila(alice, {"show", share});
  EXPECT_NE(gone.exit_code, 0);
  EXPECT_NE(gone.output.find("No share with a name or ID of '" + share + "' exists."),
            std::string::npos)
      << gone.output;
}

TEST_F(ClientsTest, BothClientsUseTheRecycleBin) {
  const std::string admin = "admin:admin-project:admin", alice = "alice:project-a";
  ASSERT_RAN(manila(admin, {"type-create", "default", "false"}));
  auto created = manila(alice, {"create", "NFS", "1", "--name", "binned"});
  ASSERT_RAN(created);
  const std::string share = field(created.output, "id");
  ASSERT_RAN(manila(alice, {"create", "NFS", "1", "--name", "kept"}));

  // manila, at the negotiated 2.72: soft-delete by name, the bin's list, restore by name.
  ASSERT_RAN(manila(alice, {"soft-delete", "binned"}));
  auto shown = manila(alice, {"show", share});
  ASSERT_RAN(shown);
  EXPECT_EQ(field(shown.output, "is_soft_deleted"), "True");
  EXPECT_NE(field(shown.output, "scheduled_to_be_deleted_at"), "None");
  auto listed = manila(alice, {"list"});
  ASSERT_RAN(listed);
  EXPECT_EQ(listed.output.find("| binned "), std::string::npos) << listed.output;
  EXPECT_NE(listed.output.find("| kept "), std::string::npos) << listed.output;
  auto bin = manila(alice, {"list", "--soft-deleted"});
  ASSERT_RAN(bin);
  EXPECT_NE(bin.output.find("| binned "), std::string::npos) << bin.output;
  EXPECT_EQ(bin.output.find("| kept "), std::string::npos) << bin.output;
  ASSERT_RAN(manila(alice, {"restore", "binned"}));
  shown = manila(alice, {"show", share});
  EXPECT_EQ(field(shown.output, "is_soft_deleted"), "False");
  // A share in the bin refuses new rules, with Manila's message.
  ASSERT_RAN(manila(alice, {"soft-delete", share}));
  auto refused = manila(alice, {"access-allow", share, "ip", "10.0.0.0/24"});
  EXPECT_NE(refused.exit_code, 0);
  EXPECT_NE(refused.output.find("Cannot allow access for share '" + share +
                                "' since it has been soft deleted. (HTTP 403)"),
            std::string::npos)
      << refused.output;

  // openstack, at its own 2.72: restore takes the id as typed, delete --soft by name.
  ASSERT_RAN(openstack(alice, {"share", "restore", share}, ""));
  ASSERT_RAN(openstack(alice, {"share", "delete", "--soft", "binned"}, ""));
  auto soft = openstack(alice, {"share", "list", "--soft-deleted", "-f", "json"}, "");
  ASSERT_RAN(soft);
  ASSERT_EQ(json_of(soft).as_array().size(), 1u) << soft.output;
  EXPECT_EQ(json_of(soft).at(0).at("ID"), share.c_str());
}

TEST_F(ClientsTest, OpenstackCliWorksWithNoVersionOption) {
  // The plugin sends its maximum, 2.72, on every request.
  const std::string admin = "admin:admin-project:admin", bob = "bob:project-b";
  ASSERT_RAN(openstack(admin, {"share", "type", "create", "default", "false"}));
  auto types = openstack(bob, {"share", "type", "list", "-f", "json"});
  ASSERT_RAN(types);
  EXPECT_EQ(json_of(types).at(0).at("Name"), "default");
  // Updating a type (2.50), and is_default (2.46) shown.
  ASSERT_RAN(openstack(admin, {"share", "type", "set", "default", "--description", "The usual"}));
  auto type = openstack(bob, {"share", "type", "show", "default", "-f", "json"});
  ASSERT_RAN(type);
  EXPECT_EQ(json_of(type).at("description"), "The usual");
  EXPECT_EQ(json_of(type).at("is_default"), true) << type.output;
  EXPECT_EQ(json_of(type).at("visibility"), "public");

  auto created = openstack(bob, {"share", "create", "NFS", "1", "--name", "o1", "--share-type",
                                 "default", "-f", "json"});
  ASSERT_RAN(created);
  const std::string share(json_of(created).at("id").as_string());
  EXPECT_EQ(json_of(created).at("share_proto"), "NFS");
  auto listed = openstack(bob, {"share", "list", "-f", "json"});
  ASSERT_RAN(listed);
  EXPECT_EQ(json_of(listed).at(0).at("ID"), share.c_str());
  auto shown = openstack(bob, {"share", "show", share, "-f", "json"});
  ASSERT_RAN(shown);
  EXPECT_EQ(json_of(shown).at("name"), "o1");
  EXPECT_EQ(json_of(shown).at("progress"), "100%");
  // share show also lists the export locations (GET /shares/{id}/export_locations).
  EXPECT_NE(json_of(shown).at("export_locations").as_string().find("/shares/share-" + share),
            std::string::npos)
      << shown.output;

  auto rule = openstack(bob, {"share", "access", "create", share, "ip", "10.1.0.0/16",
                              "--access-level", "ro", "--properties", "a=b", "-f", "json"});
  ASSERT_RAN(rule);
  const auto granted = json_of(rule);
  const std::string rule_id(granted.at("id").as_string());
  EXPECT_EQ(granted.at("access_level"), "ro");
  EXPECT_EQ(granted.at("properties"), "a : b");
  ASSERT_RAN(openstack(bob, {"share", "access", "create", share, "user", "bob_user"}));
  auto rules = openstack(bob, {"share", "access", "list", share, "-f", "json"});
  ASSERT_RAN(rules);
  EXPECT_EQ(json_of(rules).as_array().size(), 2u) << rules.output;
  ASSERT_RAN(openstack(bob, {"share", "access", "set", rule_id, "--property", "c=d"}));
  ASSERT_RAN(openstack(bob, {"share", "access", "unset", rule_id, "--property", "a"}));
  auto after = openstack(bob, {"share", "access", "show", rule_id, "-f", "json"});
  ASSERT_RAN(after);
  EXPECT_EQ(json_of(after).at("properties"), "c : d");
  ASSERT_RAN(openstack(bob, {"share", "access", "delete", share, rule_id}));
  auto left = openstack(bob, {"share", "access", "list", share, "-f", "json"});
  ASSERT_RAN(left);
  ASSERT_EQ(json_of(left).as_array().size(), 1u) << left.output;
  EXPECT_EQ(json_of(left).at(0).at("Access To"), "bob_user");

  ASSERT_RAN(openstack(bob, {"share", "delete", share}));
  auto none = openstack(bob, {"share", "list", "-f", "json"});
  ASSERT_RAN(none);
  EXPECT_TRUE(json_of(none).as_array().empty()) << none.output;

  // --os-auth-type none sends the token "notused": Manila's noauth reads it as user and project.
  auto anonymous = openstack("", {"share", "create", "NFS", "1", "--share-type", "default",
                                  "-f", "json"});
  ASSERT_RAN(anonymous);
  EXPECT_EQ(json_of(anonymous).at("project_id"), "notused");

  // A type no share uses is deleted, by name, with either client; then neither lists it.
  ASSERT_RAN(openstack(admin, {"share", "type", "create", "scratch", "false"}));
  ASSERT_RAN(openstack(admin, {"share", "type", "delete", "scratch"}));
  ASSERT_RAN(manila(admin, {"type-create", "scratch2", "false"}));
  ASSERT_RAN(manila(admin, {"type-delete", "scratch2"}));
  auto kept = openstack(admin, {"share", "type", "list", "--all", "-f", "json"});
  ASSERT_RAN(kept);
  ASSERT_EQ(json_of(kept).as_array().size(), 1u) << kept.output;
  EXPECT_EQ(json_of(kept).at(0).at("Name"), "default");
  auto type_list = manila(admin, {"type-list"});
  ASSERT_RAN(type_list);
  EXPECT_EQ(type_list.output.find("scratch"), std::string::npos) << type_list.output;
}

}  // namespace
}  // namespace agate
