// agate-admin: offline administration of an Agate data directory — replay and audit the event
// log, rebuild and verify the projections, print statistics. See tools/agate-admin/README.md.

#include <fmt/format.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "events/event_log.h"
#include "events/lmdb.h"
#include "http/audit_views.h"
#include "projections/audit.h"
#include "projections/rebuild.h"
#include "projections/store.h"
#include "tools/agate-admin/event_json.h"
#include "tools/config.h"
#include "tools/data_dir_lock.h"

namespace {

namespace fs = std::filesystem;
namespace audit = agate::projections::audit;
namespace json = boost::json;
using namespace agate;

// Exit statuses (also in --help and the README).
constexpr int kOk = 0;
constexpr int kFailure = 1;     // bad input, an unknown share, a data directory that cannot be used
constexpr int kUsage = 2;       // the command line itself
constexpr int kCorruptLog = 3;  // the log holds an event that cannot be read
constexpr int kDifferent = 4;   // verify: the live projections differ from a rebuild
constexpr int kServerRunning = 5;  // rebuild: agated holds the data directory

// A failure the user can act on; main prints it and exits with `status`.
struct Failure : std::runtime_error {
  Failure(int status, const std::string& message) : std::runtime_error(message), status(status) {}
  int status;
};

enum class Format { table, json };

// ---- tables, numbers and bytes as text -------------------------------------------------

std::string grouped(std::uint64_t n) {
  std::string digits = std::to_string(n), out;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i != 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

std::string human_bytes(std::uint64_t bytes) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double v = static_cast<double>(bytes);
  int u = 0;
  while (v >= 1024 && u < 4) {
    v /= 1024;
    ++u;
  }
  return fmt::format("{:.1f} {}", v, units[u]);
}

// Bytes as text: printable ASCII as is, the rest as \xNN.
std::string escaped(std::string_view bytes, std::size_t limit = 256) {
  std::string out;
  for (std::size_t i = 0; i < bytes.size() && i < limit; ++i) {
    const auto c = static_cast<unsigned char>(bytes[i]);
    if (c >= 0x20 && c < 0x7f && c != '\\') {
      out += static_cast<char>(c);
    } else {
      out += fmt::format("\\x{:02x}", c);
    }
  }
  if (bytes.size() > limit) out += fmt::format("… ({} bytes)", bytes.size());
  return out;
}

// Columns padded to their widest cell; the last column is not padded.
class Table {
 public:
  explicit Table(std::vector<std::string> headers) { rows_.push_back(std::move(headers)); }
  void add(std::vector<std::string> row) { rows_.push_back(std::move(row)); }
  void print(std::FILE* out = stdout) const {
    std::vector<std::size_t> width;
    for (const auto& row : rows_) {
      width.resize(std::max(width.size(), row.size()));
      for (std::size_t i = 0; i < row.size(); ++i) width[i] = std::max(width[i], row[i].size());
    }
    for (const auto& row : rows_) {
      std::string line;
      for (std::size_t i = 0; i < row.size(); ++i) {
        line += row[i];
        if (i + 1 < row.size()) line += std::string(width[i] - row[i].size() + 2, ' ');
      }
      while (!line.empty() && line.back() == ' ') line.pop_back();
      fmt::print(out, "{}\n", line);
    }
  }

