#pragma once

// The projections: three LMDB databases in the log's environment, each a fold of the events.
// They are laid out for write locality, because a durable commit costs about one flush per
// distinct 4 KiB page it dirties: what one event writes for one share (or one group) sits under
// that share's (group's) key prefix, in one stretch of one B-tree, and the global lookups are
// kept to what must be found by another key. Ids that Agate makes (UUIDs) take 17 bytes in keys
// and values (id_component() and RowWriter::id() in rows.h). Each line is a key -> value; the
// names in parentheses are the proposal's tables.
//
//   share_data   <share id> + a tag byte:
//     0                            -> ShareRecord: the ShareRow (shares) and its rule count
//     1 <instance id>              -> InstanceRow (share_instances)
//     2 <group id>                 -> MappingRow of the attached group (share_access_group_mapping)
//     3 <denied_version> <identity> -> "": a denied direct rule not yet purged, oldest first
//     4 <identity>                 -> RuleRecord: the share's effective rule for that identity
//                                     (effective_rules) and its direct rule (share_access_map)
//     5 <instance id> <identity>   -> level: a rule the instance's back end holds, from the
//                                     driver outcomes (added less failed, less removed)
//   group_data   <group id> + a tag byte:
//     0 <share id>                 -> MappingRow of the share it is attached to
//     1 <identity>                 -> EntryRow (access_group_entries), one per identity, without
//                                     what the key holds (encode_entry() in rows.h)
//   lookups      a tag byte:
//     G <group id>                 -> GroupRow (access_groups), with entry_count and share_count
//     e <entry id>                 -> the entry's group id and identity
//     r <rule id>                  -> the rule's share id and identity
//     m <mapping id>               -> the mapping's share id and group id
//     i <instance id>              -> the instance's share id
//     o <instance id>              -> (share id, desired version): the outbox, instances to
//                                     reconcile
//     x <instance id>              -> InstanceRow of a deleted share, retired: in the outbox until
//                                     its back end has dropped its rules
//     L <lock id>                  -> LockRow (resource_locks)
//     k <resource id> <lock id>    -> "": the locks of a resource (a share, rule, mapping, group)
//     K <share id> <lock id>       -> "": the locks of a share and of its rules and mappings
//     d <time> <share id>          -> "": the recycle bin, in the order shares leave it (<time>:
//                                     scheduled_to_be_deleted_at, 8 bytes that sort as the time)
//     t <share type id>            -> ShareTypeRow;  n <name> -> share type id
//     b <share type id> <share id> -> "";  g (project, group name) -> group id
//     q <project> <share id> -> "";        p <project> <group id> -> ""
//
// <identity> is identity_key(): the access type byte and the rule identity. Group rows live in
// lookups, not in group_data, because an entry added to a group of many entries writes a random
// place in the group's stretch (its identity); the group row there would be one more page, while
// 'G' rows of the groups written together share pages. See
// projections/README.md for the reasoning and the measurements.
//
// apply() is the only writer. It changes only what the event touches: an entry added to a group
// attached to N shares writes those N shares' effective rules, never more. A share's
// desired_version is bumped, and its hosted instances put in the outbox, exactly when its
// effective rule set changes (or on access_sync, which only marks them).
//
// Thread-safety: a Store is an immutable set of handles, shared freely; transactions follow
// events/lmdb.h.

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
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
  // How long a soft-deleted share stays in the recycle bin (Manila's
  // soft_deleted_share_retention_time). Decisions read it; events carry its outcome.
  std::chrono::seconds soft_deleted_share_retention{604800};
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

// A share in the recycle bin and when it is to be deleted (µs).
struct RecycleBinEntry {
  std::string share_id;
  std::int64_t scheduled_to_be_deleted_at = 0;
  friend bool operator==(const RecycleBinEntry&, const RecycleBinEntry&) = default;
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
  // The shares in the recycle bin instead of the others: lists never mix them (Manila's
  // is_soft_deleted filter, false unless given).
  bool soft_deleted = false;
};

class Store {
 public:
  // Opens every projection database in `env`, creating the missing ones and deleting those of
  // earlier layouts (retired_database_names()).
  static Store open(lmdb::Env& env, StoreOptions options);
  // Opens the projection databases that exist, inside `txn` (read-only users such as offline
  // tools; the handles outlive `txn` only if it commits). Returns nullopt if any is missing.
  static std::optional<Store> try_open(const lmdb::Txn& txn, StoreOptions options = {});
  // Names of the projection databases, in digest order.
  static const std::vector<std::string>& database_names();

  // Folds one event into the projections, inside the caller's write transaction.
  // Throws ApplyError if the event contradicts the projections.
  // Instances the event puts in the outbox are added to `dirty`, if given (the journal hands
  // them to the dispatcher after the commit).
  void apply(const lmdb::Txn& txn, const events::Event& event,
             std::vector<OutboxEntry>* dirty = nullptr) const;

