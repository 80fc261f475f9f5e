// The dispatcher end to end: the real agated with the fake driver, driven over HTTP.

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <fstream>
#include <thread>

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

using testing::text;

class DispatchTest : public ::testing::Test {
 protected:
  // Starts agated with one fake back end configured by `fake_options` (TOML lines).
  void start(const std::string& fake_options = "", int workers = 4) {
    const auto config = dir_.path() / "agate.toml";
    std::ofstream(config) << "[dispatcher]\nworkers = " << workers
                          << "\n[backends.nfs1]\ndriver = \"fake\"\ndefault = true\n"
                          << fake_options << "\n";
    server_.emplace(kAgated, dir_.path() / "data",
                    std::vector<std::string>{"--config", config.string()});
  }

  json::value call(bhttp::verb method, const std::string& target, const std::string& body = "",
                   unsigned expect = 0, const std::string& version = "2.45") {
    auto res = testing::http_request(server_->port(), method, target, body,
                                     {{"X-Auth-Token", token_},
                                      {"X-OpenStack-Manila-API-Version", version}});
    if (expect) {
      EXPECT_EQ(res.result_int(), expect) << target << ": " << res.body();
    }
    boost::system::error_code ec;
    auto v = json::parse(res.body(), ec);
    return ec ? json::value() : v;
  }

  std::string create_share(const std::string& name) {
    auto r = call(bhttp::verb::post, "/v2/shares",
                  R"({"share": {"share_proto": "NFS", "size": 1, "name": ")" + name + R"("}})", 200);
    return text(r.at("share").at("id"));
  }

  // Waits until no instance waits for its back end; returns false on timeout.
  bool settle(std::chrono::seconds timeout = std::chrono::seconds(30)) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      auto health = call(bhttp::verb::get, "/healthz");
      if (health.is_object() && health.at("outbox") == 0) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return false;
  }

  json::object effective(const std::string& share) {
    return call(bhttp::verb::get, "/v2/shares/" + share + "/effective-access", "", 200)
        .at("effective_access")
        .as_object();
  }

  void setup_type() {
    std::swap(token_, admin_);
    call(bhttp::verb::post, "/v2/types",
         R"({"share_type": {"name": "default", "extra_specs": {"driver_handles_share_servers": "False"}}})",
         200);
    std::swap(token_, admin_);
  }

  std::string token_ = "alice:project-a";
  std::string admin_ = "admin:admin-project:admin";
  testing::TempDir dir_;
  std::optional<ServerProcess> server_;
};

TEST_F(DispatchTest, CaseThreeEndToEnd) {
  start(R"(fail_rules_matching = "^3\\.3\\.3\\.3"
failure_message = "host unreachable")");
  setup_type();
  const auto share = create_share("s");
  auto group = call(bhttp::verb::post, "/v2/access-groups",
                    R"({"access-group": {"name": "AG1", "access_type": "ip"}})", 200);
  const auto group_id = text(group.at("access-group").at("id"));
  for (auto ip : {"1.1.1.1", "2.2.2.2", "3.3.3.3"}) {
    call(bhttp::verb::post, "/v2/access-groups/" + group_id + "/entries",
         std::string(R"({"entry": {"access_to": ")") + ip + R"("}})", 200);
  }
  call(bhttp::verb::post, "/v2/shares/" + share + "/action",
       R"({"allow_access": {"access_type": "access_group", "access_to": ")" + group_id + R"("}})",
       200);
  ASSERT_TRUE(settle());
  const auto view = effective(share);
  EXPECT_EQ(text(view.at("access_rules_status")), "error");
  for (const auto& rule : view.at("rules").as_array()) {
    const bool bad = text(rule.at("access_to")) == "3.3.3.3/32";
    EXPECT_EQ(text(rule.at("state")), bad ? "error" : "active") << rule;
  }
  const auto shown = call(bhttp::verb::get, "/v2/shares/" + share, "", 200);
  EXPECT_EQ(text(shown.at("share").at("access_rules_status")), "error");
}

TEST_F(DispatchTest, CaseTwoOutOfOrderChangesConvergeOnTheCurrentState) {
  start("delay_ms = 30", 2);
  setup_type();
  const auto share = create_share("s");
  std::vector<std::string> groups;
  for (int g = 0; g < 4; ++g) {
    auto group = call(bhttp::verb::post, "/v2/access-groups",
                      R"({"access-group": {"name": "g)" + std::to_string(g) +
                          R"(", "access_type": "ip"}})",
                      200);
    groups.push_back(text(group.at("access-group").at("id")));
    call(bhttp::verb::post, "/v2/access-groups/" + groups.back() + "/entries",
         R"({"entry": {"access_to": "10.)" + std::to_string(g) + R"(.0.0/16"}})", 200);
  }
  // Attach and detach in quick succession while calls are in flight.
  std::vector<std::string> mappings;
  for (const auto& g : groups) {
    auto m = call(bhttp::verb::post, "/v2/shares/" + share + "/action",
                  R"({"allow_access": {"access_type": "access_group", "access_to": ")" + g + R"("}})",
                  200);
    mappings.push_back(text(m.at("access").at("id")));
  }
  call(bhttp::verb::post, "/v2/shares/" + share + "/action",
       R"({"deny_access": {"access_id": ")" + mappings[1] + R"("}})", 202);
  ASSERT_TRUE(settle());
  const auto view = effective(share);
  EXPECT_EQ(text(view.at("access_rules_status")), "active");
  ASSERT_EQ(view.at("rules").as_array().size(), 3u);
  for (const auto& rule : view.at("rules").as_array()) EXPECT_EQ(text(rule.at("state")), "active");
}

