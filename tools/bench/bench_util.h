#pragma once

// Helpers the engine benchmarks share: the wiring of one engine (environment, journal, writer)
// on a directory, a bounded asynchronous submitter, raw LMDB environments for baselines, and
// small formatting and measuring utilities. Header-only; benchmarks are single files.
//
// Nothing here is thread-safe unless said so.

#include <fmt/format.h>
#include <lmdb.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "engine/commands.h"
#include "engine/decide.h"
#include "engine/writer.h"
#include "events/event_log.h"
#include "events/lmdb.h"
#include "projections/journal.h"
#include "projections/store.h"

namespace agate::bench {

using Clock = std::chrono::steady_clock;

inline double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

inline double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// 1234567.8 -> "1,234,568"
inline std::string grouped(double v) {
  const auto digits = fmt::format("{:.0f}", v < 0 ? -v : v);
  std::string out = v < 0 ? "-" : "";
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

// $TMPDIR, else /var/tmp (a disk, unlike /tmp on some machines).
inline std::filesystem::path default_dir() {
  const char* tmp = std::getenv("TMPDIR");
  return std::filesystem::path(tmp && *tmp ? tmp : "/var/tmp");
}

// Bytes this process has handed to write(2)-like calls so far (the `wchar` line of
// /proc/self/io, all threads). LMDB writes a commit's dirty pages and meta page with
// pwrite/writev, so the difference across one commit is the bytes that commit wrote.
// Returns nullopt where /proc/self/io cannot be read.
inline std::optional<std::uint64_t> written_bytes() {
  std::ifstream in("/proc/self/io");
  std::string name;
  std::uint64_t value = 0;
  while (in >> name >> value) {
    if (name == "wchar:") return value;
  }
  return std::nullopt;
}

inline std::uintmax_t file_size_or_zero(const std::filesystem::path& p) {
  std::error_code ec;
  const auto n = std::filesystem::file_size(p, ec);
  return ec ? 0 : n;
}

inline projections::StoreOptions store_options() {
  projections::StoreOptions o;
  o.backends = {"nfs1"};
  o.default_backend = "nfs1";
  return o;
}

inline engine::Context admin_context() {
  engine::Context c;
  c.project_id = "admin-project";
  c.user_id = "admin";
  c.request_id = "req-bench-admin";
  c.is_admin = true;
  c.version = {2, 45};
  return c;
}

inline engine::Context member_context(const std::string& project) {
  engine::Context c;
  c.project_id = project;
  c.user_id = "bench-user";
  c.request_id = "req-bench-" + project;
  c.version = {2, 45};
  return c;
}

inline engine::CreateShare create_share_command(const std::string& name) {
  engine::CreateShare c;
  c.name = name;
  c.share_proto = "NFS";
  c.size_gib = 1;
  c.share_type = "default";
  return c;
}

// The share type every benchmark uses: "default", placed on nfs1.
inline engine::CreateShareType default_type_command() {
  return engine::CreateShareType{
      "default",
      "",
      true,
      {{"driver_handles_share_servers", "False"}, {"share_backend_name", "nfs1"}}};
}

// The first event of `kind` in an accepted outcome; throws if the command was refused.
template <typename T>
const T& body_of(const engine::Outcome& outcome, const char* what) {
  if (!outcome) {
    throw std::runtime_error(fmt::format("{} refused: {}", what, outcome.error().message));
  }
  for (const auto& e : outcome->events) {
    if (auto* b = std::get_if<T>(&e.body)) return *b;
  }
  throw std::runtime_error(fmt::format("{}: no event of the expected kind", what));
}

// One engine on `dir`: the environment, the journal (log + projections) and the writer, wired
// as agated wires them (random v4 ids, the system clock). Closing is destruction, writer first.
class Engine {
 public:
  Engine(const std::filesystem::path& dir, lmdb::Durability durability,
         std::size_t map_size = std::size_t{16} << 30) {
    lmdb::EnvOptions o;
    o.map_size = map_size;
    o.durability = durability;
    env_.emplace(lmdb::Env::open(dir, o));
    auto log = events::EventLog::open(*env_);
    auto store = projections::Store::open(*env_, store_options());
    journal_ = std::make_unique<projections::Journal>(*env_, log, std::move(store));
    writer_ = std::make_unique<engine::Writer>(*journal_, engine::make_random_ids());
  }
  // Replaces the writer by one over `backend` (which must write through journal() and outlive
  // the engine) and `ids` (random ids if null): how a benchmark puts timers around them.
  void restart_writer(engine::WriteBackend& backend, std::unique_ptr<engine::IdSource> ids = {}) {
    writer_.reset();
    writer_ =
        std::make_unique<engine::Writer>(backend, ids ? std::move(ids) : engine::make_random_ids());
  }
  ~Engine() {
    writer_.reset();
    journal_.reset();
  }
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  lmdb::Env& env() { return *env_; }
  projections::Journal& journal() { return *journal_; }
  const events::EventLog& log() const { return journal_->log(); }
  const projections::Store& store() const { return journal_->store(); }
  engine::Writer& writer() { return *writer_; }

  events::Seq last() {
    auto txn = lmdb::Txn::begin_read(*env_);
    return journal_->log().last(txn);
  }

 private:
  std::optional<lmdb::Env> env_;
  std::unique_ptr<projections::Journal> journal_;
  std::unique_ptr<engine::Writer> writer_;
};

// Submits commands without waiting for each, keeping at most `window` in flight (so that the
// writer's queue, and its batches, stay full without holding every command in memory).
// Thread-safety: submit() and drain() from one thread; callbacks run on the writer's thread.
class Pipeline {
 public:
  Pipeline(engine::Writer& writer, std::size_t window = 4096) : writer_(writer), window_(window) {}
  ~Pipeline() { drain(); }

  // `done` (optional) gets the outcome on the writer's thread. A refused command is counted;
  // drain() reports the first refusal's message through first_refusal().
  void submit(const engine::Context& ctx, engine::Command command,
              std::function<void(const engine::Outcome&)> done = {}) {
    {
      std::unique_lock lock(mutex_);
      room_.wait(lock, [&] { return in_flight_ < window_; });
      ++in_flight_;
    }
    writer_.submit(ctx, std::move(command), [this, done = std::move(done)](engine::Outcome o) {
      if (done) done(o);
      std::lock_guard lock(mutex_);
      if (!o) {
        ++refused_;
        if (first_refusal_.empty()) first_refusal_ = o.error().message;
      }
      --in_flight_;
      room_.notify_all();
    });
  }

  // Waits until every submitted command has its outcome.
  void drain() {
    std::unique_lock lock(mutex_);
    room_.wait(lock, [&] { return in_flight_ == 0; });
  }

  std::uint64_t refused() const {
    std::lock_guard lock(mutex_);
    return refused_;
  }
  std::string first_refusal() const {
    std::lock_guard lock(mutex_);
    return first_refusal_;
  }

 private:
  engine::Writer& writer_;
  std::size_t window_;
  mutable std::mutex mutex_;
  std::condition_variable room_;
  std::size_t in_flight_ = 0;
  std::uint64_t refused_ = 0;
  std::string first_refusal_;
};

// A plain LMDB environment through the C API, for baselines: the same flags Agate uses
// (MDB_NOTLS, the durability's sync flags), nothing else.
class RawEnv {
 public:
  RawEnv(const std::filesystem::path& dir, lmdb::Durability durability,
         std::size_t map_size = std::size_t{16} << 30) {
    std::filesystem::create_directories(dir);
    check("mdb_env_create", mdb_env_create(&env_));
    mdb_env_set_mapsize(env_, map_size);
    mdb_env_set_maxdbs(env_, 4);
    unsigned flags = MDB_NOTLS;
    if (durability == lmdb::Durability::nometasync) flags |= MDB_NOMETASYNC;
    if (durability == lmdb::Durability::nosync) flags |= MDB_NOSYNC;
    check("mdb_env_open", mdb_env_open(env_, dir.c_str(), flags, 0640));
  }
  ~RawEnv() {
    if (env_) mdb_env_close(env_);
  }
  RawEnv(const RawEnv&) = delete;
  RawEnv& operator=(const RawEnv&) = delete;

  // Opens (creating) the database `name` in its own committed transaction.
  MDB_dbi open_db(const char* name) {
    MDB_txn* txn = begin();
    MDB_dbi dbi;
    check("mdb_dbi_open", mdb_dbi_open(txn, name, MDB_CREATE, &dbi));
    commit(txn);
    return dbi;
  }
  MDB_txn* begin() {
    MDB_txn* txn = nullptr;
    check("mdb_txn_begin", mdb_txn_begin(env_, nullptr, 0, &txn));
    return txn;
  }
  static void put(MDB_txn* txn, MDB_dbi dbi, std::string_view k, std::string_view v,
                  unsigned flags = 0) {
    MDB_val key{k.size(), const_cast<char*>(k.data())};
    MDB_val val{v.size(), const_cast<char*>(v.data())};
    check("mdb_put", mdb_put(txn, dbi, &key, &val, flags));
  }
  static void commit(MDB_txn* txn) { check("mdb_txn_commit", mdb_txn_commit(txn)); }

  static void check(const char* what, int rc) {
    if (rc != MDB_SUCCESS) throw std::runtime_error(fmt::format("{}: {}", what, mdb_strerror(rc)));
  }

 private:
  MDB_env* env_ = nullptr;
};

// Times spent by the writer's thread inside the backend, in nanoseconds.
struct Timers {
  std::int64_t run_ns = 0;     // the whole WriteBackend::run: begin, batch function, commit
  std::int64_t inside_ns = 0;  // the batch function (decides and appends)
  std::int64_t append_ns = 0;  // WriteBatch::append calls
  std::int64_t state_ns = 0;   // WriteBatch::state calls (the first one builds the view)
  std::uint64_t runs = 0;
  Timers operator-(const Timers& o) const {
    return {run_ns - o.run_ns, inside_ns - o.inside_ns, append_ns - o.append_ns,
            state_ns - o.state_ns, runs - o.runs};
  }
};

inline std::int64_t ns_since(Clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - t).count();
}

// The writer's thread adds to these; any thread may read them (timers()) while it runs.
struct AtomicTimers {
  std::atomic<std::int64_t> run_ns{0}, inside_ns{0}, append_ns{0}, state_ns{0};
  std::atomic<std::uint64_t> runs{0};
};

class TimedBatch final : public engine::WriteBatch {
 public:
  TimedBatch(engine::WriteBatch& inner, AtomicTimers& t) : inner_(inner), t_(t) {}
  const engine::State& state() override {
    const auto start = Clock::now();
    const auto& s = inner_.state();
    t_.state_ns += ns_since(start);
    return s;
  }
  events::Seq head() override { return inner_.head(); }
  void append(std::vector<events::Event>& events) override {
    const auto start = Clock::now();
    inner_.append(events);
    t_.append_ns += ns_since(start);
  }

