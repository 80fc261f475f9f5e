#include "projections/journal.h"

namespace agate::projections {

namespace {

class Batch final : public engine::WriteBatch {
 public:
  Batch(const Journal& journal, const lmdb::Txn& txn, std::vector<OutboxEntry>& dirty)
      : journal_(journal), txn_(txn), state_(journal.store().state(txn)), dirty_(dirty) {}

  const engine::State& state() override { return *state_; }

  void append(std::vector<events::Event>& events) override {
    if (events.empty()) return;
    // On failure the transaction holds part of the events; the writer abandons it (and retries
    // the batch's other commands without this one).
    try {
      journal_.log().append(txn_, events);
      for (const auto& e : events) journal_.store().apply(txn_, e, &dirty_);
    } catch (const lmdb::Error& e) {
      throw storage_error(e);
    }
  }

 private:
  const Journal& journal_;
  const lmdb::Txn& txn_;
  std::unique_ptr<engine::State> state_;
  std::vector<OutboxEntry>& dirty_;
};

}  // namespace

engine::StorageError storage_error(const lmdb::Error& e) {
  if (lmdb::is_out_of_space(e)) {
    return {engine::errc::out_of_space,
            std::string("The storage is full; the change was not recorded (") + e.what() + ")."};
  }
  return {engine::errc::unavailable, e.what()};
}

void Journal::run(const std::function<void(engine::WriteBatch&)>& fn) {
  std::vector<OutboxEntry> dirty;
  try {
    auto txn = lmdb::Txn::begin_write(env_);
    {
      Batch batch(*this, txn, dirty);
      fn(batch);
    }
    txn.commit();
  } catch (const lmdb::Error& e) {
    throw storage_error(e);
  }
  if (listener_) listener_(dirty);
}

}  // namespace agate::projections