TEST_F(DispatchTest, AKilledServerConvergesAfterRestart) {
  start("delay_ms = 20", 2);
  setup_type();
  auto group = call(bhttp::verb::post, "/v2/access-groups",
                    R"({"access-group": {"name": "fan", "access_type": "ip"}})", 200);
  const auto group_id = text(group.at("access-group").at("id"));
  std::vector<std::string> shares;
  for (int i = 0; i < 30; ++i) {
    shares.push_back(create_share("s" + std::to_string(i)));
    call(bhttp::verb::post, "/v2/shares/" + shares.back() + "/action",
         R"({"allow_access": {"access_type": "access_group", "access_to": ")" + group_id + R"("}})",
         200);
  }
  ASSERT_TRUE(settle());
  // The fan-out of one entry to 30 shares takes about 300 ms here: kill the server within it.
  call(bhttp::verb::post, "/v2/access-groups/" + group_id + "/entries",
       R"({"entry": {"access_to": "192.168.0.0/16"}})", 200);
  std::this_thread::sleep_for(std::chrono::milliseconds(60));
  server_->kill();
  server_.reset();
  start("", 2);
  // The restarted server found the fan-out unfinished and resumed it.
  EXPECT_NE(server_->output().find("dispatcher: resuming"), std::string::npos) << server_->output();
  ASSERT_TRUE(settle());
  for (const auto& s : shares) {
    const auto view = effective(s);
    EXPECT_EQ(text(view.at("access_rules_status")), "active") << s;
    ASSERT_EQ(view.at("rules").as_array().size(), 1u) << s;
    EXPECT_EQ(text(view.at("rules").at(0).at("state")), "active") << s;
  }
}

