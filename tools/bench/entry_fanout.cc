// entry_fanout: the cost of adding one entry to an access group attached to many shares — one
// AddEntry through engine::Writer, durable — next to a raw LMDB transaction of as many ~100-byte
// puts (one per share) into a fresh database, durable, in the same run.
//
//   entry_fanout [--dir DIR] [--shares 1000,10000] [--entries N] [--rounds N]
//
// Set-up, per share count, not timed: a share type, N shares, one ip group holding --entries
// entries, attached to every share — all through the writer, durability nosync, then flushed.
// The environment is then reopened with durability sync and each round adds one new entry
// (so the entry reaches all N shares: N effective rules written, N shares' desired versions
// bumped, N instances put in the outbox). Each round's raw side puts N values of 100 bytes under
// keys shaped like effective_rules' (a share id and an identity), in random order, into a fresh
// environment, one transaction. Figures are medians over rounds, the two sides alternating
// which goes first.
//
// Bytes: "written" is what the process handed to pwrite/writev during the command (the wchar
// line of /proc/self/io): the dirty pages of the commit plus the meta page. "grown" is the
// change of Env::used_bytes() (the map's high-water mark), which misses pages LMDB reused from
// its free list, and is printed next to it only for that reason.

#include <fmt/format.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <random>

#include "tools/bench/bench_util.h"

namespace {

using namespace agate;
using bench::Clock;

struct Options {
  std::filesystem::path dir = bench::default_dir();
  std::vector<int> shares = {1000, 10000};
  int entries = 10;
  int rounds = 3;
};

struct Side {
  double seconds = 0;
  std::uint64_t written = 0;
  std::int64_t grown = 0;
};

struct AgateRound {
  Side side;
  bench::Timers timers;
};

// Builds the shares and the attached group with nosync durability; returns the group id.
std::string set_up(const std::filesystem::path& dir, int shares, int entries) {
  bench::Engine e(dir, lmdb::Durability::nosync);
  auto& w = e.writer();
  const auto ctx = bench::member_context("fanout-project");
  (void)bench::body_of<events::ShareTypeCreated>(
      w.execute(bench::admin_context(), bench::default_type_command()), "create share type");
  const auto group =
      bench::body_of<events::AccessGroupCreated>(
          w.execute(ctx, engine::CreateAccessGroup{"fanout", "", "ip"}), "create access group")
          .group_id;
  for (int i = 0; i < entries; ++i) {
    (void)bench::body_of<events::EntryAdded>(
        w.execute(ctx, engine::AddEntry{group, std::nullopt, fmt::format("10.0.{}.0/24", i), "rw"}),
        "add entry");
  }
  std::vector<std::string> ids(static_cast<std::size_t>(shares));
  {
    bench::Pipeline p(w);
    for (int i = 0; i < shares; ++i) {
      p.submit(ctx, bench::create_share_command(fmt::format("share-{}", i)),
               [&ids, i](const engine::Outcome& o) {
                 if (o)
                   ids[static_cast<std::size_t>(i)] =
                       std::get<events::ShareCreated>(o->events.at(0).body).share_id;
               });
    }
    p.drain();
    if (p.refused()) throw std::runtime_error("create share refused: " + p.first_refusal());
    for (const auto& id : ids) p.submit(ctx, engine::AttachGroup{id, group});
    p.drain();
    if (p.refused()) throw std::runtime_error("attach refused: " + p.first_refusal());
  }
  e.env().sync();
  return group;
}

AgateRound add_entry(bench::Engine& e, bench::TimedBackend& timed, const std::string& group,
                     int round) {
  const auto ctx = bench::member_context("fanout-project");
  timed.reset();
  const auto used0 = static_cast<std::int64_t>(e.env().used_bytes());
  const auto written0 = bench::written_bytes().value_or(0);
  const auto start = Clock::now();
  auto outcome = e.writer().execute(
      ctx, engine::AddEntry{group, std::nullopt, fmt::format("192.168.{}.0/24", round), "rw"});
  AgateRound r;
  r.side.seconds = bench::seconds_since(start);
  r.side.written = bench::written_bytes().value_or(0) - written0;
  r.side.grown = static_cast<std::int64_t>(e.env().used_bytes()) - used0;
  r.timers = timed.timers();
  (void)bench::body_of<events::EntryAdded>(outcome, "add entry");
  return r;
}

// One durable transaction of `n` puts of 100 bytes under effective-rule-shaped keys (a share id,
// the identity's type byte, a network), one per share, in random share order, into a fresh
// environment. With `prefill` > 0 the database first holds `prefill` such rows per share
// (committed before the clock starts), as effective_rules does when the group has entries.
Side raw_puts(const std::filesystem::path& dir, int n, std::uint64_t seed, int prefill) {
  std::mt19937_64 rng(seed);
  std::vector<std::string> shares;
  for (int i = 0; i < n; ++i) {
    shares.push_back(std::string("\x00\x24", 2) +
                     fmt::format("{:08x}-{:04x}-4{:03x}-8{:03x}-{:012x}", rng() & 0xffffffff,
                                 rng() & 0xffff, rng() & 0xfff, rng() & 0xfff,
                                 rng() & 0xffffffffffff) +
                     '\0');
  }
  const std::string value(100, 'v');
  Side s;
  bench::RawEnv env(dir, lmdb::Durability::sync);
  const MDB_dbi dbi = env.open_db("effective_rules");
  if (prefill > 0) {
    MDB_txn* txn = env.begin();
    for (const auto& share : shares) {
      for (int e = 0; e < prefill; ++e) {
        bench::RawEnv::put(txn, dbi, share + fmt::format("10.0.{}.0/24", e), value);
      }
    }
    bench::RawEnv::commit(txn);
  }
  const auto written0 = bench::written_bytes().value_or(0);
  const auto start = Clock::now();
  MDB_txn* txn = env.begin();
  for (const auto& share : shares) bench::RawEnv::put(txn, dbi, share + "192.168.0.0/24", value);
  bench::RawEnv::commit(txn);
  s.seconds = bench::seconds_since(start);
  s.written = bench::written_bytes().value_or(0) - written0;
  return s;
}

}  // namespace

