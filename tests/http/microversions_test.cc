// What Manila's microversions from 2.46 on change on the share and share-type endpoints, one
// microversion at a time, without a socket; and the version documents that advertise them.

#include <gtest/gtest.h>

#include "tests/support/api_harness.h"
#include "tests/support/json_text.h"

namespace agate {
namespace {

using testing::ApiHarness;
using testing::EngineHarness;
using testing::text;

bool has(const boost::json::value& o, const char* key) { return o.as_object().contains(key); }

class MicroversionsTest : public ::testing::Test {
 protected:
  // A public type with DHSS false and `specs` (JSON members) besides.
  testing::ApiResult create_type(const std::string& name, const std::string& specs = "",
                                 const std::string& version = "2.72") {
    return api_.post("/v2/types",
                     R"({"share_type": {"name": ")" + name +
                         R"(", "extra_specs": {"driver_handles_share_servers": "False")" +
                         (specs.empty() ? "" : ", " + specs) + "}}}",
                     ApiHarness::kAdmin, version);
  }
  std::string type_id(const std::string& name, const std::string& specs = "") {
    auto r = create_type(name, specs);
    EXPECT_EQ(r.status, 200u) << r.raw.body();
    return r.status == 200 ? text(r.body.at("share_type").at("id")) : "";
  }

  // POST /v2/shares with `fields` (JSON members) besides size 1 and NFS.
  testing::ApiResult create_share(const std::string& fields, const std::string& version = "2.72",
                                  const std::string& token = ApiHarness::kAlice) {
    return api_.post("/v2/shares",
                     R"({"share": {"size": 1, "share_proto": "NFS")" +
                         (fields.empty() ? "" : ", " + fields) + "}}",
                     token, version);
  }
  std::string share_id(const std::string& fields = "", const std::string& version = "2.72") {
    auto r = create_share(fields, version);
    EXPECT_EQ(r.status, 200u) << r.raw.body();
    return r.status == 200 ? text(r.body.at("share").at("id")) : "";
  }

