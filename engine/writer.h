#pragma once

// The single writer: every change to Agate goes through one thread that decides commands and
// appends their events. Commands submitted from many threads while a transaction is being
// written wait in a queue; the writer then decides and appends all of them in one transaction,
// with those that arrive while it does so (WriterOptions::gather), and commits once (group
// commit), so the cost of a durable commit is shared by the batch.
//
// Each command is answered with its own outcome: its events and their log positions, or its
// rejection. A rejected command writes nothing and does not affect the others in its batch.
// A command is answered as accepted only after the commit that holds it returned: every
// acknowledged command is durable (as durable as the environment's setting).
//
// Storage is reached through WriteBackend, so that this stays free of LMDB; projections/
// implements it.

#include <boost/system/result.hpp>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <vector>

#include "engine/commands.h"
#include "engine/decide.h"
#include "engine/model.h"
#include "engine/state.h"
#include "events/event.h"

namespace agate::engine {

// A storage failure the writer reports to callers (map or disk full, I/O error).
class StorageError : public std::runtime_error {
 public:
  StorageError(errc code, const std::string& message) : std::runtime_error(message), code_(code) {}
  errc code() const noexcept { return code_; }

 private:
  errc code_;
};

// One write transaction.
class WriteBatch {
 public:
  virtual ~WriteBatch() = default;
  // The projections as of this transaction, including everything appended so far.
  virtual const State& state() = 0;
  // The log's last position in this transaction, including everything appended so far
  // (Seq{0} for an empty log).
  virtual events::Seq head() = 0;
  // Appends `events` to the log and applies them to the projections; sets each event's seq. On
  // failure (StorageError, or an apply error) the transaction may hold part of the events: the
  // writer then abandons the whole transaction.
  virtual void append(std::vector<events::Event>& events) = 0;
};

class WriteBackend {
 public:
  virtual ~WriteBackend() = default;
  // Runs `fn` in a new write transaction and commits when it returns. If `fn` or the commit
  // throws, nothing is written and the exception propagates (as StorageError where it is one).
  virtual void run(const std::function<void(WriteBatch&)>& fn) = 0;
};

struct Accepted {
  std::vector<events::Event> events;  // with their seq; empty if the command changed nothing
};

using Outcome = boost::system::result<Accepted, Rejection>;

struct WriterOptions {
  std::size_t max_batch = 1024;  // commands decided in one transaction at most
  // How long after it begins a transaction takes in commands that arrive while it is decided,
  // and waits for more while it holds fewer than the previous transaction did. Submitters
  // answered by one commit come back while the next is being decided; without this they wait
  // for the commit after it, and each commit carries only part of them. 0: a transaction takes
  // only the commands waiting when it begins.
  std::chrono::microseconds gather{500};
};

// Thread-safety: submit() and execute() may be called from any thread.
class Writer {
 public:
  using Clock = std::function<std::int64_t()>;  // microseconds since the epoch

  Writer(WriteBackend& backend, std::unique_ptr<IdSource> ids, WriterOptions options = {},
         Clock clock = {});
  // Stops the writer; commands still queued are answered with errc::unavailable.
  ~Writer();
  Writer(const Writer&) = delete;
  Writer& operator=(const Writer&) = delete;

  // Queues a command; `done` is called once, on the writer's thread, with its outcome. `done`
  // must not block for long: it delays the next batch.
  void submit(Context context, Command command, std::function<void(Outcome)> done);
  // The same, also telling the log position the outcome stands at: that of the command's last
  // event, or, if it appended none (a refusal, a change to nothing), the position it was
  // decided at. Seq{0} when the command was not decided at all (shutting down, a failed
  // commit).
  void submit_positioned(Context context, Command command,
                         std::function<void(Outcome, events::Seq)> done);
  // Submits and waits for the outcome.
  Outcome execute(Context context, Command command);

  // Stops taking commands and joins the thread; idempotent.
  void stop();

  struct Stats {
    std::uint64_t batches = 0;
    std::uint64_t commands = 0;
    std::uint64_t failed_commits = 0;
  };
  Stats stats() const;

 private:
  struct Item {
    Context context;
    Command command;
    std::function<void(Outcome, events::Seq)> done;
    std::optional<Outcome> outcome;
    events::Seq position{0};
  };

  void run();
  // `batch` is a deque so that the items gathered into it keep their addresses.
  void process(std::deque<Item>& batch);
  // Decides and appends `items` in one transaction and sets their outcomes; if `batch` is given,
  // gathers commands that arrive meanwhile into it and into `items` (options_.gather). Returns
  // false, with nothing written and outcomes unset, if an append failed in a transaction of
  // several items.
  bool run_transaction(std::vector<Item*>& items, std::deque<Item>* batch);
  // Moves queued commands into `batch` and `items`, waiting for some until `deadline` if the
  // batch is smaller than the previous one. Returns false if none came.
  bool gather(std::deque<Item>& batch, std::vector<Item*>& items,
              std::chrono::steady_clock::time_point deadline);
  void fail_accepted(const std::vector<Item*>& items, const Rejection& why);
  std::int64_t now();

  WriteBackend& backend_;
  std::unique_ptr<IdSource> ids_;
  WriterOptions options_;
  Clock clock_;
  std::int64_t last_time_ = 0;
  std::size_t last_batch_ = 0;  // commands in the previous transaction (writer's thread only)

  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<Item> queue_;
  bool stopping_ = false;
  Stats stats_;
  std::thread thread_;
};

}  // namespace agate::engine
