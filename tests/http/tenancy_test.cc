// Tenancy and authorisation, tested as an attacker would: every route of the API (walked from
// the router's own table, so a new route cannot escape) called with another project's ids, with
// a reader's token on writes, a member's token on admin-only actions, forged and missing tokens,
// and a project id in the URL that is not the token's. Each is refused, nothing is written, and
// no response — body or error message — carries anything of the victim's that the attacker did
// not already send.

#include <gtest/gtest.h>

#include <set>

#include "tests/support/api_harness.h"

namespace agate {
namespace {

namespace bhttp = boost::beast::http;
using testing::ApiHarness;
using testing::ApiResult;

constexpr const char* kVictim = "victim:project-victim";
constexpr const char* kAttacker = "mallory:project-attacker";
constexpr const char* kVictimReader = "viewer:project-victim:reader";
constexpr const char* kAdmin = "admin:admin-project:admin";

std::string id_of(const ApiResult& r, const char* member) {
  EXPECT_LT(r.status, 300u) << r.raw.body();
  return std::string(r.body.at(member).at("id").as_string());
}

// One request an attacker can make on a route.
struct Attempt {
  bhttp::verb method;
  std::string target;
  std::string body;
  std::string version;  // one at which the route exists (2.45 where it does)
};

class TenancyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    type_ = id_of(api_.post("/v2/types",
                            R"({"share_type": {"name": "default", "extra_specs":
                                {"driver_handles_share_servers": "False"}}})",
                            kAdmin),
                  "share_type");
    share_ = id_of(api_.post("/v2/shares",
                             R"({"share": {"share_proto": "NFS", "size": 1,
                                 "name": "victim-share-name", "description": "victim-notes"}})",
                             kVictim),
                   "share");
    group_ = id_of(api_.post("/v2/access-groups",
                             R"({"access-group": {"name": "victim-group-name",
                                 "description": "victim-group-notes", "access_type": "ip"}})",
                             kVictim),
                   "access-group");
    entry_ = id_of(api_.post("/v2/access-groups/" + group_ + "/entries",
                             R"({"entry": {"access_to": "10.99.99.0/24"}})", kVictim),
                   "entry");
    rule_ = id_of(api_.post("/v2/shares/" + share_ + "/action",
                            R"({"allow_access": {"access_type": "ip", "access_to": "10.88.88.0/24",
                                "metadata": {"victim-key": "victim-value"}}})",
                            kVictim),
                  "access");
    mapping_ = id_of(api_.post("/v2/shares/" + share_ + "/action",
                               R"({"allow_access": {"access_type": "access_group",
                                   "access_to": ")" +
                                   group_ + "\"}}",
                               kVictim),
                     "access");
    auto locations = api_.get("/v2/shares/" + share_ + "/export_locations", kVictim);
    ASSERT_EQ(locations.status, 200u) << locations.raw.body();
    export_location_ =
        std::string(locations.body.at("export_locations").at(0).at("id").as_string());
    lock_ = id_of(api_.post("/v2/resource-locks",
                            R"({"resource_lock": {"resource_type": "access_rule",
                                "resource_id": ")" + rule_ +
                                R"(", "lock_reason": "victim-lock-reason"}})",
                            kVictim, "2.81"),
                  "resource_lock");
    attacker_group_ =
        id_of(api_.post("/v2/access-groups",
                        R"({"access-group": {"name": "own", "access_type": "ip"}})", kAttacker),
              "access-group");
    secrets_ = {"victim-share-name",
                "victim-notes",
                "victim-group-name",
                "victim-group-notes",
                "10.99.99.0",
                "10.88.88.0",
                "victim-value",
                "project-victim",
                "\"victim\"",
                share_,
                group_,
                entry_,
                rule_,
                mapping_,
                lock_,
                "victim-lock-reason",
                export_location_};
  }

  // The requests an attacker can make on `route` against the victim's objects; empty if the
  // route takes no id of the victim's (lists, creation: checked separately).
  std::vector<Attempt> attempts(const http::Route& route) {
    const std::string& p = route.pattern;
    std::map<std::string, std::vector<std::string>> fill = {
        {"shares/{}", {share_}},
        {"shares/{}/action", {share_}},
        {"shares/{}/effective-access", {share_}},
        {"shares/{}/access-history", {share_}},
        {"shares/{}/export_locations", {share_}},
        {"shares/{}/export_locations/{}", {share_, export_location_}},
        {"share-access-rules/{}", {rule_}},
        {"share-access-rules/{}/metadata", {rule_}},
        {"share-access-rules/{}/metadata/{}", {rule_, "victim-key"}},
        {"access-groups/{}", {group_}},
        {"access-groups/{}/action", {group_}},
        {"access-groups/{}/entries", {group_}},
        {"access-groups/{}/entries/detail", {group_}},
        {"access-groups/{}/entries/{}", {group_, entry_}},
        {"types/{}", {type_}},
        {"resource-locks/{}", {lock_}},
    };
    if (p.find("{}") == std::string::npos) return {};
    auto it = fill.find(p);
    if (it == fill.end()) {
      ADD_FAILURE() << "no victim's ids for the route " << p << ": add it to this test";
      return {};
    }
    std::string target = "/v2/";
    std::size_t arg = 0;
    for (std::size_t i = 0; i < p.size(); ++i) {
      if (p.compare(i, 2, "{}") == 0) {
        target += it->second.at(arg++);
        ++i;
      } else {
        target += p[i];
      }
    }
    std::vector<std::string> bodies = {""};
    if (p == "shares/{}/action") {
      bodies = {R"({"allow_access": {"access_type": "ip", "access_to": "10.1.1.1"}})",
                R"({"allow_access": {"access_type": "access_group", "access_to": ")" +
                    attacker_group_ + "\"}}",
                R"({"deny_access": {"access_id": ")" + rule_ + "\"}}",
                R"({"deny_access": {"access_id": ")" + mapping_ + "\"}}",
                R"({"access_sync": null})",
                R"({"list_access_groups": null})",
                R"({"reset_status": {"status": "error"}})",
                R"({"soft_delete": null})",
                R"({"restore": null})",
                R"({"allow_access": {"access_type": "ip", "access_to": "10.1.1.2",
                    "lock_deletion": true, "lock_visibility": true}})",
                R"({"deny_access": {"access_id": ")" + rule_ + R"(", "unrestrict": true}})"};
    } else if (p == "access-groups/{}/action") {
      bodies = {R"({"list_shares": null})"};
    } else if (p == "access-groups/{}/entries" && route.method == bhttp::verb::post) {
      bodies = {R"({"entry": {"access_to": "10.1.1.0/24"}})"};
    } else if (p == "access-groups/{}" && route.method == bhttp::verb::put) {
      bodies = {R"({"access-group": {"name": "pwned"}})"};
    } else if (p == "share-access-rules/{}" && route.method == bhttp::verb::put) {
      // The level of another project's rule, and of its group mapping.
      bodies = {R"({"update_access": {"access_level": "ro"}})"};
    } else if (p == "access-groups/{}/entries/{}" && route.method == bhttp::verb::put) {
      bodies = {R"({"entry": {"access_level": "ro"}})"};
    } else if (p == "share-access-rules/{}/metadata") {
      bodies = {R"({"metadata": {"k": "v"}})"};
    } else if (p == "types/{}" && route.method == bhttp::verb::put) {
      bodies = {R"({"share_type": {"name": "pwned"}})"};
    } else if (p == "resource-locks/{}" && route.method == bhttp::verb::put) {
      bodies = {R"({"resource_lock": {"lock_reason": "pwned"}})"};
    }
    const std::string version =
        engine::ApiVersion{2, 45} < route.min ? http::to_string(route.min) : "2.45";
    std::vector<Attempt> out;
    for (const auto& b : bodies) {
      // The recycle bin's actions exist from 2.69.
      const bool recycle_bin = b.find("soft_delete") != std::string::npos ||
                               b.find("restore") != std::string::npos;
      // The lock members of allow_access are known from 2.82.
      const bool locks = b.find("lock_deletion") != std::string::npos;
      out.push_back({route.method, target, b, locks ? "2.82" : recycle_bin ? "2.69" : version});
    }
    return out;
  }

  // The victim's view of everything it owns, to compare before and after the attacks.
  std::string victim_view() {
    std::string out;
    for (const auto& target : {"/v2/shares/" + share_, "/v2/shares/" + share_ + "/effective-access",
                               "/v2/share-access-rules?share_id=" + share_,
                               "/v2/access-groups/" + group_, "/v2/share-access-rules/" + rule_}) {
      out += api_.get(target, kVictim).raw.body();
    }
    return out;
  }

  // Fails if `r` carries a secret of the victim's that `request` did not contain.
  void expect_no_leak(const ApiResult& r, const std::string& request) {
    for (const auto& secret : secrets_) {
      if (request.find(secret) != std::string::npos) continue;
      EXPECT_EQ(r.raw.body().find(secret), std::string::npos)
          << request << " answered " << r.status << " leaking " << secret << ": " << r.raw.body();
    }
  }

  ApiHarness api_;
  std::string type_, share_, group_, entry_, rule_, mapping_, lock_, export_location_,
      attacker_group_;
  std::vector<std::string> secrets_;
};

