// Resource locks over the API (Manila 2.81) and access-rule locks (2.82), without a socket:
// /resource-locks and its views, filters and pagination; lock contexts (user, admin, service —
// the last from an X-Service-Token); deletion locks refusing share deletion; allow_access with
// lock_deletion, lock_visibility and lock_reason; deny_access with unrestrict; access_to and
// access_key redacted for those who may not see them; the 2.82 list filters; the same locks on
// access groups and their attachments. Every refusal is checked to have written nothing.

#include <gtest/gtest.h>

#include "http/keystone_auth.h"
#include "tests/support/api_harness.h"
#include "tests/support/fake_keystone.h"
#include "tests/support/json_text.h"

namespace agate {
namespace {

namespace bhttp = boost::beast::http;
using testing::ApiHarness;
using testing::ApiResult;
using testing::text;

constexpr const char* kLocks = "2.81";
constexpr const char* kRuleLocks = "2.82";
constexpr const char* kBob = "bob:project-a";  // alice's colleague in project-a
constexpr const char* kService = "nova:service-project:service";
constexpr const char* kLockManipulation =
    "Resource lock cannot be manipulated by user. Please contact the administrator.";

class LocksApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    api_.engine().create_type("default");
    share_ = create_share("share1", ApiHarness::kAlice);
  }

  std::string create_share(const std::string& name, const std::string& token) {
    auto r = api_.post("/v2/shares",
                       R"({"share": {"share_proto": "NFS", "size": 1, "name": ")" + name + R"("}})",
                       token);
    EXPECT_EQ(r.status, 200u) << r.raw.body();
    return text(r.body.at("share").at("id"));
  }
  ApiResult call(bhttp::verb method, const std::string& target, const std::string& body = "",
                 const std::string& token = ApiHarness::kAlice,
                 const std::string& version = kRuleLocks, const std::string& service_token = "") {
    auto req = ApiHarness::request(method, target, body, token, version);
    if (!service_token.empty()) req.set("X-Service-Token", service_token);
    return ApiHarness::send(api_.services(), req);
  }
  ApiResult lock(const std::string& resource_id, const std::string& type = "share",
                 const std::string& extra = "", const std::string& token = ApiHarness::kAlice,
                 const std::string& service_token = "") {
    return call(bhttp::verb::post, "/v2/resource-locks",
                R"({"resource_lock": {"resource_id": ")" + resource_id +
                    R"(", "resource_type": ")" + type + "\"" + extra + "}}",
                token, kLocks, service_token);
  }
  std::string lock_id(const std::string& resource_id, const std::string& type = "share",
                      const std::string& extra = "",
                      const std::string& token = ApiHarness::kAlice) {
    auto r = lock(resource_id, type, extra, token);
    EXPECT_EQ(r.status, 200u) << r.raw.body();
    return r.body.is_null() ? "" : text(r.body.at("resource_lock").at("id"));
  }
  ApiResult action(const std::string& body, const std::string& token = ApiHarness::kAlice,
                   const std::string& version = kRuleLocks) {
    return call(bhttp::verb::post, "/v2/shares/" + share_ + "/action", body, token, version);
  }
  // allow_access of an ip rule with the given lock members; returns the rule's id.
  std::string allow(const std::string& ip, const std::string& locks,
                    const std::string& token = ApiHarness::kAlice) {
    auto r = action(
        R"({"allow_access": {"access_type": "ip", "access_to": ")" + ip + "\"" + locks + "}}",
        token);
    EXPECT_EQ(r.status, 200u) << r.raw.body();
    return r.body.is_null() ? "" : text(r.body.at("access").at("id"));
  }
  ApiResult deny(const std::string& id, const std::string& extra = "",
                 const std::string& token = ApiHarness::kAlice) {
    return action(R"({"deny_access": {"access_id": ")" + id + "\"" + extra + "}}", token);
  }
  std::vector<boost::json::value> locks(const std::string& query = "",
                                        const std::string& token = ApiHarness::kAlice) {
    auto r = call(bhttp::verb::get, "/v2/resource-locks" + query, "", token, kLocks);
    EXPECT_EQ(r.status, 200u) << r.raw.body();
    std::vector<boost::json::value> out;
    if (r.body.is_null()) return out;
    for (const auto& l : r.body.at("resource_locks").as_array()) out.push_back(l);
    return out;
  }
  void expect_refused(const ApiResult& r, unsigned status, const std::string& message,
                      events::Seq before) {
    EXPECT_EQ(r.status, status) << r.raw.body();
    EXPECT_EQ(r.message(), message);
    EXPECT_EQ(api_.engine().last(), before);
  }
  boost::json::value rule(const std::string& id, const std::string& token = ApiHarness::kAlice,
                          const std::string& version = kRuleLocks) {
    auto r = call(bhttp::verb::get, "/v2/share-access-rules/" + id, "", token, version);
    EXPECT_EQ(r.status, 200u) << r.raw.body();
    return r.body.is_null() ? boost::json::value() : r.body.at("access");
  }
  std::vector<boost::json::value> rules(const std::string& query = "",
                                        const std::string& token = ApiHarness::kAlice) {
    auto r = call(bhttp::verb::get, "/v2/share-access-rules?share_id=" + share_ + query, "", token,
                  kRuleLocks);
    EXPECT_EQ(r.status, 200u) << r.raw.body();
    std::vector<boost::json::value> out;
    if (r.body.is_null()) return out;
    for (const auto& l : r.body.at("access_list").as_array()) out.push_back(l);
    return out;
  }

  ApiHarness api_;
  std::string share_;
};

