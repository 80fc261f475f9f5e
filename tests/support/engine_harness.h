#pragma once

// An engine on a temporary LMDB environment: the journal (log + projections) and a writer with
// seeded ids and a fake clock, so that runs are reproducible.

#include <atomic>
#include <chrono>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "engine/writer.h"
#include "events/event_log.h"
#include "events/lmdb.h"
#include "projections/journal.h"
#include "projections/rebuild.h"
#include "projections/store.h"
#include "tests/support/temp_dir.h"

namespace agate::testing {

projections::StoreOptions default_store_options();

class EngineHarness {
 public:
  explicit EngineHarness(std::uint64_t seed = 1,
                         projections::StoreOptions options = default_store_options(),
                         std::size_t map_size = 256u << 20);
  ~EngineHarness();

  engine::Outcome run(const engine::Context& ctx, engine::Command command);
  // Runs and expects acceptance; returns the events.
  std::vector<events::Event> ok(const engine::Context& ctx, engine::Command command);
  // Runs and expects a rejection; returns it.
  engine::Rejection refused(const engine::Context& ctx, engine::Command command);

  // Shortcuts that return the new object's id.
  std::string create_type(const std::string& name, const std::string& backend = "nfs1");
  std::string create_share(const engine::Context& ctx, const std::string& type = "default",
                           const std::string& name = "share");
  std::string create_group(const engine::Context& ctx, const std::string& name,
                           const std::string& type = "ip");
  std::string add_entry(const engine::Context& ctx, const std::string& group,
                        const std::string& access_to, const std::string& level = "rw");
  std::string allow(const engine::Context& ctx, const std::string& share, const std::string& type,
                    const std::string& access_to, const std::string& level = "rw");
  std::string attach(const engine::Context& ctx, const std::string& share,
                     const std::string& group);

  // The writer's clock: it moves 1 ms at each decision, and by `by` more when told to.
  std::int64_t now() const { return clock_.load(); }
  void advance_clock(std::chrono::microseconds by) { clock_.fetch_add(by.count()); }

  events::Seq last();
  std::string digest();
  // Rebuilds the projections from the log into a fresh environment; returns their digest.
  std::string rebuild_digest();
  // Closes and reopens the environment (and a new writer).
  void reopen();
  // Called after every commit with the instances it put in the outbox (kept across reopen()).
  void set_commit_listener(projections::Journal::CommitListener listener);
  // Called after every commit that appended events with the log's last position (kept across
  // reopen()).
  void set_applied_listener(projections::Journal::AppliedListener listener);

  lmdb::Env& env() { return *env_; }
  const projections::Store& store() { return journal_->store(); }
  const events::EventLog& log() { return journal_->log(); }
  engine::Writer& writer() { return *writer_; }

  static engine::Context admin();
  static engine::Context member(const std::string& project, const std::string& user = "alice");

 private:
  void open();

  TempDir dir_;
  std::uint64_t seed_;
  projections::StoreOptions options_;
  std::size_t map_size_;
  std::atomic<std::int64_t> clock_{1764000000000000};
  std::optional<lmdb::Env> env_;
  std::unique_ptr<projections::Journal> journal_;
  projections::Journal::CommitListener listener_;
  projections::Journal::AppliedListener applied_listener_;
  std::unique_ptr<engine::Writer> writer_;
};

}  // namespace agate::testing
