// The share and share-type endpoints (http/routes_shares.cc), without a socket: Manila's views by
// microversion, filters and pages, tenancy, and bodies refused before anything is written.

#include <gtest/gtest.h>

#include <regex>

#include "tests/support/api_harness.h"
#include "tests/support/json_text.h"

namespace agate {
namespace {

namespace bhttp = boost::beast::http;
using testing::ApiHarness;
using testing::EngineHarness;

using testing::text;

bool has(const boost::json::value& o, const char* key) { return o.as_object().contains(key); }

// Exactly what python-manilaclient 4.1.1 sends for `manila create NFS 1 --name <name>`.
std::string manilaclient_body(const std::string& name, const std::string& share_type = "null") {
  return R"({"share": {"size": 1, "snapshot_id": null, "name": ")" + name +
         R"(", "description": null, "metadata": {}, "share_proto": "NFS",
              "share_network_id": null, "share_type": )" +
         share_type +
         R"(, "is_public": false, "availability_zone": null, "scheduler_hints": {}}})";
}

constexpr const char* kReader = "reader:project-a:reader";
const std::string kDhssFalse = R"("extra_specs": {"driver_handles_share_servers": "False"})";

// ---- share types ----------------------------------------------------------------------------

class ShareTypesApiTest : public ::testing::Test {
 protected:
  testing::ApiResult create_type(const std::string& fields, const std::string& version = "2.45") {
    return api_.post("/v2/types", R"({"share_type": {)" + fields + "}}", ApiHarness::kAdmin,
                     version);
  }

  std::string create_type_id(const std::string& name, bool is_public = true,
                             const std::string& specs = R"("driver_handles_share_servers": "False")") {
    auto r = create_type(R"("name": ")" + name + R"(", "share_type_access:is_public": )" +
                         (is_public ? "true" : "false") + R"(, "extra_specs": {)" + specs + "}");
    EXPECT_EQ(r.status, 200u) << r.raw.body();
    return text(r.body.at("share_type").at("id"));
  }

  ApiHarness api_;
};

TEST_F(ShareTypesApiTest, CreateAnswersWithManilasView) {
  auto r = create_type(R"("name": "gold", "description": "Fast", "share_type_access:is_public": true,
                          "extra_specs": {"driver_handles_share_servers": "False",
                                          "share_backend_name": "nfs1"})");
  ASSERT_EQ(r.status, 200u) << r.raw.body();
  const auto& t = r.body.at("share_type");
  EXPECT_EQ(t.at("name"), "gold");
  EXPECT_EQ(t.at("description"), "Fast");
  EXPECT_EQ(t.at("share_type_access:is_public"), true);
  EXPECT_FALSE(has(t, "os-share-type-access:is_public"));
  EXPECT_EQ(t.at("extra_specs").at("share_backend_name"), "nfs1");  // an admin sees every spec
  EXPECT_EQ(t.at("required_extra_specs"),
            boost::json::parse(R"({"driver_handles_share_servers": "False"})"));
  // Manila repeats the type under its Cinder-era name.
  EXPECT_EQ(r.body.at("volume_type"), t);
  EXPECT_EQ(r.raw["X-OpenStack-Manila-API-Version"], "2.45");
  EXPECT_TRUE(r.raw["x-compute-request-id"].starts_with("req-"));

  auto show = api_.get("/v2/types/" + text(t.at("id")), ApiHarness::kAdmin);
  ASSERT_EQ(show.status, 200u);
  EXPECT_EQ(show.body.at("share_type"), t);
}

TEST_F(ShareTypesApiTest, CreateTakesBooleanExtraSpecsAsManilaclientSendsThem) {
  auto r = create_type(R"("name": "b", "share_type_access:is_public": false,
                          "extra_specs": {"driver_handles_share_servers": false,
                                          "snapshot_support": true, "answer": 42})");
  ASSERT_EQ(r.status, 200u) << r.raw.body();
  const auto& specs = r.body.at("share_type").at("extra_specs");
  EXPECT_EQ(specs.at("driver_handles_share_servers"), "False");
  EXPECT_EQ(specs.at("snapshot_support"), "True");
  EXPECT_EQ(specs.at("answer"), "42");
  EXPECT_EQ(r.body.at("share_type").at("share_type_access:is_public"), false);
}

TEST_F(ShareTypesApiTest, IsPublicKeyAndDescriptionDependOnTheVersion) {
  const auto id = create_type_id("silver");
  auto v20 = api_.get("/v2/types/" + id, ApiHarness::kAdmin, "2.0");
  ASSERT_EQ(v20.status, 200u);
  EXPECT_EQ(v20.body.at("share_type").at("os-share-type-access:is_public"), true);
  EXPECT_FALSE(has(v20.body.at("share_type"), "share_type_access:is_public"));
  EXPECT_FALSE(has(v20.body.at("share_type"), "description"));
  auto v26 = api_.get("/v2/types/" + id, ApiHarness::kAdmin, "2.6");
  EXPECT_TRUE(has(v26.body.at("share_type"), "os-share-type-access:is_public"));
  auto v27 = api_.get("/v2/types/" + id, ApiHarness::kAdmin, "2.7");
  EXPECT_TRUE(has(v27.body.at("share_type"), "share_type_access:is_public"));
  EXPECT_FALSE(has(v27.body.at("share_type"), "os-share-type-access:is_public"));
  EXPECT_FALSE(has(api_.get("/v2/types/" + id, ApiHarness::kAdmin, "2.40").body.at("share_type"),
                   "description"));
  auto v41 = api_.get("/v2/types/" + id, ApiHarness::kAdmin, "2.41");
  ASSERT_TRUE(has(v41.body.at("share_type"), "description"));
  EXPECT_TRUE(v41.body.at("share_type").at("description").is_null());
}

TEST_F(ShareTypesApiTest, CreateBelow2_24ImpliesSnapshotSupport) {
  auto old = create_type(R"("name": "old", )" + kDhssFalse, "2.23");
  ASSERT_EQ(old.status, 200u) << old.raw.body();
  EXPECT_EQ(old.body.at("share_type").at("extra_specs").at("snapshot_support"), "True");
  auto current = create_type(R"("name": "new", )" + kDhssFalse, "2.24");
  ASSERT_EQ(current.status, 200u);
  EXPECT_FALSE(has(current.body.at("share_type").at("extra_specs"), "snapshot_support"));
}