 private:
  engine::WriteBatch& inner_;
  AtomicTimers& t_;
};

// Wraps the writer's backend and times it. run_ns includes the journal's commit listener.
class TimedBackend final : public engine::WriteBackend {
 public:
  explicit TimedBackend(engine::WriteBackend& inner) : inner_(inner) {}
  void run(const std::function<void(engine::WriteBatch&)>& fn) override {
    const auto start = Clock::now();
    inner_.run([&](engine::WriteBatch& batch) {
      const auto in = Clock::now();
      TimedBatch timed(batch, t_);
      fn(timed);
      t_.inside_ns += ns_since(in);
    });
    t_.run_ns += ns_since(start);
    ++t_.runs;
  }
  Timers timers() const {
    return {t_.run_ns.load(), t_.inside_ns.load(), t_.append_ns.load(), t_.state_ns.load(),
            t_.runs.load()};
  }
  void reset() {
    t_.run_ns = 0;
    t_.inside_ns = 0;
    t_.append_ns = 0;
    t_.state_ns = 0;
    t_.runs = 0;
  }

 private:
  engine::WriteBackend& inner_;
  AtomicTimers t_;
};

// "1,8,64" -> {1, 8, 64}; entries below 1 become 1.
inline std::vector<int> parse_list(const std::string& s) {
  std::vector<int> out;
  std::size_t pos = 0;
  while (pos <= s.size()) {
    const auto comma = s.find(',', pos);
    const auto part = s.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
    if (!part.empty()) out.push_back(std::max(1, std::atoi(part.c_str())));
    if (comma == std::string::npos) break;
    pos = comma + 1;
  }
  return out;
}

// "--name value" argument parsing shared by the benchmarks' mains.

}  // namespace agate::bench
