// Properties over seeded random command sequences: the live projections always equal a rebuild
// from the log, and decide() is deterministic (the same commands give the same log, byte for
// byte, and the same projections).

#include <gtest/gtest.h>

#include <chrono>
#include <random>
#include <set>

#include "events/codec.h"
#include "tests/support/engine_harness.h"

namespace agate {
namespace {

using testing::EngineHarness;

// Generates commands over a small universe, so that duplicates, conflicts, unknown ids and
// other projects' ids come up often, and drives them through a harness.
class RandomWorkload {
 public:
  RandomWorkload(EngineHarness& h, std::uint64_t seed)
      : h_(h), rng_(seed), lock_rng_(seed + 1), level_rng_(seed ^ 0x9e3779b97f4a7c15ULL) {}

  void step() {
    // Lock commands and the lock members of other commands draw from a generator of their own,
    // and so do level updates, so that the rest of the workload is the same command stream with
    // or without them.
    if (lock_rng_() % 8 == 0) {
      auto command = lock_command();
      engine::Context ctx;
      switch (lock_rng_() % 5) {
        case 0: ctx = EngineHarness::admin(); break;
        case 1: ctx = EngineHarness::member("project-b", "bob"); break;
        default: ctx = EngineHarness::member("project-a", "alice");
      }
      ctx.is_service = lock_chance(20);  // a service token beside the user's
      auto outcome = h_.run(ctx, command);
      if (!outcome) {
        ++rejected_;
        return;
      }
      ++accepted_;
      for (const auto& e : outcome->events) remember(e);
      return;
    }
    if (level_rng_() % 8 == 0) {
      auto command = level_update();
      run(std::move(command), level_rng_() % 5 == 0 ? EngineHarness::member("project-b", "bob")
                                                    : EngineHarness::member("project-a", "alice"));
    }
    run(next_command());
  }

  void run(engine::Command command, std::optional<engine::Context> given = std::nullopt) {
    // Admin-only commands mostly come from an admin, so that they are accepted often enough.
    const bool admin_only = std::holds_alternative<engine::CreateShareType>(command) ||
                            std::holds_alternative<engine::DeleteShareType>(command) ||
                            std::holds_alternative<engine::UpdateShareType>(command) ||
                            std::holds_alternative<engine::SetShareStatus>(command) ||
                            std::holds_alternative<engine::PurgeExpiredShares>(command);
    const auto ctx =
        given ? *given : admin_only && chance(80) ? EngineHarness::admin() : pick_context();
    auto outcome = h_.run(ctx, command);
    if (!outcome) {
      ++rejected_;
      return;
    }
    ++accepted_;
    if (std::holds_alternative<engine::PurgeExpiredShares>(command)) {
      purged_ += outcome->events.size();
    }
    for (const auto& e : outcome->events) remember(e);
  }

  std::size_t accepted() const { return accepted_; }
  std::size_t rejected() const { return rejected_; }
  std::size_t purged() const { return purged_; }

 private:
  template <typename T>
  const T& pick(const std::vector<T>& v) {
    return v[rng_() % v.size()];
  }
  bool chance(int percent) { return static_cast<int>(rng_() % 100) < percent; }

  engine::Context pick_context() {
    switch (rng_() % 5) {
      case 0: return EngineHarness::admin();
      case 1: return EngineHarness::member("project-b", "bob");
      default: return EngineHarness::member("project-a", "alice");
    }
  }

  // An id we know, now and then a made-up one.
  std::string id_from(const std::vector<std::string>& known) {
    if (known.empty() || chance(5)) return "no-such-id-" + std::to_string(rng_() % 3);
    return pick(known);
  }

  std::string access_to(const std::string& type) {
    static const std::vector<std::string> ips = {"10.0.0.0/24", "10.0.0.1",      "10.0.0.1/32",
                                                 "192.168.1.0/24", "2001:db8::/64", "10.0.0.1/24",
                                                 "fd00::1",     "fd00:0:0:0:0:0:0:1"};
    static const std::vector<std::string> users = {"alice_01", "bob_02", "admin", "abc", "root+x"};
    static const std::vector<std::string> certs = {"client.example.com", "", "node-1"};
    static const std::vector<std::string> cephx = {"alice", "jane.doe", "client-2"};
    if (type == "ip") return pick(ips);
    if (type == "user") return pick(users);
    if (type == "cert") return pick(certs);
    return pick(cephx);
  }

  std::string type_name() {
    static const std::vector<std::string> types = {"ip", "ip", "user", "cert", "cephx", "nfs"};
    return pick(types);
  }

  std::optional<std::string> level() {
    switch (rng_() % 5) {
      case 0: return std::nullopt;
      case 1: return "ro";
      case 2: return "su";
      default: return "rw";
    }
  }