int main(int argc, char** argv) try {
  Options o;
  CLI::App app{"entry_fanout: one entry added to a group attached to many shares"};
  std::string shares = "1000,10000";
  app.add_option("--dir", o.dir, "where the environments are made");
  app.add_option("--shares", shares, "share counts, comma-separated");
  app.add_option("--entries", o.entries, "entries in the group before the measured one")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--rounds", o.rounds, "rounds; the median is shown")->check(CLI::PositiveNumber);
  CLI11_PARSE(app, argc, argv);
  o.shares = bench::parse_list(shares);
  const auto work = o.dir / fmt::format("agate-entry-fanout-{}", ::getpid());

  fmt::print(
      "entry_fanout: one addEntry to an ip group of {} entries attached to every share, "
      "durability sync, median of {} rounds, in {}\n",
      o.entries, o.rounds, o.dir.string());
  fmt::print("{:>6} {:>9} {:>9} {:>11} {:>8} {:>9} {:>8} {:>7} {:>8} {:>6} {:>10} {:>11}\n",
             "shares", "agate ms", "µs/share", "written KiB", "B/share", "grown KiB", "set-up s",
             "raw ms", "raw KiB", "ratio", "filled ms", "filled KiB");
  std::vector<std::pair<int, bench::Timers>> splits;
  for (const int n : o.shares) {
    const auto dir = work / "engine";
    const auto setup_start = Clock::now();
    const auto group = set_up(dir, n, o.entries);
    const double setup_s = bench::seconds_since(setup_start);

    std::vector<double> agate_s, raw_s, written, grown, raw_written, filled_s, filled_written;
    bench::Timers split;
    {
      bench::Engine e(dir, lmdb::Durability::sync);
      bench::TimedBackend timed(e.journal());
      e.restart_writer(timed);
      for (int r = 0; r < o.rounds; ++r) {
        auto agate_round = [&] {
          auto a = add_entry(e, timed, group, r);
          agate_s.push_back(a.side.seconds);
          written.push_back(static_cast<double>(a.side.written));
          grown.push_back(static_cast<double>(a.side.grown));
          if (r == 0 || a.side.seconds <= bench::median(agate_s)) split = a.timers;
        };
        auto raw_round = [&] {
          auto s = raw_puts(work / "raw", n, static_cast<std::uint64_t>(r) + 1, 0);
          raw_s.push_back(s.seconds);
          raw_written.push_back(static_cast<double>(s.written));
          std::filesystem::remove_all(work / "raw");
          auto f = raw_puts(work / "raw", n, static_cast<std::uint64_t>(r) + 1, o.entries);
          filled_s.push_back(f.seconds);
          filled_written.push_back(static_cast<double>(f.written));
          std::filesystem::remove_all(work / "raw");
        };
        if (r % 2 == 0) {
          agate_round();
          raw_round();
        } else {
          raw_round();
          agate_round();
        }
      }
      e.writer().stop();  // before `timed`, which it writes through, goes
    }
    std::filesystem::remove_all(dir);
    const double a = bench::median(agate_s), raw = bench::median(raw_s);
    const double w = bench::median(written);
    fmt::print(
        "{:>6} {:>9.1f} {:>9.1f} {:>11.0f} {:>8.0f} {:>9.0f} {:>8.2f} {:>7.1f} {:>8.0f} {:>6.2f} "
        "{:>10.1f} {:>11.0f}\n",
        n, a * 1e3, a * 1e6 / n, w / 1024, w / n, bench::median(grown) / 1024, setup_s, raw * 1e3,
        bench::median(raw_written) / 1024, raw / a, bench::median(filled_s) * 1e3,
        bench::median(filled_written) / 1024);
    splits.emplace_back(n, split);
  }
  fmt::print(
      "\nratio = raw time / agate time (the raw side: a fresh database). filled: the same "
      "puts into a database already\nholding {} rows per share, as effective_rules does "
      "(not in the ratio). Writer thread, one round (ms):\n{:>6} {:>13} {:>8} {:>8}\n",
      o.entries, "shares", "begin+commit", "decide", "append");
  for (const auto& [n, t] : splits) {
    fmt::print("{:>6} {:>13.1f} {:>8.1f} {:>8.1f}\n", n,
               static_cast<double>(t.run_ns - t.inside_ns) / 1e6,
               static_cast<double>(t.inside_ns - t.append_ns) / 1e6,
               static_cast<double>(t.append_ns) / 1e6);
  }
  std::filesystem::remove_all(work);
  return 0;
} catch (const std::exception& e) {
  fmt::print(stderr, "entry_fanout: {}\n", e.what());
  return 1;
}
