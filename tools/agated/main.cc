// agated: the Agate server. Opens the event log in its data directory and serves HTTP.

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <boost/asio/signal_set.hpp>
#include <fstream>

#include "drivers/dispatcher.h"
#include "drivers/registry.h"
#include "engine/recycle_bin.h"
#include "events/event_log.h"
#include "events/lmdb.h"
#include "http/auth.h"
#include "http/keystone_auth.h"
#include "http/server.h"
#include "projections/journal.h"
#include "projections/rebuild.h"
#include "tools/config.h"
#include "tools/data_dir_lock.h"

namespace {

using agate::tools::Config;
using agate::tools::ConfigError;
using agate::tools::DataDirLock;

std::string human_bytes(std::uint64_t bytes) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double v = static_cast<double>(bytes);
  int u = 0;
  while (v >= 1024 && u < 4) {
    v /= 1024;
    ++u;
  }
  return fmt::format("{:.1f} {}", v, units[u]);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"agated — the Agate access-policy server"};
  std::string config_file, listen, data_dir, map_size, durability, port_file, read_cache;
  unsigned threads = 0;
  app.add_option("-c,--config", config_file, "TOML configuration file")->check(CLI::ExistingFile);
  app.add_option("--listen", listen, "address:port to serve on (default 127.0.0.1:8786)");
  app.add_option("--data-dir", data_dir,
                 "data directory holding the LMDB environment (default var/agate)");
  app.add_option("--map-size", map_size, "largest size of the LMDB environment, e.g. 16GiB");
  app.add_option("--durability", durability, "sync | nometasync | nosync (default sync)");
  app.add_option("--threads", threads, "HTTP threads (default 2)")->check(CLI::Range(1, 256));
  app.add_option("--read-cache", read_cache,
                 "memory for rendered answers of heavy reads, e.g. 64MiB; 0 disables (default "
                 "64MiB)");
  app.add_option("--port-file", port_file,
                 "write the port listened on to this file once listening (useful with port 0)");
  CLI11_PARSE(app, argc, argv);

  Config config;
  try {
    if (!config_file.empty()) agate::tools::load_config_file(config_file, config);
    if (!listen.empty()) agate::tools::parse_listen(listen, config);
    if (!data_dir.empty()) config.data_dir = data_dir;
    if (threads) config.threads = threads;
    if (!map_size.empty()) {
      auto bytes = agate::tools::parse_size(map_size);
      if (!bytes)
        throw ConfigError(fmt::format("--map-size {}: expected a size such as 16GiB", map_size));
      config.storage.map_size = *bytes;
    }
    if (!read_cache.empty()) {
      auto bytes = agate::tools::parse_size(read_cache);
      if (!bytes)
        throw ConfigError(
            fmt::format("--read-cache {}: expected a size such as 64MiB", read_cache));
      config.read_cache = *bytes;
    }
    if (!durability.empty()) {
      auto d = agate::lmdb::parse_durability(durability);
      if (!d)
        throw ConfigError(
            fmt::format("--durability {}: expected sync, nometasync or nosync", durability));
      config.storage.durability = *d;
    }
  } catch (const ConfigError& e) {
    spdlog::critical("configuration: {}", e.what());
    return 2;
  }

  try {
    const auto dir = std::filesystem::absolute(config.data_dir).lexically_normal();
    std::filesystem::create_directories(dir);
    DataDirLock lock(dir);
    auto env = agate::lmdb::Env::open(dir, config.storage);
    auto log = agate::events::EventLog::open(env);
    agate::projections::StoreOptions store_options;
    for (const auto& b : config.backends) store_options.backends.insert(b.name);
    store_options.default_backend = config.default_backend;
    store_options.soft_deleted_share_retention =
        std::chrono::seconds(config.soft_deleted_share_retention_seconds);
    auto store = agate::projections::Store::open(env, store_options);
    {
      // Projections are folds of the log: if they are missing, or were written with a layout
      // this agated does not read (an older or newer agated's), they are rebuilt before
      // anything is served. The stamp is set only once the rebuild is complete, so a rebuild
      // cut short is done again at the next start.
      auto txn = agate::lmdb::Txn::begin_read(env);
      const bool has_events = log.last(txn).value > 0;
      const bool empty = store.empty(txn);
      const bool current = store.layout_current(txn);
      txn.abort();
      if (has_events && (empty || !current)) {
        if (!current) {
          spdlog::warn(
              "the projections were written with another layout than this agated's "
              "(version {}): rebuilding them from the log",
              agate::projections::Store::kLayoutVersion);
        } else {
          spdlog::warn("projections are empty but the log is not: rebuilding them from the log");
        }
        auto reset = agate::lmdb::Txn::begin_write(env);
        store.reset(reset);
        reset.commit();
        const auto stats = agate::projections::rebuild(env, log, env, store);
        auto done = agate::lmdb::Txn::begin_write(env);
        store.stamp(done);
        done.commit();
        spdlog::info("rebuilt the projections from {} events", stats.events);
      } else if (!current) {
        auto stamp = agate::lmdb::Txn::begin_write(env);  // no events: nothing to rebuild
        store.reset(stamp);
        store.stamp(stamp);
        stamp.commit();
      }
    }
    {
      auto txn = agate::lmdb::Txn::begin_read(env);
      spdlog::info("event log at {}: {} events, map size {}, {} in use, durability {}",
                   (dir / "data.mdb").string(), log.last(txn).value, human_bytes(env.map_size()),
                   human_bytes(env.used_bytes()),
                   agate::lmdb::to_string(config.storage.durability));
    }
    std::string backend_names;
    for (const auto& b : config.backends) {
      backend_names += fmt::format("{}{} ({}{})", backend_names.empty() ? "" : ", ", b.name,
                                   b.driver, b.name == config.default_backend ? ", default" : "");
    }
    spdlog::info("back ends: {}", backend_names.empty() ? "none" : backend_names);

    std::map<std::string, std::shared_ptr<agate::drivers::Driver>> drivers;
    for (const auto& b : config.backends) {
      auto driver = agate::drivers::make_driver(b.name, b.driver, b.options);
      if (!driver) throw ConfigError(driver.error());
      drivers.emplace(b.name, std::move(*driver));
    }

    agate::projections::Journal journal(env, log, std::move(store));
    // Requests that ask for a log position wait here for the journal to reach it.
    std::uint64_t applied = 0;
    {
      auto txn = agate::lmdb::Txn::begin_read(env);
      applied = log.last(txn).value;
    }
    agate::http::PositionWaiter positions(applied);
    journal.set_applied_listener(
        [&positions](agate::events::Seq position) { positions.advanced(position.value); });
    agate::engine::Writer writer(journal, agate::engine::make_random_ids());
    agate::drivers::Dispatcher dispatcher(env, journal.store(), writer, std::move(drivers),
                                          {config.dispatcher_workers});
    journal.set_commit_listener(
        [&dispatcher](const std::vector<agate::projections::OutboxEntry>& dirty) {
          dispatcher.notify(dirty);
        });
    dispatcher.start();
    // Shares whose time in the recycle bin is up are deleted by agated itself, as the system.
    agate::engine::RecycleBinOptions bin_options;
    bin_options.interval = std::chrono::seconds(config.recycle_bin_check_interval_seconds);
    agate::engine::RecycleBinPurger purger(
        writer, bin_options, [](const agate::engine::PurgeOutcome& outcome) {
          if (outcome) {
            spdlog::info("recycle bin: deleted {} share(s) whose retention had ended", *outcome);
          } else {
            spdlog::warn("recycle bin: the purge failed, to be tried again: {}",
                         outcome.error().message);
          }
        });
    purger.start();
    spdlog::info("recycle bin: shares are kept {}s; expired ones are looked for every {}s",
                 config.soft_deleted_share_retention_seconds,
                 config.recycle_bin_check_interval_seconds);
    std::unique_ptr<agate::http::ReadCache> read_cache;
    if (config.read_cache > 0)
      read_cache = std::make_unique<agate::http::ReadCache>(config.read_cache);
    // Destroyed before everything above: a validation still under way when the server is gone
    // routes its request (reads, the cache, the writer) before its answer is dropped.
    std::unique_ptr<agate::http::Authenticator> auth;
    if (config.auth_mode == "keystone") {
      const auto& k = config.keystone;
      agate::http::KeystoneOptions o;
      o.url = k.url;
      o.ca_file = k.ca_file;
      o.user = k.user;
      o.password = k.password;
      o.user_domain = k.user_domain;
      o.project = k.project;
      o.project_domain = k.project_domain;
      o.service_token = k.service_token;
      o.timeout = std::chrono::milliseconds(k.timeout_ms);
      o.cache_ttl = std::chrono::seconds(k.cache_ttl_s);
      o.cache_size = k.cache_size;
      o.threads = k.threads;
      try {
        auth = agate::http::make_keystone_authenticator(std::move(o));
      } catch (const std::invalid_argument& e) {
        throw ConfigError(e.what());
      }
      spdlog::info("authentication: keystone at {}{} (cache {} tokens for {}s at most)", k.url,
                   k.ca_file.empty() ? "" : fmt::format(" trusting the CAs of {}", k.ca_file),
                   k.cache_size, k.cache_ttl_s);
    } else {
      auth = agate::http::make_noauth_authenticator();
      spdlog::info("authentication: noauth (tokens are user_id:project_id[:role])");
    }
    agate::http::Services services{
        env,
        journal.log(),
        journal.store(),
        writer,
        *auth,
        [&dispatcher](const std::string& instance_id) { return dispatcher.in_flight(instance_id); },
        [&dispatcher] { return dispatcher.flight_generation(); },
        read_cache.get()};
    services.positions = &positions;
    services.min_position_wait = std::chrono::milliseconds(config.min_position_wait_ms);
    agate::http::ServerOptions options;
    options.address = config.listen_address;
    options.port = config.listen_port;
    options.threads = config.threads;
    options.body_limit = config.body_limit;
    options.read_timeout = std::chrono::seconds(config.read_timeout_seconds);
    options.write_timeout = std::chrono::seconds(config.write_timeout_seconds);
    agate::http::Server server(services, options);

    boost::asio::signal_set signals(server.io_context(), SIGINT, SIGTERM);
    signals.async_wait([&](const boost::system::error_code& ec, int signal) {
      if (ec) return;
      spdlog::info("signal {}: stopping", signal);
      server.stop();
    });

    spdlog::info("listening on http://{}:{}", config.listen_address, server.port());
    if (!port_file.empty()) {
      // Written to a temporary name and renamed, so a reader never sees a partial number.
      const std::filesystem::path tmp = port_file + ".tmp";
      std::ofstream(tmp) << server.port() << "\n";
      std::filesystem::rename(tmp, port_file);
    }
    server.run();
    // Waits still pending are answered (503) while the server's state they hand on to exists.
    positions.stop();
    // Calls in flight are recorded before the writer stops; what remains dirty stays in the
    // outbox for the next start.
    dispatcher.stop();
    purger.stop();
    writer.stop();
    spdlog::info("stopped");
    return 0;
  } catch (const ConfigError& e) {
    spdlog::critical("configuration: {}", e.what());
    return 2;
  } catch (const std::exception& e) {
    spdlog::critical("{}", e.what());
    return 1;
  }
}