TEST_F(LocksApiTest, CreateShowUpdateDeleteAnswerAsManilaDoes) {
  auto r = lock(share_, "share", R"(, "lock_reason": "in use by the nightly backup")");
  ASSERT_EQ(r.status, 200u) << r.raw.body();
  const auto& l = r.body.at("resource_lock");
  const std::string id = text(l.at("id"));
  EXPECT_EQ(l.at("user_id"), "alice");
  EXPECT_EQ(l.at("project_id"), "project-a");
  EXPECT_EQ(l.at("lock_context"), "user");
  EXPECT_EQ(l.at("resource_type"), "share");
  EXPECT_EQ(text(l.at("resource_id")), share_);
  EXPECT_EQ(l.at("resource_action"), "delete");
  EXPECT_EQ(l.at("lock_reason"), "in use by the nightly backup");
  EXPECT_TRUE(l.at("created_at").is_string());
  EXPECT_TRUE(l.at("updated_at").is_null());
  EXPECT_EQ(text(l.at("links").at(0).at("href")),
            "http://127.0.0.1:8786/v2/project-a/resource-locks/" + id);

  auto shown = call(bhttp::verb::get, "/v2/resource-locks/" + id, "", ApiHarness::kAlice, kLocks);
  ASSERT_EQ(shown.status, 200u);
  EXPECT_EQ(shown.body.at("resource_lock"), l);

  auto updated = call(bhttp::verb::put, "/v2/resource-locks/" + id,
                      R"({"resource_lock": {"lock_reason": "kept for the audit"}})",
                      ApiHarness::kAlice, kLocks);
  ASSERT_EQ(updated.status, 200u) << updated.raw.body();
  EXPECT_EQ(updated.body.at("resource_lock").at("lock_reason"), "kept for the audit");
  EXPECT_TRUE(updated.body.at("resource_lock").at("updated_at").is_string());

  auto deleted =
      call(bhttp::verb::delete_, "/v2/resource-locks/" + id, "", ApiHarness::kAlice, kLocks);
  EXPECT_EQ(deleted.status, 204u) << deleted.raw.body();
  auto gone = call(bhttp::verb::get, "/v2/resource-locks/" + id, "", ApiHarness::kAlice, kLocks);
  EXPECT_EQ(gone.status, 404u);
  EXPECT_EQ(gone.message(), "Resource lock " + id + " could not be found.");
}

TEST_F(LocksApiTest, LocksAreNotServedBefore281) {
  auto r = call(bhttp::verb::get, "/v2/resource-locks", "", ApiHarness::kAlice, "2.80");
  EXPECT_EQ(r.status, 404u);
}