TEST_F(ShareTypesApiTest, MemberMayNotCreateOrDeleteTypes) {
  const auto id = create_type_id("gold");
  const auto before = api_.engine().last();
  auto create = api_.post("/v2/types", R"({"share_type": {"name": "mine", )" + kDhssFalse + "}}");
  EXPECT_EQ(create.status, 403u);
  EXPECT_EQ(create.message(), "Policy doesn't allow share_type:create to be performed.");
  EXPECT_TRUE(has(create.body, "forbidden"));
  // Policy comes before the body, as in Manila.
  EXPECT_EQ(api_.post("/v2/types", "{", ApiHarness::kAlice).status, 403u);
  auto del = api_.call(bhttp::verb::delete_, "/v2/types/" + id);
  EXPECT_EQ(del.status, 403u);
  EXPECT_EQ(del.message(), "Policy doesn't allow share_type:delete to be performed.");
  EXPECT_EQ(api_.engine().last(), before);
}

TEST_F(ShareTypesApiTest, MemberSeesPublicTypesWithTenantVisibleSpecsOnly) {
  const auto gold = create_type_id(
      "gold", true,
      R"("driver_handles_share_servers": "False", "share_backend_name": "nfs1",
         "snapshot_support": "True", "vendor:dedupe": "on")");
  const auto hidden = create_type_id("hidden", false);

  auto list = api_.get("/v2/types");
  ASSERT_EQ(list.status, 200u);
  const auto& types = list.body.at("share_types").as_array();
  ASSERT_EQ(types.size(), 1u);
  EXPECT_EQ(list.body.at("volume_types"), list.body.at("share_types"));
  const auto& specs = types[0].at("extra_specs");
  EXPECT_EQ(specs.at("snapshot_support"), "True");
  EXPECT_EQ(specs.at("driver_handles_share_servers"), "False");
  // Back-end names and driver specs are the operator's business.
  EXPECT_FALSE(has(specs, "share_backend_name"));
  EXPECT_FALSE(has(specs, "vendor:dedupe"));
  EXPECT_EQ(list.raw.body().find("nfs1"), std::string::npos);
  // From 2.24 a member also sees the inferred defaults of the snapshot capabilities.
  EXPECT_EQ(specs.at("create_share_from_snapshot_support"), false);
  EXPECT_EQ(specs.at("mount_snapshot_support"), false);
  EXPECT_FALSE(has(api_.get("/v2/types", ApiHarness::kAlice, "2.23")
                       .body.at("share_types").at(0).at("extra_specs"),
                   "revert_to_snapshot_support"));

  EXPECT_EQ(api_.get("/v2/types/" + gold).status, 200u);
  auto private_type = api_.get("/v2/types/" + hidden);
  EXPECT_EQ(private_type.status, 404u);
  EXPECT_EQ(private_type.message(), "Share type " + hidden + " could not be found.");
  EXPECT_EQ(private_type.raw.body().find("hidden\""), std::string::npos);
  // A member's is_public=all changes nothing.
  EXPECT_EQ(api_.get("/v2/types?is_public=all").body.at("share_types").as_array().size(), 1u);
}

TEST_F(ShareTypesApiTest, ListAsManilaclientDoesWhenLookingForTheDefault) {
  create_type_id("default");
  create_type_id("private", false);
  // manilaclient's `manila create` without --share-type sends this twice.
  for (int i = 0; i < 2; ++i) {
    auto r = api_.get("/v2/types?all_tenants=1&is_public=all", ApiHarness::kAdmin, "2.45");
    ASSERT_EQ(r.status, 200u);
    ASSERT_EQ(r.body.at("share_types").as_array().size(), 2u);
    EXPECT_EQ(r.body.at("share_types").at(0).at("name"), "default");  // by name
  }
  // An admin who does not ask sees the public types only, as in Manila.
  EXPECT_EQ(api_.get("/v2/types", ApiHarness::kAdmin).body.at("share_types").as_array().size(), 1u);
  auto only_private = api_.get("/v2/types?is_public=false", ApiHarness::kAdmin);
  ASSERT_EQ(only_private.body.at("share_types").as_array().size(), 1u);
  EXPECT_EQ(only_private.body.at("share_types").at(0).at("name"), "private");
  auto bad = api_.get("/v2/types?is_public=maybe", ApiHarness::kAdmin);
  EXPECT_EQ(bad.status, 400u);
  EXPECT_EQ(bad.message(), "Invalid is_public filter [maybe]");
}

TEST_F(ShareTypesApiTest, ExtraSpecsFilterFrom2_43) {
  create_type_id("a", true, R"("driver_handles_share_servers": "False", "share_backend_name": "nfs1")");
  create_type_id("b", true, R"("driver_handles_share_servers": "False", "snapshot_support": "True")");
  auto r = api_.get("/v2/types?extra_specs=%7B%27snapshot_support%27%3A+%27True%27%7D",
                    ApiHarness::kAdmin);
  ASSERT_EQ(r.status, 200u) << r.raw.body();
  ASSERT_EQ(r.body.at("share_types").as_array().size(), 1u);
  EXPECT_EQ(r.body.at("share_types").at(0).at("name"), "b");
  // A member cannot probe the specs it may not see.
  const std::string by_backend = "/v2/types?extra_specs=%7B%27share_backend_name%27%3A+%27nfs1%27%7D";
  EXPECT_EQ(api_.get(by_backend, ApiHarness::kAdmin).body.at("share_types").as_array().size(), 1u);
  EXPECT_TRUE(api_.get(by_backend).body.at("share_types").as_array().empty());
  auto old = api_.get(by_backend, ApiHarness::kAdmin, "2.42");
  EXPECT_EQ(old.status, 400u);
  EXPECT_EQ(old.message().find("Filter by 'extra_specs' is not supported by this microversion."), 0u);
  auto junk = api_.get("/v2/types?extra_specs=k%3Dv", ApiHarness::kAdmin);
  EXPECT_EQ(junk.status, 400u);
}