TEST_F(TenancyTest, AnotherProjectsIdsAreNotFoundOnEveryRoute) {
  const auto before_view = victim_view();
  const auto before_seq = api_.engine().last();
  int tried = 0;
  for (const auto& route : http::all_routes()) {
    for (const auto& a : attempts(route)) {
      for (const std::string& version : {a.version, std::string("2.7"), std::string("2.0")}) {
        auto r = api_.call(a.method, a.target, a.body, kAttacker, version);
        const std::string what = std::string(bhttp::to_string(a.method)) + " " + a.target + " " +
                                 a.body + " @" + version;
        ++tried;
        if (route.pattern.starts_with("types/")) {
          // Share types are public; changing or deleting one is an administrator's.
          if (a.method != bhttp::verb::get && version == a.version) {
            EXPECT_EQ(r.status, 403u) << what;
          }
          continue;
        }
        // 404 as Manila answers for what the caller may not see; 400 where Manila's handler
        // says "not found" in a 400 (share-access-rules) or the action is unknown at the
        // version; 403 for an administrator's action; never a success.
        EXPECT_TRUE(r.status == 404 || r.status == 400 || r.status == 403)
            << what << " -> " << r.status;
        expect_no_leak(r, what);
      }
    }
  }
  EXPECT_GT(tried, 60);
  EXPECT_EQ(api_.engine().last(), before_seq) << "an attack wrote something";
  EXPECT_EQ(victim_view(), before_view);
}

