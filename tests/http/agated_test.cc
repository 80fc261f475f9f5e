// Integration: the real agated process on a free loopback port.

#include <gtest/gtest.h>
#include <sys/wait.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/json.hpp>
#include <fstream>
#include <thread>

#include "events/lmdb.h"
#include "projections/store.h"
#include "tests/support/fake_keystone.h"
#include "tests/support/http_client.h"
#include "tests/support/server_process.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_certificates.h"

namespace agate {
namespace {

namespace bhttp = boost::beast::http;
using testing::http_request;
using testing::ServerProcess;

const std::filesystem::path kAgated = AGATE_AGATED_PATH;

class AgatedTest : public ::testing::Test {
 protected:
  std::filesystem::path data_dir() const { return dir_.path() / "data"; }
  // Runs agated just long enough to create an access group; returns its id ("" on failure).
  std::string create_group_and_stop() {
    ServerProcess server(kAgated, data_dir());
    auto created = http_request(server.port(), bhttp::verb::post, "/v2/access-groups",
                                R"({"access-group": {"name": "kept", "access_type": "ip"}})",
                                {{"X-Auth-Token", "alice:project-a"}});
    EXPECT_EQ(created.result_int(), 200);
    if (created.result_int() != 200) return "";
    return boost::json::parse(created.body()).at("access-group").at("id").as_string().c_str();
  }
  testing::TempDir dir_;
};

TEST_F(AgatedTest, OpensTheLogSaysWhereAndAnswersHealthz) {
  ServerProcess server(kAgated, data_dir());
  auto res = http_request(server.port(), bhttp::verb::get, "/healthz");
  ASSERT_EQ(res.result_int(), 200) << res.body();
  EXPECT_EQ(res[bhttp::field::content_type], "application/json");
  EXPECT_TRUE(res["x-compute-request-id"].starts_with("req-"));
  const auto body = boost::json::parse(res.body()).as_object();
  EXPECT_EQ(body.at("status"), "ok");
  EXPECT_EQ(body.at("log").at("last_seq"), 0);
  EXPECT_EQ(body.at("log").at("path").as_string(),
            std::filesystem::absolute(data_dir()).lexically_normal().string());
  EXPECT_TRUE(std::filesystem::exists(data_dir() / "data.mdb"));
  EXPECT_NE(server.output().find("event log at " + (data_dir() / "data.mdb").string()),
            std::string::npos)
      << server.output();
}

// The audit queries run on the server's own thread for them, and answer over the socket like
// any other request.
TEST_F(AgatedTest, AuditQueriesAreAnsweredFromTheirOwnThread) {
  ServerProcess server(kAgated, data_dir());
  const std::vector<std::pair<std::string, std::string>> admin = {
      {"X-Auth-Token", "admin:admin-project:admin"}, {"X-OpenStack-Manila-API-Version", "2.45"}};
  const std::vector<std::pair<std::string, std::string>> alice = {
      {"X-Auth-Token", "alice:project-a"}, {"X-OpenStack-Manila-API-Version", "2.45"}};
  auto type = http_request(server.port(), bhttp::verb::post, "/v2/types",
                           R"({"share_type": {"name": "default", "extra_specs":
                               {"driver_handles_share_servers": "False"}}})",
                           admin);
  ASSERT_EQ(type.result_int(), 200) << type.body();
  auto share = http_request(server.port(), bhttp::verb::post, "/v2/shares",
                            R"({"share": {"share_proto": "NFS", "size": 1}})", alice);
  ASSERT_EQ(share.result_int(), 200) << share.body();
  const std::string id = boost::json::parse(share.body()).at("share").at("id").as_string().c_str();
  auto allowed = http_request(server.port(), bhttp::verb::post, "/v2/shares/" + id + "/action",
                              R"({"allow_access": {"access_type": "ip", "access_to": "10.9.9.9"}})",
                              alice);
  ASSERT_EQ(allowed.result_int(), 200) << allowed.body();
  for (int i = 0; i < 3; ++i) {  // more than one, through the same thread
    auto history = http_request(server.port(), bhttp::verb::get,
                                "/v2/admin-project/shares/" + id + "/access-history", "", admin);
    ASSERT_EQ(history.result_int(), 200) << history.body();
    EXPECT_NE(history.body().find("10.9.9.9"), std::string::npos) << history.body();
    EXPECT_TRUE(history["x-compute-request-id"].starts_with("req-"));
  }
}

