// The access-group endpoints and the API's plumbing (versions, auth, errors), without a socket.

#include <gtest/gtest.h>

#include <condition_variable>
#include <mutex>
#include <optional>

#include "tests/support/api_harness.h"
#include "tests/support/json_text.h"

namespace agate {
namespace {

namespace bhttp = boost::beast::http;
using testing::ApiHarness;
using testing::EngineHarness;

using testing::text;

class GroupsApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    api_.engine().create_type("default");
    share_ = api_.engine().create_share(EngineHarness::member("project-a"));
  }

  std::string create_group(const std::string& name, const std::string& type = "ip") {
    auto r = api_.post("/v2/project-a/access-groups",
                       R"({"access-group": {"name": ")" + name + R"(", "access_type": ")" + type +
                           R"(", "description": "d"}})");
    EXPECT_EQ(r.status, 200u) << r.raw.body();
    return std::string(r.body.at("access-group").at("id").as_string());
  }

  ApiHarness api_;
  std::string share_;
};

TEST_F(GroupsApiTest, CreateShowsTheProposalsFields) {
  auto r = api_.post("/v2/project-a/access-groups",
                     R"({"access-group": {"name": "AG1", "description": "First Access Group",
                                          "access_type": "user"}})");
  ASSERT_EQ(r.status, 200u) << r.raw.body();
  const auto& g = r.body.at("access-group").as_object();
  for (auto key : {"id", "created_at", "updated_at", "project_id", "description", "name",
                   "access_type", "entry_count"}) {
    EXPECT_TRUE(g.contains(key)) << key;
  }
  EXPECT_EQ(g.at("name"), "AG1");
  EXPECT_EQ(g.at("access_type"), "user");
  EXPECT_EQ(g.at("project_id"), "project-a");
  EXPECT_EQ(g.at("entry_count"), 0);
  EXPECT_TRUE(g.at("updated_at").is_null());
  EXPECT_EQ(r.raw["X-OpenStack-Manila-API-Version"], "2.45");
  EXPECT_EQ(r.raw["Vary"], "X-OpenStack-Manila-API-Version");
  EXPECT_TRUE(r.raw["x-compute-request-id"].starts_with("req-"));
}

TEST_F(GroupsApiTest, WalkthroughEntriesAttachListDenyDelete) {
  const auto group = create_group("web");
  auto entry = api_.post("/v2/project-a/access-groups/" + group + "/entries",
                         R"({"entry": {"access_type": "ip", "access_to": "10.0.0.0/24",
                                       "access_level": "rw"}})");
  ASSERT_EQ(entry.status, 200u) << entry.raw.body();
  EXPECT_EQ(entry.body.at("entry").at("access_to"), "10.0.0.0/24");
  const std::string entry_id(entry.body.at("entry").at("id").as_string());

  api_.engine().attach(EngineHarness::member("project-a"), share_, group);

  auto show = api_.get("/v2/project-a/access-groups/" + group);
  ASSERT_EQ(show.status, 200u);
  EXPECT_EQ(show.body.at("access-group").at("entry_count"), 1);
  EXPECT_EQ(show.body.at("access-group").at("entries").as_array().size(), 1u);

  auto list = api_.get("/v2/project-a/access-groups?share_id=" + share_);
  ASSERT_EQ(list.status, 200u);
  ASSERT_EQ(list.body.at("access-groups").as_array().size(), 1u);
  EXPECT_EQ(text(list.body.at("access-groups").at(0).at("id")), group);

  auto shares = api_.post("/v2/project-a/access-groups/" + group + "/action", R"({"list_shares": {}})");
  ASSERT_EQ(shares.status, 200u) << shares.raw.body();
  EXPECT_EQ(text(shares.body.at("shares").at(0).at("share_id")), share_);

  auto entries = api_.get("/v2/project-a/access-groups/" + group + "/entries/detail");
  ASSERT_EQ(entries.status, 200u);
  EXPECT_EQ(text(entries.body.at("entries").at(0).at("access_group_id")), group);

  auto del = api_.call(bhttp::verb::delete_, "/v2/project-a/access-groups/" + group);
  EXPECT_EQ(del.status, 409u);
  EXPECT_NE(del.message().find(share_), std::string::npos);

  auto rm = api_.call(bhttp::verb::delete_,
                      "/v2/project-a/access-groups/" + group + "/entries/" + entry_id);
  EXPECT_EQ(rm.status, 202u);
  auto forced = api_.call(bhttp::verb::delete_, "/v2/project-a/access-groups/" + group + "?force=true");
  EXPECT_EQ(forced.status, 202u) << forced.raw.body();
  EXPECT_EQ(api_.get("/v2/project-a/access-groups/" + group).status, 404u);
}

