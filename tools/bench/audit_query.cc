// audit_query: the time of the audit questions of projections/audit.h — a share's effective rules
// at a point, its access history, who had access to an address — over a log of 1M events, next to
// a plain scan of the same log (LogReader::next(), which reads and decodes every event) measured in
// the same run. Each question is one scan of the log; the target is under 2 s for 1M events.
//
//   audit_query [--dir DIR] [--events N] [--rounds N] [--keep]
//
// The log is the history of tools/bench/history.h (made through engine::Writer, nosync). The
// share asked about is one of the middle project, attached to a group; who-had-access asks about
// a direct rule's network that every project's share of the same index holds (one rule per
// project), an entry's network that one group of every project holds (attached to 4 shares),
// an address inside the direct rule's network with `containing` (every ip rule parsed as a
// network), and, for the one share, a network it holds. Warm: every figure is the median of
// --rounds (3) runs, scans and questions alternating. --keep leaves the log in DIR/agate-audit
// for the next run (which then reuses it instead of building it again).

#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <functional>

#include "projections/audit.h"
#include "tools/bench/bench_util.h"
#include "tools/bench/history.h"

namespace {

using namespace agate;
namespace audit = projections::audit;
using bench::Clock;

struct Options {
  std::filesystem::path dir = bench::default_dir();
  std::uint64_t events = 1'000'000;
  int rounds = 3;
  bool keep = false;
};

}  // namespace

