#include "drivers/fake_driver.h"

#include <fmt/format.h>

#include <deque>
#include <functional>
#include <mutex>
#include <regex>
#include <thread>

namespace agate::drivers {

namespace {

class Fake final : public FakeDriver {
 public:
  explicit Fake(FakeOptions options) { set_options(std::move(options)); }

  UpdateResult update_access(const UpdateRequest& request) override {
    FakeOptions options;
    std::optional<std::regex> pattern;
    std::size_t call = 0;
    {
      std::lock_guard lock(mutex_);
      call = ++call_count_;
      calls_.push_back(request);
      while (calls_.size() > options_.kept_calls) calls_.pop_front();
      options = options_;
      pattern = pattern_;
    }
    if (options.delay.count() > 0) std::this_thread::sleep_for(options.delay);
    if (call <= options.fail_first_calls ||
        (options.fail_every_nth_call && call % options.fail_every_nth_call == 0)) {
      return UpdateResult::failed(fmt::format("fake back end: call {} failed as configured", call));
    }

    UpdateResult result;
    std::map<events::RuleKey, events::AccessLevel> exported;
    for (const auto& rule : request.access_rules) {
      const bool cephx_admin =
          rule.key.access_type == events::AccessType::cephx && rule.key.access_to == "admin";
      if (cephx_admin) {
        result.failures.push_back({rule.key, "cephx id 'admin' may not be given access"});
        continue;
      }
      if (pattern && std::regex_search(rule.key.access_to, *pattern)) {
        result.failures.push_back({rule.key, options.failure_message});
        continue;
      }
      exported[rule.key] = rule.level;
      if (rule.key.access_type == events::AccessType::cephx) {
        result.access_keys.push_back(
            {rule.key,
             fmt::format("AQ{:016x}==", std::hash<std::string>{}(request.instance.instance_id +
                                                                 "/" + rule.key.access_to))});
      }
    }
    std::lock_guard lock(mutex_);
    exports_[request.instance.instance_id] = std::move(exported);
    return result;
  }

  std::map<events::RuleKey, events::AccessLevel> exports(
      const std::string& instance_id) const override {
    std::lock_guard lock(mutex_);
    auto it = exports_.find(instance_id);
    return it == exports_.end() ? std::map<events::RuleKey, events::AccessLevel>{} : it->second;
  }

  std::vector<UpdateRequest> calls() const override {
    std::lock_guard lock(mutex_);
    return {calls_.begin(), calls_.end()};
  }

  std::size_t call_count() const override {
    std::lock_guard lock(mutex_);
    return call_count_;
  }

  void set_options(FakeOptions options) override {
    std::optional<std::regex> pattern;
    if (!options.fail_rules_matching.empty()) pattern.emplace(options.fail_rules_matching);
    std::lock_guard lock(mutex_);
    options_ = std::move(options);
    pattern_ = std::move(pattern);
  }

 private:
  mutable std::mutex mutex_;
  FakeOptions options_;
  std::optional<std::regex> pattern_;
  std::deque<UpdateRequest> calls_;
  std::size_t call_count_ = 0;
  std::map<std::string, std::map<events::RuleKey, events::AccessLevel>> exports_;
};

}  // namespace

std::shared_ptr<FakeDriver> make_fake_driver(FakeOptions options) {
  return std::make_shared<Fake>(std::move(options));
}

}  // namespace agate::drivers