  ApiHarness api_;
};

// ---- 2.46: is_default -----------------------------------------------------------------------

TEST_F(MicroversionsTest, TypesSayWhetherTheyAreTheDefaultFrom2_46) {
  const auto def = type_id("default");
  const auto gold = type_id("gold");
  auto at45 = api_.get("/v2/types/" + def, ApiHarness::kAlice, "2.45");
  EXPECT_FALSE(has(at45.body.at("share_type"), "is_default"));
  auto shown = api_.get("/v2/types/" + def, ApiHarness::kAlice, "2.46");
  EXPECT_EQ(shown.body.at("share_type").at("is_default"), true);
  EXPECT_EQ(api_.get("/v2/types/" + gold, ApiHarness::kAlice, "2.46")
                .body.at("share_type")
                .at("is_default"),
            false);
  EXPECT_EQ(api_.get("/v2/types/default", ApiHarness::kAlice, "2.72")
                .body.at("share_type")
                .at("is_default"),
            true);
  const auto list = api_.get("/v2/types", ApiHarness::kAlice, "2.72");
  for (const auto& t : list.body.at("share_types").as_array()) {
    EXPECT_EQ(t.at("is_default"), t.at("name") == "default") << t;
  }
}

// ---- 2.48: availability_zones ---------------------------------------------------------------

TEST_F(MicroversionsTest, ATypesAvailabilityZonesLimitWhereItsSharesMayBeCreatedFrom2_48) {
  type_id("zoned", R"("availability_zones": " az1 , az2")");
  auto type = api_.get("/v2/types?is_public=all", ApiHarness::kAdmin, "2.72")
                  .body.at("share_types")
                  .at(0);
  EXPECT_EQ(type.at("extra_specs").at("availability_zones"), "az1,az2");  // as Manila stores it
  const auto before = api_.engine().last();
  auto refused = create_share(R"("share_type": "zoned", "availability_zone": "az3")", "2.48");
  EXPECT_EQ(refused.status, 400u);
  EXPECT_EQ(refused.message(),
            "Share type zoned is not supported within the availability zone chosen az3.");
  EXPECT_EQ(api_.engine().last(), before);
  // Below 2.48 Manila did not check; neither does Agate.
  EXPECT_EQ(create_share(R"("share_type": "zoned", "availability_zone": "az3")", "2.47").status,
            200u);
  EXPECT_EQ(create_share(R"("share_type": "zoned", "availability_zone": "az2")", "2.48").status,
            200u);
  EXPECT_EQ(create_share(R"("share_type": "zoned")", "2.48").status, 200u);
  // A list with an empty name in it is not a list of zones.
  auto bad = create_type("holes", R"("availability_zones": "az1,,az2")");
  EXPECT_EQ(bad.status, 400u);
  EXPECT_EQ(bad.message(),
            "Invalid extra_spec: Value of optional extra_spec availability_zones is not valid.");
}

// ---- 2.50: updating a share type -----------------------------------------------------------

TEST_F(MicroversionsTest, AnAdministratorUpdatesATypesNameDescriptionAndVisibilityFrom2_50) {
  const auto id = type_id("silver");
  const auto share = [&] {
    api_.engine().create_type("default");
    return share_id(R"("share_type": "silver")");
  }();
  auto put = [&](const std::string& body, const std::string& version = "2.50",
                 const std::string& token = ApiHarness::kAdmin) {
    return api_.call(boost::beast::http::verb::put, "/v2/types/" + id, body, token, version);
  };
  auto r = put(R"({"share_type": {"name": "gold", "description": "Fast",
                                  "share_type_access:is_public": false}})");
  ASSERT_EQ(r.status, 200u) << r.raw.body();
  EXPECT_EQ(r.body.at("share_type").at("name"), "gold");
  EXPECT_EQ(r.body.at("share_type").at("description"), "Fast");
  EXPECT_EQ(r.body.at("share_type").at("share_type_access:is_public"), false);
  EXPECT_EQ(r.body.at("volume_type"), r.body.at("share_type"));
  // The share shows its type's new name; the old name no longer finds the type.
  EXPECT_EQ(api_.get("/v2/shares/" + share, ApiHarness::kAdmin, "2.50")
                .body.at("share")
                .at("share_type_name"),
            "gold");
  EXPECT_EQ(create_share(R"("share_type": "silver")").status, 404u);
  // What is absent stays; "" clears the description; strings are booleans too.
  auto again = put(R"({"share_type": {"description": "", "share_type_access:is_public": "true"}})");
  ASSERT_EQ(again.status, 200u) << again.raw.body();
  EXPECT_EQ(again.body.at("share_type").at("name"), "gold");
  EXPECT_TRUE(again.body.at("share_type").at("description").is_null());
  EXPECT_EQ(again.body.at("share_type").at("share_type_access:is_public"), true);
  // The same values again change nothing and record nothing.
  const auto before = api_.engine().last();
  EXPECT_EQ(put(R"({"share_type": {"name": "gold"}})").status, 200u);
  EXPECT_EQ(api_.engine().last(), before);
  EXPECT_EQ(api_.engine().digest(), api_.engine().rebuild_digest());
}