TEST_F(AgatedTest, UnknownPathIsManilaNotFound) {
  ServerProcess server(kAgated, data_dir());
  auto res = http_request(server.port(), bhttp::verb::get, "/v3/nothing-here");
  ASSERT_EQ(res.result_int(), 404);
  EXPECT_EQ(boost::json::parse(res.body()), boost::json::parse(R"({"itemNotFound": {"code": 404,
                                   "message": "The resource could not be found."}})"));
  EXPECT_TRUE(res["x-compute-request-id"].starts_with("req-"));
}

TEST_F(AgatedTest, WrongMethodIsBadMethod) {
  ServerProcess server(kAgated, data_dir());
  auto res = http_request(server.port(), bhttp::verb::post, "/healthz", "{}");
  EXPECT_EQ(res.result_int(), 405);
  EXPECT_EQ(res[bhttp::field::allow], "GET, HEAD");
  EXPECT_TRUE(boost::json::parse(res.body()).as_object().contains("badMethod"));
}

TEST_F(AgatedTest, OversizedBodyIsOverLimitAndServerStaysHealthy) {
  ServerProcess server(kAgated, data_dir());
  const std::string request =
      "POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 2000000\r\n\r\n" +
      std::string(2000000, 'a');
  const auto answer = testing::raw_exchange(server.port(), request);
  EXPECT_TRUE(answer.starts_with("HTTP/1.1 413")) << answer.substr(0, 200);
  EXPECT_NE(answer.find("\"overLimit\""), std::string::npos);
  EXPECT_EQ(http_request(server.port(), bhttp::verb::get, "/healthz").result_int(), 200);
}

TEST_F(AgatedTest, MalformedRequestIsBadRequest) {
  ServerProcess server(kAgated, data_dir());
  const auto answer = testing::raw_exchange(server.port(), "GARBAGE\r\n\r\n");
  EXPECT_TRUE(answer.starts_with("HTTP/1.1 400")) << answer;
  EXPECT_NE(answer.find("\"badRequest\""), std::string::npos);
  EXPECT_EQ(http_request(server.port(), bhttp::verb::get, "/healthz").result_int(), 200);
}

TEST_F(AgatedTest, SecondServerOnTheSameDataIsRefused) {
  ServerProcess first(kAgated, data_dir());
  auto second =
      testing::run_process(kAgated, {"--listen", "127.0.0.1:0", "--data-dir", data_dir().string()});
  EXPECT_EQ(second.exit_code, 1);
  EXPECT_NE(second.output.find("another agated is already using"), std::string::npos)
      << second.output;
}

TEST_F(AgatedTest, StopsCleanlyOnSigtermAndReopens) {
  {
    ServerProcess server(kAgated, data_dir());
    const int status = server.stop();
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << server.output();
  }
  ServerProcess again(kAgated, data_dir());
  EXPECT_EQ(http_request(again.port(), bhttp::verb::get, "/healthz").result_int(), 200);
}

TEST_F(AgatedTest, SigtermClosesIdleConnectionsAndExitsPromptly) {
  ServerProcess server(kAgated, data_dir());
  // A write answered earlier must not keep its connection alive either.
  auto created = http_request(server.port(), bhttp::verb::post, "/v2/access-groups",
                              R"({"access-group": {"name": "g", "access_type": "ip"}})",
                              {{"X-Auth-Token", "alice:project-a"}});
  ASSERT_EQ(created.result_int(), 200) << created.body();
  // An idle keep-alive connection must not hold the shutdown for the drain timeout.
  boost::asio::io_context ioc;
  boost::asio::ip::tcp::socket idle(ioc);
  idle.connect({boost::asio::ip::make_address("127.0.0.1"), server.port()});
  const auto start = std::chrono::steady_clock::now();
  const int status = server.stop();
  const auto took = std::chrono::steady_clock::now() - start;
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << server.output();
  EXPECT_LT(took, std::chrono::seconds(5));
  EXPECT_NE(server.output().find("stopped"), std::string::npos);
}

TEST_F(AgatedTest, MissingProjectionsAreRebuiltFromTheLogAtStart) {
  const std::string group = create_group_and_stop();
  ASSERT_FALSE(group.empty());
  {
    // Empty every projection database, as a data directory of another layout would look.
    auto env = lmdb::Env::open(data_dir(), {});
    auto txn = lmdb::Txn::begin_write(env);
    for (const auto& name : projections::Store::database_names()) {
      lmdb::Dbi::open(txn, name.c_str(), false).clear(txn);
    }
    txn.commit();
  }
  ServerProcess server(kAgated, data_dir());
  EXPECT_NE(server.output().find("rebuilding them from the log"), std::string::npos);
  auto shown = http_request(server.port(), bhttp::verb::get, "/v2/access-groups/" + group, "",
                            {{"X-Auth-Token", "alice:project-a"}});
  EXPECT_EQ(shown.result_int(), 200) << shown.body();
}

