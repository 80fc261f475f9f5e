#include "drivers/exec_driver.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <boost/json.hpp>
#include <fstream>
#include <sstream>

#include "tests/support/temp_dir.h"

namespace agate::drivers {
namespace {

using events::AccessLevel;
using events::AccessType;

class ExecDriverTest : public ::testing::Test {
 protected:
  std::filesystem::path script(const std::string& name, const std::string& body) {
    const auto path = dir_.path() / name;
    std::ofstream(path) << "#!/bin/sh\n" << body;
    ::chmod(path.c_str(), 0755);
    return path;
  }

  UpdateRequest request() {
    UpdateRequest r;
    r.instance = {"inst-1", "share-1", "hook", "NFS", "hook:/shares/share-1"};
    r.access_rules = {{{AccessType::ip, "10.0.0.0/24"}, AccessLevel::rw},
                      {{AccessType::ip, "3.3.3.3/32"}, AccessLevel::ro}};
    r.add_rules = {r.access_rules[1]};
    r.delete_rules = {{AccessType::ip, "192.168.0.0/16"}};
    r.update_rules = {r.access_rules[0]};
    return r;
  }

  UpdateResult run(const std::filesystem::path& command, int timeout_ms = 10'000) {
    ExecOptions o;
    o.command = command;
    o.timeout = std::chrono::milliseconds(timeout_ms);
    return make_exec_driver(o)->update_access(request());
  }

  testing::TempDir dir_;
};

TEST_F(ExecDriverTest, SendsTheRequestAsJsonAndReadsPerRuleResults) {
  const auto seen = dir_.path() / "stdin.json";
  const auto hook = script("hook", "cat > '" + seen.string() + "'\n" + R"(echo '{"failures": [{"access_type": "ip", "access_to": "3.3.3.3/32", "message": "no route"}], "access_keys": []}')" "\n");
  const auto result = run(hook);
  ASSERT_TRUE(result.call_succeeded) << result.message;
  ASSERT_EQ(result.failures.size(), 1u);
  EXPECT_EQ(result.failures[0].rule.access_to, "3.3.3.3/32");
  EXPECT_EQ(result.failures[0].message, "no route");

  std::ifstream in(seen);
  std::stringstream text;
  text << in.rdbuf();
  const auto sent = boost::json::parse(text.str());
  EXPECT_EQ(sent.at("instance").at("id"), "inst-1");
  EXPECT_EQ(sent.at("access_rules").as_array().size(), 2u);
  EXPECT_EQ(sent.at("add_rules").at(0).at("access_level"), "ro");
  EXPECT_EQ(sent.at("delete_rules").at(0).at("access_to"), "192.168.0.0/16");
  // The rules whose level changed in place, at their new level.
  ASSERT_EQ(sent.at("update_rules").as_array().size(), 1u);
  EXPECT_EQ(sent.at("update_rules").at(0).at("access_to"), "10.0.0.0/24");
  EXPECT_EQ(sent.at("update_rules").at(0).at("access_level"), "rw");
}

TEST_F(ExecDriverTest, EmptyOutputIsSuccess) {
  const auto result = run(script("quiet", "cat > /dev/null\n"));
  EXPECT_TRUE(result.call_succeeded);
  EXPECT_TRUE(result.failures.empty());
}

TEST_F(ExecDriverTest, NonZeroExitFailsTheCallWithStandardError) {
  const auto result = run(script("angry", "cat > /dev/null\necho 'exportfs: permission denied' >&2\nexit 3\n"));
  EXPECT_FALSE(result.call_succeeded);
  EXPECT_EQ(result.message, "angry exited with status 3: exportfs: permission denied");
}

TEST_F(ExecDriverTest, BadJsonFailsTheCall) {
  const auto result = run(script("chatty", "cat > /dev/null\necho 'all good!'\n"));
  EXPECT_FALSE(result.call_succeeded);
  EXPECT_EQ(result.message, "the driver's answer is not a JSON object: all good!");
  EXPECT_FALSE(parse_exec_result(R"({"failures": [{"access_type": "nfs", "access_to": "x"}]})")
                   .call_succeeded);
}

TEST_F(ExecDriverTest, ATimeoutKillsTheProgram) {
  const auto start = std::chrono::steady_clock::now();
  const auto result = run(script("slow", "sleep 5\n"), 200);
  EXPECT_FALSE(result.call_succeeded);
  EXPECT_EQ(result.message, "slow did not finish within 200 ms and was killed");
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(3));
}

TEST_F(ExecDriverTest, AProgramThatDoesNotReadItsInputDoesNotHurtUs) {
  const auto result = run(script("deaf", "exit 0\n"));
  EXPECT_TRUE(result.call_succeeded) << result.message;
}

TEST_F(ExecDriverTest, AMissingProgramFailsTheCall) {
  const auto result = run(dir_.path() / "nowhere");
  EXPECT_FALSE(result.call_succeeded);
  EXPECT_NE(result.message.find("cannot run " + (dir_.path() / "nowhere").string()),
            std::string::npos)
      << result.message;
}

}  // namespace
}  // namespace agate::drivers