TEST_F(MicroversionsTest, BadTypeUpdatesGetManilasErrorsAndWriteNothing) {
  const auto id = type_id("silver");
  type_id("bronze");
  const auto before = api_.engine().last();
  struct Case {
    std::string body;
    unsigned status;
    std::string message;
    std::string target = "";
    std::string token = ApiHarness::kAdmin;
  };
  const std::vector<Case> cases = {
      {R"({"share_type": {}})", 400,
       "Specify share type name, description, share_type_access:is_public or a combination "
       "thereof."},
      {R"({"share_type": {"name": null, "description": null}})", 400,
       "Specify share type name, description, share_type_access:is_public or a combination "
       "thereof."},
      {R"({"share_type": {"name": "  "}})", 400, "Share type name cannot be empty."},
      {R"({"share_type": {"name": ")" + std::string(256, 'n') + R"("}})", 400,
       "Share type name cannot be greater than 255 characters in length."},
      {R"({"share_type": {"description": ")" + std::string(256, 'd') + R"("}})", 400,
       "Share type description cannot be greater than 255 characters in length."},
      {R"({"share_type": {"share_type_access:is_public": "maybe"}})", 400,
       "share_type_access:is_public has a non-boolean value."},
      {R"({"share_type": {"colour": "red"}})", 400, "Unknown element 'colour' in 'share_type'."},
      {R"({"other": {}})", 400,
       "The server could not comply with the request since it is either malformed or otherwise "
       "incorrect."},
      {R"({"share_type": {"name": "bronze"}})", 409, "Share Type bronze already exists."},
      {R"({"share_type": {"name": "x"}})", 404,
       "ShareTypeNotFound: Share type 0b7e3c1a-4a5e-4c2f-9d2e-1f6b8a9c0d11 could not be found.",
       "0b7e3c1a-4a5e-4c2f-9d2e-1f6b8a9c0d11"},
      {R"({"share_type": {"name": "x"}})", 403,
       "Policy doesn't allow share_type:update to be performed.", "", ApiHarness::kAlice},
  };
  for (const auto& c : cases) {
    auto r = api_.call(boost::beast::http::verb::put,
                       "/v2/types/" + (c.target.empty() ? id : c.target), c.body, c.token, "2.50");
    EXPECT_EQ(r.status, c.status) << c.body;
    EXPECT_EQ(r.message(), c.message) << c.body;
  }
  // Below 2.50 there is no such route.
  auto old = api_.call(boost::beast::http::verb::put, "/v2/types/" + id,
                       R"({"share_type": {"name": "x"}})", ApiHarness::kAdmin, "2.49");
  EXPECT_EQ(old.status, 404u);
  EXPECT_EQ(api_.engine().last(), before);
}

// ---- 2.54: progress -------------------------------------------------------------------------

TEST_F(MicroversionsTest, SharesShowTheirProgressFrom2_54) {
  type_id("default");
  type_id("nowhere", R"("share_backend_name": "no-such-back-end")");
  const auto made = share_id();
  const auto failed = share_id(R"("share_type": "nowhere")");
  auto at53 = api_.get("/v2/shares/" + made, ApiHarness::kAlice, "2.53");
  EXPECT_FALSE(has(at53.body.at("share"), "progress"));
  EXPECT_EQ(api_.get("/v2/shares/" + made, ApiHarness::kAlice, "2.54").body.at("share").at("progress"),
            "100%");
  auto error = api_.get("/v2/shares/" + failed, ApiHarness::kAlice, "2.54").body.at("share");
  EXPECT_EQ(error.at("status"), "error");
  EXPECT_TRUE(error.at("progress").is_null());
}

// ---- 2.61: provisioning:min/max_share_size --------------------------------------------------

TEST_F(MicroversionsTest, ATypesSizeLimitsAreCheckedAtEveryVersion) {
  type_id("sized", R"("provisioning:min_share_size": "2", "provisioning:max_share_size": " 5")");
  const auto before = api_.engine().last();
  for (const std::string v : {"2.0", "2.61", "2.72"}) {
    auto small = create_share(R"("share_type": "sized")", v);
    EXPECT_EQ(small.status, 400u) << v;
    EXPECT_EQ(small.message(),
              "Invalid input received: Specified share size of '1' is less than the minimum "
              "required size of '2' for share type 'sized'.");
    auto large = api_.post("/v2/shares",
                           R"({"share": {"size": 6, "share_proto": "NFS", "share_type": "sized"}})",
                           ApiHarness::kAlice, v);
    EXPECT_EQ(large.status, 400u) << v;
    EXPECT_EQ(large.message(),
              "Invalid input received: Specified share size of '6' is greater than the maximum "
              "allowable size of '5' for share type 'sized'.");
  }
  EXPECT_EQ(api_.engine().last(), before);
  EXPECT_EQ(api_.post("/v2/shares",
                      R"({"share": {"size": 5, "share_proto": "NFS", "share_type": "sized"}})")
                .status,
            200u);
}

