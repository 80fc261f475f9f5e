// Level updates over the REST API, without a socket: PUT /share-access-rules/{id} (Manila 2.88)
// and PUT /access-groups/{id}/entries/{entry_id}; Manila's answers and messages, the rule's
// states as the back end reports, the case-1 conflict, tenancy and readers.

#include <gtest/gtest.h>

#include "tests/support/api_harness.h"
#include "tests/support/json_text.h"

namespace agate {
namespace {

namespace bhttp = boost::beast::http;
using testing::ApiHarness;
using testing::ApiResult;
using testing::EngineHarness;
using testing::text;

class LevelUpdateApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    api_.engine().create_type("default");
    share_ = api_.engine().create_share(alice_);
  }

  ApiResult put(const std::string& target, const std::string& body,
                const std::string& version = "2.88", const std::string& token = ApiHarness::kAlice) {
    return api_.call(bhttp::verb::put, target, body, token, version);
  }
  ApiResult update(const std::string& rule, const std::string& level,
                   const std::string& version = "2.88",
                   const std::string& token = ApiHarness::kAlice) {
    return put("/v2/share-access-rules/" + rule,
               R"({"update_access": {"access_level": ")" + level + R"("}})", version, token);
  }
  ApiResult show(const std::string& rule) {
    return api_.get("/v2/share-access-rules/" + rule, ApiHarness::kAlice, "2.88");
  }
  std::string share_status() {
    return text(api_.get("/v2/shares/" + share_, ApiHarness::kAlice, "2.88")
                    .body.at("share")
                    .at("access_rules_status"));
  }
  // What the back end of the share's instance reports for the current desired version.
  void report(std::vector<events::RuleFailure> failures = {}) {
    auto txn = lmdb::Txn::begin_read(api_.engine().env());
    const auto share = *api_.engine().store().share(txn, share_);
    const auto in = api_.engine().store().instances(txn, share).at(0);
    std::map<events::RuleKey, events::AccessLevel> have;
    for (const auto& r : api_.engine().store().effective_rules(txn, share_)) {
      have[{r.access_type, r.access_to}] = r.access_level;
    }
    txn.abort();
    events::DriverOutcome o;
    o.share_id = share_;
    o.instance_id = in.id;
    o.applied_version = share.desired_version;
    o.failures = std::move(failures);
    for (const auto& [k, level] : have) o.added.push_back({k, level});
    api_.engine().ok(EngineHarness::admin(), engine::RecordDriverOutcome{o});
  }

  ApiHarness api_;
  engine::Context alice_ = EngineHarness::member("project-a", "alice");
  std::string share_;
};

TEST_F(LevelUpdateApiTest, ARuleGoesQueuedToUpdateThenActiveAndTheShareSyncsMeanwhile) {
  const auto rule = api_.engine().allow(alice_, share_, "ip", "10.0.0.0/24", "ro");
  report();
  EXPECT_EQ(text(show(rule).body.at("access").at("state")), "active");
  EXPECT_EQ(share_status(), "active");

  auto r = update(rule, "rw");
  ASSERT_EQ(r.status, 200u) << r.raw.body();
  const auto& access = r.body.at("access");
  EXPECT_EQ(text(access.at("id")), rule);
  EXPECT_EQ(text(access.at("share_id")), share_);
  EXPECT_EQ(text(access.at("access_level")), "rw");
  EXPECT_EQ(text(access.at("access_to")), "10.0.0.0/24");
  EXPECT_EQ(text(access.at("state")), "queued_to_update");
  EXPECT_TRUE(access.as_object().contains("metadata"));
  EXPECT_EQ(text(show(rule).body.at("access").at("state")), "queued_to_update");
  EXPECT_EQ(share_status(), "syncing");

  report();
  EXPECT_EQ(text(show(rule).body.at("access").at("state")), "active");
  EXPECT_EQ(text(show(rule).body.at("access").at("access_level")), "rw");
  EXPECT_EQ(share_status(), "active");
}

TEST_F(LevelUpdateApiTest, ARuleTheBackEndRefusesAtItsNewLevelIsInError) {
  const auto rule = api_.engine().allow(alice_, share_, "ip", "10.0.0.0/24", "ro");
  report();
  ASSERT_EQ(update(rule, "rw").status, 200u);
  report({{{events::AccessType::ip, "10.0.0.0/24"}, "refused"}});
  EXPECT_EQ(text(show(rule).body.at("access").at("state")), "error");
  EXPECT_EQ(share_status(), "error");
}