 private:
  std::vector<std::vector<std::string>> rows_;
};

void print_json(const json::value& v) { fmt::print("{}\n", json::serialize(v)); }

std::string sources_text(const std::vector<engine::RuleSource>& sources) {
  std::string out;
  for (const auto& s : sources) out += (out.empty() ? "" : "; ") + engine::describe(s);
  return out;
}

std::string rule_text(const engine::RuleIdentity& r) {
  return fmt::format("{}:{}", events::to_string(r.access_type), r.identity);
}

std::string cause_text(const audit::Cause& c) {
  return fmt::format("event {} ({}) at {} by {} of {}, request {}", c.seq.value, c.kind,
                     audit::format_time(c.time_micros), c.user_id.empty() ? "-" : c.user_id,
                     c.project_id.empty() ? "-" : c.project_id,
                     c.request_id.empty() ? "-" : c.request_id);
}

std::string outcome_text(const audit::DriverReport& r) {
  std::string what;
  if (!r.call_succeeded) {
    what = fmt::format("call failed: {}", r.message);
  } else if (!r.failures.empty()) {
    what = fmt::format("{} rule(s) refused:", r.failures.size());
    for (const auto& f : r.failures) {
      what += fmt::format(" {}:{} ({})", events::to_string(f.rule.access_type), f.rule.access_to,
                          f.message);
    }
  } else {
    what = "applied";
  }
  return fmt::format("driver: instance {} version {}: {} (event {} at {})", r.instance_id,
                     r.applied_version, what, r.cause.seq.value,
                     audit::format_time(r.cause.time_micros));
}

// ---- the data directory ---------------------------------------------------------------------

struct Data {
  fs::path dir;
  lmdb::Env env;
  events::EventLog log;
  std::optional<projections::Store> store;  // nullopt if the environment has no projections
};

fs::path data_file(const fs::path& dir) { return dir / "data.mdb"; }

void require_data_dir(const fs::path& dir) {
  if (!fs::exists(data_file(dir))) {
    throw Failure(kFailure, fmt::format("{} is not an Agate data directory (it has no data.mdb)",
                                        dir.string()));
  }
}

// Opens the environment and finds the log and projections, read-only unless `writable`. A
// read-only open (MDB_RDONLY) takes only reader slots in lock.mdb: a running agated is not
// disturbed, and never waits for it.
Data open_data(const fs::path& dir, lmdb::EnvOptions options, bool writable) {
  require_data_dir(dir);
  options.read_only = !writable;
  auto env = lmdb::Env::open(dir, options);
  std::optional<events::EventLog> log;
  std::optional<projections::Store> store;
  if (writable) {
    log = events::EventLog::open(env);
    store = projections::Store::open(env, {});
  } else {
    // Database handles opened in a transaction outlive it only if it commits.
    auto txn = lmdb::Txn::begin_read(env);
    log = events::EventLog::try_open(txn);
    store = projections::Store::try_open(txn);
    txn.commit();
    if (!log) {
      throw Failure(kFailure, fmt::format("{} holds no event log", dir.string()));
    }
  }
  return Data{dir, std::move(env), *log, std::move(store)};
}

std::int64_t time_option(const std::string& text, std::string_view flag) {
  auto t = audit::parse_time(text);
  if (!t) {
    throw Failure(kFailure, fmt::format("{} {}: not an RFC 3339 time (e.g. 2026-11-25T12:54:58Z or "
                                        "2026-11-25T13:54:58.5+01:00)",
                                        flag, text));
  }
  return *t;
}

// Turns an audit error into the Failure main() reports: a log that cannot be read is status 3.
[[noreturn]] void fail_with(const audit::AuditError& e) {
  const int status = e.code == audit::errc::corrupt_log || e.code == audit::errc::inconsistent
                         ? kCorruptLog
                         : kFailure;
  throw Failure(status, e.message);
}

// ---- replay ---------------------------------------------------------------------------------

struct ReplayOptions {
  std::optional<std::uint64_t> from_seq, to_seq;
  std::string since, until;
  std::string project, share, group, user, request_id;
  std::vector<std::string> kinds;
};

// The body's scalar members as "key=value", for the table.
std::string details(const json::object& body) {
  std::string out;
  for (const auto& [k, v] : body) {
    std::string text;
    if (v.is_string()) {
      if (v.get_string().empty()) continue;
      text = std::string(v.get_string());
    } else if (v.is_array() || v.is_object()) {
      if ((v.is_array() && v.get_array().empty()) || (v.is_object() && v.get_object().empty())) {
        continue;
      }
      text = json::serialize(v);
    } else {
      text = json::serialize(v);
    }
    out += fmt::format("{}{}={}", out.empty() ? "" : " ", std::string_view(k), text);
  }
  return out;
}

int replay(const Data& d, const ReplayOptions& o, Format format) {
  std::optional<std::int64_t> since, until;
  if (!o.since.empty()) since = time_option(o.since, "--since");
  if (!o.until.empty()) until = time_option(o.until, "--until");
  for (const auto& k : o.kinds) {
    const auto& names = admin::kind_names();
    if (std::find(names.begin(), names.end(), k) == names.end()) {
      std::string all;
      for (const auto& n : names) all += (all.empty() ? "" : ", ") + n;
      throw Failure(kFailure, fmt::format("--kind {}: no such kind; the kinds are {}", k, all));
    }
  }
  auto matches = [&](const events::Event& e) {
    if (since && e.time_micros < *since) return false;
    if (!o.project.empty() && e.project_id != o.project) return false;
    if (!o.user.empty() && e.user_id != o.user) return false;
    if (!o.request_id.empty() && e.request_id != o.request_id) return false;
    if (!o.share.empty() && admin::share_of(e.body) != o.share) return false;
    if (!o.group.empty() && admin::group_of(e.body) != o.group) return false;
    if (!o.kinds.empty() &&
        std::find(o.kinds.begin(), o.kinds.end(), events::kind_name(e.body)) == o.kinds.end()) {
      return false;
    }
    return true;
  };
  const bool table = format == Format::table;
  auto row = [](std::string seq, std::string time, std::string kind, std::string project,
                std::string user, std::string request, std::string rest) {
    fmt::print("{:>8}  {:27}  {:19}  {:16}  {:12}  {:40}  {}\n", seq, time, kind, project, user,
               request, rest);
  };
  if (table) row("SEQ", "TIME", "KIND", "PROJECT", "USER", "REQUEST", "DETAILS");

  // One read transaction: one consistent snapshot even while agated appends.
  auto txn = lmdb::Txn::begin_read(d.env);
  std::uint64_t unreadable = 0;
  events::Seq from{o.from_seq.value_or(1)};
  for (bool done = false; !done;) {
    auto reader = d.log.read(txn, from);
    while (reader.next() == events::LogReader::Status::record) {
      const auto& e = reader.event();
      if ((o.to_seq && e.seq.value > *o.to_seq) || (until && e.time_micros > *until)) {
        done = true;
        break;
      }
      if (!matches(e)) continue;
      auto j = admin::event_json(e);
      if (!table) {
        print_json(j);
        continue;
      }
      row(std::to_string(e.seq.value), std::string(j["time"].as_string()),
          std::string(j["kind"].as_string()), e.project_id, e.user_id, e.request_id,
          details(j["body"].as_object()));
    }
    if (done || reader.status() == events::LogReader::Status::end) break;
    // Reported, then read on past it: an audit wants every event that can still be read.
    const auto& c = reader.corruption();
    ++unreadable;
    std::fflush(stdout);
    fmt::print(stderr, "agate-admin: event {}: {}\n", c.seq.value, c.what);
    if (table) {
      row(std::to_string(c.seq.value), "", "UNREADABLE", "", "", "", c.what);
    } else {
      print_json(json::object{{"seq", c.seq.value}, {"unreadable", c.what}});
    }
    from = c.seq.next();
    if (o.to_seq && from.value > *o.to_seq) break;
  }
  if (unreadable) {
    throw Failure(kCorruptLog, fmt::format("{} event(s) of the log could not be read", unreadable));
  }
  return kOk;
}

// ---- access-at, access-history, who-had-access ----------------------------------------------

int access_at(const Data& d, const std::string& share, const std::string& at,
              std::optional<std::uint64_t> seq, Format format) {
  audit::AsOf as_of;
  if (!at.empty()) as_of.time_micros = time_option(at, "--at");
  if (seq) as_of.seq = events::Seq{*seq};
  auto txn = lmdb::Txn::begin_read(d.env);
  auto a = audit::access_at(txn, d.log, share, as_of);
  if (!a) fail_with(a.error());
  if (format == Format::json) {
    print_json(http::access_at_view(*a));
    return kOk;
  }
  const std::string point = a->as_of_seq.value == 0
                                ? std::string("before the first event")
                                : fmt::format("as of event {} at {}", a->as_of_seq.value,
                                              audit::format_time(a->as_of_time));
  fmt::print("share {}{}, {}\n", share, a->name.empty() ? "" : fmt::format(" \"{}\"", a->name),
             point);
  if (a->created) {
    fmt::print("{} by {}\n", a->created->seq > a->as_of_seq ? "created later" : "created",
               cause_text(*a->created));
  }
  if (a->deleted) fmt::print("deleted by {}\n", cause_text(*a->deleted));
  if (!a->existed) {
    fmt::print("the share did not exist then: no access\n");
    return kOk;
  }
  fmt::print("project {}; {} effective rule(s), desired version {}\n", a->project_id,
             a->rules.size(), a->desired_version);
  if (a->rules.empty()) return kOk;
  Table t({"TYPE", "ACCESS_TO", "LEVEL", "SINCE", "SOURCES"});
  for (const auto& r : a->rules) {
    t.add({std::string(events::to_string(r.access_type)), r.access_to,
           std::string(events::to_string(r.access_level)), fmt::format("v{}", r.since_version),
           sources_text(r.sources)});
  }
  t.print();
  return kOk;
}

int access_history(const Data& d, const std::string& share, const std::string& since,
                   const std::string& until, Format format) {
  audit::TimeRange range;
  if (!since.empty()) range.from_micros = time_option(since, "--since");
  if (!until.empty()) range.to_micros = time_option(until, "--until");
  auto txn = lmdb::Txn::begin_read(d.env);
  auto h = audit::access_history(txn, d.log, share, range);
  if (!h) fail_with(h.error());
  if (format == Format::json) {
    print_json(http::access_history_view(*h));
    return kOk;
  }
  fmt::print("share {}{} of project {}\n", share,
             h->name.empty() ? "" : fmt::format(" \"{}\"", h->name), h->project_id);
  if (h->created) fmt::print("created by {}\n", cause_text(*h->created));
  if (h->deleted) fmt::print("deleted by {}\n", cause_text(*h->deleted));
  fmt::print("{} change(s) of its effective rules{}\n", h->changes.size(),
             range.from_micros || range.to_micros ? " in the range" : "");
  if (h->changes.empty()) return kOk;
  Table t({"SEQ", "TIME", "CAUSE", "USER", "REQUEST", "VERSION", "CHANGE"});
  for (const auto& c : h->changes) {
    bool first = true;
    auto cause_cells = [&]() -> std::vector<std::string> {
      if (!first) return {"", "", "", "", "", ""};
      first = false;
      return {std::to_string(c.cause.seq.value),
              audit::format_time(c.cause.time_micros),
              c.cause.kind,
              c.cause.user_id,
              c.cause.request_id,
              fmt::format("v{} ({} rules)", c.version, c.rules_after)};
    };
    for (const auto& delta : c.deltas) {
      auto cells = cause_cells();
      cells.push_back(fmt::format("{} {} {} ({})", delta.added ? "+" : "-", rule_text(delta.rule),
                                  events::to_string(delta.level), sources_text(delta.sources)));
      t.add(std::move(cells));
    }
    for (const auto& r : c.outcomes) {
      auto cells = cause_cells();
      cells.push_back(outcome_text(r));
      t.add(std::move(cells));
    }
  }
  t.print();
  return kOk;
}

int who_had_access(const Data& d, const audit::WhoQuery& q, Format format) {
  auto txn = lmdb::Txn::begin_read(d.env);
  auto intervals = audit::who_had_access(txn, d.log, q);
  if (!intervals) fail_with(intervals.error());
  if (format == Format::json) {
    print_json(http::who_had_access_view(q, *intervals));
    return kOk;
  }
  fmt::print("{} effective rule(s) {} {}{} between {} and {}\n", intervals->size(),
             q.containing ? "matching or holding" : "matching",
             q.access_type ? fmt::format("{}:", events::to_string(*q.access_type)) : "",
             q.access_to, audit::format_time(q.from_micros), audit::format_time(q.to_micros));
  if (intervals->empty()) return kOk;
  Table t({"SHARE", "PROJECT", "RULE", "LEVEL", "GRANTED", "REVOKED", "SOURCES"});
  for (const auto& in : *intervals) {
    auto when = [](const audit::Cause& c) {
      return fmt::format("{} (event {}, {})", audit::format_time(c.time_micros), c.seq.value,
                         c.kind);
    };
    t.add({in.share_id, in.project_id, rule_text(in.rule), std::string(events::to_string(in.level)),
           when(in.granted), in.revoked ? when(*in.revoked) : "still effective",
           sources_text(in.sources)});
  }
  t.print();
  return kOk;
}

// ---- rebuild, verify, stats -----------------------------------------------------------------

// A progress bar on standard error when it is a terminal; nothing otherwise.
class Progress {
 public:
  Progress(std::string label, std::uint64_t total, bool enabled)
      : label_(std::move(label)),
        total_(total),
        enabled_(enabled && ::isatty(STDERR_FILENO)),
        start_(std::chrono::steady_clock::now()) {}
  void update(std::uint64_t done) {
    if (!enabled_) return;
    const double s = seconds();
    const double fraction = total_ ? static_cast<double>(done) / static_cast<double>(total_) : 1;
    const int filled = static_cast<int>(fraction * 30);
    fmt::print(stderr, "\r{} [{}{}] {:3.0f}%  {}/{} events  {} events/s ", label_,
               std::string(filled, '#'), std::string(30 - filled, '.'), fraction * 100,
               grouped(done), grouped(total_),
               grouped(s > 0 ? static_cast<std::uint64_t>(static_cast<double>(done) / s) : 0));
  }
  void finish() {
    if (enabled_) fmt::print(stderr, "\n");
  }
  double seconds() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  }