TEST_F(MicroversionsTest, SizeLimitsThatAreNotPositiveIntegersAreRefused) {
  const auto before = api_.engine().last();
  struct Case {
    std::string specs, message;
  };
  const std::vector<Case> cases = {
      {R"("provisioning:max_share_size": "ten")", "share_size must be an integer"},
      {R"("provisioning:max_share_size": "1.5")", "share_size must be an integer"},
      {R"("provisioning:min_share_size": "0")", "share_size must be >= 1"},
      {R"("provisioning:min_share_size": "-3")", "share_size must be >= 1"},
  };
  for (const auto& c : cases) {
    auto r = create_type("bad", c.specs);
    EXPECT_EQ(r.status, 400u) << c.specs;
    EXPECT_EQ(r.message(), c.message) << c.specs;
  }
  EXPECT_EQ(api_.engine().last(), before);
  // Integers as JSON numbers are what Manila stores as their text.
  EXPECT_EQ(create_type("numbers", R"("provisioning:max_share_size": 10)").status, 200u);
}

// ---- 2.74: access changes on a share in error ----------------------------------------------

TEST_F(MicroversionsTest, AccessChangesOnAShareInErrorAreAllowedFrom2_74) {
  type_id("default");
  const auto id = share_id();
  auto grant = [&](const std::string& version, const std::string& to) {
    return api_.post("/v2/shares/" + id + "/action",
                     R"({"allow_access": {"access_type": "ip", "access_to": ")" + to + R"("}})",
                     ApiHarness::kAlice, version);
  };
  auto rule = grant("2.72", "10.0.0.1");
  ASSERT_EQ(rule.status, 200u) << rule.raw.body();
  ASSERT_EQ(api_.post("/v2/shares/" + id + "/action", R"({"reset_status": {"status": "error"}})",
                      ApiHarness::kAdmin, "2.72")
                .status,
            202u);
  const auto before = api_.engine().last();
  auto refused = grant("2.73", "10.0.0.2");
  EXPECT_EQ(refused.status, 400u);
  EXPECT_EQ(refused.message(),
            "New access rules cannot be applied while the share or any of its replicas or "
            "migration copies lacks a valid host or is in an invalid state.");
  const std::string deny =
      R"({"deny_access": {"access_id": ")" + text(rule.body.at("access").at("id")) + R"("}})";
  auto not_denied = api_.post("/v2/shares/" + id + "/action", deny, ApiHarness::kAlice, "2.73");
  EXPECT_EQ(not_denied.status, 400u);
  EXPECT_EQ(api_.engine().last(), before);
  EXPECT_EQ(grant("2.74", "10.0.0.2").status, 200u);
  EXPECT_EQ(api_.post("/v2/shares/" + id + "/action", deny, ApiHarness::kAlice, "2.74").status,
            202u);
}

// ---- 2.80: source_backup_id ------------------------------------------------------------------

TEST_F(MicroversionsTest, SharesNameNoSourceBackupFrom2_80) {
  type_id("default");
  const auto id = share_id();
  EXPECT_FALSE(has(api_.get("/v2/shares/" + id, ApiHarness::kAlice, "2.79").body.at("share"),
                   "source_backup_id"));
  EXPECT_TRUE(api_.get("/v2/shares/" + id, ApiHarness::kAlice, "2.80")
                  .body.at("share")
                  .at("source_backup_id")
                  .is_null());
}

// ---- 2.84: mount_point_name ------------------------------------------------------------------