TEST_F(LocksApiTest, BadLocksAreRefusedAndWriteNothing) {
  const auto before = api_.engine().last();
  expect_refused(lock(share_, "share", R"(, "lock_reason": ")" + std::string(1024, 'x') + "\""),
                 400, "'lock_reason' can contain a maximum of 1023 characters.", before);
  expect_refused(lock("not-a-uuid"), 400, "Resource ID is required and must be in uuid format.",
                 before);
  expect_refused(lock(share_, "snapshot"), 400,
                 "'resource_type' is required and must be one of ('share', 'access_rule', "
                 "'access_group')",
                 before);
  expect_refused(lock(share_, "share", R"(, "resource_action": "show")"), 400,
                 "'resource_action' can only be one of ['delete']", before);
  expect_refused(lock("6a4c1f52-0b9e-4c3e-9d51-2f1f2b3a4c5d"), 400, "No such resource found.",
                 before);
  // Another project's share is no resource of the caller's.
  const auto theirs = create_share("theirs", ApiHarness::kMallory);
  const auto after_share = api_.engine().last();
  expect_refused(lock(theirs), 400, "No such resource found.", after_share);
  // A reason of 1023 characters is fine.
  EXPECT_EQ(lock(share_, "share", R"(, "lock_reason": ")" + std::string(1023, 'x') + "\"").status,
            200u);
}

TEST_F(LocksApiTest, DeletionLockRefusesDeleteAndSoftDelete) {
  const auto first = lock_id(share_);
  const auto second = lock_id(share_);
  const auto before = api_.engine().last();
  const std::string message =
      "Resource lock/s [" + first + ", " + second + "] prevent delete action.";
  expect_refused(call(bhttp::verb::delete_, "/v2/shares/" + share_, "", ApiHarness::kAlice, kLocks),
                 403, message, before);
  expect_refused(action(R"({"soft_delete": null})"), 403, message, before);
  // An administrator is held back too.
  expect_refused(call(bhttp::verb::delete_, "/v2/shares/" + share_, "", ApiHarness::kAdmin, kLocks),
                 403, message, before);
  for (const auto& id : {first, second}) {
    EXPECT_EQ(call(bhttp::verb::delete_, "/v2/resource-locks/" + id, "", ApiHarness::kAlice, kLocks)
                  .status,
              204u);
  }
  EXPECT_EQ(
      call(bhttp::verb::delete_, "/v2/shares/" + share_, "", ApiHarness::kAlice, kLocks).status,
      202u);
}

TEST_F(LocksApiTest, WhoMayManipulateALockFollowsItsContext) {
  // An administrator's lock: only administrators.
  const auto admin_lock = lock_id(share_, "share", "", ApiHarness::kAdmin);
  auto before = api_.engine().last();
  auto r =
      call(bhttp::verb::get, "/v2/resource-locks/" + admin_lock, "", ApiHarness::kAdmin, kLocks);
  EXPECT_EQ(r.body.at("resource_lock").at("lock_context"), "admin");
  // It is the admin's project's lock: alice does not even see it.
  expect_refused(call(bhttp::verb::delete_, "/v2/resource-locks/" + admin_lock, "",
                      ApiHarness::kAlice, kLocks),
                 404, "Resource lock " + admin_lock + " could not be found.", before);

  // A service's lock, placed with alice's token and a service token: not by alice.
  r = lock(share_, "share", "", ApiHarness::kAlice, kService);
  ASSERT_EQ(r.status, 200u) << r.raw.body();
  EXPECT_EQ(r.body.at("resource_lock").at("lock_context"), "service");
  EXPECT_EQ(r.body.at("resource_lock").at("user_id"), "alice");
  const auto service_lock = text(r.body.at("resource_lock").at("id"));
  before = api_.engine().last();
  expect_refused(call(bhttp::verb::delete_, "/v2/resource-locks/" + service_lock, "",
                      ApiHarness::kAlice, kLocks),
                 403, kLockManipulation, before);
  expect_refused(
      call(bhttp::verb::put, "/v2/resource-locks/" + service_lock,
           R"({"resource_lock": {"lock_reason": "mine now"}})", ApiHarness::kAlice, kLocks),
      403, kLockManipulation, before);
  // ... but by alice with a service token, and by an administrator.
  EXPECT_EQ(
      call(bhttp::verb::put, "/v2/resource-locks/" + service_lock,
           R"({"resource_lock": {"lock_reason": "renewed"}})", ApiHarness::kAlice, kLocks, kService)
          .status,
      200u);

  // A user's lock: not by another user of the project (the policy), but by an administrator.
  const auto alice_lock = lock_id(share_);
  before = api_.engine().last();
  expect_refused(call(bhttp::verb::delete_, "/v2/resource-locks/" + alice_lock, "", kBob, kLocks),
                 403, "Policy doesn't allow resource_lock:delete to be performed.", before);
  EXPECT_EQ(
      call(bhttp::verb::delete_, "/v2/resource-locks/" + alice_lock, "", ApiHarness::kAdmin, kLocks)
          .status,
      204u);
  EXPECT_EQ(call(bhttp::verb::delete_, "/v2/resource-locks/" + service_lock, "", ApiHarness::kAdmin,
                 kLocks)
                .status,
            204u);
}

