// rebuild: events/s of projections::rebuild() — replaying a log of 1M events into the
// projections of a fresh environment — next to a plain scan of the same log (LogReader::next(),
// which reads and decodes every event) measured in the same run.
//
//   rebuild [--dir DIR] [--events N] [--rounds N] [--batch N]
//           [--target-durability sync|nometasync|nosync]
//
// The log is a real history, made through engine::Writer (decide, append, apply) with
// durability nosync, project by project. Each project of 1,000 events has 20 shares and 5 ip
// groups; 20 entries per group; every group attached to 4 of the shares; 34 direct ip rules per
// share; then 20 more entries per group (each reaching 4 shares), one rule per share denied,
// 5 entries per group removed, metadata set on 10 rules, and one driver outcome per share
// (applied at the share's desired version, which purges the denied rules). The mix by kind is
// printed. The rebuild goes into a fresh environment (durability nosync by default: the target
// is flushed by whoever uses it; --target-durability sync times the flushes too) and its
// digest is checked against the live projections, outside the clock. Scans: median of 3, warm;
// rebuilds: median of --rounds (1 by default); the two alternate.

#include "projections/rebuild.h"

#include <fmt/format.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <map>

#include "tools/bench/bench_util.h"

namespace {

using namespace agate;
using bench::Clock;

struct Options {
  std::filesystem::path dir = bench::default_dir();
  std::uint64_t events = 1'000'000;
  int rounds = 1;
  std::uint64_t batch = 10'000;
  lmdb::Durability target_durability = lmdb::Durability::nosync;
};

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

void check(const bench::Pipeline& p, const char* phase) {
  if (p.refused()) {
    throw std::runtime_error(
        fmt::format("{}: {} commands refused, first: {}", phase, p.refused(), p.first_refusal()));
  }
}

// Writes about `events` events (whole projects of 1,000) into the engine at `dir`.
std::uint64_t build_log(const std::filesystem::path& dir, std::uint64_t events) {
  bench::Engine e(dir, lmdb::Durability::nosync);
  auto& w = e.writer();
  (void)bench::body_of<events::ShareTypeCreated>(
      w.execute(bench::admin_context(), bench::default_type_command()), "create share type");
  const std::uint64_t projects = std::max<std::uint64_t>(1, (events + 999) / 1000);
  bench::Pipeline p(w, 8192);
  for (std::uint64_t first = 0; first < projects; first += kProjectsPerChunk) {
    std::vector<Project> chunk(std::min<std::uint64_t>(kProjectsPerChunk, projects - first));
    for (std::size_t c = 0; c < chunk.size(); ++c) {
      chunk[c].ctx = bench::member_context(fmt::format("project-{:06}", first + c));
    }
    // Shares and groups.
    for (auto& pr : chunk) {
      for (int s = 0; s < kShares; ++s) {
        p.submit(pr.ctx, bench::create_share_command(fmt::format("share-{}", s)),
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
    check(p, "shares and groups");
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
    check(p, "entries, attaches and rules");
    // More entries (now reaching the attached shares), denies, removals, metadata.
    for (auto& pr : chunk) {
      for (int g = 0; g < kGroups; ++g) {
        for (int i = 0; i < kEntries; ++i) {
          p.submit(pr.ctx, engine::AddEntry{pr.groups[g], std::nullopt,
                                            fmt::format("172.{}.{}.0/24", 16 + g, 100 + i), "ro"});
        }
        for (int i = 0; i < kRemovedPerGroup; ++i) {
          p.submit(pr.ctx, engine::RemoveEntry{pr.groups[g], pr.entries[g][i]});
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
    check(p, "entries, denies, removals and metadata");
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
    check(p, "driver outcomes");
  }
  e.env().sync();
  return e.last().value;
}

}  // namespace

int main(int argc, char** argv) try {
  Options o;
  CLI::App app{"rebuild: projections rebuilt from a log against a plain scan of it"};
  std::string durability(lmdb::to_string(o.target_durability));
  app.add_option("--dir", o.dir, "where the environments are made");
  app.add_option("--events", o.events, "events in the log")->check(CLI::Range(1000ULL, 1ULL << 40));
  app.add_option("--rounds", o.rounds, "rounds; the median is shown")->check(CLI::PositiveNumber);
  app.add_option("--batch", o.batch, "events per rebuild transaction")->check(CLI::PositiveNumber);
  app.add_option("--target-durability", durability, "sync | nometasync | nosync")
      ->check(CLI::IsMember({"sync", "nometasync", "nosync"}));
  CLI11_PARSE(app, argc, argv);
  o.target_durability = *lmdb::parse_durability(durability);
  const auto work = o.dir / fmt::format("agate-rebuild-{}", ::getpid());
  const auto source_dir = work / "source";

  const auto build_start = Clock::now();
  const std::uint64_t total = build_log(source_dir, o.events);
  const double build_s = bench::seconds_since(build_start);

  lmdb::EnvOptions source_options;
  source_options.durability = lmdb::Durability::nosync;
  auto source = lmdb::Env::open(source_dir, source_options);
  const auto log = events::EventLog::open(source);
  const auto live = projections::Store::open(source, bench::store_options());

  // The mix, and the log's size (one untimed pass).
  std::map<std::string_view, std::uint64_t> kinds;
  std::size_t log_bytes = 0;
  {
    auto txn = lmdb::Txn::begin_read(source);
    auto reader = log.read(txn);
    while (reader.next() == events::LogReader::Status::record) {
      ++kinds[events::kind_name(reader.event().body)];
      log_bytes += reader.record().size();
    }
  }
  fmt::print(
      "rebuild: {} events ({} MB of records, {} MB data.mdb) made through the writer "
      "(nosync) in {:.1f} s, in {}\n",
      bench::grouped(static_cast<double>(total)), log_bytes / 1000000,
      bench::file_size_or_zero(source_dir / "data.mdb") / 1000000, build_s, o.dir.string());
  std::string mix;
  for (const auto& [kind, n] : kinds) {
    mix += fmt::format("{}{} {}", mix.empty() ? "" : ", ", kind,
                       bench::grouped(static_cast<double>(n)));
  }
  fmt::print("mix: {}\n", mix);

  auto scan = [&] {
    const auto start = Clock::now();
    auto txn = lmdb::Txn::begin_read(source);
    auto reader = log.read(txn);
    std::uint64_t n = 0;
    while (reader.next() == events::LogReader::Status::record) ++n;
    if (reader.status() != events::LogReader::Status::end || n != total) {
      throw std::runtime_error("the scan did not read the whole log");
    }
    return bench::seconds_since(start);
  };
  std::vector<double> scan_s, rebuild_s;
  std::string digest_note;
  const auto target_dir = work / "target";
  auto rebuild_round = [&] {
    lmdb::EnvOptions to;
    to.durability = o.target_durability;
    auto target_env = lmdb::Env::open(target_dir, to);
    auto target = projections::Store::open(target_env, bench::store_options());
    const auto start = Clock::now();
    const auto stats = projections::rebuild(source, log, target_env, target, o.batch);
    rebuild_s.push_back(bench::seconds_since(start));
    if (stats.events != total) throw std::runtime_error("the rebuild did not replay the whole log");
    auto live_txn = lmdb::Txn::begin_read(source);
    auto target_txn = lmdb::Txn::begin_read(target_env);
    const bool same = live.digest(live_txn) == target.digest(target_txn);
    digest_note = fmt::format("rebuilt projections {} the live ones ({} MB data.mdb)",
                              same ? "equal" : "DIFFER FROM",
                              bench::file_size_or_zero(target_dir / "data.mdb") / 1000000);
    if (!same) throw std::runtime_error(digest_note);
  };
  for (int r = 0; r < std::max(3, o.rounds); ++r) {
    const bool do_rebuild = r < o.rounds;
    if (r % 2 == 0) {
      scan_s.push_back(scan());
      if (do_rebuild) rebuild_round();
    } else {
      if (do_rebuild) rebuild_round();
      scan_s.push_back(scan());
    }
    std::filesystem::remove_all(target_dir);
  }
  const double n = static_cast<double>(total);
  const double scan_rate = n / bench::median(scan_s), rebuild_rate = n / bench::median(rebuild_s);
  fmt::print("{:>10} {:>10} {:>15} {:>10} {:>14} {:>7}\n", "events", "rebuild s", "rebuild ev/s",
             "scan s", "scan ev/s", "ratio");
  fmt::print("{:>10} {:>10.2f} {:>15} {:>10.3f} {:>14} {:>7.3f}\n", bench::grouped(n),
             bench::median(rebuild_s), bench::grouped(rebuild_rate), bench::median(scan_s),
             bench::grouped(scan_rate), rebuild_rate / scan_rate);
  fmt::print("target durability {}, batch {} events; {}\n", lmdb::to_string(o.target_durability),
             o.batch, digest_note);
  std::filesystem::remove_all(work);
  return 0;
} catch (const std::exception& e) {
  fmt::print(stderr, "rebuild: {}\n", e.what());
  return 1;
}