TEST_F(AgatedTest, ProjectionsOfAnotherLayoutAreRebuiltFromTheLogAtStart) {
  const std::string group = create_group_and_stop();
  ASSERT_FALSE(group.empty());
  {
    // Rows this agated cannot read, under another layout's stamp, and databases of the first
    // layout, as an environment made by it holds them.
    auto env = lmdb::Env::open(data_dir(), {});
    auto txn = lmdb::Txn::begin_write(env);
    lmdb::Dbi::open(txn, "group_data", false).put(txn, "not a row of ours", "garbage");
    lmdb::Dbi::open(txn, "projections_meta", false).put(txn, "layout", "999");
    for (const auto& name : projections::Store::retired_database_names()) {
      lmdb::Dbi::open(txn, name.c_str(), true).put(txn, "old", "row");
    }
    txn.commit();
  }
  {
    ServerProcess server(kAgated, data_dir());
    EXPECT_NE(server.output().find("written with another layout"), std::string::npos)
        << server.output();
    auto shown = http_request(server.port(), bhttp::verb::get, "/v2/access-groups/" + group, "",
                              {{"X-Auth-Token", "alice:project-a"}});
    EXPECT_EQ(shown.result_int(), 200) << shown.body();
  }
  auto env = lmdb::Env::open(data_dir(), {});
  auto txn = lmdb::Txn::begin_read(env);
  EXPECT_FALSE(lmdb::Dbi::open(txn, "group_data", false).get(txn, "not a row of ours"));
  for (const auto& name : projections::Store::retired_database_names()) {
    EXPECT_FALSE(lmdb::Dbi::try_open(txn, name.c_str())) << name << " is still there";
  }
  EXPECT_TRUE(lmdb::Dbi::try_open(txn, "log")) << "the event log must stay";
  auto store = projections::Store::try_open(txn);
  ASSERT_TRUE(store);
  EXPECT_TRUE(store->layout_current(txn));
  // And the next start has nothing to rebuild.
  txn.abort();
  ServerProcess again(kAgated, data_dir());
  EXPECT_EQ(again.output().find("rebuilding"), std::string::npos) << again.output();
}

TEST_F(AgatedTest, BadConfigurationIsExplained) {
  const auto config = dir_.path() / "agate.toml";
  std::ofstream(config) << "[storage]\ndurability = \"sometimes\"\n";
  auto r = testing::run_process(kAgated, {"--config", config.string()});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("storage.durability = \"sometimes\""), std::string::npos) << r.output;
}

TEST_F(AgatedTest, ConfigFileSetsListenAndStorage) {
  const auto config = dir_.path() / "agate.toml";
  std::ofstream(config) << "[server]\nthreads = 1\n[storage]\nmap_size = \"64MiB\"\n"
                           "durability = \"nometasync\"\n";
  ServerProcess server(kAgated, data_dir(), {"--config", config.string()});
  auto res = http_request(server.port(), bhttp::verb::get, "/healthz");
  ASSERT_EQ(res.result_int(), 200);
  EXPECT_EQ(boost::json::parse(res.body()).at("log").at("map_size"), 64u << 20);
  EXPECT_NE(server.output().find("durability nometasync"), std::string::npos) << server.output();
}

// The consistency contract over the socket: positions in every answer, reads that ask for one.
TEST_F(AgatedTest, AnswersNameTheirPositionAndReadsWaitForOne) {
  const auto config = dir_.path() / "agate.toml";
  std::ofstream(config) << "[api]\nmin_position_wait = 0.2\n";
  ServerProcess server(kAgated, data_dir(), {"--config", config.string()});
  const std::vector<std::pair<std::string, std::string>> alice = {
      {"X-Auth-Token", "alice:project-a"}};
  auto created = http_request(server.port(), bhttp::verb::post, "/v2/access-groups",
                              R"({"access-group": {"name": "web", "access_type": "ip"}})", alice);
  ASSERT_EQ(created.result_int(), 200) << created.body();
  EXPECT_EQ(created["X-Agate-Position"], "1");
  auto with = [&](const std::string& position) {
    auto headers = alice;
    headers.emplace_back("X-Agate-Min-Position", position);
    return http_request(server.port(), bhttp::verb::get, "/v2/access-groups", "", headers);
  };
  auto seen = with("1");
  ASSERT_EQ(seen.result_int(), 200) << seen.body();
  EXPECT_EQ(seen["X-Agate-Position"], "1");
  EXPECT_EQ(boost::json::parse(seen.body()).at("access-groups").as_array().size(), 1u);
  auto ahead = with("50");
  EXPECT_EQ(ahead.result_int(), 503) << ahead.body();
  EXPECT_NE(ahead.body().find("up to position 1; the request asks for position 50 or later, "
                              "which did not arrive within 200 ms"),
            std::string::npos)
      << ahead.body();
  EXPECT_EQ(with("x").result_int(), 400);
  // And it still stops cleanly.
  EXPECT_EQ(server.stop(), 0);
}