  engine::Command next_command() {
    switch (rng_() % 20) {
      case 0:
        return engine::CreateShareType{chance(50) ? "default" : "t" + std::to_string(rng_() % 4),
                                       "", true,
                                       {{"share_backend_name", chance(80) ? "nfs1" : "gone"},
                                        {"driver_handles_share_servers", chance(90) ? "False" : "maybe"},
                                        {"mount_point_name_support", chance(50) ? "True" : "False"},
                                        {"snapshot_inherit_share_access_support",
                                         chance(50) ? "True" : "False"}}};
      case 1:
        if (chance(50)) {
          return engine::UpdateShareType{
              id_from(types_),
              chance(50) ? std::optional<std::string>("t" + std::to_string(rng_() % 4))
                         : std::nullopt,
              chance(30) ? std::optional<std::string>("d") : std::nullopt,
              chance(30) ? std::optional<bool>(chance(50)) : std::nullopt};
        }
        return engine::DeleteShareType{id_from(types_)};
      case 2:
      case 3: {
        engine::CreateShare c;
        c.name = "s" + std::to_string(rng_() % 100);
        c.share_proto = chance(90) ? "nfs" : "smb";
        c.size_gib = chance(95) ? 1 : 0;
        c.share_type = chance(70) ? "" : id_from(types_);
        // Names taken and freed again as shares come and go (their index is a projection).
        if (chance(30)) c.mount_point_name = "m" + std::to_string(rng_() % 6);
        return c;
      }
      case 4:
        if (chance(50)) return engine::SetShareStatus{id_from(shares_), chance(80) ? "available" : "error"};
        return engine::DeleteShare{id_from(shares_)};
      case 5:
        return engine::CreateAccessGroup{"g" + std::to_string(rng_() % 8), "", type_name()};
      case 6:
        return engine::UpdateAccessGroup{id_from(groups_),
                                         chance(50) ? std::optional<std::string>("g" + std::to_string(rng_() % 8))
                                                    : std::nullopt,
                                         chance(50) ? std::optional<std::string>("d") : std::nullopt,
                                         std::nullopt};
      case 7: return engine::DeleteAccessGroup{id_from(groups_), chance(50), std::nullopt};
      case 8:
      case 9:
      case 10: {
        const auto group = id_from(groups_);
        auto it = group_types_.find(group);
        const std::string type = it != group_types_.end() && chance(90) ? it->second : type_name();
        return engine::AddEntry{group, chance(50) ? std::optional(type) : std::nullopt,
                                access_to(type), level()};
      }
      case 11:
        if (!entries_.empty() && chance(90)) {
          const auto& [g, e] = pick(entries_);
          return engine::RemoveEntry{g, e, std::nullopt};
        }
        return engine::RemoveEntry{id_from(groups_), "no-such-entry", std::nullopt};
      case 12:
      case 13: {
        const auto type = type_name();
        engine::AllowAccess c{id_from(shares_), type, access_to(type), level(), {}};
        if (chance(10)) c.metadata = {{"k", chance(80) ? "v" : ""}};
        if (lock_chance(10)) c.locks = access_locks();
        return c;
      }
      case 14: {
        const auto& pool = chance(50) ? rules_ : mappings_;
        if (!pool.empty() && chance(90)) {
          const auto& [share, id] = pick(pool);
          return engine::DenyAccess{share, id, lock_chance(50)};
        }
        return engine::DenyAccess{id_from(shares_), "no-such-rule"};
      }
      case 15: {
        std::vector<std::string> ids;
        for (const auto& [s, r] : rules_) ids.push_back(r);
        if (chance(50)) return engine::SetRuleMetadata{id_from(ids), {{"a", "1"}, {"b", chance(90) ? "2" : ""}}};
        return engine::UnsetRuleMetadata{id_from(ids), chance(50) ? "a" : "zzz"};
      }
      case 16:
      case 17: {
        engine::AttachGroup c{id_from(shares_), id_from(groups_)};
        if (lock_chance(15)) c.locks = access_locks();
        return c;
      }
      case 18: return engine::SyncAccess{id_from(shares_)};
      default: return chance(60) ? recycle_bin_command() : driver_outcome();
    }
  }

  bool lock_chance(int percent) { return static_cast<int>(lock_rng_() % 100) < percent; }
  template <typename T>
  const T& lock_pick(const std::vector<T>& v) {
    return v[lock_rng_() % v.size()];
  }
  std::string lock_id_from(const std::vector<std::string>& known) {
    if (known.empty() || lock_chance(5)) return "no-such-id-" + std::to_string(lock_rng_() % 3);
    return lock_pick(known);
  }

