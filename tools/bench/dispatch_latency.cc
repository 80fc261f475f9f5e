// dispatch_latency: how long a change takes to be active on the back ends — the writer's commit
// plus the dispatcher's reconciliation of every affected share instance (read, driver call,
// outcome recorded through the writer) — with the fake driver (no delay) and durable commits.
//
//   dispatch_latency [--dir DIR] [--shares 1000,10000] [--entries N] [--rules N] [--rounds N]
//                    [--workers N]
//
// (a) Fan-out. One AddEntry to an ip group of --entries entries attached to every one of N
//     shares, timed from the command's submission until every instance is active: the outbox
//     is empty (the store removes an instance's outbox entry when an outcome at or past its
//     share's desired version is recorded). After each round, outside the clock, every
//     instance's applied_version is checked against its share's desired_version and every
//     share's access_rules_status against "active". The baseline, in the same round, is the
//     command alone: execute() returning, i.e. the writer's durable commit of the entry (N
//     effective rules, N desired versions, N outbox entries) and the commit listener handing the
//     N instances to the dispatcher (`notify`, timed apart), without waiting for the dispatcher.
//     Set-up, not timed: the share type, N shares, the group and its entries and the attachments
//     through the writer with durability nosync and a dispatcher running, until the outbox is
//     empty; then the environment is flushed, closed and reopened with durability sync.
// (b) Direct rules on one share. --rules AllowAccess commands on a new share (a new share each
//     round): one after another, each waited for until the share is active before the next;
//     and back to back (all submitted without waiting, then waited for once). The baseline, in
//     the same run, is the same commands in a second environment with no dispatcher: one after
//     another (each execute() returning) and back to back (until the last is acknowledged).
//
// "Active" is noticed without polling: the journal's commit listener (which also feeds the
// dispatcher) signals every commit, and the waiter then reads the outbox in a read transaction.
// Driver calls are counted by the dispatcher (Dispatcher::stats) and by a thin wrapper around
// the fake driver that also times them. The writer's time is split by a wrapper around the
// journal, as writer_throughput's (no engine code changed).

#include <fmt/format.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <thread>

#include "drivers/dispatcher.h"
#include "drivers/fake_driver.h"
#include "tools/bench/bench_util.h"

namespace {

using namespace agate;
using bench::Clock;

struct Options {
  std::filesystem::path dir = bench::default_dir();
  std::vector<int> shares = {1000, 10000};
  int entries = 10;
  int rules = 100;
  int rounds = 3;
  unsigned workers = drivers::DispatcherOptions{}.workers;
};

// Counts commits (every call of the journal's commit listener) so that a waiter wakes on each.
class CommitSignal {
 public:
  void bump() {
    {
      std::lock_guard lock(mutex_);
      ++commits_;
    }
    cv_.notify_all();
  }
  std::uint64_t count() const {
    std::lock_guard lock(mutex_);
    return commits_;
  }
  // Returns when a commit after `seen` happened, or after `timeout`.
  void wait_past(std::uint64_t seen, std::chrono::milliseconds timeout) {
    std::unique_lock lock(mutex_);
    cv_.wait_for(lock, timeout, [&] { return commits_ != seen; });
  }

 private:
  mutable std::mutex mutex_;
  std::condition_variable cv_;
  std::uint64_t commits_ = 0;
};

// What the commit listener feeds: the dispatcher (if attached) and the waiters.
struct Wiring {
  std::atomic<drivers::Dispatcher*> dispatcher{nullptr};
  CommitSignal signal;
  std::atomic<std::int64_t> notify_ns{0};  // time in Dispatcher::notify, for non-empty lists

  void attach(projections::Journal& journal) {
    journal.set_commit_listener([this](const std::vector<projections::OutboxEntry>& dirty) {
      if (auto* d = dispatcher.load()) {
        if (!dirty.empty()) {
          const auto start = Clock::now();
          d->notify(dirty);
          notify_ns += bench::ns_since(start);
        }
      }
      signal.bump();
    });
  }
};

// The fake driver, its calls counted and timed.
class TimedDriver final : public drivers::Driver {
 public:
  explicit TimedDriver(std::shared_ptr<drivers::Driver> inner) : inner_(std::move(inner)) {}
  drivers::UpdateResult update_access(const drivers::UpdateRequest& request) override {
    const auto start = Clock::now();
    auto r = inner_->update_access(request);
    ns_ += bench::ns_since(start);
    ++calls_;
    return r;
  }
  std::uint64_t calls() const { return calls_.load(); }
  std::int64_t ns() const { return ns_.load(); }

