#pragma once

// agated's configuration: defaults, then an optional TOML file, then command-line flags.
//
//   [server]
//   listen = "127.0.0.1:8786"       # address:port; port 0 picks a free one
//   threads = 2
//   body_limit = "1MiB"
//   read_timeout = 30               # seconds for a whole request to arrive, else the
//                                   # connection is closed (slow clients, idle keep-alive)
//   write_timeout = 30              # seconds for the client to take a whole response, else
//                                   # the connection is closed
//   read_cache = "64MiB"            # rendered answers of heavy reads kept per snapshot; 0: none
//
//   [storage]
//   data_dir = "var/agate"          # relative paths are taken from the current directory
//   map_size = "16GiB"              # the most the LMDB environment may grow to
//   durability = "sync"             # sync | nometasync | nosync
//
//   [dispatcher]
//   workers = 32                    # driver calls in flight at most
//
//   [shares]
//   soft_deleted_share_retention = 604800  # seconds a share stays in the recycle bin (0 to
//                                          # 100 years); Manila's soft_deleted_share_retention_time
//   recycle_bin_check_interval = 60        # seconds between looks for expired shares (1 to
//                                          # 86400)
//
//   [api]
//   min_position_wait = 5           # seconds a request with X-Agate-Min-Position waits for
//                                   # this node to apply it (0 to 300; 0: 503 at once)
//
//   [auth]
//   mode = "noauth"                 # noauth: X-Auth-Token is user_id:project_id[:admin|:reader]
//                                   # keystone: X-Auth-Token is validated by Keystone
//   [auth.keystone]                 # used when mode = "keystone"
//   url = "http://127.0.0.1:5000/v3"  # or https://: the certificate is always verified
//   ca_file = ""                    # https: a PEM file of the CA certificates to trust instead
//                                   # of the system's (a private CA); read at start-up
//   user = "agate"                  # the service's credentials (user, password, project,
//   password = ""                   # with their domains), or service_token instead
//   user_domain = "Default"
//   project = "service"
//   project_domain = "Default"
//   service_token = ""
//   timeout_ms = 5000               # for each call to Keystone
//   cache_ttl_s = 300               # validations kept at most this long (never past expiry)
//   cache_size = 10000              # tokens
//   threads = 2                     # validations in flight at once
//
//   [backends.nfs1]                 # one table per back end; the name is what share types'
//   driver = "fake"                 # share_backend_name extra spec refers to
//   default = true                  # the back end for types that name none
//   <option> = <value>              # the driver's own options, kept as text
//
// With no [backends] table at all there is one back end, "default", with the fake driver.

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "events/lmdb.h"

namespace agate::tools {

// A configuration that cannot be used; the message names the key and what is wrong.
class ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct BackendConfig {
  std::string name;
  std::string driver = "fake";
  std::map<std::string, std::string> options;
};

// [auth.keystone]: see http/keystone_auth.h.
struct KeystoneConfig {
  std::string url = "http://127.0.0.1:5000/v3";
  std::string ca_file;  // empty: the system's CAs
  std::string user = "agate";
  std::string password;
  std::string user_domain = "Default";
  std::string project = "service";
  std::string project_domain = "Default";
  std::string service_token;
  unsigned timeout_ms = 5000;
  unsigned cache_ttl_s = 300;
  std::size_t cache_size = 10000;
  unsigned threads = 2;
};

struct Config {
  std::string listen_address = "127.0.0.1";
  std::uint16_t listen_port = 8786;
  unsigned threads = 2;
  std::size_t body_limit = 1u << 20;
  unsigned read_timeout_seconds = 30;
  unsigned write_timeout_seconds = 30;
  std::size_t read_cache = 64u << 20;  // bytes of rendered read answers; 0 keeps none
  unsigned dispatcher_workers = 32;  // driver calls in flight at most
  std::uint64_t soft_deleted_share_retention_seconds = 604800;  // a week, as Manila's default
  unsigned recycle_bin_check_interval_seconds = 60;
  // How long a request with X-Agate-Min-Position waits for this node to apply it (then 503).
  unsigned min_position_wait_ms = 5000;
  std::filesystem::path data_dir = "var/agate";
  lmdb::EnvOptions storage;
  std::string auth_mode = "noauth";  // noauth | keystone
  KeystoneConfig keystone;
  std::vector<BackendConfig> backends = {{"default", "fake", {}}};
  std::string default_backend = "default";
};

// "1048576", "64KiB", "512MiB", "16GiB", "1TiB" -> bytes. Returns nullopt if malformed.
std::optional<std::uint64_t> parse_size(std::string_view text);
// "127.0.0.1:8786", "[::1]:0" -> address and port; throws ConfigError if malformed.
void parse_listen(std::string_view text, Config& config);

// Reads a TOML file over `config`. Throws ConfigError on a syntax error, an unknown key or a
// bad value.
void load_config_file(const std::filesystem::path& file, Config& config);

}  // namespace agate::tools
