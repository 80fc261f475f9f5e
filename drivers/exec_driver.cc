#include "drivers/exec_driver.h"

#include <fmt/format.h>
#include <sys/wait.h>

#include <boost/json.hpp>

#include "drivers/process.h"

namespace agate::drivers {

namespace json = boost::json;

namespace {

constexpr std::size_t kMaxMessage = 1024;  // of standard error, in a failure message

json::object rule_json(const events::RuleKey& key) {
  return {{"access_type", events::to_string(key.access_type)}, {"access_to", key.access_to}};
}

json::array rules_json(const std::vector<AccessRule>& rules) {
  json::array out;
  for (const auto& r : rules) {
    auto o = rule_json(r.key);
    o["access_level"] = events::to_string(r.level);
    out.push_back(std::move(o));
  }
  return out;
}

std::string trimmed(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ' || s.back() == '\r')) s.pop_back();
  if (s.size() > kMaxMessage) s = s.substr(0, kMaxMessage) + "…";
  return s;
}

class Exec final : public Driver {
 public:
  explicit Exec(ExecOptions o) : o_(std::move(o)) {}

  UpdateResult update_access(const UpdateRequest& request) override {
    ProcessResult r;
    try {
      std::vector<std::string> argv{o_.command.string()};
      argv.insert(argv.end(), o_.arguments.begin(), o_.arguments.end());
      r = run_process(argv, exec_request_json(request), o_.timeout);
    } catch (const std::exception& e) {
      return UpdateResult::failed(e.what());
    }
    const std::string name = o_.command.filename().string();
    if (r.timed_out) {
      return UpdateResult::failed(
          fmt::format("{} did not finish within {} ms and was killed", name, o_.timeout.count()));
    }
    if (WIFSIGNALED(r.status)) {
      return UpdateResult::failed(
          fmt::format("{} was killed by signal {}: {}", name, WTERMSIG(r.status), trimmed(r.err)));
    }
    if (WEXITSTATUS(r.status) != 0) {
      return UpdateResult::failed(
          fmt::format("{} exited with status {}: {}", name, WEXITSTATUS(r.status), trimmed(r.err)));
    }
    return parse_exec_result(r.out);
  }

 private:
  ExecOptions o_;
};

std::optional<events::RuleKey> rule_key(const json::object& o) {
  const auto* type = o.if_contains("access_type");
  const auto* to = o.if_contains("access_to");
  if (!type || !to || !type->is_string() || !to->is_string()) return std::nullopt;
  auto t = events::parse_access_type(std::string_view(type->as_string()));
  if (!t) return std::nullopt;
  return events::RuleKey{*t, std::string(to->as_string())};
}

}  // namespace

std::string exec_request_json(const UpdateRequest& request) {
  json::array deletes;
  for (const auto& k : request.delete_rules) deletes.push_back(rule_json(k));
  const auto& in = request.instance;
  json::object o{{"instance",
                  {{"id", in.instance_id},
                   {"share_id", in.share_id},
                   {"host", in.host},
                   {"share_proto", in.share_proto},
                   {"export_path", in.export_path}}},
                 {"access_rules", rules_json(request.access_rules)},
                 {"add_rules", rules_json(request.add_rules)},
                 {"delete_rules", std::move(deletes)},
                 {"update_rules", rules_json(request.update_rules)}};
  return json::serialize(o) + "\n";
}

UpdateResult parse_exec_result(std::string_view output) {
  UpdateResult result;
  if (output.find_first_not_of(" \t\r\n") == std::string_view::npos) return result;
  boost::system::error_code ec;
  auto value = json::parse(output, ec);
  if (ec || !value.is_object()) {
    return UpdateResult::failed(
        fmt::format("the driver's answer is not a JSON object: {}", trimmed(std::string(output))));
  }
  const auto& o = value.as_object();
  auto list = [&](const char* name) -> const json::array* {
    const auto* v = o.if_contains(name);
    return v && v->is_array() ? &v->as_array() : nullptr;
  };
  if ((o.contains("failures") && !list("failures")) ||
      (o.contains("access_keys") && !list("access_keys"))) {
    return UpdateResult::failed(
        "the driver's answer has failures or access_keys that are not lists");
  }
  if (const auto* failures = list("failures")) {
    for (const auto& f : *failures) {
      auto key = f.is_object() ? rule_key(f.as_object()) : std::nullopt;
      const auto* message = f.is_object() ? f.as_object().if_contains("message") : nullptr;
      if (!key || (message && !message->is_string())) {
        return UpdateResult::failed("the driver's answer has a malformed failure");
      }
      result.failures.push_back(
          {*key, message ? std::string(message->as_string()) : "failed on the back end"});
    }
  }
  if (const auto* keys = list("access_keys")) {
    for (const auto& k : *keys) {
      auto key = k.is_object() ? rule_key(k.as_object()) : std::nullopt;
      const auto* secret = k.is_object() ? k.as_object().if_contains("access_key") : nullptr;
      if (!key || !secret || !secret->is_string()) {
        return UpdateResult::failed("the driver's answer has a malformed access key");
      }
      result.access_keys.push_back({*key, std::string(secret->as_string())});
    }
  }
  return result;
}

std::unique_ptr<Driver> make_exec_driver(ExecOptions options) {
  return std::make_unique<Exec>(std::move(options));
}

}  // namespace agate::drivers
