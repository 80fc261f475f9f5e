// The proposal's walkthrough, its case 1, tenancy and bad input against the real agated process
// over HTTP on a free loopback port.

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "tests/support/http_client.h"
#include "tests/support/json_text.h"
#include "tests/support/server_process.h"
#include "tests/support/temp_dir.h"

namespace agate {
namespace {

namespace bhttp = boost::beast::http;
namespace json = boost::json;
using testing::ServerProcess;

const std::filesystem::path kAgated = AGATE_AGATED_PATH;
constexpr const char* kAlice = "alice:project-a";
constexpr const char* kMallory = "mallory:project-b";
constexpr const char* kAdmin = "admin:admin-project:admin";

struct Reply {
  unsigned status;
  json::value body;
  std::string text;
  std::string message() const {
    if (!body.is_object() || body.as_object().empty()) return "";
    const auto& fault = body.as_object().begin()->value();
    return fault.is_object() && fault.as_object().contains("message")
               ? std::string(fault.at("message").as_string())
               : "";
  }
};

using testing::text;

class WalkthroughTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_.emplace(kAgated, dir_.path() / "data");
    ASSERT_EQ(call(bhttp::verb::post, "/v2/types",
                   R"({"share_type": {"name": "default", "extra_specs":
                        {"driver_handles_share_servers": "False"}}})",
                   kAdmin)
                  .status,
              200u);
  }

  Reply call(bhttp::verb method, const std::string& target, const std::string& body = "",
             const std::string& token = kAlice, const std::string& version = "2.45") {
    std::vector<std::pair<std::string, std::string>> headers;
    if (!token.empty()) headers.emplace_back("X-Auth-Token", token);
    if (!version.empty()) headers.emplace_back("X-OpenStack-Manila-API-Version", version);
    auto res = testing::http_request(server_->port(), method, target, body, headers);
    Reply r{res.result_int(), nullptr, res.body()};
    boost::system::error_code ec;
    if (!res.body().empty()) {
      auto v = json::parse(res.body(), ec);
      if (!ec) r.body = std::move(v);
    }
    EXPECT_FALSE(res["x-compute-request-id"].empty()) << target;
    return r;
  }

  std::string create_share(const std::string& name, const std::string& token = kAlice) {
    auto r = call(bhttp::verb::post, "/v2/shares",
                  R"({"share": {"share_proto": "NFS", "size": 1, "name": ")" + name + R"("}})",
                  token);
    EXPECT_EQ(r.status, 200u) << r.text;
    return text(r.body.at("share").at("id"));
  }

  std::uint64_t last_seq() {
    auto r = call(bhttp::verb::get, "/healthz", "", "", "");
    return r.body.at("log").at("last_seq").to_number<std::uint64_t>();
  }

  testing::TempDir dir_;
  std::optional<ServerProcess> server_;
};

