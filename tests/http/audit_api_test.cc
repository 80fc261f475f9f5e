// The admin audit endpoints without a socket: effective-access at a time or event, a share's
// access history, who-had-access; refused to members in Manila's policy format; bad input.

#include <gtest/gtest.h>

#include <functional>
#include <optional>

#include "projections/audit.h"
#include "tests/support/api_harness.h"

namespace agate {
namespace {

using testing::ApiHarness;
using testing::EngineHarness;

class AuditApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto& e = api_.engine();
    e.create_type("default");
    const auto alice = EngineHarness::member("project-a", "alice");
    share_ = e.create_share(alice);
    group_ = e.create_group(alice, "web");
    e.add_entry(alice, group_, "10.0.0.0/24");
    before_attach_ = e.last();
    e.attach(alice, share_, group_);
    rule_ = e.allow(alice, share_, "ip", "10.0.0.7");
  }

  std::string time_after_first_event() {
    auto txn = lmdb::Txn::begin_read(api_.engine().env());
    auto r = api_.engine().log().read(txn);
    EXPECT_EQ(r.next(), events::LogReader::Status::record);
    return projections::audit::format_time(r.event().time_micros);
  }

  ApiHarness api_;
  std::string share_, group_, rule_;
  events::Seq before_attach_;
};

TEST_F(AuditApiTest, EffectiveAccessAtASeqShowsTheRulesOfThatMoment) {
  auto r = api_.get(
      "/v2/shares/" + share_ + "/effective-access?seq=" + std::to_string(before_attach_.value),
      ApiHarness::kAdmin);
  ASSERT_EQ(r.status, 200u) << r.message();
  const auto& ea = r.body.at("effective_access");
  EXPECT_EQ(ea.at("existed"), true);
  EXPECT_EQ(ea.at("as_of").at("seq"), before_attach_.value);
  EXPECT_TRUE(ea.at("rules").as_array().empty());

  r = api_.get("/v2/admin-project/shares/" + share_ + "/effective-access?seq=1000",
               ApiHarness::kAdmin);
  ASSERT_EQ(r.status, 200u) << r.message();
  const auto& rules = r.body.at("effective_access").at("rules").as_array();
  ASSERT_EQ(rules.size(), 2u);
  EXPECT_EQ(rules[0].at("access_to"), "10.0.0.0/24");
  EXPECT_EQ(rules[0].at("sources").at(0).at("type"), "access_group");
  EXPECT_TRUE(rules[0].at("sources").at(0).as_object().contains("mapping_id"));
  EXPECT_EQ(rules[1].at("access_to"), "10.0.0.7/32");
  EXPECT_EQ(rules[1].at("sources").at(0).at("rule_id"), boost::json::value(rule_));
}

TEST_F(AuditApiTest, EffectiveAccessAtATimeBeforeTheShareSaysItDidNotExist) {
  auto r = api_.get("/v2/shares/" + share_ + "/effective-access?at=2000-01-01T00:00:00Z",
                    ApiHarness::kAdmin);
  ASSERT_EQ(r.status, 200u) << r.message();
  EXPECT_EQ(r.body.at("effective_access").at("existed"), false);
  EXPECT_EQ(r.body.at("effective_access").at("as_of").at("seq"), 0);
  r = api_.get("/v2/shares/" + share_ + "/effective-access?at=" + time_after_first_event(),
               ApiHarness::kAdmin);
  ASSERT_EQ(r.status, 200u) << r.message();
  EXPECT_EQ(r.body.at("effective_access").at("as_of").at("seq"), 1);
  EXPECT_EQ(r.body.at("effective_access").at("existed"), false);
}

