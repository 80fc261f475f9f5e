#pragma once

// The fake driver: a back end in memory, with failures on demand, for tests and for trying
// Agate without storage. It holds, per instance, the rules it was last made to export.

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "drivers/driver.h"

namespace agate::drivers {

struct FakeOptions {
  // Rules whose access_to matches this ECMAScript regular expression fail, each with
  // `failure_message`; empty: none. cephx "admin" always fails, as real drivers must refuse it.
  std::string fail_rules_matching;
  std::string failure_message = "refused by the fake back end";
  // Whole-call failures: the first `fail_first_calls` calls, and every `fail_every_nth_call`-th.
  unsigned fail_first_calls = 0;
  unsigned fail_every_nth_call = 0;
  std::chrono::milliseconds delay{0};  // each call sleeps this long first
  // How many of the latest requests calls() keeps (a long-running agated must not grow).
  std::size_t kept_calls = 64;
};

// Thread-safety: every member may be called from any thread.
class FakeDriver : public Driver {
 public:
  // The rules the fake back end exports for an instance, by key.
  virtual std::map<events::RuleKey, events::AccessLevel> exports(
      const std::string& instance_id) const = 0;
  // The latest requests received (at most FakeOptions::kept_calls), oldest first.
  virtual std::vector<UpdateRequest> calls() const = 0;
  // How many requests were received in all.
  virtual std::size_t call_count() const = 0;
  virtual void set_options(FakeOptions options) = 0;
};

std::shared_ptr<FakeDriver> make_fake_driver(FakeOptions options = {});

}  // namespace agate::drivers