TEST_F(LocksApiTest, AnInvalidServiceTokenIsRefused) {
  const auto before = api_.engine().last();
  auto r = lock(share_, "share", "", ApiHarness::kAlice, "not a token");
  EXPECT_EQ(r.status, 401u) << r.raw.body();
  EXPECT_EQ(api_.engine().last(), before);
  // A valid token without the service role makes no service lock.
  r = lock(share_, "share", "", ApiHarness::kAlice, ApiHarness::kMallory);
  ASSERT_EQ(r.status, 200u) << r.raw.body();
  EXPECT_EQ(r.body.at("resource_lock").at("lock_context"), "user");
}

TEST_F(LocksApiTest, AKeystoneServiceTokenWithTheServiceRoleMakesServiceLocks) {
  testing::FakeKeystone keystone;
  keystone.add_token("tok-alice", "alice", "project-a", {"member", "reader"});
  keystone.add_token("tok-nova", "nova", "service", {"service"});
  keystone.add_token("tok-bob", "bob", "project-a", {"member", "reader"});
  http::KeystoneOptions o;
  o.url = keystone.url();
  o.user = testing::FakeKeystone::kServiceUser;
  o.password = testing::FakeKeystone::kServicePassword;
  o.project = "service";
  o.timeout = std::chrono::milliseconds(2000);
  auto auth = http::make_keystone_authenticator(o);
  auto& base = api_.services();
  http::Services services{base.env, base.log, base.store, base.writer, *auth};
  auto send = [&](const std::string& service_token) {
    auto req = ApiHarness::request(bhttp::verb::post, "/v2/resource-locks",
                                   R"({"resource_lock": {"resource_id": ")" + share_ + R"("}})",
                                   "tok-alice", kLocks);
    if (!service_token.empty()) req.set("X-Service-Token", service_token);
    return ApiHarness::send(services, req);
  };
  auto r = send("tok-nova");
  ASSERT_EQ(r.status, 200u) << r.raw.body();
  EXPECT_EQ(r.body.at("resource_lock").at("lock_context"), "service");
  EXPECT_EQ(r.body.at("resource_lock").at("user_id"), "alice");
  // A valid token without the service role is no service's.
  r = send("tok-bob");
  ASSERT_EQ(r.status, 200u) << r.raw.body();
  EXPECT_EQ(r.body.at("resource_lock").at("lock_context"), "user");
  // An unknown one is refused as an unknown user token is, and writes nothing.
  const auto before = api_.engine().last();
  r = send("tok-unknown");
  EXPECT_EQ(r.status, 401u) << r.raw.body();
  EXPECT_EQ(r.message(), "The request you have made requires authentication.");
  EXPECT_EQ(api_.engine().last(), before);
}

TEST_F(LocksApiTest, UpdateChangesOnlyTheActionAndTheReason) {
  const auto id = lock_id(share_);
  const auto before = api_.engine().last();
  expect_refused(call(bhttp::verb::put, "/v2/resource-locks/" + id,
                      R"({"resource_lock": {"resource_id": ")" + share_ + R"("}})",
                      ApiHarness::kAlice, kLocks),
                 400, "Only 'resource_action' and 'lock_reason' can be updated.", before);
  expect_refused(
      call(bhttp::verb::put, "/v2/resource-locks/" + id,
           R"({"resource_lock": {"resource_action": "show"}})", ApiHarness::kAlice, kLocks),
      400, "'resource_action' can only be one of ['delete']", before);
  expect_refused(call(bhttp::verb::put, "/v2/resource-locks/" + id,
                      R"({"resource_lock": {"lock_reason": ")" + std::string(1024, 'r') + R"("}})",
                      ApiHarness::kAlice, kLocks),
                 400, "'lock_reason' can contain a maximum of 1023 characters.", before);
  expect_refused(call(bhttp::verb::put, "/v2/resource-locks/nope",
                      R"({"resource_lock": {"lock_reason": "x"}})", ApiHarness::kAlice, kLocks),
                 404, "Resource lock nope could not be found.", before);
}