TEST_F(WalkthroughTest, TheProposalsWalkthrough) {
  // Create a group and add entries.
  auto group = call(bhttp::verb::post, "/v2/project-a/access-groups",
                    R"({"access-group": {"name": "AG1", "description": "First Access Group",
                                         "access_type": "user"}})");
  ASSERT_EQ(group.status, 200u) << group.text;
  const auto group_id = text(group.body.at("access-group").at("id"));
  for (auto [user, level] : {std::pair{"admin", "rw"}, std::pair{"demo", "ro"}}) {
    auto entry = call(bhttp::verb::post, "/v2/project-a/access-groups/" + group_id + "/entries",
                      std::string(R"({"entry": {"access_type": "user", "access_to": ")") + user +
                          R"(", "access_level": ")" + level + R"("}})");
    ASSERT_EQ(entry.status, 200u) << entry.text;
  }
  auto shown = call(bhttp::verb::get, "/v2/project-a/access-groups/" + group_id);
  EXPECT_EQ(shown.body.at("access-group").at("entry_count"), 2);

  // Attach it to two shares.
  const auto share1 = create_share("share1");
  const auto share2 = create_share("share2");
  std::string mapping1;
  for (const auto& share : {share1, share2}) {
    auto attach = call(bhttp::verb::post, "/v2/project-a/shares/" + share + "/action",
                       R"({"allow_access": {"access_type": "access_group", "access_to": ")" +
                           group_id + R"("}})");
    ASSERT_EQ(attach.status, 200u) << attach.text;
    EXPECT_EQ(text(attach.body.at("access").at("access_to")), group_id);
    if (share == share1) mapping1 = text(attach.body.at("access").at("id"));
  }

  // List: the groups of a share, the shares of a group, the share's effective access.
  auto groups = call(bhttp::verb::get, "/v2/project-a/access-groups?share_id=" + share1);
  ASSERT_EQ(groups.body.at("access-groups").as_array().size(), 1u);
  auto shares = call(bhttp::verb::get, "/v2/project-a/shares/detail?access_group=" + group_id);
  EXPECT_EQ(shares.body.at("shares").as_array().size(), 2u) << shares.text;
  auto effective = call(bhttp::verb::get, "/v2/project-a/shares/" + share1 + "/effective-access");
  ASSERT_EQ(effective.status, 200u) << effective.text;
  EXPECT_EQ(effective.body.at("effective_access").at("rules").as_array().size(), 2u);
  auto listed = call(bhttp::verb::post, "/v2/project-a/shares/" + share1 + "/action",
                     R"({"access_list": null})", kAlice, "2.44");
  ASSERT_EQ(listed.status, 200u) << listed.text;

  // Deny: detach the group from share1 through its mapping id.
  auto deny = call(bhttp::verb::post, "/v2/project-a/shares/" + share1 + "/action",
                   R"({"deny_access": {"access_id": ")" + mapping1 + R"("}})");
  EXPECT_EQ(deny.status, 202u) << deny.text;
  effective = call(bhttp::verb::get, "/v2/project-a/shares/" + share1 + "/effective-access");
  EXPECT_TRUE(effective.body.at("effective_access").at("rules").as_array().empty());

  // Delete: refused while attached to share2, then forced.
  auto del = call(bhttp::verb::delete_, "/v2/project-a/access-groups/" + group_id);
  EXPECT_EQ(del.status, 409u);
  EXPECT_NE(del.message().find(share2), std::string::npos);
  del = call(bhttp::verb::delete_, "/v2/project-a/access-groups/" + group_id + "?force=true");
  EXPECT_EQ(del.status, 202u);
  EXPECT_EQ(call(bhttp::verb::get, "/v2/project-a/access-groups/" + group_id).status, 404u);
}

TEST_F(WalkthroughTest, CaseOneContradictoryGroupIsRefusedAndNothingIsWritten) {
  const auto share = create_share("s");
  ASSERT_EQ(call(bhttp::verb::post, "/v2/shares/" + share + "/action",
                 R"({"allow_access": {"access_type": "user", "access_to": "admin",
                                      "access_level": "rw"}})")
                .status,
            200u);
  auto group = call(bhttp::verb::post, "/v2/access-groups",
                    R"({"access-group": {"name": "AG1", "access_type": "user"}})");
  const auto group_id = text(group.body.at("access-group").at("id"));
  ASSERT_EQ(call(bhttp::verb::post, "/v2/access-groups/" + group_id + "/entries",
                 R"({"entry": {"access_to": "admin", "access_level": "ro"}})")
                .status,
            200u);
  const auto before = last_seq();
  auto attach = call(bhttp::verb::post, "/v2/shares/" + share + "/action",
                     R"({"allow_access": {"access_type": "access_group", "access_to": ")" +
                         group_id + R"("}})");
  EXPECT_EQ(attach.status, 409u) << attach.text;
  EXPECT_TRUE(attach.body.as_object().contains("conflictingRequest"));
  EXPECT_NE(attach.message().find("user:admin (rw)"), std::string::npos) << attach.message();
  EXPECT_EQ(last_seq(), before);
}