  // The engine's view of the projections as of `txn` (a read or the writer's transaction).
  // Must not outlive `txn`.
  std::unique_ptr<engine::State> state(const lmdb::Txn& txn) const;

  // ---- queries, in any transaction ----
  std::optional<engine::ShareRow> share(const lmdb::Txn& txn, std::string_view id) const;
  std::vector<engine::ShareRow> list_shares(const lmdb::Txn& txn, const ShareFilter& filter,
                                            const Page& page) const;
  std::vector<engine::InstanceRow> instances(const lmdb::Txn& txn,
                                             const engine::ShareRow& share) const;
  // The shares of the recycle bin to be deleted at `until_micros` or before, the earliest first
  // (ties in share id order), at most `limit`: read from the bin's index, not from every share.
  std::vector<RecycleBinEntry> recycle_bin(const lmdb::Txn& txn,
                                           std::int64_t until_micros = INT64_MAX,
                                           std::size_t limit = SIZE_MAX) const;
  std::vector<engine::ShareTypeRow> list_share_types(const lmdb::Txn& txn) const;
  std::optional<engine::LockRow> lock(const lmdb::Txn& txn, std::string_view id) const;
  // Every resource lock, in lock id order (the creation order of the ids Agate makes).
  std::vector<engine::LockRow> locks(const lmdb::Txn& txn) const;
  // The locks on a share, its rules and its mappings, in lock id order.
  std::vector<engine::LockRow> locks_of_share(const lmdb::Txn& txn,
                                              std::string_view share_id) const;
  // The locks on one resource, in lock id order.
  std::vector<engine::LockRow> locks_of(const lmdb::Txn& txn, std::string_view resource_id) const;
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
  // The instance's outbox entry, if it waits for its back end.
  std::optional<OutboxEntry> outbox_entry(const lmdb::Txn& txn, std::string_view instance_id) const;
  // The rules the instance's back end holds, as its driver outcomes tell.
  std::map<events::RuleKey, events::AccessLevel> applied_rules(const lmdb::Txn& txn,
                                                               std::string_view instance_id) const;
  // Share-level access_rules_status: over instances whose status is "available", error >
  // syncing > active; "active" when none count (Manila's get_access_rules_status).
  std::string share_access_rules_status(const lmdb::Txn& txn, const engine::ShareRow& share) const;

  // True if every projection database is empty (a new environment, or projections reset for a
  // rebuild).
  bool empty(const lmdb::Txn& txn) const;

  // The layout of the projection databases: what they hold and how. Bumped with every change
  // to it, so that projections written by another agated (older or newer) are never misread:
  // they are rebuilt from the log instead. The stamp lives in its own small database, outside
  // the digest.
  // 2: shares hold their recycle-bin state, and lookups the recycle bin by time ('d').
  // 3: lookups hold the resource locks ('L') and the locks of each resource ('k', 'K');
  //    effective rules hold entered_version (level changes in place, 2.88); shares hold their
  //    mount point name and snapshot_inherit_share_access_support, and lookups the mount point
  //    names in use by back end ('u').
  // 4: groups and entries hold their version (the position of their last change; the ETag).
  static constexpr std::uint32_t kLayoutVersion = 4;
  // True if the projections are stamped with kLayoutVersion. A new environment is stamped when
  // the store is opened; projections made before stamps existed, or by another layout, are not.
  bool layout_current(const lmdb::Txn& txn) const;
  // Empties every projection database and removes the stamp (a rebuild follows), in `txn`.
  void reset(const lmdb::Txn& txn) const;
  // The databases earlier layouts kept projections in, which this one does not use; open()
  // deletes them from the environment.
  static const std::vector<std::string>& retired_database_names();
  // Stamps the projections with kLayoutVersion, in `txn` (once they are complete).
  void stamp(const lmdb::Txn& txn) const;

  // A digest over every projection database (names, keys and values, in order): two stores
  // with equal digests hold the same bytes. 32 hex digits.
  std::string digest(const lmdb::Txn& txn) const;

  const StoreOptions& options() const { return *options_; }

  struct Dbs;  // the database handles; defined in store.cc

 private:
  // The locks whose ids follow `prefix` in lookups ('k' or 'K' keys).
  std::vector<engine::LockRow> locks_under(const lmdb::Txn& txn, const std::string& prefix) const;
  Store(std::shared_ptr<const Dbs> dbs, std::shared_ptr<const StoreOptions> options)
      : dbs_(std::move(dbs)), options_(std::move(options)) {}
  std::shared_ptr<const Dbs> dbs_;
  std::shared_ptr<const StoreOptions> options_;
};

}  // namespace agate::projections