TEST_F(GroupsApiTest, UpdateAnswersWithAccessType) {
  const auto group = create_group("old");
  auto r = api_.call(bhttp::verb::put, "/v2/access-groups/" + group,
                     R"({"access-group": {"description": "Web servers", "name": "new"}})");
  ASSERT_EQ(r.status, 200u) << r.raw.body();
  EXPECT_EQ(r.body.at("access-group").at("name"), "new");
  EXPECT_EQ(r.body.at("access-group").at("access_type"), "ip");
  EXPECT_FALSE(r.body.at("access-group").at("updated_at").is_null());
}

TEST_F(GroupsApiTest, AnotherProjectsGroupIsNotFound) {
  const auto group = create_group("mine");
  auto r = api_.get("/v2/project-b/access-groups/" + group, ApiHarness::kMallory);
  EXPECT_EQ(r.status, 404u);
  EXPECT_EQ(r.message(), "Access group " + group + " could not be found.");
  EXPECT_EQ(r.raw.body().find("mine"), std::string::npos);
  auto list = api_.get("/v2/project-b/access-groups", ApiHarness::kMallory);
  EXPECT_TRUE(list.body.at("access-groups").as_array().empty());
  // An admin sees all projects' groups only when asking for all_tenants.
  EXPECT_TRUE(api_.get("/v2/access-groups", ApiHarness::kAdmin).body.at("access-groups").as_array().empty());
  EXPECT_EQ(api_.get("/v2/access-groups?all_tenants=1", ApiHarness::kAdmin)
                .body.at("access-groups").as_array().size(), 1u);
}

TEST_F(GroupsApiTest, BadBodiesAre400AndWriteNothing) {
  const auto before = api_.engine().last();
  struct Case {
    std::string body, message;
  };
  const std::vector<Case> cases = {
      {"", "The request body is empty; a JSON object is expected."},
      {"{", ""},
      {"[]", "Malformed request body: a JSON object is expected."},
      {R"({"group": {}})", "Missing required element 'access-group' in request body."},
      {R"({"access-group": []})", "'access-group' must be an object, not an array."},
      {R"({"access-group": {"name": "x"}})", "'access_type' is required in 'access-group'."},
      {R"({"access-group": {"name": 5, "access_type": "ip"}})",
       "'name' in 'access-group' must be a string, not a number."},
      {R"({"access-group": {"name": "x", "access_type": "ip", "colour": "red"}})",
       "Unknown element 'colour' in 'access-group'."},
      {R"({"access-group": {"name": "x", "access_type": "nfs"}})",
       "Only 'ip', 'user', 'cert' or 'cephx' access types are supported."},
      {R"({"access-group": {"name": "x", "access_type": "ip"}, "extra": 1})",
       "Unexpected element 'extra' in request body beside 'access-group'."},
      {R"({"access-group": {"name": "a", "access_type": "ip", "name": "b"}})",
       "Malformed request body: the key 'name' appears twice in one object."},
      {R"({"access-group": {"name": "a", "access_type": "ip"}, "access-group": {}})",
       "Malformed request body: the key 'access-group' appears twice in one object."},
      {R"({"access-group": {"name": "a", "access_type": "ip", "description": {"k": 1, "k": 2}}})",
       "Malformed request body: the key 'k' appears twice in one object."},
  };
  for (const auto& c : cases) {
    auto r = api_.post("/v2/project-a/access-groups", c.body);
    EXPECT_EQ(r.status, 400u) << c.body;
    if (!c.message.empty()) {
      EXPECT_EQ(r.message(), c.message) << c.body;
    }
  }
  EXPECT_EQ(api_.engine().last(), before);
}

TEST_F(GroupsApiTest, RequestBytesThatAreNotUtf8AreNotEchoedIntoJson) {
  // A percent-decoded id and a header are bytes; the answers stay valid JSON, the bad bytes
  // shown as U+FFFD.
  auto id = api_.get("/v2/project-a/access-groups/a%ffb%c0%af");
  EXPECT_EQ(id.status, 404u);
  EXPECT_NE(id.message().find("a\uFFFDb\uFFFD\uFFFD"), std::string::npos)
      << id.raw.body();
  auto version = api_.get("/v2/project-a/access-groups", ApiHarness::kAlice, "2.\xe2\x82");
  EXPECT_EQ(version.status, 400u);
  EXPECT_EQ(version.message(),
            "API Version String 2.\uFFFD\uFFFD is of invalid format. Must be of "
            "format MajorNum.MinorNum.");
  auto req = ApiHarness::request(bhttp::verb::get, "/v2", "", "", "");
  req.set(bhttp::field::host, "h\xf5st");
  auto discovery = ApiHarness::send(api_.services(), req);
  EXPECT_EQ(discovery.status, 200u);
  EXPECT_FALSE(discovery.body.is_null()) << discovery.raw.body();
  // Share views link to themselves through the Host header too.
  auto shares = ApiHarness::request(bhttp::verb::get, "/v2/project-a/shares/detail", "",
                                    ApiHarness::kAlice, "2.45");
  shares.set(bhttp::field::host, "h\xf5st");
  auto listed = ApiHarness::send(api_.services(), shares);
  EXPECT_EQ(listed.status, 200u);
  ASSERT_FALSE(listed.body.is_null()) << listed.raw.body();
  EXPECT_TRUE(text(listed.body.at("shares").at(0).at("links").at(0).at("href"))
                  .starts_with("http://h\uFFFDst/"));
}

