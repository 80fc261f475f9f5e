// rebuild: events/s of projections::rebuild() — replaying a log of 1M events into the
// projections of a fresh environment — next to a plain scan of the same log (LogReader::next(),
// which reads and decodes every event) measured in the same run.
//
//   rebuild [--dir DIR] [--events N] [--rounds N] [--batch N]
//           [--target-durability sync|nometasync|nosync]
//
// The log is the real history of tools/bench/history.h, made through engine::Writer; the mix by
// kind is printed. The rebuild goes into a fresh environment (durability nosync by default: the
// target is flushed by whoever uses it; --target-durability sync times the flushes too) and its
// digest is checked against the live projections, outside the clock. Scans: median of 3, warm;
// rebuilds: median of --rounds (1 by default); the two alternate.

#include "projections/rebuild.h"

#include <fmt/format.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <map>

#include "tools/bench/bench_util.h"
#include "tools/bench/history.h"

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
  const std::uint64_t total = bench::build_history(source_dir, o.events);
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
