#include "tools/config.h"

#include <gtest/gtest.h>

#include <fstream>

#include "tests/support/temp_dir.h"

namespace agate::tools {
namespace {

TEST(Config, ParsesSizesWithBinaryUnits) {
  EXPECT_EQ(parse_size("1048576"), 1048576u);
  EXPECT_EQ(parse_size("64KiB"), 64u << 10);
  EXPECT_EQ(parse_size("512MiB"), 512u << 20);
  EXPECT_EQ(parse_size("16GiB"), std::uint64_t{16} << 30);
  EXPECT_EQ(parse_size("1TiB"), std::uint64_t{1} << 40);
  EXPECT_EQ(parse_size(""), std::nullopt);
  EXPECT_EQ(parse_size("GiB"), std::nullopt);
  EXPECT_EQ(parse_size("16GB"), std::nullopt);
  EXPECT_EQ(parse_size("-1"), std::nullopt);
  EXPECT_EQ(parse_size("99999999999TiB"), std::nullopt);
}

TEST(Config, ParsesListenAddresses) {
  Config c;
  parse_listen("0.0.0.0:9000", c);
  EXPECT_EQ(c.listen_address, "0.0.0.0");
  EXPECT_EQ(c.listen_port, 9000);
  parse_listen("[::1]:0", c);
  EXPECT_EQ(c.listen_address, "::1");
  EXPECT_EQ(c.listen_port, 0);
  EXPECT_THROW(parse_listen("localhost", c), ConfigError);
  EXPECT_THROW(parse_listen("127.0.0.1:70000", c), ConfigError);
  EXPECT_THROW(parse_listen("127.0.0.1:", c), ConfigError);
}

class ConfigFileTest : public ::testing::Test {
 protected:
  Config load(const std::string& text) {
    const auto file = dir_.path() / "agate.toml";
    std::ofstream(file) << text;
    Config c;
    load_config_file(file, c);
    return c;
  }
  std::string error_of(const std::string& text) {
    try {
      load(text);
    } catch (const ConfigError& e) {
      return e.what();
    }
    return "no error";
  }
  testing::TempDir dir_;
};

TEST_F(ConfigFileTest, EmptyFileKeepsDefaults) {
  const auto c = load("");
  EXPECT_EQ(c.listen_address, "127.0.0.1");
  EXPECT_EQ(c.listen_port, 8786);
  EXPECT_EQ(c.data_dir, "var/agate");
  EXPECT_EQ(c.storage.durability, lmdb::Durability::sync);
  // Manila's retention; the purge looks once a minute.
  EXPECT_EQ(c.soft_deleted_share_retention_seconds, 604800u);
  EXPECT_EQ(c.recycle_bin_check_interval_seconds, 60u);
  EXPECT_EQ(c.min_position_wait_ms, 5000u);
}

TEST_F(ConfigFileTest, ReadsTheMinPositionWait) {
  EXPECT_EQ(load("[api]\nmin_position_wait = 2\n").min_position_wait_ms, 2000u);
  EXPECT_EQ(load("[api]\nmin_position_wait = 0.25\n").min_position_wait_ms, 250u);
  EXPECT_EQ(load("[api]\nmin_position_wait = 0\n").min_position_wait_ms, 0u);
}

TEST_F(ConfigFileTest, ReadsTheRecycleBin) {
  const auto c = load(R"(
[shares]
soft_deleted_share_retention = 3600
recycle_bin_check_interval = 5
)");
  EXPECT_EQ(c.soft_deleted_share_retention_seconds, 3600u);
  EXPECT_EQ(c.recycle_bin_check_interval_seconds, 5u);
  // Shares may go straight through the bin.
  const auto at_once = load("[shares]\nsoft_deleted_share_retention = 0\n");
  EXPECT_EQ(at_once.soft_deleted_share_retention_seconds, 0u);
}

TEST_F(ConfigFileTest, ReadsEveryKey) {
  const auto c = load(R"(
[server]
listen = "127.0.0.1:9999"
threads = 4
body_limit = "2MiB"
read_timeout = 5
write_timeout = 7
read_cache = 0
[storage]
data_dir = "/srv/agate"
map_size = 1073741824
durability = "nometasync"
)");
  EXPECT_EQ(c.listen_port, 9999);
  EXPECT_EQ(c.threads, 4u);
  EXPECT_EQ(c.body_limit, 2u << 20);
  EXPECT_EQ(c.read_timeout_seconds, 5u);
  EXPECT_EQ(c.write_timeout_seconds, 7u);
  EXPECT_EQ(c.read_cache, 0u);
  EXPECT_EQ(c.data_dir, "/srv/agate");
  EXPECT_EQ(c.storage.map_size, 1u << 30);
  EXPECT_EQ(c.storage.durability, lmdb::Durability::nometasync);
}

TEST_F(ConfigFileTest, ReadsKeystone) {
  const auto c = load(R"(
[auth]
mode = "keystone"
[auth.keystone]
url = "https://10.0.0.5:5000/v3"
ca_file = "/etc/agate/keystone-ca.pem"
user = "agate-svc"
password = "s3cret"
user_domain = "svc"
project = "services"
project_domain = "svc2"
service_token = "tok"
timeout_ms = 250
cache_ttl_s = 0
cache_size = 5
threads = 3
)");
  EXPECT_EQ(c.auth_mode, "keystone");
  EXPECT_EQ(c.keystone.url, "https://10.0.0.5:5000/v3");
  EXPECT_EQ(c.keystone.ca_file, "/etc/agate/keystone-ca.pem");
  EXPECT_EQ(c.keystone.user, "agate-svc");
  EXPECT_EQ(c.keystone.password, "s3cret");
  EXPECT_EQ(c.keystone.user_domain, "svc");
  EXPECT_EQ(c.keystone.project, "services");
  EXPECT_EQ(c.keystone.project_domain, "svc2");
  EXPECT_EQ(c.keystone.service_token, "tok");
  EXPECT_EQ(c.keystone.timeout_ms, 250u);
  EXPECT_EQ(c.keystone.cache_ttl_s, 0u);
  EXPECT_EQ(c.keystone.cache_size, 5u);
  EXPECT_EQ(c.keystone.threads, 3u);
}

TEST_F(ConfigFileTest, ReadsBackEnds) {
  const auto c = load(R"(
[backends.nfs1]
driver = "nfs"
exports_file = "/etc/exports.d/agate.exports"
default = true
[backends.smb]
driver = "samba"
port = 445
)");
  ASSERT_EQ(c.backends.size(), 2u);
  EXPECT_EQ(c.default_backend, "nfs1");
  EXPECT_EQ(c.backends[0].name, "nfs1");
  EXPECT_EQ(c.backends[0].driver, "nfs");
  EXPECT_EQ(c.backends[0].options.at("exports_file"), "/etc/exports.d/agate.exports");
  EXPECT_EQ(c.backends[1].options.at("port"), "445");
}

TEST_F(ConfigFileTest, ExplainsWhatIsWrong) {
  EXPECT_EQ(error_of("[storage]\nmapsize = 1\n"), "unknown key [storage] mapsize");
  EXPECT_EQ(error_of("[server]\nthreads = 0\n"),
            "server.threads: expected an integer from 1 to 256");
  EXPECT_EQ(error_of("[server]\nread_timeout = \"30s\"\n"),
            "server.read_timeout: expected an integer from 1 to 3600 (seconds)");
  EXPECT_EQ(error_of("[server]\nwrite_timeout = 0\n"),
            "server.write_timeout: expected an integer from 1 to 3600 (seconds)");
  EXPECT_EQ(error_of("[storage]\nmap_size = \"huge\"\n"),
            "storage.map_size = \"huge\": expected a size such as \"512MiB\" or \"16GiB\"");
  EXPECT_EQ(error_of("[storage]\ndata_dir = 3\n"), "storage.data_dir: expected a string");
  EXPECT_EQ(error_of("[auth]\nmode = \"ldap\"\n"),
            "auth.mode = \"ldap\": expected \"noauth\" or \"keystone\"");
  EXPECT_EQ(error_of("[auth.keystone]\ntimeout_ms = 0\n"),
            "auth.keystone.timeout_ms: expected an integer from 1 to 600000");
  EXPECT_EQ(error_of("[auth.keystone]\npasword = \"x\"\n"), "unknown key [auth.keystone] pasword");
  EXPECT_EQ(error_of("[auth.keystone]\nca_file = true\n"),
            "auth.keystone.ca_file: expected a string");
  EXPECT_EQ(error_of("[backends.a]\ndefault = true\n[backends.b]\ndefault = true\n"),
            "backends: both a and b are marked default");
  EXPECT_EQ(error_of("[shares]\nsoft_deleted_share_retention = -1\n"),
            "shares.soft_deleted_share_retention: expected an integer from 0 to 3153600000 "
            "(seconds)");
  EXPECT_EQ(error_of("[shares]\nsoft_deleted_share_retention = \"1w\"\n"),
            "shares.soft_deleted_share_retention: expected an integer from 0 to 3153600000 "
            "(seconds)");
  EXPECT_EQ(error_of("[shares]\nrecycle_bin_check_interval = 0\n"),
            "shares.recycle_bin_check_interval: expected an integer from 1 to 86400 (seconds)");
  EXPECT_EQ(error_of("[shares]\nretention = 1\n"), "unknown key [shares] retention");
  EXPECT_EQ(error_of("shares = 1\n"), "shares: expected a table");
  EXPECT_EQ(error_of("[api]\nmin_position_wait = -1\n"),
            "api.min_position_wait: expected a number from 0 to 300 (seconds)");
  EXPECT_EQ(error_of("[api]\nmin_position_wait = \"5s\"\n"),
            "api.min_position_wait: expected a number from 0 to 300 (seconds)");
  EXPECT_EQ(error_of("[api]\nmin_position_wait = nan\n"),
            "api.min_position_wait: expected a number from 0 to 300 (seconds)");
  EXPECT_EQ(error_of("[api]\nwait = 1\n"), "unknown key [api] wait");
  EXPECT_EQ(error_of("api = 1\n"), "api: expected a table");
  EXPECT_NE(error_of("[server\n").find("agate.toml:1:"), std::string::npos);
}

}  // namespace
}  // namespace agate::tools