TEST_F(ShareTypesApiTest, DefaultTypeIsTheOneNamedDefault) {
  auto none = api_.get("/v2/types/default");
  EXPECT_EQ(none.status, 404u);
  EXPECT_EQ(none.message(), "Default share type not found");
  const auto id = create_type_id("default");
  auto r = api_.get("/v2/types/default");
  ASSERT_EQ(r.status, 200u);
  EXPECT_EQ(text(r.body.at("share_type").at("id")), id);
  EXPECT_EQ(r.body.at("volume_type"), r.body.at("share_type"));
}

TEST_F(ShareTypesApiTest, DeletedTypeIsNotFound) {
  const auto id = create_type_id("gone");
  auto del = api_.call(bhttp::verb::delete_, "/v2/types/" + id, "", ApiHarness::kAdmin);
  EXPECT_EQ(del.status, 202u) << del.raw.body();
  EXPECT_TRUE(del.raw.body().empty());
  auto show = api_.get("/v2/types/" + id, ApiHarness::kAdmin);
  EXPECT_EQ(show.status, 404u);
  EXPECT_TRUE(has(show.body, "itemNotFound"));
  EXPECT_EQ(show.message(), "Share type " + id + " could not be found.");
  EXPECT_TRUE(api_.get("/v2/types?is_public=all", ApiHarness::kAdmin)
                  .body.at("share_types").as_array().empty());
  EXPECT_EQ(api_.call(bhttp::verb::delete_, "/v2/types/" + id, "", ApiHarness::kAdmin).status, 404u);
}

TEST_F(ShareTypesApiTest, TypeInUseCannotBeDeleted) {
  const auto id = create_type_id("busy");
  ASSERT_EQ(api_.post("/v2/shares", manilaclient_body("s", "\"busy\"")).status, 200u);
  auto del = api_.call(bhttp::verb::delete_, "/v2/types/" + id, "", ApiHarness::kAdmin);
  EXPECT_EQ(del.status, 400u);
  EXPECT_EQ(del.message(), "Share Type " + id +
                               " deletion is not allowed with shares present with the type.");
}

TEST_F(ShareTypesApiTest, DuplicateNameIsAConflict) {
  create_type_id("twin");
  auto r = create_type(R"("name": "twin", )" + kDhssFalse);
  EXPECT_EQ(r.status, 409u);
  EXPECT_EQ(r.message(), "Share Type twin already exists.");
}

TEST_F(ShareTypesApiTest, BadBodiesAre400AndWriteNothing) {
  const auto before = api_.engine().last();
  struct Case {
    std::string body, message, version = "2.45";
  };
  const std::vector<Case> cases = {
      {"", "The request body is empty; a JSON object is expected."},
      {"[1]", "Malformed request body: a JSON object is expected."},
      {R"({"type": {}})", "Missing required element 'share_type' in request body."},
      {R"({"share_type": []})", "'share_type' must be an object, not an array."},
      {R"({"share_type": {)" + kDhssFalse + "}}", "'name' is required in 'share_type'."},
      {R"({"share_type": {"name": 7, )" + kDhssFalse + "}}",
       "'name' in 'share_type' must be a string, not a number."},
      {R"({"share_type": {"name": "x"}})",
       "Invalid extra_spec: Required extra specs 'driver_handles_share_servers' not specified."},
      {R"({"share_type": {"name": "x", "extra_specs": {"driver_handles_share_servers": "maybe"}}})",
       "Invalid extra_spec: Value of required extra_spec driver_handles_share_servers is not "
       "valid."},
      {R"({"share_type": {"name": "x", "extra_specs": []}})",
       "'extra_specs' in 'share_type' must be an object, not an array."},
      {R"({"share_type": {"name": "x", "extra_specs": {"driver_handles_share_servers": null}}})",
       "'extra_specs' in 'share_type' must map names to strings, booleans or integers; "
       "'driver_handles_share_servers' is null."},
      {R"({"share_type": {"name": "x", "extra_specs": {"driver_handles_share_servers": "False",
                                                       "snapshot_support": "perhaps"}}})",
       "Invalid extra_spec: Invalid boolean extra spec snapshot_support : perhaps."},
      {R"({"share_type": {"name": "x", "extra_specs": {"driver_handles_share_servers": "False",
                                                       "replication_type": "sideways"}}})",
       "Invalid extra_spec: Value of optional extra_spec replication_type is not valid."},
      {R"({"share_type": {"name": "x", "colour": "red", )" + kDhssFalse + "}}",
       "Unknown element 'colour' in 'share_type'."},
      {R"({"share_type": {"name": "x", "share_type_access:is_public": "maybe", )" + kDhssFalse + "}}",
       "'share_type_access:is_public' in 'share_type' must be a boolean."},
      {R"({"share_type": {"name": "x", "description": "d", )" + kDhssFalse + "}}",
       "'description' key is not supported by this microversion. Use 2.41 or greater "
       "microversion to be able to use 'description' in share type.",
       "2.40"},
      {R"({"share_type": {"name": ")" + std::string(256, 'n') + R"(", )" + kDhssFalse + "}}",
       "Share type name must be at most 255 characters."},
  };
  for (const auto& c : cases) {
    auto r = api_.post("/v2/types", c.body, ApiHarness::kAdmin, c.version);
    EXPECT_EQ(r.status, 400u) << c.body;
    EXPECT_EQ(r.message(), c.message) << c.body;
  }
  EXPECT_EQ(api_.engine().last(), before);
}

// ---- shares ---------------------------------------------------------------------------------

class SharesApiTest : public ::testing::Test {
 protected:
  void SetUp() override { default_type_ = api_.engine().create_type("default"); }

  // Creates a share through the API as manilaclient would; returns its id.
  std::string create(const std::string& name, const std::string& token = ApiHarness::kAlice,
                     const std::string& share_type = "null") {
    auto r = api_.post("/v2/shares", manilaclient_body(name, share_type), token);
    EXPECT_EQ(r.status, 200u) << r.raw.body();
    return r.status == 200 ? text(r.body.at("share").at("id")) : "";
  }

  boost::json::value show(const std::string& id, const std::string& version,
                          const std::string& token = ApiHarness::kAlice) {
    auto r = api_.get("/v2/shares/" + id, token, version);
    EXPECT_EQ(r.status, 200u) << version << " " << r.raw.body();
    return r.status == 200 ? r.body.at("share") : boost::json::value();
  }

