#include "drivers/dispatcher.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>

#include "engine/commands.h"

namespace agate::drivers {

namespace {

// Who records driver outcomes.
engine::Context dispatcher_context(const std::string& instance_id) {
  engine::Context c;
  c.user_id = "agate-dispatcher";
  c.request_id = "dispatch-" + instance_id;
  c.is_admin = true;
  return c;
}

}  // namespace

Dispatcher::Dispatcher(lmdb::Env& env, const projections::Store& store, engine::Writer& writer,
                       std::map<std::string, std::shared_ptr<Driver>> drivers,
                       DispatcherOptions options)
    : env_(env), store_(store), writer_(writer), drivers_(std::move(drivers)), options_(options) {}

Dispatcher::~Dispatcher() { stop(); }

void Dispatcher::start() {
  std::vector<projections::OutboxEntry> pending;
  {
    auto txn = lmdb::Txn::begin_read(env_);
    pending = store_.outbox(txn);
  }
  {
    std::lock_guard lock(mutex_);
    stopping_ = false;
    // What was dirty before this start may have been half applied: make the back end match.
    for (const auto& e : pending) enqueue_locked(e.instance_id, /*full_sync=*/true);
  }
  if (!pending.empty()) spdlog::info("dispatcher: resuming {} share instance(s)", pending.size());
  for (unsigned i = 0; i < std::max(1u, options_.workers); ++i) {
    workers_.emplace_back([this] { work(); });
  }
  wake_.notify_all();
}

void Dispatcher::enqueue_locked(const std::string& instance_id, bool full_sync) {
  if (in_flight_.contains(instance_id)) {
    again_.insert(instance_id);  // merged into one more call once this one is recorded
    return;
  }
  auto [it, inserted] = queued_.try_emplace(instance_id, full_sync);
  if (inserted) {
    ready_.push_back(instance_id);
  } else {
    it->second = it->second || full_sync;
  }
}

void Dispatcher::notify(const std::vector<projections::OutboxEntry>& dirty) {
  if (dirty.empty()) return;
  std::size_t ready = 0;
  {
    std::lock_guard lock(mutex_);
    for (const auto& e : dirty) enqueue_locked(e.instance_id, false);
    ready = ready_.size();
  }
  // Wake as many workers as there is work for, not all of them for every commit.
  for (std::size_t i = 0; i < std::min<std::size_t>(ready, options_.workers); ++i) {
    wake_.notify_one();
  }
}

void Dispatcher::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  for (auto& t : workers_) t.join();
  workers_.clear();
  // The outcomes submitted are recorded (or refused) before the writer may go.
  std::unique_lock lock(mutex_);
  records_done_.wait(lock, [&] { return records_pending_ == 0; });
}

std::optional<std::uint64_t> Dispatcher::in_flight(const std::string& instance_id) const {
  std::lock_guard lock(mutex_);
  auto it = in_flight_.find(instance_id);
  if (it == in_flight_.end()) return std::nullopt;
  return it->second;
}

Dispatcher::Stats Dispatcher::stats() const {
  std::lock_guard lock(mutex_);
  return stats_;
}

void Dispatcher::work() {
  while (true) {
    std::string id;
    bool full_sync = false;
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [&] { return stopping_ || !ready_.empty(); });
      if (stopping_) return;
      id = std::move(ready_.front());
      ready_.pop_front();
      full_sync = queued_.at(id);
      queued_.erase(id);
      in_flight_[id] = 0;
      flight_generation_.fetch_add(1, std::memory_order_release);
    }
    bool submitted = false;
    try {
      submitted = reconcile(id, full_sync);
    } catch (const std::exception& e) {
      // The outbox still holds the instance: it is tried again on the next change or start.
      spdlog::error("dispatcher: instance {}: {}", id, e.what());
    }
    if (!submitted) finish(id, false);
  }
}

void Dispatcher::finish(const std::string& instance_id, bool recorded) {
  // Notified under the lock: once stop() has seen the last record done it may return and the
  // Dispatcher be destroyed, so nothing of it may be touched after the mutex is released.
  std::lock_guard lock(mutex_);
  in_flight_.erase(instance_id);
  flight_generation_.fetch_add(1, std::memory_order_release);
  if (again_.erase(instance_id)) enqueue_locked(instance_id, false);
  wake_.notify_one();
  if (recorded && --records_pending_ == 0) records_done_.notify_all();
}