int main(int argc, char** argv) try {
  Options o;
  CLI::App app{"audit_query: the audit questions over a log, against a plain scan of it"};
  app.add_option("--dir", o.dir, "where the log is made");
  app.add_option("--events", o.events, "events in the log")->check(CLI::Range(1000ULL, 1ULL << 40));
  app.add_option("--rounds", o.rounds, "rounds; the median is shown")->check(CLI::PositiveNumber);
  app.add_flag("--keep", o.keep, "keep the log in DIR/agate-audit and reuse it next time");
  CLI11_PARSE(app, argc, argv);

  const auto source_dir =
      o.keep ? o.dir / "agate-audit" : o.dir / fmt::format("agate-audit-{}", ::getpid());
  if (!std::filesystem::exists(source_dir / "data.mdb")) {
    const auto start = Clock::now();
    const auto total = bench::build_history(source_dir, o.events);
    fmt::print("audit_query: made a log of {} events through the writer (nosync) in {:.1f} s\n",
               bench::grouped(static_cast<double>(total)), bench::seconds_since(start));
  }
  lmdb::EnvOptions env_options;
  env_options.read_only = true;
  auto env = lmdb::Env::open(source_dir, env_options);
  std::optional<events::EventLog> log;
  {
    auto txn = lmdb::Txn::begin_read(env);
    log = events::EventLog::try_open(txn);
    txn.commit();
  }
  if (!log) throw std::runtime_error("no event log in " + source_dir.string());

  // What to ask about, from one untimed pass: a share of the middle project with a group.
  std::vector<std::string> attached;
  std::uint64_t total = 0;
  {
    auto txn = lmdb::Txn::begin_read(env);
    auto reader = log->read(txn);
    while (reader.next() == events::LogReader::Status::record) {
      ++total;
      if (const auto* b = std::get_if<events::GroupAttached>(&reader.event().body)) {
        attached.push_back(b->share_id);
      }
    }
  }
  if (attached.empty()) throw std::runtime_error("the log attaches no group");
  const std::string share = attached[attached.size() / 2];
  // Every project's share 5 holds 10.5.7.0/24; every project's group 2 has 172.18.3.0/24.
  const std::string rule_network = "10.5.7.0/24", entry_network = "172.18.3.0/24";
  // A network the share holds, for the question about one share.
  std::string share_network;
  {
    auto txn = lmdb::Txn::begin_read(env);
    auto a = audit::access_at(txn, *log, share, {});
    if (!a || a->rules.empty()) throw std::runtime_error("the share asked about has no rules");
    share_network = a->rules.front().access_to;
  }
  fmt::print("log: {} events in {}; share {}\n", bench::grouped(static_cast<double>(total)),
             source_dir.string(), share);

  auto scan = [&] {
    auto txn = lmdb::Txn::begin_read(env);
    auto reader = log->read(txn);
    std::uint64_t n = 0;
    while (reader.next() == events::LogReader::Status::record) ++n;
    if (n != total) throw std::runtime_error("the scan did not read the whole log");
    return std::string();
  };
  auto check = [](const auto& result) {
    if (!result) throw std::runtime_error(result.error().message);
  };
  std::size_t found = 0;
  const std::vector<std::pair<std::string, std::function<std::string()>>> questions = {
      {"plain scan (baseline)", scan},
      {"access-at, end of log",
       [&] {
         auto txn = lmdb::Txn::begin_read(env);
         auto a = audit::access_at(txn, *log, share, {});
         check(a);
         return fmt::format("{} rules", a->rules.size());
       }},
      {"access-at, 3/4 of the log (--seq)",
       [&] {
         auto txn = lmdb::Txn::begin_read(env);
         auto a = audit::access_at(txn, *log, share, {events::Seq{total / 4 * 3}, std::nullopt});
         check(a);
         return fmt::format("{} rules", a->rules.size());
       }},
      {"access-history",
       [&] {
         auto txn = lmdb::Txn::begin_read(env);
         auto h = audit::access_history(txn, *log, share);
         check(h);
         return fmt::format("{} changes", h->changes.size());
       }},
      {"who-had-access, a direct rule",
       [&] {
         auto txn = lmdb::Txn::begin_read(env);
         auto w = audit::who_had_access(txn, *log,
                                        {rule_network, std::nullopt, std::nullopt, 0, INT64_MAX});
         check(w);
         found = w->size();
         return fmt::format("{} intervals", w->size());
       }},
      {"who-had-access, a group entry",
       [&] {
         auto txn = lmdb::Txn::begin_read(env);
         auto w = audit::who_had_access(txn, *log,
                                        {entry_network, std::nullopt, std::nullopt, 0, INT64_MAX});
         check(w);
         return fmt::format("{} intervals", w->size());
       }},
      {"who-had-access, containing",
       [&] {
         auto txn = lmdb::Txn::begin_read(env);
         audit::WhoQuery q{"10.5.7.9", std::nullopt, std::nullopt, 0, INT64_MAX};
         q.containing = true;
         auto w = audit::who_had_access(txn, *log, q);
         check(w);
         return fmt::format("{} intervals", w->size());
       }},
      {"who-had-access, one share",
       [&] {
         auto txn = lmdb::Txn::begin_read(env);
         auto w =
             audit::who_had_access(txn, *log, {share_network, std::nullopt, share, 0, INT64_MAX});
         check(w);
         return fmt::format("{} intervals", w->size());
       }},
  };
  std::vector<std::vector<double>> seconds(questions.size());
  std::vector<std::string> answers(questions.size());
  for (int r = 0; r < o.rounds; ++r) {
    for (std::size_t q = 0; q < questions.size(); ++q) {
      const auto start = Clock::now();
      answers[q] = questions[q].second();
      seconds[q].push_back(bench::seconds_since(start));
    }
  }
  const double scan_s = bench::median(seconds[0]);
  fmt::print("{:<34} {:>8} {:>14} {:>7}  {}\n", "question", "s", "events/s", "ratio", "answer");
  for (std::size_t q = 0; q < questions.size(); ++q) {
    const double s = bench::median(seconds[q]);
    fmt::print("{:<34} {:>8.3f} {:>14} {:>7.2f}  {}\n", questions[q].first, s,
               bench::grouped(static_cast<double>(total) / s), s / scan_s, answers[q]);
  }
  fmt::print("median of {} warm rounds; ratio = time / plain scan's time\n", o.rounds);
  if (found == 0) throw std::runtime_error("who-had-access found nothing: the history changed?");
  if (!o.keep) std::filesystem::remove_all(source_dir);
  return 0;
} catch (const std::exception& e) {
  fmt::print(stderr, "audit_query: {}\n", e.what());
  return 1;
}