TEST_F(LocksApiTest, ListFiltersSortsAndPagesAsManila) {
  const auto a = lock_id(share_, "share", R"(, "lock_reason": "first")");
  const auto b = lock_id(share_, "share", R"(, "lock_reason": "second one")");
  const auto rule_id = allow("10.0.0.1", "");
  const auto c = lock_id(rule_id, "access_rule", R"(, "resource_action": "show")");
  lock_id(share_, "share", "", ApiHarness::kAdmin);  // another project's

  auto ids = [](const std::vector<boost::json::value>& v) {
    std::vector<std::string> out;
    for (const auto& l : v) out.push_back(text(l.at("id")));
    return out;
  };
  // Newest first by default; the caller's project only.
  EXPECT_EQ(ids(locks()), (std::vector<std::string>{c, b, a}));
  EXPECT_EQ(ids(locks("?sort_dir=asc")), (std::vector<std::string>{a, b, c}));
  EXPECT_EQ(ids(locks("?resource_type=access_rule")), (std::vector<std::string>{c}));
  EXPECT_EQ(ids(locks("?resource_action=delete&resource_id=" + share_)),
            (std::vector<std::string>{b, a}));
  EXPECT_EQ(ids(locks("?lock_reason~=second")), (std::vector<std::string>{b}));
  EXPECT_EQ(ids(locks("?offset=1&limit=1")), (std::vector<std::string>{b}));
  EXPECT_EQ(locks("?all_projects=true", ApiHarness::kAdmin).size(), 4u);
  EXPECT_EQ(locks("?all_projects=true").size(), 3u);  // not for members

  auto page = call(bhttp::verb::get, "/v2/resource-locks?limit=2&with_count=true", "",
                   ApiHarness::kAlice, kLocks);
  ASSERT_EQ(page.status, 200u);
  EXPECT_EQ(page.body.at("count"), 3);
  EXPECT_EQ(page.body.at("resource_locks").as_array().size(), 2u);
  EXPECT_EQ(
      text(page.body.at("resource_locks_links").at(0).at("href")),
      "http://127.0.0.1:8786/v2/project-a/resource-locks?limit=2&with_count=true&marker=" + b);

  auto bad = call(bhttp::verb::get, "/v2/resource-locks?created_since=yesterday", "",
                  ApiHarness::kAlice, kLocks);
  EXPECT_EQ(bad.status, 400u);
  EXPECT_EQ(bad.message(), "Invalid value specified for the query key: created_since");
  EXPECT_TRUE(locks("?created_before=2000-01-01T00:00:00Z").empty());
  EXPECT_EQ(locks("?created_since=2000-01-01T00:00:00Z").size(), 3u);
}

TEST_F(LocksApiTest, AllowWithLockDeletionLocksTheRuleAndTheShare) {
  const auto rule_id = allow("10.0.0.1", R"(, "lock_deletion": true, "lock_reason": "db host")");
  auto all = locks();
  ASSERT_EQ(all.size(), 2u);
  // The rule's lock, then the share's that names it.
  const auto& share_lock = all[0];
  const auto& rule_lock = all[1];
  EXPECT_EQ(rule_lock.at("resource_type"), "access_rule");
  EXPECT_EQ(text(rule_lock.at("resource_id")), rule_id);
  EXPECT_EQ(rule_lock.at("lock_reason"), "db host");
  EXPECT_EQ(share_lock.at("resource_type"), "share");
  EXPECT_EQ(text(share_lock.at("resource_id")), share_);
  EXPECT_EQ(text(share_lock.at("lock_reason")),
            "Locked by access lock: " + text(rule_lock.at("id")));

  auto before = api_.engine().last();
  expect_refused(deny(rule_id), 403,
                 "Cannot deny access for share '" + share_ +
                     "' since it has been locked. Please remove the locks and retry the "
                     "operation",
                 before);
  expect_refused(call(bhttp::verb::delete_, "/v2/shares/" + share_, "", ApiHarness::kAlice, kLocks),
                 403, "Resource lock/s [" + text(share_lock.at("id")) + "] prevent delete action.",
                 before);
  // Another user of the project may not drop alice's restrictions.
  expect_refused(deny(rule_id, R"(, "unrestrict": true)", kBob), 403,
                 "Unable to drop access rule restrictions that are not placed by you.", before);

  auto r = deny(rule_id, R"(, "unrestrict": true)");
  EXPECT_EQ(r.status, 202u) << r.raw.body();
  EXPECT_TRUE(locks().empty());  // both locks went with the rule
}