  std::vector<std::string> ids(const testing::ApiResult& r) {
    std::vector<std::string> out;
    for (const auto& s : r.body.at("shares").as_array()) out.push_back(text(s.at("id")));
    return out;
  }

  ApiHarness api_;
  std::string default_type_;
};

TEST_F(SharesApiTest, CreateWithoutTypeUsesTheDefaultType) {
  auto r = api_.post("/v2/shares", manilaclient_body("foo"));
  ASSERT_EQ(r.status, 200u) << r.raw.body();
  const auto& s = r.body.at("share");
  EXPECT_EQ(s.at("name"), "foo");
  EXPECT_TRUE(s.at("description").is_null());
  EXPECT_EQ(s.at("size"), 1);
  EXPECT_EQ(s.at("share_proto"), "NFS");
  EXPECT_EQ(text(s.at("share_type")), default_type_);
  EXPECT_EQ(s.at("share_type_name"), "default");
  EXPECT_EQ(s.at("status"), "available");
  EXPECT_EQ(s.at("is_public"), false);
  EXPECT_EQ(s.at("metadata"), boost::json::object{});
  EXPECT_EQ(s.at("project_id"), "project-a");
  EXPECT_EQ(s.at("user_id"), "alice");
  EXPECT_TRUE(s.at("availability_zone").is_null());
  EXPECT_TRUE(std::regex_match(text(s.at("created_at")),
                               std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6})")));
  // The share is there to read back.
  EXPECT_EQ(show(text(s.at("id")), "2.45"), s);
}

TEST_F(SharesApiTest, CreateWithoutAnyDefaultTypeIs400) {
  ASSERT_EQ(api_.call(bhttp::verb::delete_, "/v2/types/" + default_type_, "", ApiHarness::kAdmin)
                .status,
            202u);
  const auto before = api_.engine().last();
  auto r = api_.post("/v2/shares", manilaclient_body("foo"));
  EXPECT_EQ(r.status, 400u);
  EXPECT_EQ(r.message(),
            "There is no default share type available. You must pick a valid share type to "
            "create a share.");
  EXPECT_EQ(api_.engine().last(), before);
}

TEST_F(SharesApiTest, CreateByTypeNameOrId) {
  const auto gold = api_.engine().create_type("gold", "nfs2");
  auto by_name = api_.post("/v2/shares", manilaclient_body("n", R"("gold")"));
  ASSERT_EQ(by_name.status, 200u) << by_name.raw.body();
  EXPECT_EQ(text(by_name.body.at("share").at("share_type")), gold);
  auto by_id = api_.post("/v2/shares", manilaclient_body("i", "\"" + gold + "\""));
  ASSERT_EQ(by_id.status, 200u);
  EXPECT_EQ(by_id.body.at("share").at("share_type_name"), "gold");
  // Manila's Cinder-era key works too.
  auto legacy = api_.post("/v2/shares", R"({"share": {"size": 2, "share_proto": "cifs",
                                                       "volume_type": "gold"}})");
  ASSERT_EQ(legacy.status, 200u) << legacy.raw.body();
  EXPECT_EQ(legacy.body.at("share").at("share_proto"), "CIFS");
  EXPECT_EQ(legacy.body.at("share").at("size"), 2);
  auto unknown = api_.post("/v2/shares", manilaclient_body("u", R"("platinum")"));
  EXPECT_EQ(unknown.status, 404u);
  EXPECT_EQ(unknown.message(), "Share type platinum could not be found.");
}

TEST_F(SharesApiTest, CreateRefusesSnapshotsNetworksAndGroups) {
  const auto before = api_.engine().last();
  const std::string base = R"({"share": {"size": 1, "share_proto": "NFS", )";
  auto snapshot = api_.post("/v2/shares", base + R"("snapshot_id": "5b8b3d0c"}})");
  EXPECT_EQ(snapshot.status, 400u);
  EXPECT_EQ(snapshot.message(), "'snapshot_id' must be null: Agate has no snapshots.");
  auto network = api_.post("/v2/shares", base + R"("share_network_id": "n1"}})");
  EXPECT_EQ(network.status, 400u);
  EXPECT_EQ(network.message(), "'share_network_id' must be null: Agate has no share networks.");
  auto group = api_.post("/v2/shares", base + R"("share_group_id": "g1"}})", ApiHarness::kAlice, "2.31");
  EXPECT_EQ(group.status, 400u);
  EXPECT_EQ(group.message(), "'share_group_id' must be null: Agate has no share groups.");
  EXPECT_EQ(api_.engine().last(), before);
  // Below 2.31 Manila drops share_group_id unread; so does Agate.
  auto old = api_.post("/v2/shares", base + R"("share_group_id": "g1"}})", ApiHarness::kAlice, "2.30");
  EXPECT_EQ(old.status, 200u) << old.raw.body();
}

TEST_F(SharesApiTest, ShareOnAMissingBackendGoesToError) {
  api_.engine().create_type("broken", "no-such-backend");
  const auto id = create("lost", ApiHarness::kAlice, R"("broken")");
  auto s = show(id, "2.45", ApiHarness::kAdmin);
  EXPECT_EQ(s.at("status"), "error");
  EXPECT_TRUE(s.at("host").is_null());
  EXPECT_EQ(s.at("access_rules_status"), "active");  // no available instance counts
  auto locations = api_.get("/v2/shares/" + id + "/export_locations");
  ASSERT_EQ(locations.status, 200u);
  EXPECT_TRUE(locations.body.at("export_locations").as_array().empty());
  auto old = show(id, "2.8");
  EXPECT_TRUE(old.at("export_location").is_null());
  EXPECT_TRUE(old.at("export_locations").as_array().empty());
}