TEST_F(TenancyTest, ListsAndFiltersShowNothingOfAnotherProject) {
  for (const std::string& target : std::vector<std::string>{
           "/v2/shares", "/v2/shares/detail", "/v2/shares?all_tenants=1",
           "/v2/shares/detail?all_tenants=1", "/v2/shares?project_id=project-victim",
           "/v2/shares/detail?access_group=" + group_, "/v2/access-groups",
           "/v2/access-groups/detail", "/v2/access-groups?all_tenants=1",
           "/v2/access-groups?share_id=" + share_, "/v2/share-access-rules?share_id=" + share_,
           "/v2/share-replicas/detail", "/v2/types",
           "/v2/audit/who-had-access?access_to=10.88.88.0/"
           "24&from=2000-01-01T00:00:00Z&to=2100-01-01T00:00:00Z",
           "/v2/shares/" + share_ + "/effective-access?seq=1000"}) {
    auto r = api_.get(target, kAttacker);
    EXPECT_LT(r.status, 500u) << target;
    expect_no_leak(r, target);
  }
}

TEST_F(TenancyTest, AnotherProjectsResourcesCannotBeLockedNorItsLocksListed) {
  const auto before = api_.engine().last();
  for (const auto& [type, id] : std::vector<std::pair<std::string, std::string>>{
           {"share", share_}, {"access_rule", rule_}, {"access_rule", mapping_},
           {"access_group", group_}}) {
    for (const std::string action : {"delete", "show"}) {
      const std::string body = R"({"resource_lock": {"resource_type": ")" + type +
                               R"(", "resource_id": ")" + id + R"(", "resource_action": ")" +
                               action + "\"}}";
      auto r = api_.post("/v2/resource-locks", body, kAttacker, "2.81");
      EXPECT_EQ(r.status, 400u) << body << ": " << r.raw.body();
      expect_no_leak(r, body);
    }
  }
  for (const std::string& query : std::vector<std::string>{
           "", "?all_projects=true", "?resource_id=" + rule_, "?project_id=project-victim"}) {
    auto r = api_.get("/v2/resource-locks" + query, kAttacker, "2.81");
    EXPECT_TRUE(r.status == 200 || r.status == 403) << query << " -> " << r.status;
    expect_no_leak(r, "/v2/resource-locks" + query);
  }
  // The victim's own reader may list them, not place one.
  EXPECT_EQ(api_.get("/v2/resource-locks", kVictimReader, "2.81").status, 200u);
  EXPECT_EQ(api_.post("/v2/resource-locks",
                      R"({"resource_lock": {"resource_id": ")" + share_ + R"("}})",
                      kVictimReader, "2.81")
                .status,
            403u);
  EXPECT_EQ(api_.engine().last(), before);
}