TEST_F(LocksApiTest, AnAdministratorsRestrictionsAreNotDroppedByUsers) {
  const auto rule_id = allow("10.0.0.2", R"(, "lock_deletion": true)", ApiHarness::kAdmin);
  const auto before = api_.engine().last();
  expect_refused(deny(rule_id, R"(, "unrestrict": true)"), 403,
                 "Unable to drop access rule restrictions that are not placed by you.", before);
  EXPECT_EQ(deny(rule_id, R"(, "unrestrict": true)", ApiHarness::kAdmin).status, 202u);
}

TEST_F(LocksApiTest, LockMembersOfAllowAccessAreCheckedAndKnownOnlyFrom282) {
  const auto before = api_.engine().last();
  expect_refused(action(R"({"allow_access": {"access_type": "ip", "access_to": "10.0.0.3",
                            "lock_reason": "why"}})"),
                 400,
                 "Lock reason can only be specified when locking the visibility or the deletion "
                 "of an access rule.",
                 before);
  expect_refused(action(R"({"allow_access": {"access_type": "ip", "access_to": "10.0.0.3",
                            "lock_deletion": true, "lock_reason": ")" +
                        std::string(1024, 'w') + R"("}})"),
                 400, "'lock_reason' can contain a maximum of 1023 characters.", before);
  auto r = action(R"({"allow_access": {"access_type": "ip", "access_to": "10.0.0.3",
                      "lock_deletion": true}})",
                  ApiHarness::kAlice, "2.81");
  EXPECT_EQ(r.status, 400u) << r.raw.body();
  EXPECT_EQ(api_.engine().last(), before);
}

TEST_F(LocksApiTest, AVisibilityLockRedactsTheRuleForOthers) {
  const auto rule_id = allow("10.0.0.4", R"(, "lock_visibility": true, "lock_reason": "hidden")",
                             ApiHarness::kAdmin);
  const auto open_rule = allow("10.0.0.5", "");
  // Alice may not drop an administrator's lock: she sees the rule redacted, on every read.
  auto shown = rule(rule_id);
  EXPECT_EQ(shown.at("access_to"), "******");
  EXPECT_EQ(shown.at("access_key"), "******");
  EXPECT_EQ(rule(rule_id, ApiHarness::kAlice, "2.45").at("access_to"), "******");
  EXPECT_EQ(rule(open_rule).at("access_to"), "10.0.0.5");
  auto listed = rules();
  ASSERT_EQ(listed.size(), 2u);
  EXPECT_EQ(listed[0].at("access_to"), "******");
  auto effective = call(bhttp::verb::get, "/v2/shares/" + share_ + "/effective-access");
  ASSERT_EQ(effective.status, 200u);
  for (const auto& r : effective.body.at("effective_access").at("rules").as_array()) {
    EXPECT_NE(r.at("access_to"), "10.0.0.4/32");
  }
  // The access_list action (before 2.45) redacts it too.
  auto old = action(R"({"access_list": null})", ApiHarness::kAlice, "2.44");
  ASSERT_EQ(old.status, 200u) << old.raw.body();
  bool redacted = false;
  for (const auto& r : old.body.at("access_list").as_array()) {
    EXPECT_NE(r.at("access_to"), "10.0.0.4");
    redacted = redacted || r.at("access_to") == "******";
  }
  EXPECT_TRUE(redacted);
  // Left out of lists filtered by access_to.
  EXPECT_TRUE(rules("&access_type=ip&access_to=10.0.0.4").empty());
  EXPECT_EQ(rules("&access_type=ip&access_to=10.0.0.5").size(), 1u);
  // The administrator sees it whole.
  EXPECT_EQ(rule(rule_id, ApiHarness::kAdmin).at("access_to"), "10.0.0.4");
  // A second visibility lock is refused.
  auto before = api_.engine().last();
  expect_refused(lock(rule_id, "access_rule", R"(, "resource_action": "show")"), 409,
                 "Resource's visibility is already locked by other user.", before);
}