bool Dispatcher::reconcile(const std::string& instance_id, bool full_sync) {
  UpdateRequest request;
  std::uint64_t version = 0;
  std::vector<events::AppliedRule> added;
  {
    auto txn = lmdb::Txn::begin_read(env_);
    auto pending = store_.outbox_entry(txn, instance_id);
    if (!pending) return false;  // reconciled meanwhile, or the share is gone
    auto state = store_.state(txn);
    auto instance = state->instance(instance_id);
    if (!instance) {
      // The share was deleted: its back end drops every rule of the instance.
      auto retired = state->retired_instance(instance_id);
      if (!retired) return false;
      request.instance = {retired->id, retired->share_id, retired->host, "",
                          retired->export_locations.empty() ? "" : retired->export_locations[0]};
      version = pending->desired_version;
      full_sync = true;
    }
    auto share = instance ? state->share(instance->share_id) : std::nullopt;
    if (instance && (!share || instance->host.empty())) return false;
    if (instance) {
      version = share->desired_version;
      full_sync = full_sync || instance->sync_requested;

      request.instance = {instance->id, share->id, instance->host, share->share_proto,
                          instance->export_locations.empty() ? "" : instance->export_locations[0]};
      const auto applied = store_.applied_rules(txn, instance_id);
      std::set<events::RuleKey> errored;
      for (const auto& f : instance->failures) errored.insert(f.rule);

      std::set<events::RuleKey> desired_keys;
      for (const auto& rule : store_.effective_rules(txn, share->id)) {
        const events::RuleKey key{rule.access_type, rule.access_to};
        desired_keys.insert(key);
        // A rule the back end refused is not sent again until the user acts (deny, access_sync).
        if (!full_sync && errored.contains(key)) continue;
        const AccessRule r{key, rule.access_level};
        request.access_rules.push_back(r);
        auto have = applied.find(key);
        if (full_sync || have == applied.end()) {
          request.add_rules.push_back(r);
          added.push_back({key, rule.access_level});
        } else if (have->second != rule.access_level) {
          // Held at another level: its level changed in place (Manila's update_rules). The
          // outcome records it with the added rules, at its new level.
          request.update_rules.push_back(r);
          added.push_back({key, rule.access_level});
        }
      }
      for (const auto& [key, level] : applied) {
        if (!desired_keys.contains(key)) request.delete_rules.push_back(key);
      }
      // A refused rule the user has since denied: the back end is told to drop it (it must not
      // fail for a rule it never applied), and the failure is forgotten with it.
      for (const auto& key : errored) {
        if (!desired_keys.contains(key) && !applied.contains(key))
          request.delete_rules.push_back(key);
      }
    }
  }
  {
    std::lock_guard lock(mutex_);
    in_flight_[instance_id] = version;
    flight_generation_.fetch_add(1, std::memory_order_release);
    ++stats_.calls;
  }

  UpdateResult result;
  auto driver = drivers_.find(request.instance.host);
  if (driver == drivers_.end() || !driver->second) {
    result = UpdateResult::failed(
        fmt::format("no driver is configured for back end {}", request.instance.host));
  } else {
    try {
      result = driver->second->update_access(request);
    } catch (const std::exception& e) {
      result = UpdateResult::failed(fmt::format("the driver failed: {}", e.what()));
    }
  }
  if (!result.call_succeeded) {
    std::lock_guard lock(mutex_);
    ++stats_.failed_calls;
  }

  events::DriverOutcome outcome;
  outcome.share_id = request.instance.share_id;
  outcome.instance_id = instance_id;
  outcome.applied_version = version;
  outcome.call_succeeded = result.call_succeeded;
  outcome.message = result.message;
  outcome.failures = std::move(result.failures);
  outcome.access_keys = std::move(result.access_keys);
  outcome.added = std::move(added);
  outcome.removed = std::move(request.delete_rules);
  outcome.full_sync = full_sync;
  // Recorded without waiting: the worker goes on to the next instance, and the writer puts the
  // outcomes of many workers in one commit. The instance stays in flight until it is recorded.
  {
    std::lock_guard lock(mutex_);
    ++records_pending_;
  }
  writer_.submit(dispatcher_context(instance_id), engine::RecordDriverOutcome{std::move(outcome)},
                 [this, instance_id](engine::Outcome recorded) {
                   if (!recorded) {
                     // The share was deleted meanwhile: nothing to keep.
                     {
                       std::lock_guard lock(mutex_);
                       ++stats_.outcomes_refused;
                     }
                     spdlog::warn("dispatcher: outcome for instance {} not recorded: {}",
                                  instance_id, recorded.error().message);
                   }
                   finish(instance_id, true);
                 });
  return true;
}

}  // namespace agate::drivers