TEST_F(LevelUpdateApiTest, TheSameLevelIsAnswered200AndWritesNothing) {
  const auto rule = api_.engine().allow(alice_, share_, "ip", "10.0.0.0/24", "rw");
  report();
  const auto last = api_.engine().last();
  auto r = update(rule, "rw");
  ASSERT_EQ(r.status, 200u) << r.raw.body();
  EXPECT_EQ(text(r.body.at("access").at("state")), "active");
  EXPECT_EQ(api_.engine().last(), last);
}

TEST_F(LevelUpdateApiTest, BadBodiesGetManilasErrors) {
  const auto rule = api_.engine().allow(alice_, share_, "ip", "10.0.0.0/24");
  const auto last = api_.engine().last();
  auto bad = update(rule, "xx");
  EXPECT_EQ(bad.status, 400u);
  EXPECT_EQ(bad.message(), "Invalid or unsupported share access level: xx.");
  EXPECT_TRUE(bad.body.as_object().contains("badRequest"));
  for (const std::string body : {R"({"update_access": {}})",
                                 R"({"update_access": {"access_level": null}})",
                                 R"({"update_access": {"access_level": ""}})"}) {
    auto r = put("/v2/share-access-rules/" + rule, body);
    EXPECT_EQ(r.status, 400u) << body;
    EXPECT_EQ(r.message(), "Invalid input. Missing 'access_level' in update request.") << body;
  }
  for (const std::string body : {R"({"access": {"access_level": "ro"}})",
                                 R"({"update_access": "ro"})", "not json"}) {
    auto r = put("/v2/share-access-rules/" + rule, body);
    EXPECT_EQ(r.status, 400u) << body;
    EXPECT_EQ(r.message(),
              "The server could not comply with the request since it is either malformed or "
              "otherwise incorrect.")
        << body;
  }
  EXPECT_EQ(api_.engine().last(), last);
}

TEST_F(LevelUpdateApiTest, UnknownAndForeignRulesAre404AndBelow288TheRouteIsUnknown) {
  const auto rule = api_.engine().allow(alice_, share_, "ip", "10.0.0.0/24");
  auto unknown = update("no-such-rule", "ro");
  EXPECT_EQ(unknown.status, 404u);
  EXPECT_EQ(unknown.message(), "Share access rule no-such-rule not found.");
  auto foreign = update(rule, "ro", "2.88", ApiHarness::kMallory);
  EXPECT_EQ(foreign.status, 404u);
  EXPECT_EQ(foreign.message(), "Share access rule " + rule + " not found.");
  auto old = update(rule, "ro", "2.87");
  EXPECT_EQ(old.status, 404u);
  EXPECT_EQ(old.message(), "The resource could not be found.");
  // A reader changes nothing.
  const auto last = api_.engine().last();
  auto reader = update(rule, "ro", "2.88", "rita:project-a:reader");
  EXPECT_EQ(reader.status, 403u);
  EXPECT_EQ(api_.engine().last(), last);
}

TEST_F(LevelUpdateApiTest, AGroupMappingIsRefusedWithAClearMessage) {
  const auto group = api_.engine().create_group(alice_, "AG1", "ip");
  api_.engine().add_entry(alice_, group, "10.0.0.0/24");
  const auto mapping = api_.engine().attach(alice_, share_, group);
  auto r = update(mapping, "ro");
  EXPECT_EQ(r.status, 400u);
  EXPECT_EQ(r.message(), "Access rule " + mapping + " attaches access group " + group +
                             ": it has no level of its own. Change the level of the group's "
                             "entries instead.");
}

TEST_F(LevelUpdateApiTest, InvalidInstancesAndSoftDeletedSharesRefuseIt) {
  const auto rule = api_.engine().allow(alice_, share_, "ip", "10.0.0.0/24");
  api_.engine().ok(EngineHarness::admin(), engine::SetShareStatus{share_, "shrinking"});
  auto r = update(rule, "ro");
  EXPECT_EQ(r.status, 400u);
  EXPECT_EQ(r.message(),
            "Access rules cannot be updated while the share, any of its replicas or migration "
            "copies lacks a valid host or is in an invalid state.");
  api_.engine().ok(EngineHarness::admin(), engine::SetShareStatus{share_, "available"});
  api_.engine().ok(alice_, engine::SoftDeleteShare{share_});
  auto soft = update(rule, "ro");
  EXPECT_EQ(soft.status, 403u);
  EXPECT_EQ(soft.message(),
            "Cannot update access for share '" + share_ + "' since it has been soft deleted.");
}

