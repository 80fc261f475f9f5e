// Back ends that misbehave, end to end through the real agated: an operator's program that hangs
// (killed at its timeout), one that dies of a signal, one that answers garbage. Each leaves its
// share in error with a message saying what happened; none of them holds back the other shares
// or the API while it misbehaves; and the rules stay recorded for the next attempt.

#include <gtest/gtest.h>
#include <sys/stat.h>

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

class MisbehavingDriverTest : public ::testing::Test {
 protected:
  void SetUp() override {
    script("hang.sh", "#!/bin/sh\nexec sleep 600\n");
    script("crash.sh", "#!/bin/sh\ncat >/dev/null\nkill -KILL $$\n");
    script("garbage.sh", "#!/bin/sh\ncat >/dev/null\necho 'this is {not json'\n");
    const auto config = dir_.path() / "agate.toml";
    std::ofstream(config) << "[dispatcher]\nworkers = 4\n"
                          << "[backends.good]\ndriver = \"fake\"\ndefault = true\n"
                          << exec_backend("hang", 3000) << exec_backend("crash", 10000)
                          << exec_backend("garbage", 10000);
    server_.emplace(kAgated, dir_.path() / "data",
                    std::vector<std::string>{"--config", config.string()});
    for (const char* backend : {"good", "hang", "crash", "garbage"}) {
      call(bhttp::verb::post, "/v2/types",
           std::string(R"({"share_type": {"name": ")") + backend +
               R"(", "extra_specs": {"driver_handles_share_servers": "False",
                   "share_backend_name": ")" +
               backend + "\"}}}",
           "admin:admin-project:admin");
    }
  }

  void script(const std::string& name, const std::string& body) {
    const auto path = dir_.path() / name;
    std::ofstream(path) << body;
    ::chmod(path.c_str(), 0755);
  }

  std::string exec_backend(const std::string& name, int timeout_ms) {
    return "[backends." + name + "]\ndriver = \"exec\"\ncommand = \"" +
           (dir_.path() / (name + ".sh")).string() +
           "\"\ntimeout_ms = " + std::to_string(timeout_ms) + "\n";
  }

  json::value call(bhttp::verb method, const std::string& target, const std::string& body = "",
                   const std::string& token = "alice:project-a") {
    auto res = testing::http_request(server_->port(), method, target, body,
                                     {{"X-Auth-Token", token},
                                      {"X-OpenStack-Manila-API-Version", "2.45"},
                                      {"Content-Type", "application/json"}});
    EXPECT_LT(res.result_int(), 300u) << target << ": " << res.body();
    boost::system::error_code ec;
    auto v = json::parse(res.body(), ec);
    return ec ? json::value() : v;
  }

  std::string create_share(const std::string& type) {
    auto r = call(bhttp::verb::post, "/v2/shares",
                  R"({"share": {"share_proto": "NFS", "size": 1, "share_type": ")" + type + "\"}}");
    return text(r.at("share").at("id"));
  }

  json::object effective(const std::string& share) {
    return call(bhttp::verb::get, "/v2/shares/" + share + "/effective-access")
        .at("effective_access")
        .as_object();
  }

  // Waits until the share's access_rules_status is `status`; returns the effective access then.
  json::object wait_for(const std::string& share, const std::string& status) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    for (;;) {
      auto e = effective(share);
      if (text(e.at("access_rules_status")) == status ||
          std::chrono::steady_clock::now() > deadline) {
        return e;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }

  testing::TempDir dir_;
  std::optional<ServerProcess> server_;
};

TEST_F(MisbehavingDriverTest, EachFailsItsOwnShareAloneAndSaysWhy) {
  const auto hang = create_share("hang");
  const auto crash = create_share("crash");
  const auto garbage = create_share("garbage");
  const auto good = create_share("good");
  for (const auto& share : {hang, crash, garbage}) {
    call(bhttp::verb::post, "/v2/shares/" + share + "/action",
         R"({"allow_access": {"access_type": "ip", "access_to": "10.0.0.0/24"}})");
  }
  // While the hanging program holds its call, the rest goes on: a new rule on another share is
  // applied, and the API answers.
  call(bhttp::verb::post, "/v2/shares/" + good + "/action",
       R"({"allow_access": {"access_type": "ip", "access_to": "10.0.0.0/24"}})");
  const auto good_state = wait_for(good, "active");
  EXPECT_EQ(text(good_state.at("access_rules_status")), "active");
  EXPECT_EQ(text(effective(hang).at("rules").at(0).at("state")), "applying")
      << "the hanging call should still be in flight";
  EXPECT_EQ(testing::http_request(server_->port(), bhttp::verb::get, "/healthz").result_int(),
            200u);

  struct Expect {
    std::string share, words;
  };
  for (const auto& [share, words] : {Expect{crash, "signal"}, Expect{garbage, "JSON"},
                                     Expect{hang, "did not finish within 3000 ms"}}) {
    auto e = wait_for(share, "error");
    ASSERT_EQ(text(e.at("access_rules_status")), "error") << json::serialize(e);
    const auto message = text(e.at("instances").at(0).at("access_status_message"));
    EXPECT_NE(message.find(words), std::string::npos) << message;
    // The rule is kept: it stays effective (in error) for the next attempt.
    ASSERT_EQ(e.at("rules").as_array().size(), 1u);
    EXPECT_EQ(text(e.at("rules").at(0).at("state")), "error");
  }
  // The good back end was never held back: still active, and it takes more.
  call(bhttp::verb::post, "/v2/shares/" + good + "/action",
       R"({"allow_access": {"access_type": "ip", "access_to": "10.0.1.0/24"}})");
  EXPECT_EQ(text(wait_for(good, "active").at("access_rules_status")), "active");
}

}  // namespace
}  // namespace agate