 private:
  std::string label_;
  std::uint64_t total_;
  bool enabled_;
  std::chrono::steady_clock::time_point start_;
};

// A scratch environment, removed with its directory when it goes out of scope.
struct Scratch {
  fs::path dir;
  std::optional<lmdb::Env> env;
  std::optional<projections::Store> store;
  Scratch(fs::path d, std::size_t map_size) : dir(std::move(d)) {
    fs::remove_all(dir);
    lmdb::EnvOptions o;
    o.map_size = map_size;
    o.durability = lmdb::Durability::nosync;  // thrown away or copied; never the live data
    env.emplace(lmdb::Env::open(dir, o));
    store.emplace(projections::Store::open(*env, {}));
  }
  ~Scratch() {
    store.reset();
    env.reset();
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
};

// Replays the events of `d`'s log after `after` into `scratch`, with a progress bar up to `last`.
// Throws Failure (kCorruptLog) on a log that cannot be read or replayed.
projections::RebuildStats replay_into(const Data& d, Scratch& scratch, events::Seq after,
                                      events::Seq last, std::uint64_t batch, bool progress) {
  Progress bar("rebuild", last.value, progress && after.value == 0);
  try {
    auto stats =
        projections::replay(d.env, d.log, *scratch.env, *scratch.store, after, batch,
                            [&](const projections::RebuildStats& s) { bar.update(s.last.value); });
    bar.finish();
    return stats;
  } catch (const projections::ApplyError& e) {
    bar.finish();
    throw Failure(kCorruptLog, fmt::format("the log cannot be replayed: {}", e.what()));
  } catch (const lmdb::Error&) {
    bar.finish();
    throw;
  } catch (const std::runtime_error& e) {
    // projections::replay's report of an event it cannot read, with its sequence number.
    bar.finish();
    throw Failure(kCorruptLog, e.what());
  }
}

int rebuild(const fs::path& dir, const lmdb::EnvOptions& options, std::uint64_t batch,
            bool progress) {
  require_data_dir(dir);
  // Held until the new projections are in: a server that starts meanwhile refuses to.
  std::optional<tools::DataDirLock> lock;
  try {
    lock.emplace(dir);
  } catch (const std::runtime_error&) {
    const auto pid = tools::lock_holder(dir);
    throw Failure(kServerRunning,
                  fmt::format("{} is in use{}: stop agated before rebuilding (verify, stats and "
                              "the audit commands work while it runs)",
                              dir.string(), pid ? fmt::format(" by process {}", *pid) : ""));
  }
  auto d = open_data(dir, options, /*writable=*/true);
  events::Seq last;
  {
    auto txn = lmdb::Txn::begin_read(d.env);
    last = d.log.last(txn);
  }
  const auto started = std::chrono::steady_clock::now();
  Scratch scratch(dir / "rebuild.tmp", d.env.map_size());
  const auto stats = replay_into(d, scratch, events::Seq{0}, last, batch, progress);
  const double rebuild_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  const auto digest = projections::replace_projections(d.env, *d.store, d.log, stats.last,
                                                       *scratch.env, *scratch.store);
  const double total_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  fmt::print(
      "rebuilt the projections from {} events in {:.1f} s ({} events/s) and swapped them "
      "in ({:.1f} s in all); digest {}\n",
      grouped(stats.events), rebuild_s,
      grouped(rebuild_s > 0 ? static_cast<std::uint64_t>(stats.events / rebuild_s) : 0), total_s,
      digest);
  return kOk;
}

int verify(const fs::path& dir, const lmdb::EnvOptions& options, const fs::path& scratch_dir,
           std::uint64_t batch, bool progress) {
  auto d = open_data(dir, options, /*writable=*/false);
  if (!d.store) throw Failure(kDifferent, fmt::format("{} holds no projections", dir.string()));
  events::Seq last;
  {
    auto txn = lmdb::Txn::begin_read(d.env);
    last = d.log.last(txn);
  }
  Scratch scratch(
      (scratch_dir.empty() ? dir : scratch_dir) / fmt::format("verify-{}.tmp", ::getpid()),
      d.env.map_size());
  auto stats = replay_into(d, scratch, events::Seq{0}, last, batch, progress);
  // A running server may have appended meanwhile: catch up until one snapshot of the live
  // projections is at the rebuilt position.
  for (int round = 0;; ++round) {
    auto live = lmdb::Txn::begin_read(d.env);
    const auto now = d.log.last(live);
    if (now == stats.last) {
      auto rebuilt = lmdb::Txn::begin_read(*scratch.env);
      auto diff = projections::first_difference(live, rebuilt);
      if (!diff) {
        fmt::print("the projections equal a rebuild from the log's {} events; digest {}\n",
                   grouped(stats.last.value), d.store->digest(live));
        return kOk;
      }
      fmt::print("the projections differ from a rebuild from the log's {} events\n",
                 grouped(stats.last.value));
      fmt::print("first difference: database {}, key {}\n", diff->database, escaped(diff->key));
      fmt::print("  live:    {}\n", diff->left ? escaped(*diff->left) : "(absent)");
      fmt::print("  rebuilt: {}\n", diff->right ? escaped(*diff->right) : "(absent)");
      return kDifferent;
    }
    live.abort();
    if (round == 100) throw Failure(kFailure, "the log grows faster than verify catches up");
    stats.last = replay_into(d, scratch, stats.last, stats.last, batch, false).last;
  }
}

int stats(const fs::path& dir, const lmdb::EnvOptions& options, bool kinds, Format format) {
  auto d = open_data(dir, options, /*writable=*/false);
  const auto holder = tools::lock_holder(dir);
  auto txn = lmdb::Txn::begin_read(d.env);
  const auto last = d.log.last(txn);
  std::optional<events::Event> first_event, last_event;
  {
    auto r = d.log.read(txn, events::Seq{1});
    if (r.next() == events::LogReader::Status::record) first_event = r.event();
    auto l = d.log.read(txn, last);
    if (last.value != 0 && l.next() == events::LogReader::Status::record) last_event = l.event();
  }
  std::map<std::string, std::uint64_t> kind_counts;
  std::uint64_t log_bytes = 0;
  std::optional<events::Corruption> corruption;
  if (kinds) {
    auto r = d.log.read(txn);
    while (r.next() == events::LogReader::Status::record) {
      ++kind_counts[std::string(events::kind_name(r.event().body))];
      log_bytes += r.record().size();
    }
    if (r.status() == events::LogReader::Status::corruption) corruption = r.corruption();
  }
  struct DbStat {
    std::string name;
    MDB_stat s;
  };
  std::vector<DbStat> dbs;
  dbs.push_back({events::EventLog::kDatabaseName, d.log.dbi().stat(txn)});
  for (const auto& name : projections::Store::database_names()) {
    if (auto dbi = lmdb::Dbi::try_open(txn, name.c_str())) dbs.push_back({name, dbi->stat(txn)});
  }
  const auto outbox = d.store ? d.store->outbox(txn).size() : 0;
  std::error_code ec;
  const auto file_size = fs::file_size(data_file(dir), ec);
  auto pages = [](const MDB_stat& s) {
    return s.ms_branch_pages + s.ms_leaf_pages + s.ms_overflow_pages;
  };

  if (format == Format::json) {
    json::object o{
        {"data_dir", dir.string()},
        {"agated_pid", holder ? json::value(*holder) : json::value(nullptr)},
        {"data_file_bytes", ec ? 0 : file_size},
        {"map_size", d.env.map_size()},
        {"used_bytes", d.env.used_bytes()},
        {"last_seq", last.value},
        {"first_time", first_event ? json::value(audit::format_time(first_event->time_micros))
                                   : json::value(nullptr)},
        {"last_time", last_event ? json::value(audit::format_time(last_event->time_micros))
                                 : json::value(nullptr)},
        {"outbox", outbox}};
    json::array dbs_json;
    for (const auto& db : dbs) {
      dbs_json.push_back({{"name", db.name},
                          {"entries", db.s.ms_entries},
                          {"pages", pages(db.s)},
                          {"bytes", pages(db.s) * db.s.ms_psize},
                          {"depth", db.s.ms_depth}});
    }
    o["databases"] = std::move(dbs_json);
    if (kinds) {
      json::object k;
      for (const auto& [name, n] : kind_counts) k[name] = n;
      o["kinds"] = std::move(k);
      o["record_bytes"] = log_bytes;
      if (corruption) o["unreadable_at"] = corruption->seq.value;
    }
    print_json(o);
  } else {
    fmt::print("data directory  {} ({})\n", dir.string(),
               holder ? fmt::format("agated running, pid {}", *holder) : "no agated running");
    fmt::print("environment     data.mdb {} on disk, {} in use of a {} map\n",
               human_bytes(ec ? 0 : file_size), human_bytes(d.env.used_bytes()),
               human_bytes(d.env.map_size()));
    if (last.value == 0) {
      fmt::print("event log       empty\n");
    } else {
      fmt::print("event log       {} events, seq 1..{}, {} .. {}\n", grouped(last.value),
                 grouped(last.value),
                 first_event ? audit::format_time(first_event->time_micros) : "?",
                 last_event ? audit::format_time(last_event->time_micros) : "?");
    }
    fmt::print("outbox          {} share instance(s) waiting for their back end\n", outbox);
    Table t({"DATABASE", "ENTRIES", "PAGES", "SIZE", "DEPTH"});
    for (const auto& db : dbs) {
      t.add({db.name, grouped(db.s.ms_entries), grouped(pages(db.s)),
             human_bytes(pages(db.s) * db.s.ms_psize), std::to_string(db.s.ms_depth)});
    }
    t.print();
    if (kinds) {
      Table k({"KIND", "EVENTS"});
      for (const auto& [name, n] : kind_counts) k.add({name, grouped(n)});
      k.print();
      fmt::print("records: {}\n", human_bytes(log_bytes));
    }
  }
  if (corruption) {
    throw Failure(kCorruptLog,
                  fmt::format("event {}: {}", corruption->seq.value, corruption->what));
  }
  return kOk;
}

// ---- command line -----------------------------------------------------------------------------

constexpr const char* kExitStatus = R"(
EXIT STATUS
  0  success (verify: the projections equal a rebuild)
  1  bad input (an unknown share, a malformed time), or a data directory that cannot be used
  2  a malformed command line
  3  the event log holds an event that cannot be read (its sequence number is printed)
  4  verify: the live projections differ from a rebuild (the first difference is printed)
  5  rebuild: a running agated holds the data directory)";

