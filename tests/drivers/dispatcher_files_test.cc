// The NFS exports driver behind the dispatcher: after a random sequence of changes through the
// engine, the exports file holds exactly every share's effective rules.

#include <gtest/gtest.h>

#include <fstream>
#include <random>
#include <sstream>
#include <thread>

#include "drivers/dispatcher.h"
#include "drivers/nfs_exports_driver.h"
#include "drivers/samba_driver.h"
#include "tests/support/engine_harness.h"

namespace agate::drivers {
namespace {

using events::AccessLevel;
using testing::EngineHarness;
using Rules = std::map<std::string, AccessLevel>;  // client -> level

// Instance id -> its clients, read from the file as an NFS server would (no driver code).
std::map<std::string, Rules> read_exports(const std::filesystem::path& file) {
  std::ifstream in(file);
  std::map<std::string, Rules> out;
  std::string line;
  while (std::getline(in, line)) {
    if (!line.starts_with("# agate instance ")) continue;
    const std::string instance = line.substr(17);
    std::getline(in, line);
    std::istringstream words(line);
    std::string path, client;
    words >> path;
    while (words >> client) {
      const auto open = client.find('(');
      out[instance][client.substr(0, open)] =
          client.substr(open + 1, 2) == "rw" ? AccessLevel::rw : AccessLevel::ro;
    }
  }
  return out;
}

// Waits until no instance waits for its back end (at most 10 s).
void settle_outbox(EngineHarness& h) {
  for (int i = 0; i < 5000; ++i) {
    auto txn = lmdb::Txn::begin_read(h.env());
    if (h.store().outbox(txn, 1).empty()) return;
    txn.abort();
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  FAIL() << "the outbox did not drain";
}

// A temporary file path for a driver's output.
std::filesystem::path temp_file(const std::string& name) {
  const char* dir = std::getenv("TMPDIR");
  return std::filesystem::path(dir && *dir ? dir : "/tmp") /
         (name + "-" + std::to_string(::getpid()));
}

TEST(DispatcherWithFiles, ExportsMatchTheEffectiveRulesAfterRandomChanges) {
  EngineHarness h(11);
  const auto file = temp_file("agate-exports");
  std::filesystem::remove(file);
  auto make = [&] {
    NfsExportsOptions o;
    o.exports_file = file;
    return std::shared_ptr<Driver>(make_nfs_exports_driver(o));
  };
  std::unique_ptr<Dispatcher> dispatcher;
  h.set_commit_listener([&](const std::vector<projections::OutboxEntry>& dirty) {
    if (dispatcher) dispatcher->notify(dirty);
  });
  auto start = [&] {
    dispatcher = std::make_unique<Dispatcher>(
        h.env(), h.store(), h.writer(), std::map<std::string, std::shared_ptr<Driver>>{{"nfs1", make()}},
        DispatcherOptions{3});
    dispatcher->start();
  };
  auto settle = [&] { settle_outbox(h); };
  auto check = [&] {
    const auto exported = read_exports(file);
    auto txn = lmdb::Txn::begin_read(h.env());
    for (const auto& share : h.store().list_shares(txn, {}, {})) {
      Rules want;
      for (const auto& r : h.store().effective_rules(txn, share.id)) want[r.access_to] = r.access_level;
      const auto& instance = share.instance_ids.at(0);
      auto it = exported.find(instance);
      EXPECT_EQ(it == exported.end() ? Rules{} : it->second, want) << "share " << share.id;
    }
  };

  start();
  h.create_type("default", "nfs1");
  const auto alice = EngineHarness::member("project-a");
  std::vector<std::string> shares, groups;
  std::vector<std::pair<std::string, std::string>> rules, mappings, entries;
  for (int i = 0; i < 5; ++i) shares.push_back(h.create_share(alice, "default", "s" + std::to_string(i)));
  for (int i = 0; i < 3; ++i) groups.push_back(h.create_group(alice, "g" + std::to_string(i), "ip"));

  std::mt19937_64 rng(20261125);
  auto pick = [&](const auto& v) { return v[rng() % v.size()]; };
  const std::vector<std::string> nets = {"10.0.0.0/24", "10.0.1.0/24", "10.0.2.0/24", "192.168.0.0/16",
                                         "172.16.0.1", "2001:db8::/64"};
  for (int step = 0; step < 400; ++step) {
    const std::string level = rng() % 2 ? "rw" : "ro";
    switch (rng() % 6) {
      case 0: {
        auto out = h.run(alice, engine::AllowAccess{pick(shares), "ip", pick(nets), level, {}});
        if (out) {
          const auto& e = std::get<events::RuleAllowed>(out->events.at(0).body);
          rules.emplace_back(e.share_id, e.rule_id);
        }
        break;
      }
      case 1:
        if (!rules.empty()) {
          const auto r = pick(rules);
          (void)h.run(alice, engine::DenyAccess{r.first, r.second});
        }
        break;
      case 2: {
        auto out = h.run(alice, engine::AddEntry{pick(groups), std::nullopt, pick(nets), level});
        if (out) {
          const auto& e = std::get<events::EntryAdded>(out->events.at(0).body);
          entries.emplace_back(e.group_id, e.entry_id);
        }
        break;
      }
      case 3:
        if (!entries.empty()) {
          const auto e = pick(entries);
          (void)h.run(alice, engine::RemoveEntry{e.first, e.second, std::nullopt});
        }
        break;
      case 4: {
        auto out = h.run(alice, engine::AttachGroup{pick(shares), pick(groups)});
        if (out) {
          const auto& e = std::get<events::GroupAttached>(out->events.at(0).body);
          mappings.emplace_back(e.share_id, e.mapping_id);
        }
        break;
      }
      default:
        if (!mappings.empty()) {
          const auto m = pick(mappings);
          (void)h.run(alice, engine::DenyAccess{m.first, m.second});
        }
        break;
    }
    if (step % 100 == 99) {
      settle();
      check();
    }
  }
  settle();
  check();
  std::size_t exported_rules = 0;
  for (const auto& [instance, rules] : read_exports(file)) exported_rules += rules.size();
  EXPECT_GT(exported_rules, 5u) << "the sequence left too little to compare";

  // A new dispatcher and driver (as after a restart) keep the file as it is.
  dispatcher->stop();
  dispatcher.reset();
  start();
  settle();
  check();
  dispatcher->stop();
  std::filesystem::remove(file);
}

// Instance id -> its users and their levels, read from the smb.conf fragment (no driver code).
std::map<std::string, Rules> read_samba(const std::filesystem::path& file) {
  std::ifstream in(file);
  std::map<std::string, Rules> out;
  std::string line, instance;
  auto names = [](const std::string& list) {
    std::vector<std::string> v;
    std::istringstream words(list);
    std::string w;
    while (words >> w) v.push_back(w);
    return v;
  };
  while (std::getline(in, line)) {
    if (line.starts_with("# agate instance ")) instance = line.substr(17);
    if (line.starts_with("\tread list = ")) {
      for (const auto& n : names(line.substr(13))) out[instance][n] = AccessLevel::ro;
    }
    if (line.starts_with("\twrite list = ")) {
      for (const auto& n : names(line.substr(14))) out[instance][n] = AccessLevel::rw;
    }
  }
  return out;
}

TEST(DispatcherWithFiles, SambaUsersMatchTheEffectiveRulesAfterRandomChanges) {
  EngineHarness h(12);
  const auto file = temp_file("agate-smb");
  std::filesystem::remove(file);
  std::unique_ptr<Dispatcher> dispatcher;
  h.set_commit_listener([&](const std::vector<projections::OutboxEntry>& dirty) {
    if (dispatcher) dispatcher->notify(dirty);
  });
  SambaOptions o;
  o.config_file = file;
  dispatcher = std::make_unique<Dispatcher>(
      h.env(), h.store(), h.writer(),
      std::map<std::string, std::shared_ptr<Driver>>{{"nfs1", make_samba_driver(o)}},
      DispatcherOptions{3});
  dispatcher->start();
  auto settle = [&] { settle_outbox(h); };

  h.create_type("default", "nfs1");
  const auto alice = EngineHarness::member("project-a");
  std::vector<std::string> shares, rules;
  for (int i = 0; i < 4; ++i) {
    engine::CreateShare c{"s" + std::to_string(i), "", "CIFS", 1, "default", false, "", {}, {}, {}, "", {}, {}};
    shares.push_back(std::get<events::ShareCreated>(h.ok(alice, c).at(0).body).share_id);
  }
  const auto group = h.create_group(alice, "staff", "user");
  const std::vector<std::string> users = {"alice_01", "bob_02", "carol_03", "dave_04", "erin_05"};
  std::mt19937_64 rng(7);
  std::map<std::string, std::string> rule_share;
  for (int step = 0; step < 200; ++step) {
    const std::string level = rng() % 2 ? "rw" : "ro";
    const auto& user = users[rng() % users.size()];
    const auto& share = shares[rng() % shares.size()];
    switch (rng() % 4) {
      case 0: {
        auto out = h.run(alice, engine::AllowAccess{share, "user", user, level, {}});
        if (out) {
          const auto& e = std::get<events::RuleAllowed>(out->events.at(0).body);
          rules.push_back(e.rule_id);
          rule_share[e.rule_id] = e.share_id;
        }
        break;
      }
      case 1:
        if (!rules.empty()) {
          const auto r = rules[rng() % rules.size()];
          (void)h.run(alice, engine::DenyAccess{rule_share[r], r});
        }
        break;
      case 2:
        (void)h.run(alice, engine::AddEntry{group, std::nullopt, user, level});
        break;
      default:
        (void)h.run(alice, engine::AttachGroup{share, group});
        break;
    }
  }
  settle();
  const auto written = read_samba(file);
  std::size_t total = 0;
  auto txn = lmdb::Txn::begin_read(h.env());
  for (const auto& share_id : shares) {
    const auto share = *h.store().share(txn, share_id);
    Rules want;
    for (const auto& r : h.store().effective_rules(txn, share_id)) want[r.access_to] = r.access_level;
    auto it = written.find(share.instance_ids.at(0));
    const Rules have = it == written.end() ? Rules{} : it->second;
    EXPECT_EQ(have, want) << "share " << share_id;
    total += have.size();
  }
  EXPECT_GT(total, 3u) << "the sequence left too little to compare";
  txn.abort();
  dispatcher->stop();
  std::filesystem::remove(file);
}

}  // namespace
}  // namespace agate::drivers