TEST_F(MicroversionsTest, AMountPointNameNamesTheExportsWhereTheTypeAllowsItFrom2_84) {
  const auto plain = type_id("default");
  type_id("named", R"("mount_point_name_support": "True")");
  type_id("prefixed",
          R"("mount_point_name_support": "<is> True", "provisioning:mount_point_prefix": "")");
  // Below 2.84 the member is ignored.
  EXPECT_EQ(create_share(R"("mount_point_name": "web")", "2.83").status, 200u);
  // A type that does not allow it.
  auto refused = create_share(R"("mount_point_name": "web")", "2.84");
  EXPECT_EQ(refused.status, 400u);
  EXPECT_EQ(refused.message(),
            "Invalid input received: Setting a mount point name is not supported by the share "
            "type used: " + plain + ".");
  // With the default prefix, the project's id.
  auto named = create_share(R"("mount_point_name": "web", "share_type": "named")", "2.84");
  ASSERT_EQ(named.status, 200u) << named.raw.body();
  EXPECT_FALSE(has(named.body.at("share"), "mount_point_name"));
  const auto id = text(named.body.at("share").at("id"));
  auto exports = api_.get("/v2/shares/" + id + "/export_locations", ApiHarness::kAlice, "2.84");
  EXPECT_EQ(exports.body.at("export_locations").at(0).at("path"), "nfs1:/shares/project-a_web");
  // The same name on the same back end is refused; the list filter finds the share.
  auto again = create_share(R"("mount_point_name": "web", "share_type": "named")", "2.84");
  EXPECT_EQ(again.status, 409u);
  EXPECT_EQ(again.message(), "Mount point name project-a_web is already in use on back end nfs1.");
  auto found = api_.get("/v2/shares?mount_point_name=project-a_web", ApiHarness::kAlice, "2.84");
  ASSERT_EQ(found.body.at("shares").as_array().size(), 1u) << found.raw.body();
  EXPECT_EQ(found.body.at("shares").at(0).at("id"), id.c_str());
  // Names outside [A-Za-z0-9_-] or longer than 255, after the prefix, are refused.
  auto bad = create_share(R"("mount_point_name": "a/b", "share_type": "prefixed")", "2.84");
  EXPECT_EQ(bad.status, 400u);
  EXPECT_EQ(bad.message(), "Invalid mount_point_name: a/b");
  auto lng = create_share(R"("mount_point_name": ")" + std::string(256, 'x') +
                              R"(", "share_type": "prefixed")",
                          "2.84");
  EXPECT_EQ(lng.message(), "Invalid mount_point_name: " + std::string(256, 'x'));
  auto field = create_share(R"("mount_point_name": "{colour}", "share_type": "prefixed")", "2.84");
  EXPECT_EQ(field.status, 400u);
  EXPECT_EQ(field.message(), "Invalid mount_point_name: {colour}");
  auto user = create_share(R"("mount_point_name": "{user_id}-x", "share_type": "prefixed")",
                           "2.84");
  ASSERT_EQ(user.status, 200u) << user.raw.body();
  // Deleting the share frees the name.
  ASSERT_EQ(api_.call(boost::beast::http::verb::delete_, "/v2/shares/" + id, "", ApiHarness::kAlice, "2.84").status, 202u);
  EXPECT_EQ(create_share(R"("mount_point_name": "web", "share_type": "named")", "2.84").status,
            200u);
  // A boolean spec that is not one is refused when the type is made.
  auto wrong = create_type("wrong", R"("mount_point_name_support": "maybe")");
  EXPECT_EQ(wrong.status, 400u);
  EXPECT_EQ(api_.engine().rebuild_digest(), api_.engine().digest());
}

// ---- 2.87: export location metadata ---------------------------------------------------------

