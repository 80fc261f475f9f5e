#pragma once

// The history the rebuild and audit_query benchmarks replay: a real log made through
// engine::Writer (decide, append, apply) with durability nosync, project by project. Each project
// of 1,000 events has 20 shares and 5 ip groups; 20 entries per group; every group attached to 4
// of the shares; 34 direct ip rules per share (10.<share>.<i>.0/24, the same in every project);
// then 20 more entries per group (each reaching 4 shares), one rule per share denied, 5 entries
// per group removed, metadata set on 10 rules, and one driver outcome per share (applied at the
// share's desired version, which purges the denied rules).

#include <fmt/format.h>

#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

#include "tools/bench/bench_util.h"

namespace agate::bench {

constexpr int kShares = 20;
constexpr int kGroups = 5;
constexpr int kEntries = 20;  // per group, before and again after the attaches
constexpr int kRulesPerShare = 34;
constexpr int kRemovedPerGroup = 5;
constexpr int kMetadataRules = 10;
constexpr int kEventsPerProject = kShares + kGroups + kGroups * kEntries + kShares +
                                  kShares * kRulesPerShare + kGroups * kEntries + kShares +
                                  kGroups * kRemovedPerGroup + kMetadataRules + kShares;
static_assert(kEventsPerProject == 1000);
constexpr int kProjectsPerChunk = 50;

// What the writer's answers told about one project.
struct Project {
  engine::Context ctx;
  std::vector<std::string> shares = std::vector<std::string>(kShares);
  std::vector<std::string> instances = std::vector<std::string>(kShares);
  std::vector<std::string> groups = std::vector<std::string>(kGroups);
  std::vector<std::vector<std::string>> entries =
      std::vector<std::vector<std::string>>(kGroups, std::vector<std::string>(kRemovedPerGroup));
  std::vector<std::vector<std::string>> rules =
      std::vector<std::vector<std::string>>(kShares, std::vector<std::string>(2));
};

inline void check_pipeline(const Pipeline& p, const char* phase) {
  if (p.refused()) {
    throw std::runtime_error(
        fmt::format("{}: {} commands refused, first: {}", phase, p.refused(), p.first_refusal()));
  }
}

// Writes about `events` events (whole projects of 1,000) into the engine at `dir`; returns the
// last sequence number.
inline std::uint64_t build_history(const std::filesystem::path& dir, std::uint64_t events) {
  Engine e(dir, lmdb::Durability::nosync);
  auto& w = e.writer();
  (void)body_of<events::ShareTypeCreated>(w.execute(admin_context(), default_type_command()),
                                          "create share type");
  const std::uint64_t projects = std::max<std::uint64_t>(1, (events + 999) / 1000);
  Pipeline p(w, 8192);
  for (std::uint64_t first = 0; first < projects; first += kProjectsPerChunk) {
    std::vector<Project> chunk(std::min<std::uint64_t>(kProjectsPerChunk, projects - first));
    for (std::size_t c = 0; c < chunk.size(); ++c) {
      chunk[c].ctx = member_context(fmt::format("project-{:06}", first + c));
    }
    // Shares and groups.
    for (auto& pr : chunk) {
      for (int s = 0; s < kShares; ++s) {
        p.submit(pr.ctx, create_share_command(fmt::format("share-{}", s)),
                 [&pr, s](const engine::Outcome& o) {
                   if (!o) return;
                   const auto& b = std::get<events::ShareCreated>(o->events.at(0).body);
                   pr.shares[s] = b.share_id;
                   pr.instances[s] = b.instances.at(0).instance_id;
                 });
      }
      for (int g = 0; g < kGroups; ++g) {
        p.submit(pr.ctx, engine::CreateAccessGroup{fmt::format("group-{}", g), "", "ip"},
                 [&pr, g](const engine::Outcome& o) {
                   if (o)
                     pr.groups[g] =
                         std::get<events::AccessGroupCreated>(o->events.at(0).body).group_id;
                 });
      }
    }
    p.drain();
    check_pipeline(p, "shares and groups");
    // Entries, attaches, direct rules.
    for (auto& pr : chunk) {
      for (int g = 0; g < kGroups; ++g) {
        for (int i = 0; i < kEntries; ++i) {
          p.submit(pr.ctx,
                   engine::AddEntry{pr.groups[g], std::nullopt,
                                    fmt::format("172.{}.{}.0/24", 16 + g, i), "rw"},
                   [&pr, g, i](const engine::Outcome& o) {
                     if (o && i < kRemovedPerGroup) {
                       pr.entries[g][i] =
                           std::get<events::EntryAdded>(o->events.at(0).body).entry_id;
                     }
                   });
        }
        for (int j = 0; j < kShares / kGroups; ++j) {
          p.submit(pr.ctx,
                   engine::AttachGroup{pr.shares[g * (kShares / kGroups) + j], pr.groups[g]});
        }
      }
      for (int s = 0; s < kShares; ++s) {
        for (int i = 0; i < kRulesPerShare; ++i) {
          p.submit(pr.ctx,
                   engine::AllowAccess{pr.shares[s],
                                       "ip",
                                       fmt::format("10.{}.{}.0/24", s, i),
                                       i % 3 == 0 ? "ro" : "rw",
                                       {}},
                   [&pr, s, i](const engine::Outcome& o) {
                     if (o && i < 2)
                       pr.rules[s][i] = std::get<events::RuleAllowed>(o->events.at(0).body).rule_id;
                   });
        }
      }
    }
    p.drain();
    check_pipeline(p, "entries, attaches and rules");
    // More entries (now reaching the attached shares), denies, removals, metadata.
    for (auto& pr : chunk) {
      for (int g = 0; g < kGroups; ++g) {
        for (int i = 0; i < kEntries; ++i) {
          p.submit(pr.ctx, engine::AddEntry{pr.groups[g], std::nullopt,
                                            fmt::format("172.{}.{}.0/24", 16 + g, 100 + i), "ro"});
        }
        for (int i = 0; i < kRemovedPerGroup; ++i) {
          p.submit(pr.ctx, engine::RemoveEntry{pr.groups[g], pr.entries[g][i], std::nullopt});
        }
      }
      for (int s = 0; s < kShares; ++s) {
        p.submit(pr.ctx, engine::DenyAccess{pr.shares[s], pr.rules[s][0]});
      }
      for (int s = 0; s < kMetadataRules; ++s) {
        p.submit(pr.ctx, engine::SetRuleMetadata{pr.rules[s][1], {{"owner", "bench"}}});
      }
    }
    p.drain();
    check_pipeline(p, "entries, denies, removals and metadata");
    // The back end reports every share applied at its desired version.
    {
      std::vector<std::pair<const Project*, events::DriverOutcome>> outcomes;
      auto txn = lmdb::Txn::begin_read(e.env());
      for (const auto& pr : chunk) {
        for (int s = 0; s < kShares; ++s) {
          auto share = e.store().share(txn, pr.shares[s]);
          if (!share) throw std::runtime_error("a share of the history is missing");
          events::DriverOutcome out;
          out.share_id = share->id;
          out.instance_id = pr.instances[s];
          out.applied_version = share->desired_version;
          outcomes.emplace_back(&pr, std::move(out));
        }
      }
      txn.abort();
      for (auto& [pr, out] : outcomes)
        p.submit(pr->ctx, engine::RecordDriverOutcome{std::move(out)});
    }
    p.drain();
    check_pipeline(p, "driver outcomes");
  }
  e.env().sync();
  return e.last().value;
}

}  // namespace agate::bench