 private:
  std::shared_ptr<drivers::Driver> inner_;
  std::atomic<std::uint64_t> calls_{0};
  std::atomic<std::int64_t> ns_{0};
};

// Waits until the outbox is empty; returns when that was seen. Throws after `limit`.
Clock::time_point wait_active(bench::Engine& e, CommitSignal& signal,
                              std::chrono::seconds limit = std::chrono::seconds(100)) {
  const auto deadline = Clock::now() + limit;
  while (true) {
    const auto seen = signal.count();
    {
      auto txn = lmdb::Txn::begin_read(e.env());
      if (e.store().outbox(txn, 1).empty()) return Clock::now();
    }
    if (Clock::now() > deadline) throw std::runtime_error("the outbox did not drain in time");
    signal.wait_past(seen, std::chrono::milliseconds(50));
  }
}

struct Check {
  std::size_t behind = 0;      // instances whose applied_version != the share's desired_version
  std::size_t not_active = 0;  // shares whose access_rules_status is not "active"
  std::size_t instances = 0;
};

Check check(bench::Engine& e, const std::vector<std::string>& shares) {
  Check c;
  auto txn = lmdb::Txn::begin_read(e.env());
  for (const auto& id : shares) {
    const auto share = e.store().share(txn, id);
    if (!share) throw std::runtime_error("share " + id + " is missing");
    for (const auto& in : e.store().instances(txn, *share)) {
      ++c.instances;
      if (in.applied_version != share->desired_version) ++c.behind;
    }
    if (e.store().share_access_rules_status(txn, *share) != "active") ++c.not_active;
  }
  return c;
}

std::map<std::string, std::shared_ptr<drivers::Driver>> backends(
    std::shared_ptr<drivers::Driver> driver) {
  return {{"nfs1", std::move(driver)}};
}

// ---- (a) the fan-out ----

struct FanoutSetUp {
  std::string group;
  std::vector<std::string> shares;
  double seconds = 0;
  std::uint64_t calls = 0;
};

// Builds the shares and the attached group with nosync durability and a dispatcher running,
// until the outbox is empty; flushes.
FanoutSetUp set_up_fanout(const std::filesystem::path& dir, int shares, int entries,
                          unsigned workers) {
  FanoutSetUp s;
  const auto start = Clock::now();
  Wiring wiring;
  bench::Engine e(dir, lmdb::Durability::nosync);
  wiring.attach(e.journal());
  auto fake = drivers::make_fake_driver();
  drivers::Dispatcher d(e.env(), e.store(), e.writer(), backends(fake),
                        drivers::DispatcherOptions{workers});
  wiring.dispatcher = &d;
  d.start();

  auto& w = e.writer();
  const auto ctx = bench::member_context("dispatch-project");
  (void)bench::body_of<events::ShareTypeCreated>(
      w.execute(bench::admin_context(), bench::default_type_command()), "create share type");
  s.group =
      bench::body_of<events::AccessGroupCreated>(
          w.execute(ctx, engine::CreateAccessGroup{"fanout", "", "ip"}), "create access group")
          .group_id;
  for (int i = 0; i < entries; ++i) {
    (void)bench::body_of<events::EntryAdded>(
        w.execute(ctx,
                  engine::AddEntry{s.group, std::nullopt, fmt::format("10.0.{}.0/24", i), "rw"}),
        "add entry");
  }
  s.shares.resize(static_cast<std::size_t>(shares));
  {
    bench::Pipeline p(w);
    for (int i = 0; i < shares; ++i) {
      p.submit(ctx, bench::create_share_command(fmt::format("share-{}", i)),
               [&s, i](const engine::Outcome& o) {
                 if (o)
                   s.shares[static_cast<std::size_t>(i)] =
                       std::get<events::ShareCreated>(o->events.at(0).body).share_id;
               });
    }
    p.drain();
    if (p.refused()) throw std::runtime_error("create share refused: " + p.first_refusal());
    for (const auto& id : s.shares) p.submit(ctx, engine::AttachGroup{id, s.group});
    p.drain();
    if (p.refused()) throw std::runtime_error("attach refused: " + p.first_refusal());
  }
  wait_active(e, wiring.signal, std::chrono::seconds(300));
  wiring.dispatcher = nullptr;
  d.stop();
  s.calls = d.stats().calls;
  const auto c = check(e, s.shares);
  if (c.behind || c.not_active) {
    throw std::runtime_error(fmt::format("set-up: {} instance(s) behind, {} share(s) not active",
                                         c.behind, c.not_active));
  }
  w.stop();
  e.env().sync();
  s.seconds = bench::seconds_since(start);
  return s;
}

struct FanoutRound {
  double command_s = 0;            // execute() returned: the baseline
  double notify_s = 0;             // of which the listener's Dispatcher::notify
  double active_s = 0;             // until the outbox was empty
  std::uint64_t calls = 0;         // Dispatcher::stats().calls
  std::uint64_t driver_calls = 0;  // seen by the driver
  double driver_s = 0;             // inside the driver, all workers
  std::uint64_t commands = 0;      // writer commands in the round (the entry + the outcomes)
  bench::Timers writer;
  Check check;
};

struct FanoutResult {
  int shares = 0;
  FanoutSetUp set_up;
  std::vector<FanoutRound> rounds;
};

FanoutResult run_fanout(const std::filesystem::path& dir, int n, const Options& o) {
  FanoutResult res;
  res.shares = n;
  res.set_up = set_up_fanout(dir, n, o.entries, o.workers);

  Wiring wiring;
  bench::Engine e(dir, lmdb::Durability::sync);
  bench::TimedBackend timed(e.journal());
  e.restart_writer(timed);
  wiring.attach(e.journal());
  auto driver = std::make_shared<TimedDriver>(drivers::make_fake_driver());
  drivers::Dispatcher d(e.env(), e.store(), e.writer(), backends(driver),
                        drivers::DispatcherOptions{o.workers});
  wiring.dispatcher = &d;
  d.start();
  {
    auto txn = lmdb::Txn::begin_read(e.env());
    if (!e.store().outbox(txn, 1).empty()) throw std::runtime_error("outbox not empty at start");
  }

  const auto ctx = bench::member_context("dispatch-project");
  for (int r = 0; r < o.rounds; ++r) {
    FanoutRound round;
    const auto calls0 = d.stats().calls;
    const auto driver_calls0 = driver->calls();
    const auto driver_ns0 = driver->ns();
    const auto commands0 = e.writer().stats().commands;
    const auto writer0 = timed.timers();
    const auto notify0 = wiring.notify_ns.load();

    const auto start = Clock::now();
    auto outcome = e.writer().execute(
        ctx,
        engine::AddEntry{res.set_up.group, std::nullopt, fmt::format("192.168.{}.0/24", r), "rw"});
    round.command_s = bench::seconds_since(start);
    const auto active = wait_active(e, wiring.signal);
    round.active_s = std::chrono::duration<double>(active - start).count();
    (void)bench::body_of<events::EntryAdded>(outcome, "add entry");

    // Outside the clock: let the writer's thread finish its last run's bookkeeping.
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    round.notify_s = static_cast<double>(wiring.notify_ns.load() - notify0) / 1e9;
    round.calls = d.stats().calls - calls0;
    round.driver_calls = driver->calls() - driver_calls0;
    round.driver_s = static_cast<double>(driver->ns() - driver_ns0) / 1e9;
    round.commands = e.writer().stats().commands - commands0;
    round.writer = timed.timers() - writer0;
    round.check = check(e, res.set_up.shares);
    if (round.check.behind || round.check.not_active) {
      throw std::runtime_error(
          fmt::format("{} shares, round {}: {} instance(s) behind, {} "
                      "share(s) not active after the outbox drained",
                      n, r, round.check.behind, round.check.not_active));
    }
    res.rounds.push_back(round);
  }
  wiring.dispatcher = nullptr;
  d.stop();
  e.writer().stop();  // before `timed`, which it writes through, goes
  return res;
}

// ---- (b) direct rules on one share ----

struct RulesRound {
  double seq_s = 0;                // one after another, each until active
  std::vector<double> seq_rule_s;  // each rule, command to active
  double seq_command_s = 0;        // the sum of those commands' execute() times
  std::uint64_t seq_calls = 0;
  double b2b_committed_s = 0;  // back to back: until the last command was acknowledged
  double b2b_s = 0;            // until active
  std::uint64_t b2b_calls = 0;
  double base_seq_s = 0;  // no dispatcher: one after another
  double base_b2b_s = 0;  // no dispatcher: back to back, until the last acknowledged
};

std::string create_share(bench::Engine& e, const std::string& name) {
  return bench::body_of<events::ShareCreated>(
             e.writer().execute(bench::member_context("rules-project"),
                                bench::create_share_command(name)),
             "create share")
      .share_id;
}

engine::AllowAccess allow(const std::string& share, int round, int i) {
  return engine::AllowAccess{
      share, "ip", fmt::format("10.{}.{}.{}", 100 + round, i / 250, i % 250 + 1), "rw", {}};
}

double one_after_another(bench::Engine& e, const std::string& share, int round, int rules,
                         CommitSignal* wait_for, RulesRound* out) {
  const auto ctx = bench::member_context("rules-project");
  const auto start = Clock::now();
  for (int i = 0; i < rules; ++i) {
    const auto t0 = Clock::now();
    auto o = e.writer().execute(ctx, allow(share, round, i));
    if (out) out->seq_command_s += bench::seconds_since(t0);
    (void)bench::body_of<events::RuleAllowed>(o, "allow access");
    if (wait_for) {
      const auto active = wait_active(e, *wait_for);
      if (out) out->seq_rule_s.push_back(std::chrono::duration<double>(active - t0).count());
    }
  }
  return bench::seconds_since(start);
}

// Returns the time until every command was acknowledged.
double back_to_back(bench::Engine& e, const std::string& share, int round, int rules) {
  const auto ctx = bench::member_context("rules-project");
  bench::Pipeline p(e.writer());
  const auto start = Clock::now();
  for (int i = 0; i < rules; ++i) p.submit(ctx, allow(share, round, i));
  p.drain();
  const double s = bench::seconds_since(start);
  if (p.refused()) throw std::runtime_error("allow access refused: " + p.first_refusal());
  return s;
}

std::vector<RulesRound> run_rules(const std::filesystem::path& dir, const Options& o) {
  std::vector<RulesRound> rounds;
  // The engine with a dispatcher.
  Wiring wiring;
  bench::Engine e(dir / "rules", lmdb::Durability::sync);
  wiring.attach(e.journal());
  auto driver = std::make_shared<TimedDriver>(drivers::make_fake_driver());
  drivers::Dispatcher d(e.env(), e.store(), e.writer(), backends(driver),
                        drivers::DispatcherOptions{o.workers});
  wiring.dispatcher = &d;
  d.start();
  // The baseline: the same commands, no dispatcher.
  bench::Engine base(dir / "base", lmdb::Durability::sync);

  for (auto* eng : {&e, &base}) {
    (void)bench::body_of<events::ShareTypeCreated>(
        eng->writer().execute(bench::admin_context(), bench::default_type_command()),
        "create share type");
  }
  for (int r = 0; r < o.rounds; ++r) {
    RulesRound round;
    const auto seq_share = create_share(e, fmt::format("seq-{}", r));
    const auto b2b_share = create_share(e, fmt::format("b2b-{}", r));
    const auto base_seq_share = create_share(base, fmt::format("seq-{}", r));
    const auto base_b2b_share = create_share(base, fmt::format("b2b-{}", r));
    wait_active(e, wiring.signal);

    auto dispatched_seq = [&] {
      const auto calls0 = d.stats().calls;
      round.seq_s = one_after_another(e, seq_share, r, o.rules, &wiring.signal, &round);
      round.seq_calls = d.stats().calls - calls0;
    };
    auto dispatched_b2b = [&] {
      const auto calls0 = d.stats().calls;
      const auto start = Clock::now();
      round.b2b_committed_s = back_to_back(e, b2b_share, r, o.rules);
      round.b2b_s = std::chrono::duration<double>(wait_active(e, wiring.signal) - start).count();
      round.b2b_calls = d.stats().calls - calls0;
    };
    auto base_seq = [&] {
      round.base_seq_s = one_after_another(base, base_seq_share, r, o.rules, nullptr, nullptr);
    };
    auto base_b2b = [&] { round.base_b2b_s = back_to_back(base, base_b2b_share, r, o.rules); };
    if (r % 2 == 0) {
      base_seq();
      dispatched_seq();
      base_b2b();
      dispatched_b2b();
    } else {
      dispatched_seq();
      base_seq();
      dispatched_b2b();
      base_b2b();
    }
    const auto c = check(e, {seq_share, b2b_share});
    if (c.behind || c.not_active) {
      throw std::runtime_error(
          fmt::format("rules, round {}: {} instance(s) behind, {} share(s) "
                      "not active after the outbox drained",
                      r, c.behind, c.not_active));
    }
    {
      auto txn = lmdb::Txn::begin_read(e.env());
      for (const auto& s : {seq_share, b2b_share}) {
        const auto n = e.store().rules(txn, s).size();
        if (n != static_cast<std::size_t>(o.rules)) {
          throw std::runtime_error(fmt::format("share {} holds {} rules", s, n));
        }
      }
    }
    rounds.push_back(std::move(round));
  }
  wiring.dispatcher = nullptr;
  d.stop();
  e.writer().stop();
  base.writer().stop();
  return rounds;
}

template <typename T, typename F>
double median_of(const std::vector<T>& v, F f) {
  std::vector<double> x;
  for (const auto& e : v) x.push_back(static_cast<double>(f(e)));
  return bench::median(x);
}

// The round whose active time is the median.
template <typename T, typename F>
const T& median_round(const std::vector<T>& v, F f) {
  std::vector<std::size_t> idx(v.size());
  for (std::size_t i = 0; i < idx.size(); ++i) idx[i] = i;
  std::sort(idx.begin(), idx.end(), [&](auto a, auto b) { return f(v[a]) < f(v[b]); });
  return v[idx[idx.size() / 2]];
}

std::string ms(double s) { return fmt::format("{:.1f} ms", s * 1e3); }

}  // namespace