TEST_F(SharesApiTest, PrivateTypeIsNotFoundForMembers) {
  const auto before_type = api_.engine().last();
  auto t = api_.post("/v2/types",
                     R"({"share_type": {"name": "secret", "share_type_access:is_public": false, )" +
                         kDhssFalse + "}}",
                     ApiHarness::kAdmin);
  ASSERT_EQ(t.status, 200u);
  ASSERT_NE(api_.engine().last(), before_type);
  const auto before = api_.engine().last();
  auto r = api_.post("/v2/shares", manilaclient_body("s", R"("secret")"));
  EXPECT_EQ(r.status, 404u);
  EXPECT_EQ(r.message(), "Share type secret could not be found.");
  EXPECT_EQ(api_.engine().last(), before);
  // An admin may use it.
  EXPECT_EQ(api_.post("/v2/shares", manilaclient_body("s", R"("secret")"), ApiHarness::kAdmin).status,
            200u);
}

TEST_F(SharesApiTest, TypeThatNeedsShareServersNeedsAShareNetwork) {
  api_.engine().ok(EngineHarness::admin(),
                   engine::CreateShareType{"dhss", "", true, {{"driver_handles_share_servers", "True"}}});
  const auto before = api_.engine().last();
  auto r = api_.post("/v2/shares", manilaclient_body("s", R"("dhss")"));
  EXPECT_EQ(r.status, 400u);
  EXPECT_EQ(r.message(), "Share network must be set when the driver_handles_share_servers is true.");
  EXPECT_EQ(api_.engine().last(), before);
}

TEST_F(SharesApiTest, ViewAt2_0) {
  const auto id = create("v");
  auto s = show(id, "2.0");
  EXPECT_EQ(s.at("share_type"), "default");  // the name before 2.6
  EXPECT_EQ(s.at("volume_type"), "default");
  const std::string location = text(s.at("export_location"));
  EXPECT_EQ(location, "nfs1:/shares/share-" + id);
  EXPECT_EQ(s.at("export_locations"), boost::json::array{boost::json::value(location)});
  EXPECT_TRUE(s.at("snapshot_id").is_null());
  EXPECT_TRUE(s.at("share_network_id").is_null());
  EXPECT_EQ(s.at("links").at(0).at("rel"), "self");
  EXPECT_EQ(text(s.at("links").at(0).at("href")), "http://127.0.0.1:8786/v2/project-a/shares/" + id);
  EXPECT_EQ(text(s.at("links").at(1).at("href")), "http://127.0.0.1:8786/project-a/shares/" + id);
  for (auto key : {"share_type_name", "snapshot_support", "task_state", "access_rules_status",
                   "has_replicas", "replication_type", "user_id", "host", "share_server_id",
                   "create_share_from_snapshot_support", "share_group_id"}) {
    EXPECT_FALSE(has(s, key)) << key;
  }
  // No version header means 2.0.
  auto none = api_.get("/v2/shares/" + id, ApiHarness::kAlice, "");
  ASSERT_EQ(none.status, 200u);
  EXPECT_EQ(none.body.at("share"), s);
}

TEST_F(SharesApiTest, ViewAt2_9) {
  const auto id = create("v");
  auto s = show(id, "2.9");
  EXPECT_FALSE(has(s, "export_location"));
  EXPECT_FALSE(has(s, "export_locations"));
  EXPECT_EQ(text(s.at("share_type")), default_type_);
  EXPECT_EQ(s.at("share_type_name"), "default");
  EXPECT_EQ(s.at("volume_type"), "default");
  EXPECT_TRUE(s.at("task_state").is_null());
  EXPECT_EQ(s.at("snapshot_support"), false);
  EXPECT_FALSE(has(s, "access_rules_status"));
  EXPECT_TRUE(has(show(id, "2.8"), "export_locations"));
}

TEST_F(SharesApiTest, AccessRulesStatusShowsSyncingAsOutOfSyncUpTo2_27) {
  const auto id = create("v");
  EXPECT_EQ(show(id, "2.10").at("access_rules_status"), "active");
  // A granted rule the back end has not yet applied leaves the share syncing.
  api_.engine().allow(EngineHarness::member("project-a"), id, "ip", "10.0.0.0/24");
  EXPECT_EQ(show(id, "2.10").at("access_rules_status"), "out_of_sync");
  EXPECT_EQ(show(id, "2.27").at("access_rules_status"), "out_of_sync");
  EXPECT_EQ(show(id, "2.28").at("access_rules_status"), "syncing");
  EXPECT_EQ(show(id, "2.45").at("access_rules_status"), "syncing");
  EXPECT_FALSE(has(show(id, "2.9"), "access_rules_status"));
}

TEST_F(SharesApiTest, ViewAt2_27And2_45) {
  api_.engine().ok(EngineHarness::admin(),
                   engine::CreateShareType{"rich", "", true,
                                           {{"driver_handles_share_servers", "False"},
                                            {"snapshot_support", "<is> True"},
                                            {"replication_type", "readable"}}});
  const auto id = create("v", ApiHarness::kAlice, R"("rich")");
  auto s27 = show(id, "2.27");
  EXPECT_EQ(s27.at("revert_to_snapshot_support"), false);
  EXPECT_FALSE(has(s27, "mount_snapshot_support"));
  EXPECT_FALSE(has(s27, "share_group_id"));
  auto s = show(id, "2.45");
  EXPECT_EQ(s.at("snapshot_support"), true);
  EXPECT_EQ(s.at("create_share_from_snapshot_support"), false);
  EXPECT_EQ(s.at("revert_to_snapshot_support"), false);
  EXPECT_EQ(s.at("mount_snapshot_support"), false);
  EXPECT_EQ(s.at("replication_type"), "readable");
  EXPECT_EQ(s.at("has_replicas"), false);
  EXPECT_EQ(s.at("user_id"), "alice");
  EXPECT_TRUE(s.at("share_group_id").is_null());
  EXPECT_TRUE(s.at("source_share_group_snapshot_member_id").is_null());
  EXPECT_EQ(s.at("access_rules_status"), "active");
  EXPECT_FALSE(has(s, "host"));
  EXPECT_FALSE(has(s, "export_locations"));
}

TEST_F(SharesApiTest, HostIsShownToAdminsOnly) {
  const auto id = create("v");
  auto admin = show(id, "2.45", ApiHarness::kAdmin);
  EXPECT_EQ(admin.at("host"), "nfs1");
  EXPECT_TRUE(admin.at("share_server_id").is_null());
  auto member = show(id, "2.45");
  EXPECT_FALSE(has(member, "host"));
  EXPECT_FALSE(has(member, "share_server_id"));
}

