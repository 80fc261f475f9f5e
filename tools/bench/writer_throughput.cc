// writer_throughput: commands/s through engine::Writer (decide, log append, projections, group
// commit) with 1, 8 and 64 concurrent submitters and durable commits, next to a raw LMDB append
// of the very events the writer produced, in batches of the writer's mean batch size, measured
// in the same run.
//
//   writer_throughput [--dir DIR] [--durability sync|nometasync|nosync] [--rounds N]
//                     [--commands N] [--threads 1,8,64] [--shares N] [--allow-every K]
//                     [--submitters io|threads] [--io-threads N]
//
// Each submitter creates its own access group, then sends --commands - 1 more commands: every
// K-th an AllowAccess of a new ip on one of --shares shares (round-robin), the others an
// AddEntry of a new /24 to its group; it sends its next command when the previous one is
// answered. Every command is meant to be accepted; refusals are counted and printed. Each round
// runs in a fresh environment; the figures printed are medians over rounds. The raw side takes
// the events from the writer's log after its run (the encoded records, byte for byte) and
// appends them with the C API, MDB_APPEND, one durable transaction per batch of
// round(events / writer batches).
//
// Submitters (--threads of them) wait for their answers in one of two ways:
//   io       as agated's clients do (the default): the submitters are served by --io-threads
//            threads (2, agated's default) running one io_context; the writer's callback posts
//            each answer there, as http::submit does, and the submitter's next command is made
//            and submitted from there.
//   threads  one thread per submitter, each blocked in Writer::execute(); the writer wakes
//            each thread itself, and 64 threads take turns on the machine's cores.
//
// A second table splits the writer thread's time, from timers put around the WriteBackend and
// the WriteBatch it is given (no engine code changed): begin + commit of the transaction,
// decide (the rest of the batch function), and append (log append + projections apply in a
// nested transaction).

#include <fmt/format.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <cmath>
#include <latch>
#include <thread>

#include "tools/bench/bench_util.h"

