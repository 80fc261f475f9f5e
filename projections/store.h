#pragma once

// The projections: LMDB databases in the log's environment, each a fold of the events.
//
//   share_types            id -> ShareTypeRow            share_types_by_name   name -> id
//   shares                 id -> ShareRow                shares_by_type        (type, share) -> ""
//   share_instances        id -> InstanceRow             project_shares        (project, share) -> ""
//   access_groups          id -> GroupRow                access_groups_by_name (project, name) -> id
//   access_group_entries   (group, entry) -> EntryRow    project_groups        (project, group) -> ""
//   entries_by_identity    (group, identity) -> entry id
//   share_access_map       rule id -> RuleRow            rules_by_share        (share, rule) -> ""
//   rules_by_identity      (share, identity) -> rule id
//   share_access_group_mapping  mapping id -> MappingRow
//   group_shares           (group, share) -> mapping id  share_groups          (share, group) -> mapping id
//   effective_rules        (share, identity) -> EffectiveRule
//   outbox                 instance id -> (share id, desired version): instances to reconcile
//
// apply() is the only writer. It changes only what the event touches: an entry added to a group
// attached to N shares writes those N shares' effective rules, never more. A share's
// desired_version is bumped, and its hosted instances put in the outbox, exactly when its
// effective rule set changes (or on access_sync, which only marks them).
//
// Thread-safety: a Store is an immutable set of handles, shared freely; transactions follow
// events/lmdb.h.

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "engine/model.h"
#include "engine/rule_set.h"
#include "engine/state.h"
#include "events/event.h"
#include "events/lmdb.h"

namespace agate::projections {

// What the store needs from configuration (not from events).
struct StoreOptions {
  std::set<std::string, std::less<>> backends;  // back-end names that exist
  std::string default_backend;                  // for share types naming none
  engine::Limits limits;
};

// An instance waiting for its back end to be reconciled.
struct OutboxEntry {
  std::string instance_id;
  std::string share_id;
  std::uint64_t desired_version = 0;
  friend bool operator==(const OutboxEntry&, const OutboxEntry&) = default;
};

// An apply() that cannot be carried out: the event contradicts the projections. Either the
// projections are corrupt or the log holds an event decide() would never have made.
class ApplyError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct Page {
  std::size_t limit = 1000;
  std::size_t offset = 0;
};

struct ShareFilter {
  std::optional<std::string> project_id;  // nullopt: every project (admin)
  std::optional<std::string> name;
  std::optional<std::string> status;
  std::optional<std::string> share_type_id;
  std::optional<std::string> access_group_id;
};

class Store {
 public:
  // Opens every projection database in `env`, creating the missing ones.
  static Store open(lmdb::Env& env, StoreOptions options);
  // Names of the projection databases, in digest order.
  static const std::vector<std::string>& database_names();

  // Folds one event into the projections, inside the caller's write transaction.
  // Throws ApplyError if the event contradicts the projections.
  void apply(const lmdb::Txn& txn, const events::Event& event) const;

  // The engine's view of the projections as of `txn` (a read or the writer's transaction).
  // Must not outlive `txn`.
  std::unique_ptr<engine::State> state(const lmdb::Txn& txn) const;

  // ---- queries, in any transaction ----
  std::optional<engine::ShareRow> share(const lmdb::Txn& txn, std::string_view id) const;
  std::vector<engine::ShareRow> list_shares(const lmdb::Txn& txn, const ShareFilter& filter,
                                            const Page& page) const;
  std::vector<engine::InstanceRow> instances(const lmdb::Txn& txn,
                                             const engine::ShareRow& share) const;
  std::vector<engine::ShareTypeRow> list_share_types(const lmdb::Txn& txn) const;
  std::optional<engine::GroupRow> group(const lmdb::Txn& txn, std::string_view id) const;
  // Groups of a project (all projects if nullopt); attached to `share_id` if given.
  std::vector<engine::GroupRow> list_groups(const lmdb::Txn& txn,
                                            const std::optional<std::string>& project_id,
                                            const std::optional<std::string>& share_id,
                                            const Page& page) const;
  std::vector<engine::EntryRow> entries(const lmdb::Txn& txn, std::string_view group_id) const;
  std::vector<engine::RuleRow> rules(const lmdb::Txn& txn, std::string_view share_id) const;
  std::vector<engine::MappingRow> groups_of_share(const lmdb::Txn& txn,
                                                  std::string_view share_id) const;
  std::vector<engine::MappingRow> shares_of_group(const lmdb::Txn& txn,
                                                  std::string_view group_id) const;
  std::vector<engine::EffectiveRule> effective_rules(const lmdb::Txn& txn,
                                                     std::string_view share_id) const;
  std::vector<OutboxEntry> outbox(const lmdb::Txn& txn, std::size_t limit = SIZE_MAX) const;
  // Share-level access_rules_status: over instances whose status is "available", error >
  // syncing > active; "active" when none count (Manila's get_access_rules_status).
  std::string share_access_rules_status(const lmdb::Txn& txn, const engine::ShareRow& share) const;

  // A digest over every projection database (names, keys and values, in order): two stores
  // with equal digests hold the same bytes. 32 hex digits.
  std::string digest(const lmdb::Txn& txn) const;

  const StoreOptions& options() const { return *options_; }

  struct Dbs;  // the database handles; defined in store.cc

 private:
  Store(std::shared_ptr<const Dbs> dbs, std::shared_ptr<const StoreOptions> options)
      : dbs_(std::move(dbs)), options_(std::move(options)) {}
  std::shared_ptr<const Dbs> dbs_;
  std::shared_ptr<const StoreOptions> options_;
};

}  // namespace agate::projections