TEST_F(MicroversionsTest, ExportLocationsHaveMetadataFrom2_87) {
  type_id("default");
  const auto id = share_id();
  const std::string path = "/v2/shares/" + id + "/export_locations";
  EXPECT_FALSE(has(api_.get(path, ApiHarness::kAlice, "2.86").body.at("export_locations").at(0),
                   "metadata"));
  auto listed = api_.get(path, ApiHarness::kAlice, "2.87").body.at("export_locations").at(0);
  EXPECT_TRUE(listed.at("metadata").as_object().empty());
  EXPECT_EQ(listed.at("preferred"), true);
  auto shown = api_.get(path + "/" + text(listed.at("id")), ApiHarness::kAlice, "2.87");
  EXPECT_TRUE(shown.body.at("export_location").at("metadata").as_object().empty());
}

// ---- 2.90: encryption_key_ref ---------------------------------------------------------------

TEST_F(MicroversionsTest, AnEncryptionKeyIsRefusedForTypesWithoutShareServersFrom2_90) {
  type_id("default");
  type_id("encrypted", R"("encryption_support": "share")");
  const std::string key = R"("encryption_key_ref": "6a1c3f7e-0d5b-4c8e-9f3a-2b7d1e4c5a60")";
  EXPECT_EQ(create_share(key, "2.89").status, 200u);  // ignored below 2.90
  auto missing = create_share(key, "2.90");
  EXPECT_EQ(missing.status, 400u);
  EXPECT_EQ(missing.message(),
            "Share type default extra-specs 'encryption_support' is missing valid value e.g. "
            "share, share_server.");
  auto dhss = create_share(key + R"(, "share_type": "encrypted")", "2.90");
  EXPECT_EQ(dhss.status, 400u);
  EXPECT_EQ(dhss.message(), "Share type encrypted must set dhss=True for share encryption.");
  auto bad_spec = create_type("bad", R"("encryption_support": "disk")");
  EXPECT_EQ(bad_spec.status, 400u);
  EXPECT_EQ(bad_spec.message(),
            "Invalid extra_spec: Value of optional extra_spec encryption_support is not valid.");
  // The view's field, and the filter that no share matches.
  const auto id = share_id();
  EXPECT_FALSE(has(api_.get("/v2/shares/" + id, ApiHarness::kAlice, "2.89").body.at("share"),
                   "encryption_key_ref"));
  EXPECT_TRUE(
      api_.get("/v2/shares/" + id, ApiHarness::kAlice, "2.90").body.at("share").at(
          "encryption_key_ref").is_null());
  EXPECT_TRUE(api_.get("/v2/shares?all_tenants=1&encryption_key_ref=k", ApiHarness::kAdmin, "2.90")
                  .body.at("shares").as_array().empty());
  EXPECT_EQ(api_.get("/v2/shares?encryption_key_ref=k", ApiHarness::kAlice, "2.90")
                .body.at("shares").as_array().size(), 2u);
}

// ---- 2.97: the availability_zone filter -----------------------------------------------------

TEST_F(MicroversionsTest, ListsFilterByAvailabilityZoneFrom2_97) {
  type_id("default");
  const auto a = share_id(R"("availability_zone": "az1")");
  share_id(R"("availability_zone": "az2")");
  for (const char* list : {"/v2/shares", "/v2/shares/detail"}) {
    const std::string base = std::string(list) + "?availability_zone=";
    EXPECT_EQ(api_.get(base + "az1", ApiHarness::kAlice, "2.96").body.at("shares").as_array().size(),
              2u);
    auto one = api_.get(base + "az1", ApiHarness::kAlice, "2.97").body.at("shares");
    ASSERT_EQ(one.as_array().size(), 1u) << one;
    EXPECT_EQ(one.at(0).at("id"), a.c_str());
    EXPECT_TRUE(
        api_.get(base + "nowhere", ApiHarness::kAlice, "2.97").body.at("shares").as_array().empty());
  }
}

// ---- 2.99: snapshot_inherit_share_access_support --------------------------------------------