int main(int argc, char** argv) try {
  Options o;
  CLI::App app{"dispatch_latency: a change until it is active on the back ends"};
  std::string shares = "1000,10000";
  app.add_option("--dir", o.dir, "where the environments are made");
  app.add_option("--shares", shares, "share counts, comma-separated");
  app.add_option("--entries", o.entries, "entries in the group before the measured one")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--rules", o.rules, "direct rules in part (b)")->check(CLI::Range(1, 60000));
  app.add_option("--rounds", o.rounds, "rounds; the median is shown")->check(CLI::PositiveNumber);
  app.add_option("--workers", o.workers, "dispatcher workers")->check(CLI::PositiveNumber);
  CLI11_PARSE(app, argc, argv);
  o.shares = bench::parse_list(shares);
  const auto work = o.dir / fmt::format("agate-dispatch-latency-{}", ::getpid());
  const auto run_start = Clock::now();

  fmt::print(
      "dispatch_latency: fake driver (no delay), durability sync, dispatcher workers {}, median "
      "of {} rounds, in {}\n\n",
      o.workers, o.rounds, o.dir.string());

  // (a)
  fmt::print(
      "(a) one addEntry to an ip group of {} entries attached to every share, until every instance "
      "is active\n    (outbox empty; checked after each round: applied_version = desired_version "
      "on every instance, every share active).\n    Set-up, not timed: shares, group, entries "
      "and attachments through the writer with durability NOSYNC and a dispatcher\n    "
      "running until the outbox was empty, flushed, then the environment reopened with "
      "durability SYNC for the rounds.\n",
      o.entries);
  fmt::print("{:>6} {:>8} {:>10} {:>9} {:>10} {:>8} {:>7} {:>9} {:>8} {:>9} {:>9}  {}\n", "shares",
             "set-up s", "command ms", "notify ms", "active ms", "active/", "calls", "calls/s",
             "commits", "outcomes/", "driver µs", "active ms, each round");
  fmt::print("{:>6} {:>8} {:>10} {:>9} {:>10} {:>8} {:>7} {:>9} {:>8} {:>9} {:>9}\n", "", "",
             "(baseline)", "(in cmd)", "", "command", "", "", "", "commit", "a call");
  std::vector<FanoutResult> fanouts;
  for (const int n : o.shares) {
    const auto dir = work / "fanout";
    auto res = run_fanout(dir, n, o);
    std::filesystem::remove_all(dir);
    const auto& rs = res.rounds;
    const double cmd = median_of(rs, [](auto& r) { return r.command_s; });
    const double active = median_of(rs, [](auto& r) { return r.active_s; });
    const auto& mid = median_round(rs, [](auto& r) { return r.active_s; });
    std::string each;
    for (const auto& r : rs)
      each += fmt::format("{}{:.1f}", each.empty() ? "" : " ", r.active_s * 1e3);
    const double outcome_commits = static_cast<double>(mid.writer.runs) - 1;  // less the entry's
    fmt::print(
        "{:>6} {:>8.2f} {:>10.1f} {:>9.1f} {:>10.1f} {:>8.1f} {:>7} {:>9} {:>8} {:>9.1f} {:>9.1f}  "
        "{}\n",
        n, res.set_up.seconds, cmd * 1e3, median_of(rs, [](auto& r) { return r.notify_s; }) * 1e3,
        active * 1e3, active / cmd, mid.calls,
        bench::grouped(static_cast<double>(mid.calls) / mid.active_s), mid.writer.runs,
        static_cast<double>(mid.commands - 1) / std::max(1.0, outcome_commits),
        mid.driver_s * 1e6 / static_cast<double>(std::max<std::uint64_t>(1, mid.driver_calls)),
        each);
    if (mid.driver_calls != mid.calls) {
      fmt::print("       (the driver saw {} calls)\n", mid.driver_calls);
    }
    fanouts.push_back(std::move(res));
  }
  fmt::print(
      "\ncommand = execute(AddEntry) returning: the writer's durable commit and the listener's "
      "notify (the baseline).\nactive = from submission until the outbox was empty. calls = "
      "driver calls (Dispatcher::stats), calls/s = calls / active.\ncommits = the writer's "
      "transactions in the round (the entry's, then the outcomes'), outcomes/commit = the "
      "outcomes'\ngroup commit. driver µs = time inside the fake driver a call. The round shown in "
      "calls .. driver µs is the median one.\n\nWriter thread in the median round (ms): "
      "begin+commit (with the "
      "listener), decide, append (log + projections)\n{:>6} {:>8} {:>13} {:>8} {:>8} {:>10} "
      "{:>12}\n",
      "shares", "commits", "begin+commit", "decide", "append", "busy", "µs/commit");
  for (const auto& res : fanouts) {
    const auto& mid = median_round(res.rounds, [](auto& r) { return r.active_s; });
    const auto& t = mid.writer;
    fmt::print("{:>6} {:>8} {:>13.1f} {:>8.1f} {:>8.1f} {:>9.0f}% {:>12.0f}\n", res.shares, t.runs,
               static_cast<double>(t.run_ns - t.inside_ns) / 1e6,
               static_cast<double>(t.inside_ns - t.append_ns) / 1e6,
               static_cast<double>(t.append_ns) / 1e6,
               static_cast<double>(t.run_ns) / 1e9 / mid.active_s * 100,
               static_cast<double>(t.run_ns) / 1e3 /
                   static_cast<double>(std::max<std::uint64_t>(1, t.runs)));
  }

  // (b)
  fmt::print(
      "\n(b) {} direct ip rules (allow_access) on one new share, durability sync; baseline: the "
      "same commands in a second\n    environment with no dispatcher (commit only), in the same "
      "run.\n",
      o.rules);
  const auto rules = run_rules(work / "rules", o);
  const double seq = median_of(rules, [](auto& r) { return r.seq_s; });
  const double base_seq = median_of(rules, [](auto& r) { return r.base_seq_s; });
  const double b2b = median_of(rules, [](auto& r) { return r.b2b_s; });
  const double b2b_committed = median_of(rules, [](auto& r) { return r.b2b_committed_s; });
  const double base_b2b = median_of(rules, [](auto& r) { return r.base_b2b_s; });
  std::vector<double> per_rule;
  for (const auto& r : rules)
    per_rule.insert(per_rule.end(), r.seq_rule_s.begin(), r.seq_rule_s.end());
  std::sort(per_rule.begin(), per_rule.end());
  const auto& mid_seq = median_round(rules, [](auto& r) { return r.seq_s; });
  const auto& mid_b2b = median_round(rules, [](auto& r) { return r.b2b_s; });
  std::string each_seq, each_b2b;
  for (const auto& r : rules) {
    each_seq += fmt::format("{}{:.1f}", each_seq.empty() ? "" : " ", r.seq_s * 1e3);
    each_b2b += fmt::format("{}{:.1f}", each_b2b.empty() ? "" : " ", r.b2b_s * 1e3);
  }
  fmt::print("{:<36} {:>20} {:>20} {:>8}  {}\n", "", "agate, until active", "baseline (commit)",
             "ratio", "rounds (ms)");
  fmt::print("{:<36} {:>20} {:>20} {:>8.1f}  {}\n", "one after another, each until active", ms(seq),
             ms(base_seq), seq / base_seq, each_seq);
  fmt::print("{:<36} {:>20} {:>20} {:>8.1f}\n", "  per rule (total / rules)",
             fmt::format("{:.2f} ms", seq / o.rules * 1e3),
             fmt::format("{:.2f} ms", base_seq / o.rules * 1e3), seq / base_seq);
  fmt::print("{:<36} {:>20} {:>20} {:>8.1f}  {}\n", "back to back, then waited for once", ms(b2b),
             ms(base_b2b), b2b / base_b2b, each_b2b);
  fmt::print(
      "\none after another: per rule (all rounds, command to active) median {:.2f} ms, p90 {:.2f} "
      "ms, max {:.2f} ms;\n  of which the command (execute returning) {:.2f} ms a rule; {} driver "
      "calls (median round).\nback to back: all acknowledged after {}, {} driver calls (median "
      "round; changes during a call are merged).\nratio = agate / baseline.\n",
      per_rule[per_rule.size() / 2] * 1e3, per_rule[per_rule.size() * 9 / 10] * 1e3,
      per_rule.back() * 1e3, mid_seq.seq_command_s / o.rules * 1e3, mid_seq.seq_calls,
      ms(b2b_committed), mid_b2b.b2b_calls);
  fmt::print(
      "\nThe peer, NOT measured in this run: real OpenStack Manila 15.1 (dummy driver, no sleeps, "
      "MariaDB, RabbitMQ, on\nloopback), figures recorded on this kind of machine (2 cores, "
      "Debian 12) in ../shared/docs/perf-ceilings.md:\n"
      "  100 rules one after another, each waited for until active   ≈ 73 s (≈ 0.73 s a rule)"
      "    agate here: {}\n"
      "  100 rules back to back, all active                          ≈ 50 s"
      "                        agate here: {}\n",
      o.rules == 100 ? ms(seq) : fmt::format("{} for {} rules", ms(seq), o.rules),
      o.rules == 100 ? ms(b2b) : fmt::format("{} for {} rules", ms(b2b), o.rules));

  std::filesystem::remove_all(work);
  fmt::print("\nwhole run {:.1f} s\n", bench::seconds_since(run_start));
  return 0;
} catch (const std::exception& e) {
  fmt::print(stderr, "dispatch_latency: {}\n", e.what());
  return 1;
}