TEST_F(SharesApiTest, ListGivesSummariesAndDetailGivesViews) {
  const auto id = create("one");
  auto list = api_.get("/v2/shares");
  ASSERT_EQ(list.status, 200u);
  ASSERT_EQ(list.body.at("shares").as_array().size(), 1u);
  const auto& summary = list.body.at("shares").at(0).as_object();
  EXPECT_EQ(summary.size(), 3u);
  EXPECT_EQ(text(summary.at("id")), id);
  EXPECT_EQ(summary.at("name"), "one");
  EXPECT_EQ(summary.at("links").as_array().size(), 2u);
  EXPECT_FALSE(has(list.body, "count"));
  auto detail = api_.get("/v2/shares/detail");
  ASSERT_EQ(detail.status, 200u);
  EXPECT_EQ(detail.body.at("shares").at(0), show(id, "2.45"));
}

TEST_F(SharesApiTest, ListFiltersByNameStatusAndType) {
  const auto gold = api_.engine().create_type("gold", "nfs2");
  api_.engine().create_type("broken", "no-such-backend");
  const auto a = create("alpha");
  const auto b = create("beta", ApiHarness::kAlice, R"("gold")");
  const auto c = create("gamma", ApiHarness::kAlice, R"("broken")");
  EXPECT_EQ(ids(api_.get("/v2/shares?name=beta")), std::vector<std::string>{b});
  EXPECT_EQ(ids(api_.get("/v2/shares/detail?status=error")), std::vector<std::string>{c});
  EXPECT_EQ(ids(api_.get("/v2/shares/detail?share_type_id=" + gold)), std::vector<std::string>{b});
  EXPECT_EQ(ids(api_.get("/v2/shares/detail?status=available&sort_key=name&sort_dir=asc")),
            (std::vector<std::string>{a, b}));
  EXPECT_EQ(ids(api_.get("/v2/shares?name~=AMM", ApiHarness::kAlice, "2.36")),
            std::vector<std::string>{c});
  // Before 2.36 the inexact filter is dropped, as in Manila.
  EXPECT_EQ(ids(api_.get("/v2/shares?name~=AMM", ApiHarness::kAlice, "2.35")).size(), 3u);
  EXPECT_TRUE(ids(api_.get("/v2/shares?snapshot_id=s1")).empty());
  EXPECT_TRUE(ids(api_.get("/v2/shares?name=nothing")).empty());
}

TEST_F(SharesApiTest, MetadataFilterTakesManilaclientsDictLiteral) {
  auto r = api_.post("/v2/shares", R"({"share": {"size": 1, "share_proto": "NFS", "name": "m",
                                                  "metadata": {"env": "prod", "team": "a"}}})");
  ASSERT_EQ(r.status, 200u) << r.raw.body();
  const auto tagged = text(r.body.at("share").at("id"));
  create("plain");
  EXPECT_EQ(ids(api_.get("/v2/shares?metadata=%7B%27env%27%3A+%27prod%27%7D")),
            std::vector<std::string>{tagged});
  EXPECT_TRUE(ids(api_.get("/v2/shares?metadata=%7B%27env%27%3A+%27dev%27%7D")).empty());
  auto bad = api_.get("/v2/shares?metadata=env%3Dprod");
  EXPECT_EQ(bad.status, 400u);
  EXPECT_EQ(bad.message(), "Malformed 'metadata' filter: a dict such as {'key': 'value'} is expected.");
}

TEST_F(SharesApiTest, AccessGroupFilterListsAttachedSharesOnly) {
  const auto alice = EngineHarness::member("project-a");
  const auto attached = create("attached");
  create("other");
  const auto group = api_.engine().create_group(alice, "web");
  api_.engine().attach(alice, attached, group);
  EXPECT_EQ(ids(api_.get("/v2/shares?access_group=" + group)), std::vector<std::string>{attached});
  EXPECT_EQ(ids(api_.get("/v2/shares/detail?access_group=" + group)),
            std::vector<std::string>{attached});
  // A group the caller cannot see, or that does not exist, gives an empty list.
  auto foreign = api_.get("/v2/project-b/shares?access_group=" + group, ApiHarness::kMallory);
  ASSERT_EQ(foreign.status, 200u);
  EXPECT_TRUE(ids(foreign).empty());
  EXPECT_TRUE(ids(api_.get("/v2/shares?access_group=no-such-group")).empty());
  EXPECT_EQ(ids(api_.get("/v2/shares?all_tenants=1&access_group=" + group, ApiHarness::kAdmin)),
            std::vector<std::string>{attached});
}

TEST_F(SharesApiTest, PagesAreNewestFirst) {
  const auto first = create("1");
  const auto second = create("2");
  const auto third = create("3");
  EXPECT_EQ(ids(api_.get("/v2/shares")), (std::vector<std::string>{third, second, first}));
  EXPECT_EQ(ids(api_.get("/v2/shares?limit=2")), (std::vector<std::string>{third, second}));
  EXPECT_EQ(ids(api_.get("/v2/shares?limit=2&offset=2")), std::vector<std::string>{first});
  EXPECT_TRUE(ids(api_.get("/v2/shares?offset=3")).empty());
  EXPECT_EQ(ids(api_.get("/v2/shares/detail?sort_dir=asc&limit=1")), std::vector<std::string>{first});
  struct Case {
    std::string query, message;
  };
  const std::vector<Case> bad = {
      {"limit=two", "limit param must be an integer"},
      {"limit=-1", "limit param must be positive"},
      {"offset=1.5", "offset param must be an integer"},
      {"offset=-2", "offset param must be positive"},
      {"sort_key=colour", "Invalid input received: Wrong sorting key provided - 'colour'."},
      {"sort_dir=up",
       "Invalid input received: Wrong sorting data provided: sort key is 'created_at' and sort "
       "direction is 'up'."},
      {"all_tenants=perhaps",
       "Invalid input received: Unrecognized value 'perhaps', acceptable values are: '0', '1', "
       "'f', 'false', 'n', 'no', 'off', 'on', 't', 'true', 'y', 'yes'."},
  };
  for (const auto& c : bad) {
    auto r = api_.get("/v2/shares?" + c.query);
    EXPECT_EQ(r.status, 400u) << c.query;
    EXPECT_EQ(r.message(), c.message) << c.query;
  }
}

