#pragma once

// Seeded random sequences for a driver that keeps every instance's rules in one file (NFS
// exports, a Samba fragment), shared by those drivers' tests.
//
// Each step sends a random subset of `pool` (random levels, random order) for one of four
// instances; one step in ten has the write fail (a directory where the temporary file goes) and
// one in ten the reload (while `fail_reload` exists, the reload command must fail). After each
// step, the file, read independently of the driver by `parse`, must hold for every instance the
// rules of its last written request, less those the back end refuses; a successful call reports
// exactly the refused rules. After each seed, a new driver rewriting one instance's rules must
// change no byte of the file.

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "tests/support/driver_rules.h"

namespace agate::testing {

struct FileDriverSequences {
  std::vector<drivers::AccessRule> pool;
  std::function<bool(const drivers::AccessRule&)> refuses;  // what the back end cannot take
  std::function<std::unique_ptr<drivers::Driver>()> make_driver;
  std::function<drivers::UpdateRequest(const std::string& instance, const std::string& share,
                                       std::vector<drivers::AccessRule>)>
      request;
  std::function<std::map<std::string, DriverRules>(const std::string& text)> parse;
  std::filesystem::path file;
  std::filesystem::path fail_reload;
  std::function<void()> check_file = {};  // more checks of the file after each seed
};

inline void run_file_driver_sequences(const FileDriverSequences& s) {
  const auto tmp = s.file.string() + ".tmp";
  for (const std::uint32_t seed : {1u, 2u, 3u}) {
    SCOPED_TRACE(seed);
    std::filesystem::remove(s.file);
    std::mt19937 rng(seed);
    auto driver = s.make_driver();
    std::map<std::string, DriverRules> expected;
    for (int step = 0; step < 120; ++step) {
      SCOPED_TRACE(step);
      const int n = static_cast<int>(rng() % 4);
      const std::string instance = "inst-" + std::to_string(n);
      std::vector<drivers::AccessRule> rules;
      for (const auto& rule : s.pool) {
        if (rng() % 3 == 0) {
          rules.push_back(
              {rule.key, rng() % 2 ? events::AccessLevel::rw : events::AccessLevel::ro});
        }
      }
      std::shuffle(rules.begin(), rules.end(), rng);
      const int fault = static_cast<int>(rng() % 10);  // 0: the write fails, 1: the reload
      if (fault == 0) std::filesystem::create_directory(tmp);
      if (fault == 1) std::ofstream(s.fail_reload).close();

      const auto r = driver->update_access(s.request(instance, "s" + std::to_string(n), rules));
      EXPECT_EQ(r.call_succeeded, fault > 1) << r.message;
      // A whole-call failure reports no rule: the refused ones are known from their kind.
      std::set<events::RuleKey> refused, reported;
      for (const auto& rule : rules) {
        if (s.refuses(rule)) refused.insert(rule.key);
      }
      for (const auto& f : r.failures) reported.insert(f.rule);
      if (r.call_succeeded) {
        EXPECT_EQ(describe(reported), describe(refused));
      }
      if (fault != 0) {  // the file was written
        DriverRules written;
        for (const auto& rule : rules) {
          if (!refused.contains(rule.key)) written[rule.key] = rule.level;
        }
        if (written.empty()) {
          expected.erase(instance);
        } else {
          expected[instance] = written;
        }
      }
      std::filesystem::remove(tmp);
      std::filesystem::remove(s.fail_reload);
      ASSERT_EQ(describe(s.parse(read_text(s.file))), describe(expected));
    }
    if (s.check_file) s.check_file();
    // A new driver reads the file back: writing one instance's rules again changes no byte.
    if (expected.empty()) continue;
    const auto before = read_text(s.file);
    driver = s.make_driver();
    const auto& [first, kept] = *expected.begin();
    std::vector<drivers::AccessRule> again;
    for (const auto& [key, level] : kept) again.push_back({key, level});
    ASSERT_TRUE(
        driver->update_access(s.request(first, "s" + first.substr(5), again)).call_succeeded);
    EXPECT_EQ(read_text(s.file), before);
  }
}

}  // namespace agate::testing