TEST_F(MicroversionsTest, SharesSayWhetherSnapshotsInheritTheirAccessFrom2_99) {
  const auto plain = type_id("default");
  const auto inherit = type_id("inherit", R"("snapshot_inherit_share_access_support": "True")");
  const auto a = share_id();
  const auto b = share_id(R"("share_type": "inherit")");
  EXPECT_FALSE(has(api_.get("/v2/shares/" + a, ApiHarness::kAlice, "2.98").body.at("share"),
                   "snapshot_inherit_share_access_support"));
  EXPECT_EQ(api_.get("/v2/shares/" + a, ApiHarness::kAlice, "2.99")
                .body.at("share").at("snapshot_inherit_share_access_support"),
            false);
  EXPECT_EQ(api_.get("/v2/shares/" + b, ApiHarness::kAlice, "2.99")
                .body.at("share").at("snapshot_inherit_share_access_support"),
            true);
  // Types: inferred false for non-admins from 2.99; the stored value otherwise.
  auto specs = [&](const std::string& id, const std::string& token, const char* v) {
    return api_.get("/v2/types/" + id, token, v).body.at("share_type").at("extra_specs");
  };
  EXPECT_FALSE(has(specs(plain, ApiHarness::kAlice, "2.98"),
                   "snapshot_inherit_share_access_support"));
  EXPECT_EQ(specs(plain, ApiHarness::kAlice, "2.99").at("snapshot_inherit_share_access_support"),
            false);
  EXPECT_FALSE(has(specs(plain, ApiHarness::kAdmin, "2.99"),
                   "snapshot_inherit_share_access_support"));
  EXPECT_EQ(specs(inherit, ApiHarness::kAlice, "2.98").at("snapshot_inherit_share_access_support"),
            "True");
  auto wrong = create_type("wrong", R"("snapshot_inherit_share_access_support": "maybe")");
  EXPECT_EQ(wrong.status, 400u);
  EXPECT_EQ(wrong.message(),
            "Invalid extra_spec: Invalid boolean extra spec snapshot_inherit_share_access_support "
            ": maybe.");
}

// ---- 2.65 / 2.67: scheduler hints -----------------------------------------------------------

TEST_F(MicroversionsTest, SchedulerHintsPlaceTheShareWithOrAwayFromOthersFrom2_65) {
  type_id("default");
  type_id("second", R"("share_backend_name": "nfs2")");
  const auto first = share_id();  // on nfs1, the default back end

  auto with = create_share(R"("scheduler_hints": {"same_host": ")" + first + R"("})", "2.65");
  ASSERT_EQ(with.status, 200u) << with.raw.body();
  EXPECT_EQ(with.body.at("share").at("status"), "available");
  EXPECT_EQ(text(with.body.at("share").at("metadata").at("__affinity_same_host")), first);

  // Away from a share on the only back end the type can use: no back end is left.
  auto away = create_share(R"("scheduler_hints": {"different_host": ")" + first + R"("})", "2.65");
  ASSERT_EQ(away.status, 200u) << away.raw.body();
  EXPECT_EQ(away.body.at("share").at("status"), "error");
  EXPECT_EQ(text(away.body.at("share").at("metadata").at("__affinity_different_host")), first);
  // The same with a type placed on another back end.
  auto elsewhere = create_share(
      R"("share_type": "second", "scheduler_hints": {"different_host": ")" + first + R"("})",
      "2.65");
  EXPECT_EQ(elsewhere.body.at("share").at("status"), "available");

  // Clients send {} when there are none.
  EXPECT_EQ(create_share(R"("scheduler_hints": {})", "2.65").status, 200u);
}