namespace {

using namespace agate;
using bench::Clock;
using bench::TimedBackend;
using bench::Timers;
namespace net = boost::asio;

// How the submitters wait for their answers.
enum class Submitters { io, threads };

struct Options {
  std::filesystem::path dir = bench::default_dir();
  lmdb::Durability durability = lmdb::Durability::sync;
  int rounds = 3;
  int commands = 1000;  // per submitter
  std::vector<int> threads = {1, 8, 64};
  int shares = 8;
  int allow_every = 8;
  Submitters submitters = Submitters::io;
  int io_threads = 2;  // agated's default HTTP threads
};

struct RoundResult {
  double seconds = 0;
  std::uint64_t commands = 0;
  std::uint64_t refused = 0;
  std::uint64_t batches = 0;
  std::uint64_t events = 0;
  double raw_seconds = 0;
  std::size_t raw_batch = 0;
  std::size_t mean_record = 0;
  Timers timers;
  std::uint64_t written = 0;      // bytes the process wrote (wchar) during the writer's run
  std::uint64_t raw_written = 0;  // the same for the raw side
  std::string first_refusal;
};

std::string allow_ip(std::uint64_t n) {
  return fmt::format("172.{}.{}.{}", 16 + (n >> 16), (n >> 8) & 255, n & 255);
}

std::string entry_network(int k) { return fmt::format("10.{}.{}.0/24", (k >> 8) & 255, k & 255); }

// Appends `records` under keys 1..n, MDB_APPEND, one transaction per `batch`; returns seconds.
double raw_append(const Options& o, const std::filesystem::path& dir,
                  const std::vector<std::string>& records, std::size_t batch,
                  std::uint64_t& written) {
  bench::RawEnv env(dir, o.durability);
  const MDB_dbi dbi = env.open_db("log");
  std::uint64_t seq = 0;
  const auto written0 = bench::written_bytes().value_or(0);
  const auto start = Clock::now();
  for (std::size_t done = 0; done < records.size(); done += batch) {
    MDB_txn* txn = env.begin();
    for (std::size_t i = done; i < std::min(records.size(), done + batch); ++i) {
      const auto key = events::seq_key(events::Seq{++seq});
      bench::RawEnv::put(txn, dbi, key, records[i], MDB_APPEND);
    }
    bench::RawEnv::commit(txn);
  }
  const double seconds = bench::seconds_since(start);
  written = bench::written_bytes().value_or(0) - written0;
  return seconds;
}

RoundResult run_round(const Options& o, const std::filesystem::path& work, int threads) {
  RoundResult r;
  const auto engine_dir = work / "engine";
  std::vector<std::string> records;
  {
    bench::Engine e(engine_dir, o.durability);
    TimedBackend timed(e.journal());
    e.restart_writer(timed);
    auto& w = e.writer();

    // Set-up, not timed: the share type and the shares the AllowAccess commands go to.
    const auto admin = bench::admin_context();
    const auto ctx = bench::member_context("bench-project");
    (void)bench::body_of<events::ShareTypeCreated>(w.execute(admin, bench::default_type_command()),
                                                   "create share type");
    std::vector<std::string> shares;
    for (int i = 0; i < o.shares; ++i) {
      shares.push_back(
          bench::body_of<events::ShareCreated>(
              w.execute(ctx, bench::create_share_command(fmt::format("s{}", i))), "create share")
              .share_id);
    }
    const events::Seq first = e.last();
    const auto stats0 = w.stats();
    timed.reset();

    std::atomic<std::uint64_t> allow_counter{0}, refused{0};
    std::mutex refusal_mutex;
    auto note = [&](const engine::Outcome& out) {
      if (out) return;
      ++refused;
      std::lock_guard lock(refusal_mutex);
      if (r.first_refusal.empty()) r.first_refusal = out.error().message;
    };
    // Submitter t's k-th command (k = 0 creates its group; `group` is its id after that).
    auto command = [&](int t, int k, const std::string& group) -> engine::Command {
      if (k == 0) return engine::CreateAccessGroup{fmt::format("group-{}", t), "", "ip"};
      if (o.allow_every > 0 && k % o.allow_every == 0) {
        const auto& share = shares[static_cast<std::size_t>(t + k / o.allow_every) % shares.size()];
        return engine::AllowAccess{share, "ip", allow_ip(allow_counter++), "rw", {}};
      }
      return engine::AddEntry{group, std::nullopt, entry_network(k), "rw"};
    };
    auto group_of = [](const engine::Outcome& created) {
      return std::get<events::AccessGroupCreated>(created->events.at(0).body).group_id;
    };

    if (o.submitters == Submitters::threads) {
      // One thread per submitter, each blocked in execute() until its command is answered.
      std::latch ready(threads + 1);
      std::vector<std::thread> pool;
      for (int t = 0; t < threads; ++t) {
        pool.emplace_back([&, t] {
          ready.arrive_and_wait();
          auto created = w.execute(ctx, command(t, 0, {}));
          note(created);
          if (!created) return;
          const auto group = group_of(created);
          for (int k = 1; k < o.commands; ++k) note(w.execute(ctx, command(t, k, group)));
        });
      }
      ready.arrive_and_wait();
      const auto written0 = bench::written_bytes().value_or(0);
      const auto start = Clock::now();
      for (auto& th : pool) th.join();
      r.seconds = bench::seconds_since(start);
      r.written = bench::written_bytes().value_or(0) - written0;
    } else {
      // As agated serves its clients: each submitter is a client with one command outstanding,
      // served by --io-threads threads running one io_context. The writer's callback posts the
      // outcome back to the io_context (as http::submit does through the session's executor),
      // where the client takes it and submits its next command.
      net::io_context ioc;
      auto work_guard = net::make_work_guard(ioc);
      struct Client {
        int t = 0;
        int k = 0;
        std::string group;
      };
      std::vector<Client> clients(static_cast<std::size_t>(threads));
      std::atomic<int> running{threads};
      std::function<void(Client&)> send = [&](Client& c) {
        w.submit(ctx, command(c.t, c.k, c.group), [&, client = &c](engine::Outcome out) {
          net::post(ioc, [&, client, out = std::move(out)] {
            Client& c = *client;
            note(out);
            if (c.k == 0 && out) c.group = group_of(out);
            if (out || c.k > 0) ++c.k;
            if (c.k > 0 && c.k < o.commands) return send(c);
            if (--running == 0) work_guard.reset();
          });
        });
      };
      for (int t = 0; t < threads; ++t) clients[static_cast<std::size_t>(t)].t = t;
      const auto written0 = bench::written_bytes().value_or(0);
      const auto start = Clock::now();
      for (auto& c : clients) net::post(ioc, [&] { send(c); });
      std::vector<std::thread> pool;
      for (int i = 1; i < o.io_threads; ++i) pool.emplace_back([&] { ioc.run(); });
      ioc.run();
      for (auto& th : pool) th.join();
      r.seconds = bench::seconds_since(start);
      r.written = bench::written_bytes().value_or(0) - written0;
    }

    const auto stats1 = w.stats();
    r.timers = timed.timers();
    r.commands = stats1.commands - stats0.commands;
    r.batches = stats1.batches - stats0.batches;
    r.refused = refused;
    const events::Seq last = e.last();
    r.events = last.value - first.value;

    // The writer's events, as stored, for the raw side.
    auto txn = lmdb::Txn::begin_read(e.env());
    auto reader = e.log().read(txn, first.next());
    std::size_t bytes = 0;
    while (reader.next_raw() == events::LogReader::Status::record) {
      records.emplace_back(reader.record());
      bytes += records.back().size();
    }
    if (records.size() != r.events) throw std::runtime_error("the log did not read back whole");
    r.mean_record = records.empty() ? 0 : bytes / records.size();
    w.stop();  // before `timed`, which it writes through, goes
  }
  std::filesystem::remove_all(engine_dir);

  r.raw_batch = std::max<std::size_t>(
      1, static_cast<std::size_t>(
             std::llround(static_cast<double>(r.events) /
                          static_cast<double>(std::max<std::uint64_t>(1, r.batches)))));
  r.raw_seconds = raw_append(o, work / "raw", records, r.raw_batch, r.raw_written);
  std::filesystem::remove_all(work / "raw");
  return r;
}

}  // namespace