TEST_F(LevelUpdateApiTest, CaseOneIsA409NamingTheShareAndTheSource) {
  const auto group = api_.engine().create_group(alice_, "AG1", "ip");
  const auto entry = api_.engine().add_entry(alice_, group, "10.0.0.0/24", "ro");
  api_.engine().attach(alice_, share_, group);
  const auto rule = api_.engine().allow(alice_, share_, "ip", "10.0.0.0/24", "ro");
  const auto last = api_.engine().last();
  auto r = update(rule, "rw");
  EXPECT_EQ(r.status, 409u);
  EXPECT_EQ(r.message(), "Access rule ip:10.0.0.0/24 (rw) conflicts with access rule "
                         "ip:10.0.0.0/24 (ro) granted by access group AG1 (" +
                             group + ") entry " + entry + " on share " + share_ + ".");
  EXPECT_TRUE(r.body.as_object().contains("conflictingRequest"));
  EXPECT_EQ(api_.engine().last(), last);
}

TEST_F(LevelUpdateApiTest, AnEntryLevelChangesOnEveryAttachedShare) {
  const auto group = api_.engine().create_group(alice_, "AG1", "ip");
  const auto entry = api_.engine().add_entry(alice_, group, "10.0.0.0/24", "rw");
  const auto second = api_.engine().create_share(alice_, "default", "second");
  api_.engine().attach(alice_, share_, group);
  api_.engine().attach(alice_, second, group);
  const auto path = "/v2/access-groups/" + group + "/entries/" + entry;
  auto r = put(path, R"({"entry": {"access_level": "ro"}})", "2.45");
  ASSERT_EQ(r.status, 200u) << r.raw.body();
  EXPECT_EQ(text(r.body.at("entry").at("id")), entry);
  EXPECT_EQ(text(r.body.at("entry").at("access_level")), "ro");
  EXPECT_EQ(text(api_.get(path).body.at("entry").at("access_level")), "ro");
  for (const auto& s : {share_, second}) {
    auto e = api_.get("/v2/shares/" + s + "/effective-access");
    const auto& rules = e.body.at("effective_access").at("rules").as_array();
    ASSERT_EQ(rules.size(), 1u) << s;
    EXPECT_EQ(text(rules[0].at("access_level")), "ro") << s;
  }
  auto bad = put(path, R"({"entry": {"access_level": "xx"}})");
  EXPECT_EQ(bad.status, 400u);
  EXPECT_EQ(bad.message(), "Invalid or unsupported share access level: xx.");
  auto missing = put("/v2/access-groups/" + group + "/entries/nope",
                     R"({"entry": {"access_level": "rw"}})");
  EXPECT_EQ(missing.status, 404u);
  EXPECT_EQ(missing.message(), "Access group entry nope could not be found.");
  auto foreign = put(path, R"({"entry": {"access_level": "rw"}})", "2.45", ApiHarness::kMallory);
  EXPECT_EQ(foreign.status, 404u);
}

TEST_F(LevelUpdateApiTest, AnEntryConflictIsA409NamingEachShareAndSource) {
  const auto group = api_.engine().create_group(alice_, "AG1", "ip");
  const auto entry = api_.engine().add_entry(alice_, group, "10.0.0.0/24", "ro");
  const auto second = api_.engine().create_share(alice_, "default", "second");
  api_.engine().attach(alice_, share_, group);
  api_.engine().attach(alice_, second, group);
  const auto r1 = api_.engine().allow(alice_, share_, "ip", "10.0.0.0/24", "ro");
  const auto r2 = api_.engine().allow(alice_, second, "ip", "10.0.0.0/24", "ro");
  const auto last = api_.engine().last();
  auto r = put("/v2/access-groups/" + group + "/entries/" + entry,
               R"({"entry": {"access_level": "rw"}})");
  EXPECT_EQ(r.status, 409u);
  EXPECT_NE(r.message().find("granted by access rule " + r1 + " on share " + share_),
            std::string::npos)
      << r.message();
  EXPECT_NE(r.message().find("granted by access rule " + r2 + " on share " + second),
            std::string::npos)
      << r.message();
  EXPECT_EQ(api_.engine().last(), last);
}

}  // namespace
}  // namespace agate