TEST_F(AuditApiTest, MembersAreRefusedAsManilaRefusesByPolicyButKeepTheLiveView) {
  for (const std::string& target : std::vector<std::string>{
           "/v2/shares/" + share_ + "/effective-access?at=2030-01-01T00:00:00Z",
           "/v2/shares/" + share_ + "/access-history",
           "/v2/audit/"
           "who-had-access?access_to=10.0.0.7&from=2000-01-01T00:00:00Z&to=2030-01-01T00:00:00Z"}) {
    auto r = api_.get(target, ApiHarness::kAlice);
    EXPECT_EQ(r.status, 403u) << target;
    ASSERT_TRUE(r.body.is_object());
    EXPECT_EQ(r.body.at("forbidden").at("code"), 403);
    EXPECT_NE(r.message().find("Policy doesn't allow"), std::string::npos) << r.message();
  }
  auto live = api_.get("/v2/shares/" + share_ + "/effective-access", ApiHarness::kAlice);
  EXPECT_EQ(live.status, 200u);
  EXPECT_TRUE(live.body.at("effective_access").as_object().contains("access_rules_status"));
}

TEST_F(AuditApiTest, BadInputIsA400AndAnUnknownShareA404) {
  auto r = api_.get("/v2/shares/" + share_ + "/effective-access?at=yesterday", ApiHarness::kAdmin);
  EXPECT_EQ(r.status, 400u);
  EXPECT_NE(r.message().find("RFC 3339"), std::string::npos) << r.message();
  r = api_.get("/v2/shares/" + share_ + "/effective-access?seq=-1", ApiHarness::kAdmin);
  EXPECT_EQ(r.status, 400u);
  r = api_.get("/v2/shares/" + share_ + "/effective-access?seq=1&at=2030-01-01T00:00:00Z",
               ApiHarness::kAdmin);
  EXPECT_EQ(r.status, 400u);
  r = api_.get("/v2/shares/nope/effective-access?seq=5", ApiHarness::kAdmin);
  EXPECT_EQ(r.status, 404u);
  EXPECT_EQ(r.message(), "Share nope could not be found.");
  r = api_.get("/v2/shares/nope/access-history", ApiHarness::kAdmin);
  EXPECT_EQ(r.status, 404u);
  r = api_.get("/v2/audit/who-had-access?access_to=10.0.0.7&from=2000-01-01T00:00:00Z",
               ApiHarness::kAdmin);
  EXPECT_EQ(r.status, 400u);
  r = api_.get(
      "/v2/audit/"
      "who-had-access?access_to=10.0.0.7&access_type=nfs&from=2000-01-01T00:00:00Z&to=2030-01-"
      "01T00:00:00Z",
      ApiHarness::kAdmin);
  EXPECT_EQ(r.status, 400u);
  r = api_.get(
      "/v2/audit/"
      "who-had-access?access_to=10.0.0.7&from=2030-01-01T00:00:00Z&to=2000-01-01T00:00:00Z",
      ApiHarness::kAdmin);
  EXPECT_EQ(r.status, 400u);
}

TEST_F(AuditApiTest, AccessHistoryListsEachChangeWithItsCause) {
  auto r = api_.get("/v2/shares/" + share_ + "/access-history", ApiHarness::kAdmin);
  ASSERT_EQ(r.status, 200u) << r.message();
  const auto& changes = r.body.at("access_history").at("changes").as_array();
  ASSERT_EQ(changes.size(), 2u);
  EXPECT_EQ(changes[0].at("cause").at("kind"), "groupAttached");
  EXPECT_EQ(changes[0].at("cause").at("user_id"), "alice");
  EXPECT_EQ(changes[0].at("added").at(0).at("access_to"), "10.0.0.0/24");
  EXPECT_EQ(changes[1].at("cause").at("kind"), "ruleAllowed");
  EXPECT_EQ(changes[1].at("rules_after"), 2);
}

