#include <gtest/gtest.h>

#include "tools/config.h"

namespace agate::tools {
namespace {

// The example shipped with agated must load, and must say what the defaults are.
TEST(ExampleConfig, LoadsAndMatchesTheDefaults) {
  Config defaults;
  Config loaded;
  load_config_file(AGATE_EXAMPLE_CONFIG, loaded);
  EXPECT_EQ(loaded.listen_address, defaults.listen_address);
  EXPECT_EQ(loaded.listen_port, defaults.listen_port);
  EXPECT_EQ(loaded.threads, defaults.threads);
  EXPECT_EQ(loaded.body_limit, defaults.body_limit);
  EXPECT_EQ(loaded.read_timeout_seconds, defaults.read_timeout_seconds);
  EXPECT_EQ(loaded.write_timeout_seconds, defaults.write_timeout_seconds);
  EXPECT_EQ(loaded.read_cache, defaults.read_cache);
  EXPECT_EQ(loaded.dispatcher_workers, defaults.dispatcher_workers);
  EXPECT_EQ(loaded.soft_deleted_share_retention_seconds,
            defaults.soft_deleted_share_retention_seconds);
  EXPECT_EQ(loaded.recycle_bin_check_interval_seconds,
            defaults.recycle_bin_check_interval_seconds);
  EXPECT_EQ(loaded.data_dir, defaults.data_dir);
  EXPECT_EQ(loaded.storage.map_size, defaults.storage.map_size);
  EXPECT_EQ(loaded.storage.durability, defaults.storage.durability);
  EXPECT_EQ(loaded.auth_mode, defaults.auth_mode);
  EXPECT_EQ(loaded.keystone.url, defaults.keystone.url);
  EXPECT_EQ(loaded.keystone.ca_file, defaults.keystone.ca_file);
  EXPECT_EQ(loaded.keystone.user, defaults.keystone.user);
  EXPECT_EQ(loaded.keystone.password, defaults.keystone.password);
  EXPECT_EQ(loaded.keystone.user_domain, defaults.keystone.user_domain);
  EXPECT_EQ(loaded.keystone.project, defaults.keystone.project);
  EXPECT_EQ(loaded.keystone.project_domain, defaults.keystone.project_domain);
  EXPECT_EQ(loaded.keystone.service_token, defaults.keystone.service_token);
  EXPECT_EQ(loaded.keystone.timeout_ms, defaults.keystone.timeout_ms);
  EXPECT_EQ(loaded.keystone.cache_ttl_s, defaults.keystone.cache_ttl_s);
  EXPECT_EQ(loaded.keystone.cache_size, defaults.keystone.cache_size);
  EXPECT_EQ(loaded.keystone.threads, defaults.keystone.threads);
  ASSERT_EQ(loaded.backends.size(), 1u);
  EXPECT_EQ(loaded.backends[0].name, defaults.backends[0].name);
  EXPECT_EQ(loaded.backends[0].driver, defaults.backends[0].driver);
  EXPECT_EQ(loaded.default_backend, defaults.default_backend);
}

}  // namespace
}  // namespace agate::tools
