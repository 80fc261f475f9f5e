#pragma once

// What decide() may read: the current projections, through an interface, so that the engine
// never touches storage. projections::Store implements it over an LMDB transaction.
//
// Every lookup ignores tenancy: decide() checks who may see what.

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/model.h"
#include "engine/rule_set.h"

namespace agate::engine {

class State {
 public:
  virtual ~State() = default;

  virtual std::optional<ShareTypeRow> share_type(std::string_view id) const = 0;
  virtual std::optional<ShareTypeRow> share_type_by_name(std::string_view name) const = 0;
  virtual bool share_type_in_use(std::string_view id) const = 0;

  virtual std::optional<ShareRow> share(std::string_view id) const = 0;
  // The shares of the recycle bin to be deleted at `now_micros` or before, the earliest first,
  // at most `limit`.
  virtual std::vector<std::string> expired_shares(std::int64_t now_micros,
                                                  std::size_t limit) const = 0;
  // The share whose exports on `backend` are made under the mount point `name` (2.84).
  virtual std::optional<std::string> share_by_mount_point(std::string_view backend,
                                                          std::string_view name) const = 0;
  virtual std::optional<InstanceRow> instance(std::string_view id) const = 0;
  // An instance of a deleted share whose back end has not yet been told to drop its rules.
  virtual std::optional<InstanceRow> retired_instance(std::string_view id) const = 0;

  virtual std::optional<GroupRow> group(std::string_view id) const = 0;
  // Group names are unique within a project.
  virtual std::optional<std::string> group_id_by_name(std::string_view project_id,
                                                      std::string_view name) const = 0;
  virtual std::optional<EntryRow> entry(std::string_view group_id,
                                        std::string_view entry_id) const = 0;
  // The entry of the group with this identity (see rule_identity()), if any.
  virtual std::optional<EntryRow> entry_by_identity(std::string_view group_id,
                                                    std::string_view identity) const = 0;
  virtual void for_each_entry(std::string_view group_id,
                              const std::function<void(const EntryRow&)>& fn) const = 0;

  virtual std::optional<RuleRow> rule(std::string_view rule_id) const = 0;
  // The share's direct rule of this type and identity, denied ones included, if any.
  virtual std::optional<RuleRow> rule_by_identity(std::string_view share_id, const RuleIdentity& key) const = 0;
  virtual std::uint64_t rule_count(std::string_view share_id) const = 0;
  virtual void for_each_rule(std::string_view share_id,
                             const std::function<void(const RuleRow&)>& fn) const = 0;

  virtual std::optional<MappingRow> mapping(std::string_view mapping_id) const = 0;
  virtual std::optional<MappingRow> mapping_of(std::string_view share_id,
                                               std::string_view group_id) const = 0;
  virtual void for_each_group_of_share(std::string_view share_id,
                                       const std::function<void(const MappingRow&)>& fn) const = 0;
  virtual void for_each_share_of_group(std::string_view group_id,
                                       const std::function<void(const MappingRow&)>& fn) const = 0;

  virtual std::optional<EffectiveRule> effective_rule(std::string_view share_id,
                                                      const RuleIdentity& key) const = 0;

  virtual std::optional<LockRow> lock(std::string_view lock_id) const = 0;
  // The locks on a resource (a share, a rule, a group mapping, a group), in id order.
  virtual void for_each_lock_of(std::string_view resource_id,
                                const std::function<void(const LockRow&)>& fn) const = 0;

  // Back ends are configuration, not events: a share type naming an unknown one gives shares in
  // error.
  virtual bool backend_exists(std::string_view name) const = 0;
  // The back end for types without a share_backend_name extra spec; empty if none.
  virtual std::string default_backend() const = 0;
  virtual const Limits& limits() const = 0;
  // How long a soft-deleted share stays in the recycle bin, in microseconds.
  virtual std::int64_t soft_deleted_share_retention_micros() const = 0;
};

}  // namespace agate::engine
