#include "tools/config.h"

#include <fmt/format.h>
#include <toml++/toml.h>

#include <charconv>

namespace agate::tools {

std::optional<std::uint64_t> parse_size(std::string_view text) {
  std::uint64_t number = 0;
  const char* begin = text.data();
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(begin, end, number);
  if (ec != std::errc() || ptr == begin) return std::nullopt;
  const std::string_view unit(ptr, static_cast<std::size_t>(end - ptr));
  unsigned shift = 0;
  if (unit.empty() || unit == "B")
    shift = 0;
  else if (unit == "KiB")
    shift = 10;
  else if (unit == "MiB")
    shift = 20;
  else if (unit == "GiB")
    shift = 30;
  else if (unit == "TiB")
    shift = 40;
  else
    return std::nullopt;
  if (shift && number > (UINT64_MAX >> shift)) return std::nullopt;
  return number << shift;
}

void parse_listen(std::string_view text, Config& config) {
  const auto colon = text.rfind(':');
  if (colon == std::string_view::npos || colon == 0) {
    throw ConfigError(fmt::format("listen \"{}\": expected address:port", text));
  }
  std::string_view address = text.substr(0, colon);
  const std::string_view port = text.substr(colon + 1);
  if (address.size() >= 2 && address.front() == '[' && address.back() == ']') {
    address = address.substr(1, address.size() - 2);
  }
  unsigned value = 0;
  auto [ptr, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (ec != std::errc() || ptr != port.data() + port.size() || port.empty() || value > 65535) {
    throw ConfigError(fmt::format("listen \"{}\": port must be 0-65535", text));
  }
  config.listen_address = std::string(address);
  config.listen_port = static_cast<std::uint16_t>(value);
}

namespace {

std::uint64_t size_value(const toml::node& node, std::string_view key) {
  if (auto i = node.value<std::int64_t>(); i && node.is_integer()) {
    if (*i < 0) throw ConfigError(fmt::format("{}: must not be negative", key));
    return static_cast<std::uint64_t>(*i);
  }
  if (auto s = node.value<std::string>()) {
    if (auto bytes = parse_size(*s)) return *bytes;
    throw ConfigError(
        fmt::format("{} = \"{}\": expected a size such as \"512MiB\" or \"16GiB\"", key, *s));
  }
  throw ConfigError(
      fmt::format("{}: expected a size (an integer or a string such as \"16GiB\")", key));
}

unsigned timeout_value(const toml::node& node, std::string_view key) {
  auto t = node.value<std::int64_t>();
  if (!t || !node.is_integer() || *t < 1 || *t > 3600) {
    throw ConfigError(fmt::format("{}: expected an integer from 1 to 3600 (seconds)", key));
  }
  return static_cast<unsigned>(*t);
}

std::string string_value(const toml::node& node, std::string_view key) {
  if (auto s = node.value<std::string>(); s && node.is_string()) return *s;
  throw ConfigError(fmt::format("{}: expected a string", key));
}

void check_keys(const toml::table& table, std::string_view section,
                std::initializer_list<std::string_view> known) {
  for (const auto& [k, v] : table) {
    bool ok = false;
    for (auto name : known) ok = ok || name == k.str();
    if (!ok) throw ConfigError(fmt::format("unknown key [{}] {}", section, k.str()));
  }
}

}  // namespace

void load_config_file(const std::filesystem::path& file, Config& config) {
  toml::table root;
  try {
    root = toml::parse_file(file.string());
  } catch (const toml::parse_error& e) {
    throw ConfigError(fmt::format("{}:{}:{}: {}", file.string(), e.source().begin.line,
                                  e.source().begin.column, e.description()));
  }
  check_keys(root, "", {"server", "storage", "auth", "backends", "dispatcher", "shares", "api"});

  if (auto* api = root["api"].as_table()) {
    check_keys(*api, "api", {"min_position_wait"});
    if (auto* n = api->get("min_position_wait")) {
      // Seconds, whole or not: 0.25 is a quarter of a second.
      auto v = n->value<double>();
      if (!v || !(n->is_integer() || n->is_floating_point()) || !(*v >= 0 && *v <= 300)) {
        throw ConfigError("api.min_position_wait: expected a number from 0 to 300 (seconds)");
      }
      config.min_position_wait_ms = static_cast<unsigned>(*v * 1000 + 0.5);
    }
  } else if (root.contains("api")) {
    throw ConfigError("api: expected a table");
  }

  if (auto* shares = root["shares"].as_table()) {
    check_keys(*shares, "shares", {"soft_deleted_share_retention", "recycle_bin_check_interval"});
    if (auto* n = shares->get("soft_deleted_share_retention")) {
      constexpr std::int64_t kMax = 100LL * 365 * 24 * 3600;
      auto v = n->value<std::int64_t>();
      if (!v || !n->is_integer() || *v < 0 || *v > kMax) {
        throw ConfigError(fmt::format(
            "shares.soft_deleted_share_retention: expected an integer from 0 to {} (seconds)",
            kMax));
      }
      config.soft_deleted_share_retention_seconds = static_cast<std::uint64_t>(*v);
    }
    if (auto* n = shares->get("recycle_bin_check_interval")) {
      auto v = n->value<std::int64_t>();
      if (!v || !n->is_integer() || *v < 1 || *v > 86400) {
        throw ConfigError(
            "shares.recycle_bin_check_interval: expected an integer from 1 to 86400 (seconds)");
      }
      config.recycle_bin_check_interval_seconds = static_cast<unsigned>(*v);
    }
  } else if (root.contains("shares")) {
    throw ConfigError("shares: expected a table");
  }

  if (auto* dispatcher = root["dispatcher"].as_table()) {
    check_keys(*dispatcher, "dispatcher", {"workers"});
    if (auto* n = dispatcher->get("workers")) {
      auto w = n->value<std::int64_t>();
      if (!w || !n->is_integer() || *w < 1 || *w > 1024) {
        throw ConfigError("dispatcher.workers: expected an integer from 1 to 1024");
      }
      config.dispatcher_workers = static_cast<unsigned>(*w);
    }
  } else if (root.contains("dispatcher")) {
    throw ConfigError("dispatcher: expected a table");
  }

  if (auto* server = root["server"].as_table()) {
    check_keys(*server, "server",
               {"listen", "threads", "body_limit", "read_timeout", "write_timeout", "read_cache"});
    if (auto* n = server->get("listen")) parse_listen(string_value(*n, "server.listen"), config);
    if (auto* n = server->get("threads")) {
      auto t = n->value<std::int64_t>();
      if (!t || !n->is_integer() || *t < 1 || *t > 256) {
        throw ConfigError("server.threads: expected an integer from 1 to 256");
      }
      config.threads = static_cast<unsigned>(*t);
    }
    if (auto* n = server->get("body_limit"))
      config.body_limit = size_value(*n, "server.body_limit");
    if (auto* n = server->get("read_timeout")) {
      config.read_timeout_seconds = timeout_value(*n, "server.read_timeout");
    }
    if (auto* n = server->get("write_timeout")) {
      config.write_timeout_seconds = timeout_value(*n, "server.write_timeout");
    }
    if (auto* n = server->get("read_cache"))
      config.read_cache = size_value(*n, "server.read_cache");
  } else if (root.contains("server")) {
    throw ConfigError("server: expected a table");
  }

  if (auto* storage = root["storage"].as_table()) {
    check_keys(*storage, "storage", {"data_dir", "map_size", "durability"});
    if (auto* n = storage->get("data_dir")) config.data_dir = string_value(*n, "storage.data_dir");
    if (auto* n = storage->get("map_size"))
      config.storage.map_size = size_value(*n, "storage.map_size");
    if (auto* n = storage->get("durability")) {
      const auto text = string_value(*n, "storage.durability");
      auto d = lmdb::parse_durability(text);
      if (!d) {
        throw ConfigError(fmt::format(
            "storage.durability = \"{}\": expected \"sync\", \"nometasync\" or \"nosync\"", text));
      }
      config.storage.durability = *d;
    }
  } else if (root.contains("storage")) {
    throw ConfigError("storage: expected a table");
  }

  if (auto* auth = root["auth"].as_table()) {
    check_keys(*auth, "auth", {"mode", "keystone"});
    if (auto* n = auth->get("mode")) {
      config.auth_mode = string_value(*n, "auth.mode");
      if (config.auth_mode != "noauth" && config.auth_mode != "keystone") {
        throw ConfigError(fmt::format("auth.mode = \"{}\": expected \"noauth\" or \"keystone\"",
                                      config.auth_mode));
      }
    }
    if (auto* ks = (*auth)["keystone"].as_table()) {
      check_keys(*ks, "auth.keystone",
                 {"url", "ca_file", "user", "password", "user_domain", "project",
                  "project_domain", "service_token", "timeout_ms", "cache_ttl_s", "cache_size",
                  "threads"});
      auto& k = config.keystone;
      auto text = [&](const char* key, std::string& into) {
        if (auto* n = ks->get(key)) into = string_value(*n, fmt::format("auth.keystone.{}", key));
      };
      auto integer = [&](const char* key, std::int64_t lo, std::int64_t hi) -> std::optional<std::int64_t> {
        auto* n = ks->get(key);
        if (!n) return std::nullopt;
        auto v = n->value<std::int64_t>();
        if (!v || !n->is_integer() || *v < lo || *v > hi) {
          throw ConfigError(
              fmt::format("auth.keystone.{}: expected an integer from {} to {}", key, lo, hi));
        }
        return v;
      };
      text("url", k.url);
      text("ca_file", k.ca_file);
      text("user", k.user);
      text("password", k.password);
      text("user_domain", k.user_domain);
      text("project", k.project);
      text("project_domain", k.project_domain);
      text("service_token", k.service_token);
      if (auto v = integer("timeout_ms", 1, 600000)) k.timeout_ms = static_cast<unsigned>(*v);
      if (auto v = integer("cache_ttl_s", 0, 86400)) k.cache_ttl_s = static_cast<unsigned>(*v);
      if (auto v = integer("cache_size", 0, 10000000)) k.cache_size = static_cast<std::size_t>(*v);
      if (auto v = integer("threads", 1, 64)) k.threads = static_cast<unsigned>(*v);
    } else if (auth->contains("keystone")) {
      throw ConfigError("auth.keystone: expected a table");
    }
  } else if (root.contains("auth")) {
    throw ConfigError("auth: expected a table");
  }

  if (auto* backends = root["backends"].as_table()) {
    config.backends.clear();
    config.default_backend.clear();
    for (const auto& [name_key, node] : *backends) {
      const std::string name(name_key.str());
      auto* table = node.as_table();
      if (!table) throw ConfigError(fmt::format("backends.{}: expected a table", name));
      BackendConfig b;
      b.name = name;
      bool is_default = false;
      for (const auto& [k, v] : *table) {
        const std::string key(k.str());
        const std::string where = fmt::format("backends.{}.{}", name, key);
        if (key == "driver") {
          b.driver = string_value(v, where);
        } else if (key == "default") {
          if (!v.is_boolean()) throw ConfigError(where + ": expected true or false");
          is_default = *v.value<bool>();
        } else if (auto s = v.value<std::string>(); s && v.is_string()) {
          b.options[key] = *s;
        } else if (v.is_integer()) {
          b.options[key] = std::to_string(*v.value<std::int64_t>());
        } else if (v.is_boolean()) {
          b.options[key] = *v.value<bool>() ? "true" : "false";
        } else {
          throw ConfigError(where + ": expected a string, an integer or a boolean");
        }
      }
      if (is_default) {
        if (!config.default_backend.empty()) {
          throw ConfigError(fmt::format("backends: both {} and {} are marked default",
                                        config.default_backend, name));
        }
        config.default_backend = name;
      }
      config.backends.push_back(std::move(b));
    }
    if (config.default_backend.empty() && config.backends.size() == 1) {
      config.default_backend = config.backends.front().name;
    }
  } else if (root.contains("backends")) {
    throw ConfigError("backends: expected a table of back ends");
  }
}

}  // namespace agate::tools