  engine::AccessLocks access_locks() {
    engine::AccessLocks l;
    l.lock_deletion = lock_chance(60);
    l.lock_visibility = lock_chance(40);
    if (lock_chance(50)) l.lock_reason = lock_chance(95) ? "why" : std::string(1024, 'x');
    return l;
  }

  // Resource locks (2.81) on shares, rules, mappings and groups, and changes to them.
  engine::Command lock_command() {
    switch (lock_rng_() % 5) {
      case 0:
      case 1: {
        engine::CreateResourceLock c;
        switch (lock_rng_() % 4) {
          case 0:
            // Not too many: a locked share stays out of the recycle bin.
            if (lock_chance(25)) {
              c.resource_id = lock_id_from(shares_);
            } else {
              c.resource_type = "access_group";
              c.resource_id = lock_id_from(groups_);
            }
            break;
          case 1:
            c.resource_type = "access_rule";
            c.resource_id = rules_.empty() ? "none" : lock_pick(rules_).second;
            if (lock_chance(50)) c.resource_action = "show";
            break;
          case 2:
            c.resource_type = "access_rule";
            c.resource_id = mappings_.empty() ? "none" : lock_pick(mappings_).second;
            break;
          default:
            c.resource_type = lock_chance(95) ? "access_group" : "snapshot";
            c.resource_id = lock_id_from(groups_);
        }
        if (lock_chance(50)) c.lock_reason = lock_chance(95) ? "held" : std::string(1024, 'x');
        return c;
      }
      case 2:
        return engine::UpdateResourceLock{
            lock_id_from(locks_),
            lock_chance(30) ? std::optional<std::string>(lock_chance(50) ? "delete" : "show")
                       : std::nullopt,
            lock_chance(90) ? std::optional<std::string>("renewed") : std::nullopt};
      default:
        // Mostly a lock that is still there.
        return engine::DeleteResourceLock{lock_chance(80) && !live_locks_.empty()
                                              ? *std::next(live_locks_.begin(),
                                                           lock_rng_() % live_locks_.size())
                                              : lock_id_from(locks_)};
    }
  }

  // A level changed in place (2.88): a rule's (now and then a group mapping's, which is
  // refused), or an access-group entry's. Drawn from level_rng_ only.
  engine::Command level_update() {
    auto draw = [&](std::size_t n) { return static_cast<std::size_t>(level_rng_() % n); };
    static const std::vector<std::optional<std::string>> levels = {"ro", "rw", "ro", "rw",
                                                                   std::nullopt, "xx"};
    const auto level = levels[draw(levels.size())];
    if (draw(2) == 0) {
      const auto& pool = draw(8) == 0 ? mappings_ : rules_;
      if (pool.empty()) return engine::UpdateAccessLevel{"no-such-rule", level};
      return engine::UpdateAccessLevel{pool[draw(pool.size())].second, level};
    }
    if (entries_.empty()) {
      return engine::UpdateEntryLevel{"no-such-group", "no-such-entry", level, std::nullopt};
    }
    const auto& [g, e] = entries_[draw(entries_.size())];
    return engine::UpdateEntryLevel{g, e, level, std::nullopt};
  }

  engine::Command recycle_bin_command() {
    switch (rng_() % 5) {
      case 0:
      case 1: return engine::SoftDeleteShare{id_from(shares_)};
      case 2:
      case 3: {
        // Mostly a share in the bin (most shares are not).
        std::vector<std::string> in_bin(in_bin_.begin(), in_bin_.end());
        return engine::RestoreShare{chance(80) ? id_from(in_bin) : id_from(shares_)};
      }
      default:
        // Time passes (up to half kRetention), then the bin is purged.
        h_.advance_clock(std::chrono::milliseconds(rng_() % 500));
        return engine::PurgeExpiredShares{1 + rng_() % 3};
    }
  }

  engine::Command driver_outcome() {
    events::DriverOutcome o;
    const auto share_id = id_from(shares_);
    o.share_id = share_id;
    auto txn = lmdb::Txn::begin_read(h_.env());
    if (auto share = h_.store().share(txn, share_id); share && !share->instance_ids.empty()) {
      o.instance_id = share->instance_ids.front();
      o.applied_version = share->desired_version - (chance(20) && share->desired_version ? 1 : 0);
      if (chance(20)) o.failures.push_back({{events::AccessType::ip, "10.0.0.1/32"}, "refused"});
      if (chance(10)) {
        o.call_succeeded = false;
        o.message = "back end unreachable";
      }
    } else {
      o.instance_id = "no-such-instance";
    }
    return engine::RecordDriverOutcome{o};
  }