TEST_F(WalkthroughTest, TenancyIsolation) {
  const auto share = create_share("private");
  auto group = call(bhttp::verb::post, "/v2/access-groups",
                    R"({"access-group": {"name": "secret-group", "access_type": "ip"}})");
  const auto group_id = text(group.body.at("access-group").at("id"));
  const auto before = last_seq();

  const std::vector<std::pair<bhttp::verb, std::string>> probes = {
      {bhttp::verb::get, "/v2/shares/" + share},
      {bhttp::verb::get, "/v2/shares/" + share + "/effective-access"},
      {bhttp::verb::get, "/v2/access-groups/" + group_id},
      {bhttp::verb::get, "/v2/access-groups/" + group_id + "/entries"},
      {bhttp::verb::delete_, "/v2/shares/" + share},
      {bhttp::verb::delete_, "/v2/access-groups/" + group_id + "?force=true"},
  };
  for (const auto& [method, target] : probes) {
    auto r = call(method, target, "", kMallory);
    EXPECT_EQ(r.status, 404u) << target << ": " << r.text;
    EXPECT_EQ(r.text.find("private"), std::string::npos) << target;
    EXPECT_EQ(r.text.find("secret-group"), std::string::npos) << target;
  }
  auto allow = call(bhttp::verb::post, "/v2/shares/" + share + "/action",
                    R"({"allow_access": {"access_type": "ip", "access_to": "10.0.0.1"}})", kMallory);
  EXPECT_EQ(allow.status, 404u);
  const auto theirs = create_share("theirs", kMallory);
  const auto after_create = last_seq();
  auto attach = call(bhttp::verb::post, "/v2/shares/" + theirs + "/action",
                     R"({"allow_access": {"access_type": "access_group", "access_to": ")" +
                         group_id + R"("}})",
                     kMallory);
  EXPECT_EQ(attach.status, 404u) << attach.text;
  EXPECT_EQ(last_seq(), after_create);
  EXPECT_EQ(after_create, before + 1);  // only mallory's own share was written
  // A project id in the URL that is not the token's.
  EXPECT_EQ(call(bhttp::verb::get, "/v2/project-a/shares/detail", "", kMallory).status, 400u);
  // Lists show only the caller's own objects.
  auto list = call(bhttp::verb::get, "/v2/shares/detail", "", kMallory);
  EXPECT_EQ(list.body.at("shares").as_array().size(), 1u);
}

TEST_F(WalkthroughTest, BadInputIsRefusedWithTheRightStatusAndWritesNothing) {
  const auto share = create_share("s");
  auto group = call(bhttp::verb::post, "/v2/access-groups",
                    R"({"access-group": {"name": "g", "access_type": "ip"}})");
  const auto group_id = text(group.body.at("access-group").at("id"));
  const auto before = last_seq();
  struct Case {
    bhttp::verb method;
    std::string target, body, version;
    unsigned status;
  };
  const std::vector<Case> cases = {
      {bhttp::verb::post, "/v2/access-groups", "{not json", "2.45", 400},
      {bhttp::verb::post, "/v2/access-groups", R"({"access-group": {"name": 1}})", "2.45", 400},
      {bhttp::verb::post, "/v2/access-groups/" + group_id + "/entries",
       R"({"entry": {"access_to": "10.0.0.1/24"}})", "2.45", 400},
      {bhttp::verb::post, "/v2/access-groups/" + group_id + "/entries",
       R"({"entry": {"access_to": "10.0.0.0/24", "access_level": "su"}})", "2.45", 400},
      {bhttp::verb::post, "/v2/access-groups/no-such-group/entries",
       R"({"entry": {"access_to": "10.0.0.0/24"}})", "2.45", 404},
      {bhttp::verb::post, "/v2/shares/" + share + "/action", R"({"frobnicate": {}})", "2.45", 400},
      {bhttp::verb::post, "/v2/shares/" + share + "/action",
       R"({"allow_access": {"access_type": "ip", "access_to": "1.2.3.256"}})", "2.45", 400},
      {bhttp::verb::post, "/v2/shares/" + share + "/action",
       R"({"allow_access": {"access_type": "ip", "access_to": "10.0.0.1"}})", "2.6", 404},
      {bhttp::verb::post, "/v2/shares/" + share + "/action",
       R"({"allow_access": {"access_type": "ip"}})", "2.45", 400},
      {bhttp::verb::post, "/v2/shares/no-such-share/action",
       R"({"allow_access": {"access_type": "ip", "access_to": "10.0.0.1"}})", "2.45", 404},
      {bhttp::verb::post, "/v2/shares", R"({"share": {"share_proto": "NFS", "size": 0}})", "2.45", 400},
      {bhttp::verb::post, "/v2/shares", R"({"share": {"share_proto": "NFS", "size": 1, "bogus": 1}})",
       "2.45", 400},
      {bhttp::verb::get, "/v2/access-groups", "", "2.0.1", 400},
      {bhttp::verb::get, "/v2/access-groups", "", "3.0", 406},
      {bhttp::verb::patch, "/v2/access-groups", "", "2.45", 405},
  };
  for (const auto& c : cases) {
    auto r = call(c.method, c.target, c.body, kAlice, c.version);
    EXPECT_EQ(r.status, c.status) << c.target << " " << c.body << ": " << r.text;
    EXPECT_FALSE(r.message().empty()) << c.target << " " << c.body << ": " << r.text;
  }
  EXPECT_EQ(last_seq(), before);
  EXPECT_EQ(call(bhttp::verb::get, "/healthz", "", "", "").status, 200u);
}

}  // namespace
}  // namespace agate