int main(int argc, char** argv) try {
  Options o;
  CLI::App app{"writer_throughput: commands/s through the writer against raw LMDB appends"};
  std::string durability(lmdb::to_string(o.durability));
  std::string threads = "1,8,64";
  app.add_option("--dir", o.dir, "where the environments are made");
  app.add_option("--durability", durability, "sync | nometasync | nosync")
      ->check(CLI::IsMember({"sync", "nometasync", "nosync"}));
  app.add_option("--rounds", o.rounds, "rounds; the median is shown")->check(CLI::PositiveNumber);
  app.add_option("--commands", o.commands, "commands per submitter")->check(CLI::Range(2, 1 << 30));
  app.add_option("--threads", threads, "submitter counts, comma-separated");
  app.add_option("--shares", o.shares, "shares the AllowAccess commands go to")
      ->check(CLI::PositiveNumber);
  app.add_option("--allow-every", o.allow_every, "every K-th command is an AllowAccess (0: none)")
      ->check(CLI::NonNegativeNumber);
  std::string submitters = "io";
  app.add_option("--submitters", submitters,
                 "io: clients served by --io-threads threads, answers posted back (as agated); "
                 "threads: one thread per submitter, blocked in execute()")
      ->check(CLI::IsMember({"io", "threads"}));
  app.add_option("--io-threads", o.io_threads, "threads serving the io submitters")
      ->check(CLI::Range(1, 64));
  CLI11_PARSE(app, argc, argv);
  o.submitters = submitters == "io" ? Submitters::io : Submitters::threads;
  o.durability = *lmdb::parse_durability(durability);
  o.threads = bench::parse_list(threads);
  const auto work = o.dir / fmt::format("agate-writer-throughput-{}", ::getpid());

  fmt::print(
      "writer_throughput: {} commands per submitter (1 createAccessGroup, then addEntry; every "
      "{}th allowAccess on {} shares), durability {}, median of {} rounds, in {}; {}\n",
      o.commands, o.allow_every, o.shares, lmdb::to_string(o.durability), o.rounds, o.dir.string(),
      o.submitters == Submitters::io
          ? fmt::format("submitters served by {} io threads", o.io_threads)
          : std::string("one thread per submitter"));
  fmt::print("{:>7} {:>8} {:>7} {:>10} {:>6} {:>9} {:>10} {:>13} {:>6}\n", "submit.", "commands",
             "refused", "commands/s", "batch", "events/s", "raw batch", "raw events/s", "ratio");
  std::vector<std::pair<int, RoundResult>> breakdown;
  std::string refusal;
  for (const int threads : o.threads) {
    std::vector<RoundResult> rounds;
    std::vector<double> cmd_rates, ev_rates, raw_rates;
    for (int i = 0; i < o.rounds; ++i) {
      auto r = run_round(o, work, threads);
      cmd_rates.push_back(static_cast<double>(r.commands) / r.seconds);
      ev_rates.push_back(static_cast<double>(r.events) / r.seconds);
      raw_rates.push_back(static_cast<double>(r.events) / r.raw_seconds);
      if (refusal.empty()) refusal = r.first_refusal;
      rounds.push_back(std::move(r));
    }
    // The round whose commands/s is the median, for the columns that are not rates.
    const double mid = bench::median(cmd_rates);
    const auto& m = rounds[static_cast<std::size_t>(
        std::find(cmd_rates.begin(), cmd_rates.end(), mid) - cmd_rates.begin())];
    const double ev = bench::median(ev_rates), raw = bench::median(raw_rates);
    fmt::print("{:>7} {:>8} {:>7} {:>10} {:>6.1f} {:>9} {:>10} {:>13} {:>6.2f}\n", threads,
               m.commands, m.refused, bench::grouped(mid),
               static_cast<double>(m.commands) / static_cast<double>(m.batches), bench::grouped(ev),
               m.raw_batch, bench::grouped(raw), ev / raw);
    breakdown.emplace_back(threads, m);
  }
  if (!refusal.empty()) fmt::print("first refusal: {}\n", refusal);

  fmt::print(
      "\nwriter thread, per batch (the median round): µs in begin+commit / decide / append;"
      " busy = time in WriteBackend::run / wall\n");
  fmt::print("{:>7} {:>7} {:>8} {:>13} {:>7} {:>7} {:>13} {:>5} {:>9} {:>14}\n", "submit.",
             "batches", "µs/batch", "begin+commit", "decide", "append", "append/event", "busy",
             "record B", "KiB/commit raw");
  for (const auto& [threads, r] : breakdown) {
    const auto& t = r.timers;
    const double n = static_cast<double>(std::max<std::uint64_t>(1, t.runs));
    const double run_us = static_cast<double>(t.run_ns) / 1e3 / n;
    const double commit_us = static_cast<double>(t.run_ns - t.inside_ns) / 1e3 / n;
    const double append_us = static_cast<double>(t.append_ns) / 1e3 / n;
    const double decide_us = static_cast<double>(t.inside_ns - t.append_ns) / 1e3 / n;
    const double raw_commits =
        std::ceil(static_cast<double>(r.events) / static_cast<double>(r.raw_batch));
    fmt::print(
        "{:>7} {:>7} {:>8.0f} {:>13.0f} {:>7.0f} {:>7.0f} {:>13.1f} {:>4.0f}% {:>9} {:>7.0f} "
        "{:>6.0f}\n",
        threads, t.runs, run_us, commit_us, decide_us, append_us,
        static_cast<double>(t.append_ns) / 1e3 /
            static_cast<double>(std::max<std::uint64_t>(1, r.events)),
        100.0 * static_cast<double>(t.run_ns) / 1e9 / r.seconds, r.mean_record,
        static_cast<double>(r.written) / 1024.0 / n,
        static_cast<double>(r.raw_written) / 1024.0 / raw_commits);
  }
  std::filesystem::remove_all(work);
  return 0;
} catch (const std::exception& e) {
  fmt::print(stderr, "writer_throughput: {}\n", e.what());
  return 1;
}