TEST_F(AuditApiTest, WhoHadAccessFindsTheShare) {
  auto r = api_.get(
      "/v2/audit/"
      "who-had-access?access_to=10.0.0.7&from=2000-01-01T00:00:00Z&to=2030-01-01T00:00:00Z",
      ApiHarness::kAdmin);
  ASSERT_EQ(r.status, 200u) << r.message();
  const auto& in = r.body.at("who_had_access").at("intervals").as_array();
  ASSERT_EQ(in.size(), 1u);
  EXPECT_EQ(in[0].at("share_id"), boost::json::value(share_));
  EXPECT_TRUE(in[0].at("revoked").is_null());
  r = api_.get("/v2/admin-project/audit/who-had-access?access_to=10.0.0.0/24&share_id=" + share_ +
                   "&from=2000-01-01T00:00:00Z&to=2030-01-01T00:00:00Z",
               ApiHarness::kAdmin);
  ASSERT_EQ(r.status, 200u) << r.message();
  EXPECT_EQ(r.body.at("who_had_access").at("intervals").as_array().size(), 1u);
  // The group's 10.0.0.0/24 holds 10.0.0.9; the direct 10.0.0.7/32 does not.
  r = api_.get(
      "/v2/audit/who-had-access?access_to=10.0.0.9&containing=1"
      "&from=2000-01-01T00:00:00Z&to=2030-01-01T00:00:00Z",
      ApiHarness::kAdmin);
  ASSERT_EQ(r.status, 200u) << r.message();
  const auto& held = r.body.at("who_had_access").at("intervals").as_array();
  ASSERT_EQ(held.size(), 1u);
  EXPECT_EQ(held[0].at("access_to"), "10.0.0.0/24");
  EXPECT_EQ(r.body.at("who_had_access").at("containing"), true);
  r = api_.get(
      "/v2/audit/who-had-access?access_to=10.0.0.9&containing=maybe"
      "&from=2000-01-01T00:00:00Z&to=2030-01-01T00:00:00Z",
      ApiHarness::kAdmin);
  EXPECT_EQ(r.status, 400u);
}

// Every audit query scans the log through Services::slow_reads (a thread of the server's own),
// not on the thread that received it; refusals of bad input or of members are answered at once.
TEST_F(AuditApiTest, ScansRunWhereSlowReadsRunsThem) {
  std::vector<std::function<void()>> queued;
  http::Services services = api_.services();
  services.slow_reads = [&](std::function<void()> f) { queued.push_back(std::move(f)); };
  const std::vector<std::string> targets = {
      "/v2/admin-project/shares/" + share_ + "/effective-access?seq=1",
      "/v2/admin-project/shares/" + share_ + "/access-history",
      "/v2/admin-project/audit/who-had-access?access_to=10.0.0.7&from=2000-01-01T00:00:00Z"
      "&to=2100-01-01T00:00:00Z"};
  for (const auto& target : targets) {
    SCOPED_TRACE(target);
    const auto req = ApiHarness::request(boost::beast::http::verb::get, target, "",
                                         ApiHarness::kAdmin, "2.45");
    std::optional<http::Response> answer;
    http::handle_request(services, req, [&](http::Response res) { answer = std::move(res); });
    EXPECT_FALSE(answer) << "answered on the receiving thread";
    ASSERT_EQ(queued.size(), 1u);
    queued.front()();
    queued.clear();
    ASSERT_TRUE(answer);
    EXPECT_EQ(answer->result_int(), 200u) << answer->body();
  }
  // Not scanned at all: a malformed time, a member's request.
  for (const auto& [target, token] :
       std::vector<std::pair<std::string, std::string>>{
           {"/v2/admin-project/shares/" + share_ + "/access-history?since=yesterday",
            ApiHarness::kAdmin},
           {"/v2/project-a/shares/" + share_ + "/access-history", ApiHarness::kAlice}}) {
    const auto req =
        ApiHarness::request(boost::beast::http::verb::get, target, "", token, "2.45");
    std::optional<http::Response> answer;
    http::handle_request(services, req, [&](http::Response res) { answer = std::move(res); });
    ASSERT_TRUE(answer) << target;
    EXPECT_GE(answer->result_int(), 400u) << target;
    EXPECT_TRUE(queued.empty()) << target;
  }
}

}  // namespace
}  // namespace agate
