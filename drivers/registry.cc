#include "drivers/registry.h"

#include <fmt/format.h>

#include <charconv>
#include <set>

#include "drivers/exec_driver.h"
#include "drivers/fake_driver.h"
#include "drivers/nfs_exports_driver.h"
#include "drivers/samba_driver.h"

namespace agate::drivers {

namespace {

std::optional<std::string> unknown_key(const std::map<std::string, std::string>& options,
                                       const std::set<std::string>& known) {
  for (const auto& [k, v] : options) {
    if (!known.contains(k)) return k;
  }
  return std::nullopt;
}

std::optional<unsigned> milliseconds(const std::string& text) {
  unsigned v = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || p != text.data() + text.size()) return std::nullopt;
  return v;
}

std::vector<std::string> words(const std::string& text) {
  std::vector<std::string> out;
  std::size_t i = 0;
  while (i < text.size()) {
    const auto start = text.find_first_not_of(' ', i);
    if (start == std::string::npos) break;
    const auto end = text.find(' ', start);
    out.push_back(text.substr(start, end - start));
    i = end == std::string::npos ? text.size() : end;
  }
  return out;
}

}  // namespace

boost::system::result<std::shared_ptr<Driver>, std::string> make_driver(
    const std::string& backend, const std::string& driver,
    const std::map<std::string, std::string>& options) {
  auto fail = [&](const std::string& why) {
    return fmt::format("back end {} ({} driver): {}", backend, driver, why);
  };
  try {
    if (driver == "fake") {
      if (auto k = unknown_key(options, {"fail_rules_matching", "failure_message", "delay_ms"})) {
        return fail("unknown option " + *k);
      }
      FakeOptions o;
      if (auto it = options.find("fail_rules_matching"); it != options.end()) {
        o.fail_rules_matching = it->second;
      }
      if (auto it = options.find("failure_message"); it != options.end()) {
        o.failure_message = it->second;
      }
      if (auto it = options.find("delay_ms"); it != options.end()) {
        auto ms = milliseconds(it->second);
        if (!ms) return fail("delay_ms must be a number of milliseconds");
        o.delay = std::chrono::milliseconds(*ms);
      }
      return std::shared_ptr<Driver>(make_fake_driver(o));
    }
    if (driver == "nfs_exports") {
      auto o = parse_nfs_exports_options(options);
      if (!o) return fail(o.error());
      return std::shared_ptr<Driver>(make_nfs_exports_driver(std::move(*o)));
    }
    if (driver == "samba") {
      auto o = parse_samba_options(options);
      if (!o) return fail(o.error());
      return std::shared_ptr<Driver>(make_samba_driver(std::move(*o)));
    }
    if (driver == "exec") {
      if (auto k = unknown_key(options, {"command", "arguments", "timeout_ms"})) {
        return fail("unknown option " + *k);
      }
      ExecOptions o;
      auto command = options.find("command");
      if (command == options.end() || command->second.empty() || command->second[0] != '/') {
        return fail("command must be given as an absolute path");
      }
      o.command = command->second;
      if (auto it = options.find("arguments"); it != options.end()) o.arguments = words(it->second);
      if (auto it = options.find("timeout_ms"); it != options.end()) {
        auto ms = milliseconds(it->second);
        if (!ms || *ms == 0) return fail("timeout_ms must be a positive number of milliseconds");
        o.timeout = std::chrono::milliseconds(*ms);
      }
      return std::shared_ptr<Driver>(make_exec_driver(std::move(o)));
    }
  } catch (const std::exception& e) {
    return fail(e.what());
  }
  return fmt::format("back end {}: unknown driver \"{}\" (fake, nfs_exports, samba or exec)",
                     backend, driver);
}

}  // namespace agate::drivers
