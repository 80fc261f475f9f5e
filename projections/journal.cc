#include "projections/journal.h"

#include <sys/statvfs.h>

#include <cerrno>
#include <cstdint>
#include <optional>

namespace agate::projections {

namespace {

class Batch final : public engine::WriteBatch {
 public:
  Batch(const Journal& journal, const lmdb::Txn& txn, std::vector<OutboxEntry>& dirty)
      : journal_(journal), txn_(txn), state_(journal.store().state(txn)), dirty_(dirty) {}

  const engine::State& state() override { return *state_; }

  events::Seq head() override {
    if (!head_) head_ = journal_.log().last(txn_);
    return *head_;
  }
  // The last position appended in this transaction, if any.
  std::optional<events::Seq> appended() const { return appended_; }

  void append(std::vector<events::Event>& events) override {
    if (events.empty()) return;
    // On failure the transaction holds part of the events; the writer abandons it (and retries
    // the batch's other commands without this one).
    try {
      head_.reset();  // unknown until the append is done: it may fail halfway
      const auto last = journal_.log().append(txn_, events);
      for (const auto& e : events) journal_.store().apply(txn_, e, &dirty_);
      head_ = appended_ = last;
    } catch (const lmdb::Error& e) {
      throw storage_error(e, journal_.env().path());
    }
  }

 private:
  const Journal& journal_;
  const lmdb::Txn& txn_;
  std::unique_ptr<engine::State> state_;
  std::vector<OutboxEntry>& dirty_;
  std::optional<events::Seq> head_;
  std::optional<events::Seq> appended_;
};

}  // namespace

namespace {

// Below this much room, a short write (EIO from LMDB) is the disk filling up, not a failing one.
constexpr std::uint64_t kNearlyFullBytes = 64u << 20;

bool disk_nearly_full(const std::filesystem::path& dir) {
  struct statvfs st {};
  if (dir.empty() || ::statvfs(dir.c_str(), &st) != 0) return false;
  return static_cast<std::uint64_t>(st.f_bavail) * st.f_frsize < kNearlyFullBytes;
}

}  // namespace

engine::StorageError storage_error(const lmdb::Error& e, const std::filesystem::path& data_dir) {
  if (lmdb::is_out_of_space(e) || (e.code() == EIO && disk_nearly_full(data_dir))) {
    return {engine::errc::out_of_space,
            std::string("The storage is full; the change was not recorded (") + e.what() + ")."};
  }
  return {engine::errc::unavailable, e.what()};
}

void Journal::run(const std::function<void(engine::WriteBatch&)>& fn) {
  std::vector<OutboxEntry> dirty;
  std::optional<events::Seq> appended;
  try {
    auto txn = lmdb::Txn::begin_write(env_);
    {
      Batch batch(*this, txn, dirty);
      fn(batch);
      appended = batch.appended();
    }
    txn.commit();
  } catch (const lmdb::Error& e) {
    throw storage_error(e, env_.path());
  }
  if (appended && applied_listener_) applied_listener_(*appended);
  if (listener_) listener_(dirty);
}

}  // namespace agate::projections