TEST_F(SharesApiTest, WithCountFrom2_42) {
  create("1");
  create("2");
  auto counted = api_.get("/v2/shares/detail?with_count=true&limit=1", ApiHarness::kAlice, "2.42");
  ASSERT_EQ(counted.status, 200u);
  EXPECT_EQ(counted.body.at("count"), 2);
  EXPECT_EQ(counted.body.at("shares").as_array().size(), 1u);
  auto zero = api_.get("/v2/shares?with_count=true&name=none", ApiHarness::kAlice, "2.42");
  EXPECT_EQ(zero.body.at("count"), 0);
  EXPECT_FALSE(has(api_.get("/v2/shares?with_count=true", ApiHarness::kAlice, "2.41").body, "count"));
}

TEST_F(SharesApiTest, AdminSeesEveryProjectOnlyWithAllTenants) {
  const auto mine = create("a");
  const auto theirs = create("b", ApiHarness::kMallory);
  EXPECT_EQ(ids(api_.get("/v2/shares")), std::vector<std::string>{mine});
  EXPECT_EQ(ids(api_.get("/v2/project-b/shares", ApiHarness::kMallory)), std::vector<std::string>{theirs});
  EXPECT_TRUE(ids(api_.get("/v2/shares", ApiHarness::kAdmin)).empty());
  EXPECT_EQ(ids(api_.get("/v2/shares?all_tenants=1", ApiHarness::kAdmin)).size(), 2u);
  EXPECT_EQ(ids(api_.get("/v2/shares?all_tenants=True&project_id=project-b", ApiHarness::kAdmin)),
            std::vector<std::string>{theirs});
  // A member's all_tenants changes nothing.
  EXPECT_EQ(ids(api_.get("/v2/shares?all_tenants=1")), std::vector<std::string>{mine});
}

TEST_F(SharesApiTest, IsPublicAndIsSoftDeletedAreAcceptedAndIgnored) {
  auto r = api_.post("/v2/shares", R"({"share": {"size": 1, "share_proto": "NFS", "name": "pub",
                                                  "is_public": true}})",
                     ApiHarness::kMallory);
  ASSERT_EQ(r.status, 200u) << r.raw.body();
  EXPECT_EQ(r.body.at("share").at("is_public"), true);
  const auto theirs = text(r.body.at("share").at("id"));
  const auto mine = create("share1");
  // What manilaclient sends to resolve a share name; another project's public share stays out.
  auto found = api_.get("/v2/shares/detail?all_tenants=1&is_public=True");
  ASSERT_EQ(found.status, 200u);
  EXPECT_EQ(ids(found), std::vector<std::string>{mine});
  EXPECT_EQ(ids(api_.get("/v2/shares/detail?all_tenants=1&is_soft_deleted=True")),
            std::vector<std::string>{mine});
  EXPECT_EQ(api_.get("/v2/shares/" + theirs).status, 404u);
}

TEST_F(SharesApiTest, ExportLocationsFrom2_9) {
  const auto id = create("e");
  auto member = api_.get("/v2/shares/" + id + "/export_locations", ApiHarness::kAlice, "2.9");
  ASSERT_EQ(member.status, 200u) << member.raw.body();
  const auto& locations = member.body.at("export_locations").as_array();
  ASSERT_EQ(locations.size(), 1u);
  const auto& l = locations[0].as_object();
  EXPECT_EQ(text(l.at("path")), "nfs1:/shares/share-" + id);
  EXPECT_EQ(text(l.at("id")).size(), 36u);
  EXPECT_FALSE(l.contains("preferred"));  // from 2.14
  EXPECT_FALSE(l.contains("share_instance_id"));
  EXPECT_FALSE(l.contains("is_admin_only"));
  EXPECT_FALSE(l.contains("created_at"));

  auto admin = api_.get("/v2/shares/" + id + "/export_locations", ApiHarness::kAdmin, "2.45");
  const auto& a = admin.body.at("export_locations").at(0);
  EXPECT_EQ(a.at("preferred"), true);
  EXPECT_EQ(a.at("is_admin_only"), false);
  EXPECT_EQ(text(a.at("id")), text(l.at("id")));  // stable
  const std::string instance = text(a.at("share_instance_id"));
  EXPECT_FALSE(instance.empty());

  auto one = api_.get("/v2/shares/" + id + "/export_locations/" + text(l.at("id")));
  ASSERT_EQ(one.status, 200u);
  EXPECT_EQ(one.body.at("export_location").at("path"), l.at("path"));
  EXPECT_TRUE(has(one.body.at("export_location"), "created_at"));
  EXPECT_TRUE(has(one.body.at("export_location"), "updated_at"));
  auto missing = api_.get("/v2/shares/" + id + "/export_locations/nope");
  EXPECT_EQ(missing.status, 404u);
  EXPECT_EQ(missing.message(), "Export location nope could not be found.");
  // The path does not exist below 2.9.
  auto old = api_.get("/v2/shares/" + id + "/export_locations", ApiHarness::kAlice, "2.8");
  EXPECT_EQ(old.status, 404u);
  EXPECT_EQ(old.message(), "The resource could not be found.");
  // The old field filter finds it (2.35).
  EXPECT_EQ(ids(api_.get("/v2/shares?export_location_id=" + text(l.at("id")), ApiHarness::kAlice, "2.35")),
            std::vector<std::string>{id});
}

TEST_F(SharesApiTest, DeleteThenShowIsNotFound) {
  const auto id = create("doomed");
  auto del = api_.call(bhttp::verb::delete_, "/v2/shares/" + id);
  EXPECT_EQ(del.status, 202u) << del.raw.body();
  EXPECT_TRUE(del.raw.body().empty());
  auto gone = api_.get("/v2/shares/" + id);
  EXPECT_EQ(gone.status, 404u);
  EXPECT_TRUE(has(gone.body, "itemNotFound"));
  EXPECT_EQ(gone.message(), "Share " + id + " could not be found.");
  EXPECT_TRUE(ids(api_.get("/v2/shares")).empty());
  auto again = api_.call(bhttp::verb::delete_, "/v2/shares/" + id);
  EXPECT_EQ(again.status, 404u);
  EXPECT_EQ(again.message(), "Share " + id + " could not be found.");
}