TEST_F(AgatedTest, DeletesTheSharesWhoseTimeInTheRecycleBinIsUp) {
  const auto config = dir_.path() / "agate.toml";
  std::ofstream(config) << "[shares]\nsoft_deleted_share_retention = 1\n"
                           "recycle_bin_check_interval = 1\n";
  ServerProcess server(kAgated, data_dir(), {"--config", config.string()});
  const std::vector<std::pair<std::string, std::string>> admin = {
      {"X-Auth-Token", "admin:admin-project:admin"}, {"X-OpenStack-Manila-API-Version", "2.69"}};
  const std::vector<std::pair<std::string, std::string>> alice = {
      {"X-Auth-Token", "alice:project-a"}, {"X-OpenStack-Manila-API-Version", "2.69"}};
  ASSERT_EQ(http_request(server.port(), bhttp::verb::post, "/v2/types",
                         R"({"share_type": {"name": "default", "extra_specs":
                             {"driver_handles_share_servers": "False"}}})",
                         admin)
                .result_int(),
            200);
  std::vector<std::string> ids;
  for (int i = 0; i < 2; ++i) {
    auto share = http_request(server.port(), bhttp::verb::post, "/v2/shares",
                              R"({"share": {"share_proto": "NFS", "size": 1}})", alice);
    ASSERT_EQ(share.result_int(), 200) << share.body();
    ids.push_back(boost::json::parse(share.body()).at("share").at("id").as_string().c_str());
  }
  auto soft = http_request(server.port(), bhttp::verb::post, "/v2/shares/" + ids[0] + "/action",
                           R"({"soft_delete": null})", alice);
  ASSERT_EQ(soft.result_int(), 202) << soft.body();
  auto shown = http_request(server.port(), bhttp::verb::get, "/v2/shares/" + ids[0], "", alice);
  ASSERT_EQ(shown.result_int(), 200);
  EXPECT_EQ(boost::json::parse(shown.body()).at("share").at("is_soft_deleted"), true);
  // Within a second of retention and a second of interval, and some slack for a loaded machine.
  int status = 200;
  for (int i = 0; i < 100 && status == 200; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    status = http_request(server.port(), bhttp::verb::get, "/v2/shares/" + ids[0], "", alice)
                 .result_int();
  }
  EXPECT_EQ(status, 404);
  EXPECT_EQ(http_request(server.port(), bhttp::verb::get, "/v2/shares/" + ids[1], "", alice)
                .result_int(),
            200);
  EXPECT_NE(server.output().find("recycle bin: deleted 1 share(s)"), std::string::npos)
      << server.output();
}