TEST_F(GroupsApiTest, VersionHeaderIsNegotiatedAsManilaDoes) {
  auto bad = api_.get("/v2/project-a/access-groups", ApiHarness::kAlice, "2.0.1");
  EXPECT_EQ(bad.status, 400u);
  EXPECT_EQ(bad.message(), "API Version String 2.0.1 is of invalid format. Must be of format MajorNum.MinorNum.");
  auto latest = api_.get("/v2/project-a/access-groups", ApiHarness::kAlice, "latest");
  EXPECT_EQ(latest.status, 400u);
  auto high = api_.get("/v2/project-a/access-groups", ApiHarness::kAlice, "2.999");
  EXPECT_EQ(high.status, 406u);
  EXPECT_EQ(high.message(),
            "Version 2.999 is not supported by the API. Minimum is 2.0 and maximum is 2.99.");
  EXPECT_TRUE(high.body.as_object().contains("computeFault"));
  auto none = api_.get("/v2/project-a/access-groups", ApiHarness::kAlice, "");
  EXPECT_EQ(none.status, 200u);
  EXPECT_EQ(none.raw["X-OpenStack-Manila-API-Version"], "2.0");
}

TEST_F(GroupsApiTest, VersionDiscoveryNeedsNoToken) {
  auto root = api_.get("/", "", "");
  EXPECT_EQ(root.status, 300u);
  EXPECT_EQ(root.body.at("versions").as_array().size(), 1u);  // v2.0 only, as Manila now
  auto v2 = api_.get("/v2/", "", "");
  ASSERT_EQ(v2.status, 200u);
  const auto& current = v2.body.at("versions").at(0);
  EXPECT_EQ(current.at("status"), "CURRENT");
  EXPECT_EQ(current.at("version"), "2.99");
  EXPECT_EQ(current.at("min_version"), "2.0");
}

TEST_F(GroupsApiTest, AuthenticationAndTenancyOfTheUrl) {
  auto missing = api_.get("/v2/project-a/access-groups", "");
  EXPECT_EQ(missing.status, 401u);
  EXPECT_TRUE(missing.body.as_object().contains("unauthorized"));
  EXPECT_EQ(api_.get("/v2/project-a/access-groups", "alice:project-a:root").status, 401u);
  EXPECT_EQ(api_.get("/v2/project-a/access-groups", "two words").status, 401u);
  // As in Manila's noauth, a token without a colon is user and project both.
  EXPECT_EQ(api_.get("/v2/notused/access-groups", "notused").status, 200u);
  // Ids are printable ASCII: they are stored in events and shown in every answer.
  const auto before = api_.engine().last();
  for (const std::string token :
       {"alice:project\x99", "al\xc3\xa9:project-a", "alice:proj\tect"}) {
    auto r = api_.post("/v2/access-groups",
                       R"({"access-group": {"name": "n", "access_type": "ip"}})", token);
    EXPECT_EQ(r.status, 401u) << token;
    EXPECT_TRUE(r.body.as_object().contains("unauthorized")) << r.raw.body();
  }
  EXPECT_EQ(api_.engine().last(), before);
  auto other = api_.get("/v2/project-b/access-groups", ApiHarness::kAlice);
  EXPECT_EQ(other.status, 400u);
  EXPECT_EQ(other.message(), "Malformed request url");
  auto reader = api_.post("/v2/project-a/access-groups",
                          R"({"access-group": {"name": "r", "access_type": "ip"}})",
                          "reader:project-a:reader");
  EXPECT_EQ(reader.status, 403u);
  EXPECT_EQ(api_.get("/v2/project-a/access-groups", "reader:project-a:reader").status, 200u);
  // list_shares only reads: readers may call it, and nothing else on the group.
  auto group = api_.post("/v2/project-a/access-groups",
                         R"({"access-group": {"name": "g", "access_type": "ip"}})");
  ASSERT_EQ(group.status, 200u);
  const std::string id(group.body.at("access-group").at("id").as_string());
  EXPECT_EQ(api_.post("/v2/project-a/access-groups/" + id + "/action", R"({"list_shares": {}})",
                      "reader:project-a:reader")
                .status,
            200u);
  EXPECT_EQ(api_.post("/v2/project-a/access-groups/" + id + "/entries",
                      R"({"entry": {"access_to": "10.0.0.0/24"}})", "reader:project-a:reader")
                .status,
            403u);
  EXPECT_EQ(api_.call(bhttp::verb::delete_, "/v2/project-a/access-groups/" + id, "",
                      "reader:project-a:reader")
                .status,
            403u);
}