constexpr const char* kGlobalOptions = R"(
GLOBAL OPTIONS (before or after the command)
  -d, --data-dir DIR  the data directory agated uses (default: --config's, else var/agate)
  -c, --config FILE   agated's TOML configuration, for its data_dir and map_size
  --map-size SIZE     the LMDB map size to open with, e.g. 16GiB
)";

// A subcommand: a one-line summary for the list in agate-admin --help, and the whole description,
// indented as a manual page's, with the exit statuses in its own --help.
CLI::App* add_command(CLI::App& app, const char* name, const char* summary,
                      std::string_view description, std::string_view examples) {
  auto* cmd = app.add_subcommand(name, summary);
  std::string text = "\nDESCRIPTION\n";
  while (!description.empty()) {
    const auto nl = description.find('\n');
    const auto line = description.substr(0, nl);
    text += line.empty() ? "\n" : fmt::format("  {}\n", line);
    if (nl == std::string_view::npos) break;
    description.remove_prefix(nl + 1);
  }
  cmd->footer(text + kGlobalOptions + "\nEXAMPLES\n" + std::string(examples) + kExitStatus);
  return cmd;
}

void add_format(CLI::App* cmd, std::string& format, const char* what) {
  cmd->add_option("--format", format, what)
      ->check(CLI::IsMember({"table", "json"}))
      ->default_str("table");
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "agate-admin — administer an Agate data directory from its event log.\n\n"
      "Reads the LMDB environment agated writes (<data-dir>/data.mdb). replay, access-at,\n"
      "access-history, who-had-access, verify and stats open it read-only and may run while\n"
      "agated serves; rebuild replaces the projections and refuses while agated runs.\n"
      "Times are RFC 3339 (2026-11-25T12:54:58Z, 2026-11-25T13:54:58.25+01:00) and are printed\n"
      "in UTC."};
  app.footer(std::string(kExitStatus) + R"(

EXAMPLES
  agate-admin --data-dir var/agate stats
  agate-admin replay --share 2a2d8297-… --since 2026-11-01T00:00:00Z
  agate-admin access-at 2a2d8297-… --at 2026-11-20T09:00:00Z
  agate-admin who-had-access --access-to 10.0.0.7 --from 2026-11-01T00:00:00Z --to 2026-11-30T00:00:00Z

See tools/agate-admin/README.md for each command's output.)");
  app.require_subcommand(1);
  app.fallthrough();
  std::string data_dir_flag, config_file, map_size;
  app.add_option("-d,--data-dir", data_dir_flag,
                 "the data directory agated uses (default: the configuration's, else var/agate)");
  app.add_option("-c,--config", config_file,
                 "agated's TOML configuration, for its data directory and map size")
      ->check(CLI::ExistingFile);
  app.add_option("--map-size", map_size,
                 "the LMDB map size to open with, e.g. 16GiB (default: "
                 "the configuration's)");

  std::string format = "table";

  // replay
  ReplayOptions ro;
  auto* replay_cmd = add_command(
      app, "replay", "print the log's events, filtered, as a table or JSON lines",
      "Print the events of the log, oldest first, as a table or as JSON lines.\n\n"
      "Filters combine (all must match). --share and --group match the events whose body names\n"
      "that share or group (not the entries of the share's groups: see access-history for the\n"
      "effect of those). An event that cannot be decoded is printed as UNREADABLE with its\n"
      "sequence number, reported on standard error, and the scan goes on past it; the exit\n"
      "status is then 3. The scan is one read transaction: a consistent snapshot.",
      "  agate-admin -d var/agate replay --since 2026-11-25T00:00:00Z --kind ruleAllowed\n"
      "  agate-admin -d var/agate replay --request-id req-530003f0-… --format json\n");
  replay_cmd->add_option("--from-seq", ro.from_seq, "the first sequence number to print");
  replay_cmd->add_option("--to-seq", ro.to_seq, "the last sequence number to print");
  replay_cmd->add_option("--since", ro.since, "only events at or after this time");
  replay_cmd->add_option("--until", ro.until, "only events at or before this time");
  replay_cmd->add_option("--project", ro.project, "only events of this project");
  replay_cmd->add_option("--share", ro.share, "only events about this share");
  replay_cmd->add_option("--group", ro.group, "only events about this access group");
  replay_cmd->add_option("--user", ro.user, "only events asked for by this user");
  replay_cmd->add_option("--request-id", ro.request_id, "only events of this request (req-…)");
  replay_cmd->add_option("--kind", ro.kinds,
                         "only events of this kind (repeatable): ruleAllowed, entryAdded, "
                         "groupAttached, driverOutcome, …");
  add_format(replay_cmd, format, "table, or json: one JSON object per line");

  // access-at
  std::string share, at;
  std::optional<std::uint64_t> seq;
  auto* at_cmd = add_command(
      app, "access-at", "a share's effective rules and their sources at a time or an event",
      "Print the effective rules of a share, with their sources, as they were at a time or\n"
      "after an event, from the log alone. \"At TIME\" is after the last event at or before it;\n"
      "a time before the share existed prints that it had no access.",
      "  agate-admin -d var/agate access-at 01a213a5-2e78-… --at 2026-11-25T16:00:00+01:00\n"
      "  agate-admin -d var/agate access-at 01a213a5-2e78-… --seq 4711 --format json\n");
  at_cmd->add_option("SHARE", share, "the share's id")->required();
  auto* at_opt = at_cmd->add_option("--at", at, "a time (RFC 3339)");
  auto* seq_opt = at_cmd->add_option("--seq", seq, "a sequence number: after that event");
  at_opt->excludes(seq_opt);
  add_format(at_cmd, format, "table, or json: the body of GET …/effective-access?at=");

  // access-history
  std::string since, until;
  auto* history_cmd = add_command(
      app, "access-history",
      "each change of a share's effective rules, its cause and the driver outcomes",
      "Print each change of a share's effective rules: when, the event that caused it (kind,\n"
      "user, request id), the rules that entered (+) and left (-) with their sources, and the\n"
      "driver outcomes that reported that version of the rules to the back end.",
      "  agate-admin -d var/agate access-history 01a213a5-2e78-… --since 2026-11-01T00:00:00Z\n");
  history_cmd->add_option("SHARE", share, "the share's id")->required();
  history_cmd->add_option("--since", since, "only changes at or after this time");
  history_cmd->add_option("--until", until, "only changes at or before this time");
  add_format(history_cmd, format, "table, or json: the body of GET …/access-history");

  // who-had-access
  audit::WhoQuery who;
  std::string who_type, who_share, who_from, who_to;
  auto* who_cmd = add_command(
      app, "who-had-access", "the shares a given access_to could reach during a time range",
      "Answer \"which shares could X reach between T1 and T2?\": every time a rule for X was\n"
      "effective on a share during any part of the range, when it was granted and revoked, and\n"
      "through which sources. X is compared as rules are: 10.0.0.7 matches an ip rule\n"
      "10.0.0.7/32; a network matches only the same network, unless --containing is given:\n"
      "then every ip rule whose network holds X's matches too (10.0.0.0/24 for 10.0.0.7).",
      "  agate-admin -d var/agate who-had-access --access-to 10.0.0.7 \\\n"
      "      --from 2026-11-01T00:00:00Z --to 2026-12-01T00:00:00Z\n"
      "  agate-admin -d var/agate who-had-access --access-to alice --access-type user \\\n"
      "      --share 01a213a5-2e78-… --from 2026-01-01T00:00:00Z --to 2027-01-01T00:00:00Z\n");
  who_cmd->add_option("--access-to", who.access_to, "the access_to asked about")->required();
  who_cmd->add_option("--access-type", who_type, "only rules of this type")
      ->check(CLI::IsMember({"ip", "user", "cert", "cephx"}));
  who_cmd->add_option("--share", who_share, "only this share");
  who_cmd->add_flag("--containing", who.containing,
                    "also ip rules of networks that hold X (10.0.0.0/24 and 0.0.0.0/0 for "
                    "10.0.0.7)");
  who_cmd->add_option("--from", who_from, "the start of the range")->required();
  who_cmd->add_option("--to", who_to, "the end of the range")->required();
  add_format(who_cmd, format, "table, or json: the body of GET …/audit/who-had-access");

  // rebuild
  std::uint64_t batch = 10'000;
  bool no_progress = false;
  auto* rebuild_cmd = add_command(
      app, "rebuild", "rebuild the projections from the log and swap them in (agated stopped)",
      "Rebuild every projection from the log and put the result in place of the live ones.\n\n"
      "Refuses (status 5) while agated holds the data directory, and holds agated.lock itself\n"
      "until it is done, so that no agated starts meanwhile. The log is replayed into a scratch\n"
      "environment (<data-dir>/rebuild.tmp) with a progress bar; then, in one LMDB write\n"
      "transaction on the live environment, each projection database is emptied, refilled from\n"
      "the scratch copy, and its digest compared with the rebuilt one before the commit. An\n"
      "interruption at any point before the commit leaves the live data as it was.",
      "  systemctl stop agated && agate-admin -d /var/lib/agate rebuild && systemctl start "
      "agated\n");
  rebuild_cmd->add_option("--batch", batch, "events per rebuild transaction")
      ->check(CLI::PositiveNumber);
  rebuild_cmd->add_flag("--no-progress", no_progress, "no progress bar");

  // verify
  std::string scratch_dir;
  auto* verify_cmd = add_command(
      app, "verify", "compare the live projections with a rebuild and print the first difference",
      "Rebuild the projections from the log into a scratch environment and compare them with\n"
      "the live ones, byte for byte; print the first difference (database, key, both values).\n"
      "Works while agated runs: the rebuild catches up with what it appends, and the comparison\n"
      "is against one snapshot at the same position of the log.",
      "  agate-admin -d var/agate verify --scratch /var/tmp\n");
  verify_cmd->add_option("--scratch", scratch_dir,
                         "where to make the scratch environment (default: the data directory); "
                         "it is removed afterwards");
  verify_cmd->add_option("--batch", batch, "events per rebuild transaction")
      ->check(CLI::PositiveNumber);
  verify_cmd->add_flag("--no-progress", no_progress, "no progress bar");

  // stats
  bool kinds = false;
  auto* stats_cmd = add_command(
      app, "stats", "counts, positions and sizes of the log and the projections",
      "Print the data directory's figures: whether agated runs, the file and map sizes, the\n"
      "log's positions and time span, the outbox, and each database's entries, pages and depth.",
      "  agate-admin -d var/agate stats --kinds\n");
  stats_cmd->add_flag("--kinds", kinds, "also count the events of each kind (reads the whole log)");
  add_format(stats_cmd, format, "table, or json");

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return kUsage;
  }

  try {
    tools::Config config;
    if (!config_file.empty()) tools::load_config_file(config_file, config);
    if (!data_dir_flag.empty()) config.data_dir = data_dir_flag;
    if (!map_size.empty()) {
      auto bytes = tools::parse_size(map_size);
      if (!bytes)
        throw Failure(kUsage,
                      fmt::format("--map-size {}: expected a size such as 16GiB", map_size));
      config.storage.map_size = *bytes;
    }
    const fs::path dir = fs::absolute(config.data_dir).lexically_normal();
    const auto options = config.storage;
    const Format fmt_out = format == "json" ? Format::json : Format::table;

    if (rebuild_cmd->parsed()) return rebuild(dir, options, batch, !no_progress);
    if (verify_cmd->parsed()) return verify(dir, options, scratch_dir, batch, !no_progress);
    if (stats_cmd->parsed()) return stats(dir, options, kinds, fmt_out);

    const auto d = open_data(dir, options, /*writable=*/false);
    if (replay_cmd->parsed()) return replay(d, ro, fmt_out);
    if (at_cmd->parsed()) {
      if (at.empty() && !seq) throw Failure(kUsage, "access-at: give --at TIME or --seq N");
      return access_at(d, share, at, seq, fmt_out);
    }
    if (history_cmd->parsed()) return access_history(d, share, since, until, fmt_out);
    if (who_cmd->parsed()) {
      if (!who_type.empty()) who.access_type = events::parse_access_type(who_type);
      if (!who_share.empty()) who.share_id = who_share;
      who.from_micros = time_option(who_from, "--from");
      who.to_micros = time_option(who_to, "--to");
      return who_had_access(d, who, fmt_out);
    }
    return kUsage;
  } catch (const Failure& e) {
    std::fflush(stdout);
    fmt::print(stderr, "agate-admin: {}\n", e.what());
    return e.status;
  } catch (const tools::ConfigError& e) {
    fmt::print(stderr, "agate-admin: configuration: {}\n", e.what());
    return kUsage;
  } catch (const std::exception& e) {
    std::fflush(stdout);
    fmt::print(stderr, "agate-admin: {}\n", e.what());
    return kFailure;
  }
}