TEST_F(SharesApiTest, AnotherProjectsShareIsNotFoundEverywhere) {
  const auto id = create("confidential-name");
  const auto before = api_.engine().last();
  const std::string expected = "Share " + id + " could not be found.";
  for (const auto& path : {"/v2/project-b/shares/" + id, "/v2/shares/" + id + "/export_locations"}) {
    auto r = api_.get(path, ApiHarness::kMallory);
    EXPECT_EQ(r.status, 404u) << path;
    EXPECT_EQ(r.message(), expected) << path;
    EXPECT_EQ(r.raw.body().find("confidential"), std::string::npos);
  }
  auto del = api_.call(bhttp::verb::delete_, "/v2/shares/" + id, "", ApiHarness::kMallory);
  EXPECT_EQ(del.status, 404u);
  EXPECT_EQ(del.message(), expected);
  EXPECT_TRUE(ids(api_.get("/v2/shares/detail?name=confidential-name", ApiHarness::kMallory)).empty());
  EXPECT_EQ(api_.engine().last(), before);
  EXPECT_EQ(show(id, "2.45", ApiHarness::kAdmin).at("name"), "confidential-name");
}

TEST_F(SharesApiTest, BadBodiesAre400AndWriteNothing) {
  const auto before = api_.engine().last();
  struct Case {
    std::string body, message;
  };
  const std::vector<Case> cases = {
      {"", "The request body is empty; a JSON object is expected."},
      {"{\"share\": ", ""},
      {R"({"shares": {}})", "Missing required element 'share' in request body."},
      {R"({"share": "big"})", "'share' must be an object, not a string."},
      {R"({"share": {"size": 1, "share_proto": "NFS"}, "extra": 1})",
       "Unexpected element 'extra' in request body beside 'share'."},
      {R"({"share": {"share_proto": "NFS"}})", "'size' is required in 'share'."},
      {R"({"share": {"size": null, "share_proto": "NFS"}})", "'size' is required in 'share'."},
      {R"({"share": {"size": 1}})", "'share_proto' is required in 'share'."},
      {R"({"share": {"size": "one", "share_proto": "NFS"}})", "'size' in 'share' must be an integer."},
      {R"({"share": {"size": 1.5, "share_proto": "NFS"}})", "'size' in 'share' must be an integer."},
      {R"({"share": {"size": 0, "share_proto": "NFS"}})",
       "Share size '0' must be an integer and greater than 0"},
      {R"({"share": {"size": -3, "share_proto": "NFS"}})",
       "Share size '-3' must be an integer and greater than 0"},
      {R"({"share": {"size": 1, "share_proto": 4}})",
       "'share_proto' in 'share' must be a string, not a number."},
      {R"({"share": {"size": 1, "share_proto": "NFSv9"}})",
       "Invalid share protocol provided: NFSv9. Supported protocols: NFS, CIFS, GLUSTERFS, HDFS, "
       "CEPHFS, MAPRFS."},
      {R"({"share": {"size": 1, "share_proto": "NFS", "colour": "red"}})",
       "Unknown element 'colour' in 'share'."},
      {R"({"share": {"size": 1, "share_proto": "NFS", "name": 5}})",
       "'name' in 'share' must be a string, not a number."},
      {R"({"share": {"size": 1, "share_proto": "NFS", "is_public": "maybe"}})",
       "'is_public' in 'share' must be a boolean."},
      {R"({"share": {"size": 1, "share_proto": "NFS", "metadata": ["a"]}})",
       "'metadata' in 'share' must be an object, not an array."},
      {R"({"share": {"size": 1, "share_proto": "NFS", "metadata": {"k": 1}}})",
       "'metadata' in 'share' must map strings to strings; 'k' is a number."},
      {R"({"share": {"size": 1, "share_proto": "NFS", "metadata": {"": "v"}}})",
       "Metadata property key is blank."},
      {R"({"share": {"size": 1, "share_proto": "NFS", "scheduler_hints": "near"}})",
       "'scheduler_hints' in 'share' must be an object, not a string."},
      {R"({"share": {"size": 1, "share_proto": "NFS", "share_type": "default",
                     "volume_type": "default"}})",
       "Cannot specify both share_type and volume_type"},
      {R"({"share": {"size": 1, "share_proto": "NFS", "share_type": 3}})",
       "'share_type' in 'share' must be a string, not a number."},
  };
  for (const auto& c : cases) {
    auto r = api_.post("/v2/shares", c.body);
    EXPECT_EQ(r.status, 400u) << c.body;
    if (!c.message.empty()) {
      EXPECT_EQ(r.message(), c.message) << c.body;
    }
  }
  EXPECT_EQ(api_.engine().last(), before);
}

TEST_F(SharesApiTest, ShareReplicasAreAlwaysEmpty) {
  const auto id = create("r");
  for (const auto& path : {"/v2/share-replicas/detail?share_id=" + id,
                           std::string("/v2/share-replicas/detail"),
                           std::string("/v2/project-a/share-replicas")}) {
    auto r = api_.get(path, ApiHarness::kAlice, "2.11");
    ASSERT_EQ(r.status, 200u) << path;
    EXPECT_EQ(r.body, boost::json::parse(R"({"share_replicas": []})")) << path;
  }
  EXPECT_EQ(api_.get("/v2/share-replicas/detail", ApiHarness::kAlice, "2.10").status, 404u);
}

TEST_F(SharesApiTest, ReaderMayListButNotCreateOrDelete) {
  const auto id = create("r");
  EXPECT_EQ(ids(api_.get("/v2/shares", kReader)), std::vector<std::string>{id});
  EXPECT_EQ(api_.get("/v2/shares/" + id, kReader).status, 200u);
  const auto before = api_.engine().last();
  EXPECT_EQ(api_.post("/v2/shares", manilaclient_body("x"), kReader).status, 403u);
  EXPECT_EQ(api_.call(bhttp::verb::delete_, "/v2/shares/" + id, "", kReader).status, 403u);
  EXPECT_EQ(api_.engine().last(), before);
}

}  // namespace
}  // namespace agate