TEST_F(AgatedTest, KeystoneModeTakesIdentityAndRolesFromKeystoneAndFailsClosed) {
  auto keystone = std::make_unique<testing::FakeKeystone>();
  keystone->add_token("tok-member", "alice-id", "project-a", {"member", "reader"});
  keystone->add_token("tok-reader", "rita-id", "project-a", {"reader"});
  keystone->add_token("tok-admin", "root-id", "admin-project", {"admin", "member", "reader"});
  keystone->add_token("tok-none", "nobody-id", "project-a", {"observer"});
  const auto config = dir_.path() / "agate.toml";
  std::ofstream(config) << "[auth]\nmode = \"keystone\"\n[auth.keystone]\nurl = \""
                        << keystone->url() << "\"\npassword = \""
                        << testing::FakeKeystone::kServicePassword
                        << "\"\ntimeout_ms = 500\ncache_ttl_s = 0\n";
  ServerProcess server(kAgated, data_dir(), {"--config", config.string()});
  EXPECT_NE(server.output().find("authentication: keystone at " + keystone->url()),
            std::string::npos);
  const std::string group = R"({"access-group": {"name": "g", "access_type": "ip"}})";
  auto as = [&](const std::string& token, bhttp::verb verb, const std::string& body = {}) {
    return http_request(server.port(), verb, "/v2/access-groups", body, {{"X-Auth-Token", token}});
  };
  auto created = as("tok-member", bhttp::verb::post, group);
  ASSERT_EQ(created.result_int(), 200) << created.body();
  const auto shown = boost::json::parse(created.body()).at("access-group");
  EXPECT_EQ(shown.at("project_id"), "project-a");
  EXPECT_EQ(as("tok-reader", bhttp::verb::get).result_int(), 200);
  EXPECT_EQ(as("tok-reader", bhttp::verb::post, group).result_int(), 403);
  auto none = as("tok-none", bhttp::verb::get);
  EXPECT_EQ(none.result_int(), 403);
  EXPECT_TRUE(boost::json::parse(none.body()).as_object().contains("forbidden"));
  EXPECT_EQ(as("tok-admin", bhttp::verb::get).result_int(), 200);
  auto bad = as("tok-unknown", bhttp::verb::get);
  EXPECT_EQ(bad.result_int(), 401);
  EXPECT_EQ(boost::json::parse(bad.body()),
            boost::json::parse(R"({"unauthorized": {"code": 401, "message":
                                   "The request you have made requires authentication."}})"));
  EXPECT_EQ(as("", bhttp::verb::get).result_int(), 401);
  // Version discovery and /healthz need no token, so they work without Keystone.
  keystone.reset();
  EXPECT_EQ(http_request(server.port(), bhttp::verb::get, "/").result_int(), 300);
  auto down = as("tok-member", bhttp::verb::get);
  EXPECT_EQ(down.result_int(), 503);
  EXPECT_TRUE(boost::json::parse(down.body()).as_object().contains("serviceUnavailable"))
      << down.body();
  EXPECT_EQ(as("tok-member", bhttp::verb::post, group).result_int(), 503);
  EXPECT_EQ(http_request(server.port(), bhttp::verb::get, "/healthz").result_int(), 200);
}

TEST_F(AgatedTest, KeystoneOverHttpsTrustsTheConfiguredCaFile) {
  testing::TestCa ca("Agate test CA");
  testing::FakeKeystone keystone(ca.issue_server({}, {"127.0.0.1"}));
  keystone.add_token("tok-member", "alice-id", "project-a", {"member", "reader"});
  const auto ca_file = dir_.path() / "ca.pem";
  std::ofstream(ca_file) << ca.certificate_pem();
  const auto config = dir_.path() / "agate.toml";
  std::ofstream(config) << "[auth]\nmode = \"keystone\"\n[auth.keystone]\nurl = \""
                        << keystone.url() << "\"\nca_file = \"" << ca_file.string()
                        << "\"\npassword = \"" << testing::FakeKeystone::kServicePassword
                        << "\"\ntimeout_ms = 500\n";
  ServerProcess server(kAgated, data_dir(), {"--config", config.string()});
  EXPECT_NE(server.output().find("authentication: keystone at " + keystone.url() +
                                 " trusting the CAs of " + ca_file.string()),
            std::string::npos)
      << server.output();
  auto res = http_request(server.port(), bhttp::verb::get, "/v2/access-groups", {},
                          {{"X-Auth-Token", "tok-member"}});
  EXPECT_EQ(res.result_int(), 200) << res.body();
  EXPECT_EQ(keystone.logins(), 1u);
  EXPECT_EQ(keystone.validations(), 1u);
}

TEST_F(AgatedTest, KeystoneCaFileThatCannotBeReadIsAConfigurationError) {
  const auto config = dir_.path() / "agate.toml";
  const auto missing = dir_.path() / "missing-ca.pem";
  std::ofstream(config) << "[auth]\nmode = \"keystone\"\n[auth.keystone]\n"
                        << "url = \"https://127.0.0.1:5000/v3\"\nca_file = \""
                        << missing.string() << "\"\npassword = \"x\"\n";
  auto r = testing::run_process(kAgated, {"--config", config.string(), "--data-dir",
                                          data_dir().string(), "--listen", "127.0.0.1:0"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("keystone ca_file \"" + missing.string() + "\" cannot be opened"),
            std::string::npos)
      << r.output;
}

TEST_F(AgatedTest, KeystoneModeWithoutCredentialsIsAConfigurationError) {
  const auto config = dir_.path() / "agate.toml";
  std::ofstream(config) << "[auth]\nmode = \"keystone\"\n";
  auto r = testing::run_process(kAgated, {"--config", config.string(), "--data-dir",
                                          data_dir().string(), "--listen", "127.0.0.1:0"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("give the service's credentials"), std::string::npos) << r.output;
}

}  // namespace
}  // namespace agate