TEST_F(MicroversionsTest, SchedulerHintsNameSharesTheCallerCanSeeByUuid) {
  type_id("default");
  const auto mine = share_id();
  auto theirs = create_share("", "2.72", ApiHarness::kMallory);
  ASSERT_EQ(theirs.status, 200u);
  const auto foreign = text(theirs.body.at("share").at("id"));
  const auto before = api_.engine().last();

  auto bad = create_share(R"("scheduler_hints": {"same_host": ")" + mine + R"(,not-a-uuid"})");
  EXPECT_EQ(bad.status, 400u);
  EXPECT_EQ(bad.message(), "not-a-uuid is not a valid uuid.");
  const std::string unknown = "0b7e3c1a-4a5e-4c2f-9d2e-1f6b8a9c0d11";
  auto missing = create_share(R"("scheduler_hints": {"different_host": ")" + unknown + R"("})");
  EXPECT_EQ(missing.status, 404u);
  EXPECT_EQ(missing.message(), "ShareNotFound: Share " + unknown + " could not be found.");
  auto other = create_share(R"("scheduler_hints": {"same_host": ")" + foreign + R"("})");
  EXPECT_EQ(other.status, 404u);
  EXPECT_EQ(other.message(), "ShareNotFound: Share " + foreign + " could not be found.");
  auto kind = create_share(R"("scheduler_hints": {"same_host": ["x"]})");
  EXPECT_EQ(kind.status, 400u);
  EXPECT_EQ(kind.message(),
            "'same_host' in 'scheduler_hints' must be a string of share ids separated by commas, "
            "not an array.");
  EXPECT_EQ(api_.engine().last(), before);

  // Below 2.65 Manila does not read them.
  EXPECT_EQ(create_share(R"("scheduler_hints": {"same_host": "not-a-uuid"})", "2.64").status,
            200u);
}

TEST_F(MicroversionsTest, OnlyHostPlacesAnAdministratorsShareFrom2_67) {
  type_id("default");
  auto admin = [&](const std::string& only_host, const std::string& version) {
    auto r = create_share(R"("scheduler_hints": {"only_host": ")" + only_host + R"("})", version,
                          ApiHarness::kAdmin);
    EXPECT_EQ(r.status, 200u) << r.raw.body();
    return r.body.at("share");
  };
  EXPECT_EQ(admin("nfs2", "2.67").at("host"), "nfs2");
  EXPECT_EQ(admin("nfs2", "2.66").at("host"), "nfs1");  // dropped below 2.67
  auto nowhere = admin("no-such-back-end", "2.67");
  EXPECT_EQ(nowhere.at("status"), "error");
  EXPECT_TRUE(nowhere.at("host").is_null());
  // Manila's filter heeds only_host for administrators only.
  auto member = create_share(R"("scheduler_hints": {"only_host": "nfs2"})", "2.67");
  ASSERT_EQ(member.status, 200u);
  const auto id = text(member.body.at("share").at("id"));
  EXPECT_EQ(api_.get("/v2/shares/" + id, ApiHarness::kAdmin, "2.67").body.at("share").at("host"),
            "nfs1");
}

// ---- version documents ----------------------------------------------------------------------

TEST_F(MicroversionsTest, TheRootAdvertisesTheMaximumWhateverVersionIsAsked) {
  for (const std::string v : {"", "2.99", "2.100", "garbage"}) {
    auto r = api_.call(boost::beast::http::verb::get, "/", "", ApiHarness::kAlice, v);
    EXPECT_EQ(r.status, 300u) << v;
    EXPECT_EQ(r.body.at("versions").at(0).at("version"), "2.99") << v;
    EXPECT_EQ(r.body.at("versions").at(0).at("min_version"), "2.0") << v;
  }
  EXPECT_EQ(api_.get("/v2/", ApiHarness::kAlice, "2.99").status, 200u);
  auto high = api_.get("/v2/", ApiHarness::kAlice, "2.100");
  EXPECT_EQ(high.status, 406u);
  EXPECT_EQ(high.message(),
            "Version 2.100 is not supported by the API. Minimum is 2.0 and maximum is 2.99.");
}

}  // namespace
}  // namespace agate