  void remember(const events::Event& e) {
    std::visit(
        [&](const auto& b) {
          using T = std::decay_t<decltype(b)>;
          if constexpr (std::is_same_v<T, events::ShareTypeCreated>) types_.push_back(b.share_type_id);
          if constexpr (std::is_same_v<T, events::ShareCreated>) shares_.push_back(b.share_id);
          if constexpr (std::is_same_v<T, events::AccessGroupCreated>) {
            groups_.push_back(b.group_id);
            group_types_[b.group_id] = std::string(events::to_string(b.access_type));
          }
          if constexpr (std::is_same_v<T, events::EntryAdded>) entries_.emplace_back(b.group_id, b.entry_id);
          if constexpr (std::is_same_v<T, events::RuleAllowed>) rules_.emplace_back(b.share_id, b.rule_id);
          if constexpr (std::is_same_v<T, events::GroupAttached>) mappings_.emplace_back(b.share_id, b.mapping_id);
          if constexpr (std::is_same_v<T, events::ShareSoftDeleted>) in_bin_.insert(b.share_id);
          if constexpr (std::is_same_v<T, events::ResourceLockCreated>) {
            locks_.push_back(b.lock_id);
            live_locks_.insert(b.lock_id);
          }
          if constexpr (std::is_same_v<T, events::ResourceLockDeleted>) {
            live_locks_.erase(b.lock_id);
          }
          if constexpr (std::is_same_v<T, events::ShareRestored> ||
                        std::is_same_v<T, events::ShareDeleted>) {
            in_bin_.erase(b.share_id);
          }
        },
        e.body);
  }

  EngineHarness& h_;
  std::mt19937_64 rng_, lock_rng_, level_rng_;
  std::vector<std::string> types_, shares_, groups_, locks_;
  std::map<std::string, std::string> group_types_;
  std::set<std::string> in_bin_;  // soft-deleted shares, in id order (determinism)
  std::set<std::string> live_locks_;  // locks not deleted, in id order
  std::vector<std::pair<std::string, std::string>> entries_, rules_, mappings_;
  std::size_t accepted_ = 0, rejected_ = 0, purged_ = 0;
};

std::vector<std::string> raw_log(EngineHarness& h) {
  auto txn = lmdb::Txn::begin_read(h.env());
  auto reader = h.log().read(txn);
  std::vector<std::string> records;
  while (reader.next_raw() == events::LogReader::Status::record) records.emplace_back(reader.record());
  EXPECT_EQ(reader.status(), events::LogReader::Status::end);
  return records;
}

// Short enough that soft-deleted shares expire within a sequence.
constexpr std::chrono::seconds kRetention{1};

projections::StoreOptions workload_options() {
  auto o = testing::default_store_options();
  o.soft_deleted_share_retention = kRetention;
  return o;
}

class PropertyTest : public ::testing::TestWithParam<std::uint64_t> {};

TEST_P(PropertyTest, LiveProjectionsEqualARebuildAfterEverySequence) {
  EngineHarness h(GetParam(), workload_options());
  RandomWorkload workload(h, GetParam());
  for (int round = 0; round < 5; ++round) {
    for (int i = 0; i < 500; ++i) workload.step();
    ASSERT_EQ(h.digest(), h.rebuild_digest()) << "after " << (round + 1) * 500 << " commands";
  }
  // The workload reaches both outcomes often, and every kind of event, or it tests little.
  EXPECT_GT(workload.accepted(), 400u);
  EXPECT_GT(workload.rejected(), 400u);
  EXPECT_GT(workload.purged(), 0u) << "no share stayed in the recycle bin until it expired";
  std::set<std::string_view> kinds;
  for (const auto& record : raw_log(h)) kinds.insert(events::kind_name(events::decode(record)->body));
  EXPECT_EQ(kinds.size(), std::variant_size_v<events::Body>) << "kinds seen: " << ::testing::PrintToString(kinds);
  RecordProperty("accepted", static_cast<int>(workload.accepted()));
  RecordProperty("rejected", static_cast<int>(workload.rejected()));
}

TEST_P(PropertyTest, DecideIsDeterministic) {
  EngineHarness first(GetParam(), workload_options()), second(GetParam(), workload_options());
  RandomWorkload a(first, GetParam()), b(second, GetParam());
  for (int i = 0; i < 1500; ++i) {
    a.step();
    b.step();
  }
  EXPECT_EQ(raw_log(first), raw_log(second));
  EXPECT_EQ(first.digest(), second.digest());
}

INSTANTIATE_TEST_SUITE_P(Seeds, PropertyTest, ::testing::Values(1, 2, 3, 20261125));

}  // namespace
}  // namespace agate