// The answer to a grant shows the rule as it was created, as Manila's does, whatever the back
// end is doing with it when the answer is rendered (after the commit). Here the back end holds
// the first call back: the group attached meanwhile grants the same rule, whose call is in flight.
TEST_F(DispatchTest, AGrantIsAnsweredAsCreatedWhileTheDriverCallIsHeldBack) {
  start("delay_ms = 1500", 2);
  setup_type();
  const auto share = create_share("s");
  auto rule = call(bhttp::verb::post, "/v2/shares/" + share + "/action",
                   R"({"allow_access": {"access_type": "ip", "access_to": "10.0.0.0/24"}})", 200);
  EXPECT_EQ(text(rule.at("access").at("state")), "queued_to_apply");
  const auto rule_id = text(rule.at("access").at("id"));
  // Until the back end's call for the rule is under way.
  bool applying = false;
  for (int i = 0; i < 200 && !applying; ++i) {
    auto shown = call(bhttp::verb::get, "/v2/share-access-rules/" + rule_id, "", 200);
    applying = text(shown.at("access").at("state")) == "applying";
    if (!applying) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ASSERT_TRUE(applying);

  auto group = call(bhttp::verb::post, "/v2/access-groups",
                    R"({"access-group": {"name": "same", "access_type": "ip"}})", 200);
  const auto group_id = text(group.at("access-group").at("id"));
  call(bhttp::verb::post, "/v2/access-groups/" + group_id + "/entries",
       R"({"entry": {"access_to": "10.0.0.0/24"}})", 200);
  auto attached = call(
      bhttp::verb::post, "/v2/shares/" + share + "/action",
      R"({"allow_access": {"access_type": "access_group", "access_to": ")" + group_id + R"("}})",
      200);
  EXPECT_EQ(text(attached.at("access").at("state")), "queued_to_apply");

  ASSERT_TRUE(settle());
  auto shown = call(bhttp::verb::get, "/v2/share-access-rules/" + rule_id, "", 200);
  EXPECT_EQ(text(shown.at("access").at("state")), "active");
}

// A level update with the back end's call held back: the answer shows the rule as Manila
// answers it (queued_to_update), reads show it updating while the call is under way and the
// share syncing, then active at its new level.
TEST_F(DispatchTest, ALevelUpdateIsQueuedThenUpdatingThenActiveWhileTheDriverIsHeldBack) {
  start("delay_ms = 1500", 2);
  setup_type();
  const auto share = create_share("s");
  auto rule = call(bhttp::verb::post, "/v2/shares/" + share + "/action",
                   R"({"allow_access": {"access_type": "ip", "access_to": "10.0.0.0/24",
                                        "access_level": "ro"}})",
                   200);
  const auto rule_id = text(rule.at("access").at("id"));
  ASSERT_TRUE(settle());
  const auto target = "/v2/share-access-rules/" + rule_id;
  EXPECT_EQ(text(call(bhttp::verb::get, target, "", 200, "2.88").at("access").at("state")),
            "active");

  auto updated = call(bhttp::verb::put, target,
                      R"({"update_access": {"access_level": "rw"}})", 200, "2.88");
  EXPECT_EQ(text(updated.at("access").at("state")), "queued_to_update");
  EXPECT_EQ(text(updated.at("access").at("access_level")), "rw");
  auto shown_share = call(bhttp::verb::get, "/v2/shares/" + share, "", 200, "2.88");
  EXPECT_EQ(text(shown_share.at("share").at("access_rules_status")), "syncing");
  bool updating = false;
  for (int i = 0; i < 200 && !updating; ++i) {
    auto shown = call(bhttp::verb::get, target, "", 200, "2.88");
    const auto state = text(shown.at("access").at("state"));
    updating = state == "updating";
    if (!updating) {
      EXPECT_EQ(state, "queued_to_update");
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  }
  ASSERT_TRUE(updating);
  ASSERT_TRUE(settle());
  auto shown = call(bhttp::verb::get, target, "", 200, "2.88");
  EXPECT_EQ(text(shown.at("access").at("state")), "active");
  EXPECT_EQ(text(shown.at("access").at("access_level")), "rw");
  shown_share = call(bhttp::verb::get, "/v2/shares/" + share, "", 200, "2.88");
  EXPECT_EQ(text(shown_share.at("share").at("access_rules_status")), "active");
  const auto rules = effective(share).at("rules").as_array();
  ASSERT_EQ(rules.size(), 1u);
  EXPECT_EQ(text(rules[0].at("access_level")), "rw");
}

// The same with the back end free to race the answer: every grant, a rule or a group whose
// entries another source already has applied, is answered queued_to_apply ("new" before 2.28).
TEST_F(DispatchTest, AGrantIsAnsweredAsCreatedWhenTheBackEndRacesTheAnswer) {
  start("", 4);
  setup_type();
  const auto share = create_share("s");
  auto group = call(bhttp::verb::post, "/v2/access-groups",
                    R"({"access-group": {"name": "fast", "access_type": "ip"}})", 200);
  const auto group_id = text(group.at("access-group").at("id"));
  for (int i = 0; i < 40; ++i) {
    const std::string net = "10.3." + std::to_string(i) + ".0/24";
    auto rule = call(bhttp::verb::post, "/v2/shares/" + share + "/action",
                     R"({"allow_access": {"access_type": "ip", "access_to": ")" + net + R"("}})",
                     200);
    EXPECT_EQ(text(rule.at("access").at("state")), "queued_to_apply") << i;
    call(bhttp::verb::post, "/v2/access-groups/" + group_id + "/entries",
         R"({"entry": {"access_to": ")" + net + R"("}})", 200);
  }
  ASSERT_TRUE(settle());
  // Every rule of the group is active on the share already, from the direct rules.
  auto attached = call(
      bhttp::verb::post, "/v2/shares/" + share + "/action",
      R"({"allow_access": {"access_type": "access_group", "access_to": ")" + group_id + R"("}})",
      200);
  EXPECT_EQ(text(attached.at("access").at("state")), "queued_to_apply");
  // Before 2.28 a new rule is "new".
  auto old = testing::http_request(
      server_->port(), bhttp::verb::post, "/v2/shares/" + share + "/action",
      R"({"allow_access": {"access_type": "ip", "access_to": "10.4.0.0/24"}})",
      {{"X-Auth-Token", token_}, {"X-OpenStack-Manila-API-Version", "2.27"}});
  ASSERT_EQ(old.result_int(), 200u) << old.body();
  EXPECT_EQ(text(json::parse(old.body()).at("access").at("state")), "new");
}

}  // namespace
}  // namespace agate