TEST_F(LocksApiTest, TheRuleListFiltersOf282) {
  allow("10.0.0.6", "");
  auto r = action(R"({"allow_access": {"access_type": "user", "access_to": "carol",
                      "access_level": "ro"}})");
  ASSERT_EQ(r.status, 200u) << r.raw.body();
  EXPECT_EQ(rules("&access_type=user").size(), 1u);
  EXPECT_EQ(rules("&access_level=ro").size(), 1u);
  EXPECT_EQ(rules("&access_level=rw").size(), 1u);
  auto bad =
      call(bhttp::verb::get, "/v2/share-access-rules?share_id=" + share_ + "&access_to=carol");
  EXPECT_EQ(bad.status, 400u);
  EXPECT_EQ(bad.message(),
            "Invalid input received: 'access_type' parameter must be provided when specifying "
            "'access_to'.");
  bad = call(bhttp::verb::get, "/v2/share-access-rules?share_id=" + share_ + "&access_type=nfs");
  EXPECT_EQ(bad.status, 400u);
  EXPECT_EQ(bad.message(), "Invalid or unsupported share access type: nfs.");
  bad = call(bhttp::verb::get, "/v2/share-access-rules?share_id=" + share_ + "&access_level=xx");
  EXPECT_EQ(bad.status, 400u);
  EXPECT_EQ(bad.message(), "Invalid or unsupported share access level: xx.");
}

TEST_F(LocksApiTest, AccessGroupsTakeDeletionLocksAndTheirAttachmentsToo) {
  auto g = call(bhttp::verb::post, "/v2/project-a/access-groups",
                R"({"access-group": {"name": "web", "access_type": "ip"}})");
  ASSERT_EQ(g.status, 200u) << g.raw.body();
  const auto group = text(g.body.at("access-group").at("id"));

  const auto group_lock = lock_id(group, "access_group", R"(, "lock_reason": "shared")");
  auto before = api_.engine().last();
  expect_refused(call(bhttp::verb::delete_, "/v2/project-a/access-groups/" + group), 403,
                 "Resource lock/s [" + group_lock + "] prevent delete action.", before);

  auto attach = action(R"({"allow_access": {"access_type": "access_group", "access_to": ")" +
                       group + R"(", "lock_deletion": true}})");
  ASSERT_EQ(attach.status, 200u) << attach.raw.body();
  const auto mapping = text(attach.body.at("access").at("id"));
  before = api_.engine().last();
  expect_refused(deny(mapping), 403,
                 "Cannot deny access for share '" + share_ +
                     "' since it has been locked. Please remove the locks and retry the "
                     "operation",
                 before);
  EXPECT_EQ(deny(mapping, R"(, "unrestrict": true)").status, 202u);
  EXPECT_EQ(locks().size(), 1u);  // the group's own lock stays
  EXPECT_EQ(
      call(bhttp::verb::delete_, "/v2/resource-locks/" + group_lock, "", ApiHarness::kAlice, kLocks)
          .status,
      204u);
  EXPECT_EQ(call(bhttp::verb::delete_, "/v2/project-a/access-groups/" + group).status, 202u);
}

TEST_F(LocksApiTest, TheAuditListsWhoLockedWhatAndWhy) {
  const auto id = lock_id(share_, "share", R"(, "lock_reason": "month end")");
  auto r = call(bhttp::verb::get, "/v2/shares/" + share_ + "/access-history", "",
                ApiHarness::kAdmin, kLocks);
  ASSERT_EQ(r.status, 200u) << r.raw.body();
  const auto& listed = r.body.at("access_history").at("locks").as_array();
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_EQ(text(listed[0].at("lock_id")), id);
  EXPECT_EQ(listed[0].at("change"), "created");
  EXPECT_EQ(listed[0].at("lock_reason"), "month end");
  EXPECT_EQ(listed[0].at("cause").at("user_id"), "alice");
}

}  // namespace
}  // namespace agate
