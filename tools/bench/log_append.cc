// log_append: events/s through events::EventLog with durable commits, for batch sizes 1, 10,
// 100 and 1000, next to a raw LMDB append of the same bytes measured in the same run.
//
//   log_append [--dir DIR] [--durability sync|nometasync|nosync] [--rounds N]
//
// Each round runs both sides in fresh environments, alternating which goes first; the figure
// printed is the median over rounds. The ratio (agate / raw) is what to compare across machines.

#include <fmt/format.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "events/codec.h"
#include "events/event_log.h"
#include "events/lmdb.h"

namespace {

using namespace agate;
using Clock = std::chrono::steady_clock;

struct Options {
  std::filesystem::path dir;
  lmdb::Durability durability = lmdb::Durability::sync;
  int rounds = 3;
};

events::Event make_event(std::uint64_t i) {
  events::Event e;
  e.time_micros = 1764072000000000 + static_cast<std::int64_t>(i);
  e.project_id = "6807e01e236c4dd1bb499687317fc3ee";
  e.user_id = "c2f4d9a0e1b94f6f8a7d2e3c4b5a6978";
  e.request_id = fmt::format("req-7f1c2a4e-8a53-4a4b-9d3e-{:012x}", i);
  e.body = events::RuleAllowed{fmt::format("0c4b7a8e-2f1d-4e5c-9a8b-{:012x}", i % 1000),
                               fmt::format("13a2c9f3-5d6e-4f70-8192-{:012x}", i),
                               events::AccessType::ip,
                               fmt::format("10.{}.{}.0/24", (i >> 8) & 255, i & 255),
                               events::AccessLevel::rw,
                               {}};
  return e;
}

lmdb::EnvOptions env_options(const Options& o) {
  lmdb::EnvOptions e;
  e.map_size = std::size_t{8} << 30;
  e.durability = o.durability;
  return e;
}

// Appends `total` events in batches of `batch` through EventLog; returns seconds.
double run_agate(const Options& o, const std::filesystem::path& dir, std::size_t batch,
                 std::size_t total, const std::vector<events::Event>& source) {
  auto env = lmdb::Env::open(dir, env_options(o));
  auto log = events::EventLog::open(env);
  std::vector<events::Event> events(batch);
  const auto start = Clock::now();
  for (std::size_t done = 0; done < total; done += batch) {
    for (std::size_t i = 0; i < batch; ++i) events[i] = source[(done + i) % source.size()];
    auto txn = lmdb::Txn::begin_write(env);
    log.append(txn, events);
    txn.commit();
  }
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// Appends the same records with the plain C API: big-endian keys, MDB_APPEND, one transaction
// per batch. The records are encoded before the clock starts.
double run_raw(const Options& o, const std::filesystem::path& dir, std::size_t batch,
               std::size_t total, const std::vector<std::string>& records) {
  std::filesystem::create_directories(dir);
  MDB_env* env = nullptr;
  mdb_env_create(&env);
  mdb_env_set_mapsize(env, std::size_t{8} << 30);
  mdb_env_set_maxdbs(env, 4);
  unsigned flags = MDB_NOTLS;
  if (o.durability == lmdb::Durability::nometasync) flags |= MDB_NOMETASYNC;
  if (o.durability == lmdb::Durability::nosync) flags |= MDB_NOSYNC;
  if (int rc = mdb_env_open(env, dir.c_str(), flags, 0640)) {
    throw std::runtime_error(fmt::format("mdb_env_open: {}", mdb_strerror(rc)));
  }
  MDB_txn* txn = nullptr;
  MDB_dbi dbi;
  mdb_txn_begin(env, nullptr, 0, &txn);
  mdb_dbi_open(txn, "log", MDB_CREATE, &dbi);
  mdb_txn_commit(txn);

  std::uint64_t seq = 0;
  const auto start = Clock::now();
  for (std::size_t done = 0; done < total; done += batch) {
    mdb_txn_begin(env, nullptr, 0, &txn);
    for (std::size_t i = 0; i < batch; ++i) {
      ++seq;
      unsigned char key[8];
      for (int b = 0; b < 8; ++b) key[b] = static_cast<unsigned char>(seq >> (8 * (7 - b)));
      const std::string& r = records[(done + i) % records.size()];
      MDB_val k{8, key};
      MDB_val v{r.size(), const_cast<char*>(r.data())};
      if (int rc = mdb_put(txn, dbi, &k, &v, MDB_APPEND)) {
        throw std::runtime_error(fmt::format("mdb_put: {}", mdb_strerror(rc)));
      }
    }
    if (int rc = mdb_txn_commit(txn)) {
      throw std::runtime_error(fmt::format("mdb_txn_commit: {}", mdb_strerror(rc)));
    }
  }
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  mdb_env_close(env);
  return seconds;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

std::string grouped(double v) {
  auto s = fmt::format("{:.0f}", v);
  for (int i = static_cast<int>(s.size()) - 3; i > 0; i -= 3) s.insert(static_cast<size_t>(i), ",");
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  const char* tmp = std::getenv("TMPDIR");
  o.dir = std::filesystem::path(tmp && *tmp ? tmp : "/var/tmp");
  CLI::App app{"log_append: events/s through the event log against raw LMDB appends"};
  std::string durability(lmdb::to_string(o.durability));
  app.add_option("--dir", o.dir, "where the environments are made");
  app.add_option("--durability", durability, "sync | nometasync | nosync")
      ->check(CLI::IsMember({"sync", "nometasync", "nosync"}));
  app.add_option("--rounds", o.rounds, "rounds; the median is shown")->check(CLI::PositiveNumber);
  CLI11_PARSE(app, argc, argv);
  o.durability = *lmdb::parse_durability(durability);
  const auto work = o.dir / fmt::format("agate-log-append-{}", ::getpid());

  std::vector<events::Event> source;
  std::vector<std::string> records;
  for (std::uint64_t i = 0; i < 4096; ++i) {
    source.push_back(make_event(i));
    auto e = source.back();
    e.seq = events::Seq{i + 1};
    records.push_back(events::encode(e));
  }

  fmt::print(
      "log_append: ruleAllowed events of {} bytes, durability {}, median of {} rounds, in {}\n",
      records.front().size(), lmdb::to_string(o.durability), o.rounds, o.dir.string());
  fmt::print("{:>6} {:>9} {:>16} {:>18} {:>7}\n", "batch", "events", "agate events/s",
             "raw LMDB events/s", "ratio");
  struct Case {
    std::size_t batch, total;
  };
  for (const Case c : {Case{1, 2000}, Case{10, 10000}, Case{100, 50000}, Case{1000, 200000}}) {
    std::vector<double> agate_s, raw_s;
    for (int r = 0; r < o.rounds; ++r) {
      const auto a_dir = work / "agate", r_dir = work / "raw";
      auto agate_round = [&] { agate_s.push_back(run_agate(o, a_dir, c.batch, c.total, source)); };
      auto raw_round = [&] { raw_s.push_back(run_raw(o, r_dir, c.batch, c.total, records)); };
      if (r % 2 == 0) {
        agate_round();
        raw_round();
      } else {
        raw_round();
        agate_round();
      }
      std::filesystem::remove_all(work);
    }
    const double agate_rate = static_cast<double>(c.total) / median(agate_s);
    const double raw_rate = static_cast<double>(c.total) / median(raw_s);
    fmt::print("{:>6} {:>9} {:>16} {:>18} {:>7.2f}\n", c.batch, c.total, grouped(agate_rate),
               grouped(raw_rate), agate_rate / raw_rate);
  }
  std::filesystem::remove_all(work);
  return 0;
}