TEST_F(GroupsApiTest, UnknownPathsMethodsAndActions) {
  EXPECT_EQ(api_.get("/v2/project-a/nothing").status, 404u);
  auto method = api_.call(bhttp::verb::patch, "/v2/project-a/access-groups");
  EXPECT_EQ(method.status, 405u);
  EXPECT_TRUE(method.body.as_object().contains("badMethod"));
  const auto group = create_group("g");
  auto action = api_.post("/v2/project-a/access-groups/" + group + "/action", R"({"frobnicate": {}})");
  EXPECT_EQ(action.status, 400u);
  EXPECT_EQ(action.message(), "There is no such action: frobnicate");
  auto two = api_.post("/v2/project-a/access-groups/" + group + "/action",
                       R"({"list_shares": {}, "x": 1})");
  EXPECT_EQ(two.message(), "Malformed request body");
}

TEST_F(GroupsApiTest, ListsPageAndRefuseMalformedPaging) {
  for (int i = 0; i < 3; ++i) create_group("g" + std::to_string(i));
  EXPECT_EQ(api_.get("/v2/project-a/access-groups?limit=2").body.at("access-groups").as_array().size(), 2u);
  EXPECT_EQ(api_.get("/v2/project-a/access-groups?limit=2&offset=2")
                .body.at("access-groups").as_array().size(), 1u);
  auto bad = api_.get("/v2/project-a/access-groups?limit=lots");
  EXPECT_EQ(bad.status, 400u);
  EXPECT_EQ(bad.message(), "limit param must be an integer");
  EXPECT_EQ(api_.get("/v2/project-a/access-groups?offset=-1").message(), "offset param must be positive");
}

TEST_F(GroupsApiTest, HealthzReportsTheLogAndTheWriter) {
  auto r = api_.get("/healthz", "", "");
  ASSERT_EQ(r.status, 200u);
  EXPECT_EQ(r.body.at("status"), "ok");
  EXPECT_TRUE(r.body.at("log").as_object().contains("last_seq"));
}

// The writer hands its answer to Services::defer, and the response is built and sent only where
// that runs (the server's I/O threads), so the writer's thread does not render responses.
TEST_F(GroupsApiTest, AWritesResponseIsBuiltWhereDeferRunsIt) {
  std::mutex mutex;
  std::condition_variable handed;
  std::vector<std::function<void()>> deferred;
  http::Services services = api_.services();
  services.defer = [&](std::function<void()> f) {
    std::lock_guard lock(mutex);
    deferred.push_back(std::move(f));
    handed.notify_all();
  };
  const auto req = ApiHarness::request(bhttp::verb::post, "/v2/project-a/access-groups",
                                       R"({"access-group": {"name": "g", "access_type": "ip"}})",
                                       ApiHarness::kAlice, "2.45");
  std::optional<http::Response> answer;
  http::handle_request(services, req, [&](http::Response res) { answer = std::move(res); });
  std::function<void()> rest;
  {
    std::unique_lock lock(mutex);
    ASSERT_TRUE(handed.wait_for(lock, std::chrono::seconds(10), [&] { return !deferred.empty(); }));
    ASSERT_EQ(deferred.size(), 1u);
    rest = std::move(deferred.front());
  }
  EXPECT_FALSE(answer) << "answered before the deferred part ran";
  rest();
  ASSERT_TRUE(answer);
  EXPECT_EQ(answer->result_int(), 200u) << answer->body();
  EXPECT_NE(answer->body().find(R"("name":"g")"), std::string::npos) << answer->body();

  // A refusal goes the same way.
  answer.reset();
  http::handle_request(services, req, [&](http::Response res) { answer = std::move(res); });
  {
    std::unique_lock lock(mutex);
    ASSERT_TRUE(
        handed.wait_for(lock, std::chrono::seconds(10), [&] { return deferred.size() == 2; }));
    rest = std::move(deferred.back());
  }
  EXPECT_FALSE(answer);
  rest();
  ASSERT_TRUE(answer);
  EXPECT_EQ(answer->result_int(), 409u) << answer->body();
}

}  // namespace
}  // namespace agate