TEST_F(TenancyTest, AReaderChangesNothing) {
  const auto before = api_.engine().last();
  for (const auto& route : http::all_routes()) {
    if (route.method == bhttp::verb::get) continue;
    for (const auto& a : attempts(route)) {
      const bool read_action = a.body.find("access_list") != std::string::npos ||
                               a.body.find("list_access_groups") != std::string::npos ||
                               a.body.find("list_shares") != std::string::npos;
      if (read_action) continue;
      // The recycle bin's actions exist from 2.69: below, they are not found before anything.
      const bool recycle_bin = a.body.find("soft_delete") != std::string::npos ||
                               a.body.find("restore") != std::string::npos;
      auto r = api_.call(a.method, a.target, a.body, kVictimReader, a.version);
      EXPECT_EQ(r.status, 403u) << bhttp::to_string(a.method) << " " << a.target << " " << a.body
                                << " @" << a.version;
      if (recycle_bin) {
        auto below = api_.call(a.method, a.target, a.body, kVictimReader, "2.45");
        EXPECT_EQ(below.status, 404u) << a.target << " " << a.body << " @2.45";
      }
    }
  }
  for (const auto& [target, body] : std::vector<std::pair<std::string, std::string>>{
           {"/v2/shares", R"({"share": {"share_proto": "NFS", "size": 1}})"},
           {"/v2/access-groups", R"({"access-group": {"name": "x", "access_type": "ip"}})"}}) {
    EXPECT_EQ(api_.post(target, body, kVictimReader).status, 403u) << target;
  }
  EXPECT_EQ(api_.engine().last(), before);
}

TEST_F(TenancyTest, AMemberIsRefusedWhatIsAnAdministrators) {
  const auto before = api_.engine().last();
  EXPECT_EQ(api_.post("/v2/types", R"({"share_type": {"name": "mine", "extra_specs":
                                      {"driver_handles_share_servers": "False"}}})",
                      kVictim)
                .status,
            403u);
  EXPECT_EQ(api_.call(bhttp::verb::delete_, "/v2/types/" + type_, "", kVictim).status, 403u);
  EXPECT_EQ(api_.post("/v2/shares/" + share_ + "/action",
                      R"({"reset_status": {"status": "error"}})", kVictim)
                .status,
            403u);
  EXPECT_EQ(api_.engine().last(), before);
}

TEST_F(TenancyTest, ForgedOrMissingTokensAreUnauthorizedEverywhere) {
  const auto before = api_.engine().last();
  for (const auto& route : http::all_routes()) {
    for (auto a : attempts(route)) {
      for (const std::string token : {"", "a:b:c:d", "victim:project-victim:root",
                                      ":project-victim", "victim:", "victim:project victim"}) {
        auto r = api_.call(a.method, a.target, a.body, token, a.version);
        EXPECT_EQ(r.status, 401u) << "token '" << token << "' " << a.target;
        expect_no_leak(r, a.target + a.body);
      }
      // Without a colon, Manila's noauth takes the token as both user and project: another
      // project, which gets what any other project gets.
      auto r = api_.call(a.method, a.target, a.body, "garbage", a.version);
      if (!route.pattern.starts_with("types/")) {
        EXPECT_TRUE(r.status == 400 || r.status == 403 || r.status == 404)
            << "token 'garbage' " << a.target << " -> " << r.status;
      }
      expect_no_leak(r, a.target + a.body);
    }
  }
  EXPECT_EQ(api_.engine().last(), before);
}

TEST_F(TenancyTest, AProjectInTheUrlThatIsNotTheTokensIsRefused) {
  const auto before = api_.engine().last();
  for (const auto& route : http::all_routes()) {
    for (auto a : attempts(route)) {
      // The attacker names the victim's project in the URL, with its own token.
      a.target.insert(4, "project-victim/");
      auto r = api_.call(a.method, a.target, a.body, kAttacker, a.version);
      EXPECT_TRUE(r.status == 400 || r.status == 401 || r.status == 403 || r.status == 404)
          << a.target << " -> " << r.status;
      expect_no_leak(r, a.target + a.body);
    }
  }
  auto list = api_.get("/v2/project-victim/shares/detail", kAttacker);
  EXPECT_GE(list.status, 400u);
  expect_no_leak(list, "/v2/project-victim/shares/detail");
  EXPECT_EQ(api_.engine().last(), before);
}

}  // namespace
}  // namespace agate
