#pragma once

// The journal: the event log and the projections of one LMDB environment, written together.
// It is the writer's storage (engine::WriteBackend): each append puts the events in the log and
// folds them into the projections in the same transaction, so the two never disagree.

#include <functional>

#include "engine/writer.h"
#include "events/event_log.h"
#include "events/lmdb.h"
#include "projections/store.h"

namespace agate::projections {

class Journal final : public engine::WriteBackend {
 public:
  // `env` must outlive the journal.
  Journal(lmdb::Env& env, events::EventLog log, Store store)
      : env_(env), log_(log), store_(std::move(store)) {}

  void run(const std::function<void(engine::WriteBatch&)>& fn) override;

  // Called after each commit, on the writer's thread, with the instances the commit put in the
  // outbox (possibly none). Set it before the first write; it must be quick and must not throw
  // (the commit is done: the dispatcher only queues the instances).
  using CommitListener = std::function<void(const std::vector<OutboxEntry>&)>;
  void set_commit_listener(CommitListener listener) { listener_ = std::move(listener); }
  // Called after each commit that appended events, on the writer's thread and before the
  // commit listener, with the log's new last position (what waits for a position are told).
  // Set it before the first write; it must be quick and must not throw.
  using AppliedListener = std::function<void(events::Seq)>;
  void set_applied_listener(AppliedListener listener) { applied_listener_ = std::move(listener); }

  lmdb::Env& env() const { return env_; }
  const events::EventLog& log() const { return log_; }
  const Store& store() const { return store_; }

 private:
  lmdb::Env& env_;
  events::EventLog log_;
  Store store_;
  CommitListener listener_;
  AppliedListener applied_listener_;
};

// Turns an LMDB failure into the writer's StorageError: a full map or disk is out_of_space.
// `data_dir`, if given, is where the environment lives: LMDB reports a write that the disk cut
// short as EIO, which is taken for a full disk when that file system has almost no room left.
engine::StorageError storage_error(const lmdb::Error& e,
                                   const std::filesystem::path& data_dir = {});

}  // namespace agate::projections
