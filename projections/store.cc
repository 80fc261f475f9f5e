#include "projections/store.h"

#include <fmt/format.h>
#include <xxhash.h>

#include <algorithm>

#include "engine/access_validation.h"
#include "engine/decide.h"
#include "projections/rows.h"

namespace agate::projections {

using engine::EffectiveRule;
using engine::EntryRow;
using engine::GroupRow;
using engine::InstanceRow;
using engine::MappingRow;
using engine::RuleIdentity;
using engine::RuleRow;
using engine::RuleSource;
using engine::SetChange;
using engine::ShareRow;
using engine::ShareTypeRow;

struct Store::Dbs {
  lmdb::Dbi share_types, share_types_by_name, shares, shares_by_type, share_instances,
      project_shares, access_groups, access_groups_by_name, access_group_entries, project_groups,
      entries_by_identity, share_access_map, rules_by_share, rules_by_identity, mappings,
      group_shares, share_groups, effective_rules, outbox;
  std::vector<std::pair<std::string, lmdb::Dbi>> all;  // in database_names() order
};

const std::vector<std::string>& Store::database_names() {
  static const std::vector<std::string> names = {
      "access_group_entries", "access_groups", "access_groups_by_name", "effective_rules",
      "entries_by_identity", "group_shares", "outbox", "project_groups", "project_shares",
      "rules_by_identity", "rules_by_share", "share_access_group_mapping", "share_access_map",
      "share_groups", "share_instances", "share_types", "share_types_by_name", "shares",
      "shares_by_type"};
  return names;
}

Store Store::open(lmdb::Env& env, StoreOptions options) {
  auto dbs = std::make_shared<Dbs>();
  auto txn = lmdb::Txn::begin_write(env);
  for (const auto& name : database_names()) {
    dbs->all.emplace_back(name, lmdb::Dbi::open(txn, name.c_str(), /*create=*/true));
  }
  txn.commit();
  auto get = [&](std::string_view name) {
    for (const auto& [n, dbi] : dbs->all) {
      if (n == name) return dbi;
    }
    throw std::logic_error("no projection database " + std::string(name));
  };
  dbs->share_types = get("share_types");
  dbs->share_types_by_name = get("share_types_by_name");
  dbs->shares = get("shares");
  dbs->shares_by_type = get("shares_by_type");
  dbs->share_instances = get("share_instances");
  dbs->project_shares = get("project_shares");
  dbs->access_groups = get("access_groups");
  dbs->access_groups_by_name = get("access_groups_by_name");
  dbs->access_group_entries = get("access_group_entries");
  dbs->project_groups = get("project_groups");
  dbs->entries_by_identity = get("entries_by_identity");
  dbs->share_access_map = get("share_access_map");
  dbs->rules_by_share = get("rules_by_share");
  dbs->rules_by_identity = get("rules_by_identity");
  dbs->mappings = get("share_access_group_mapping");
  dbs->group_shares = get("group_shares");
  dbs->share_groups = get("share_groups");
  dbs->effective_rules = get("effective_rules");
  dbs->outbox = get("outbox");
  return Store(std::move(dbs), std::make_shared<const StoreOptions>(std::move(options)));
}

namespace {

// Row access inside one transaction.
class Rows {
 public:
  Rows(const Store::Dbs& dbs, const lmdb::Txn& txn) : d(dbs), t(txn) {}

  template <typename T>
  std::optional<T> get(lmdb::Dbi dbi, std::string_view k) const {
    auto v = dbi.get(t, k);
    if (!v) return std::nullopt;
    return decode<T>(*v);
  }

  template <typename T>
  T must(lmdb::Dbi dbi, std::string_view k, std::string_view what) const {
    auto row = get<T>(dbi, k);
    if (!row) throw ApplyError(fmt::format("{} {} does not exist", what, k));
    return std::move(*row);
  }

  std::optional<std::string> get_text(lmdb::Dbi dbi, std::string_view k) const {
    auto v = dbi.get(t, k);
    if (!v) return std::nullopt;
    return std::string(*v);
  }

  void put(lmdb::Dbi dbi, std::string_view k, std::string_view v) const { dbi.put(t, k, v); }
  void del(lmdb::Dbi dbi, std::string_view k) const { dbi.del(t, k); }

  // Calls fn(key, value) for every entry whose key starts with `prefix`, in key order, until
  // fn returns false.
  void scan(lmdb::Dbi dbi, std::string_view prefix,
            const std::function<bool(std::string_view, std::string_view)>& fn) const {
    auto cursor = lmdb::Cursor::open(t, dbi);
    std::string_view k = prefix, v;
    bool found = prefix.empty() ? cursor.get(k, v, MDB_FIRST) : cursor.get(k, v, MDB_SET_RANGE);
    while (found && k.starts_with(prefix)) {
      if (!fn(k, v)) return;
      found = cursor.get(k, v, MDB_NEXT);
    }
  }

  // The keys under `prefix` (collected first, so the caller may then change the database).
  std::vector<std::string> keys(lmdb::Dbi dbi, std::string_view prefix) const {
    std::vector<std::string> out;
    scan(dbi, prefix, [&](std::string_view k, std::string_view) {
      out.emplace_back(k);
      return true;
    });
    return out;
  }

  const Store::Dbs& d;
  const lmdb::Txn& t;
};

std::string outbox_value(std::string_view share_id, std::uint64_t version) {
  std::string v;
  RowWriter(v).str(share_id).u64(version);
  return v;
}

OutboxEntry outbox_entry(std::string_view instance_id, std::string_view value) {
  RowReader r(value, "outbox");
  OutboxEntry e;
  e.instance_id = std::string(instance_id);
  e.share_id = r.str();
  e.desired_version = r.u64();
  r.finish();
  return e;
}

RuleIdentity identity_of(events::AccessType type, std::string_view access_to) {
  return {type, engine::rule_identity(type, access_to)};
}

// ---- the fold -------------------------------------------------------------------------------

class Applier {
 public:
  Applier(const Store::Dbs& dbs, const lmdb::Txn& txn, const events::Event& e)
      : r_(dbs, txn), d_(dbs), e_(e) {}

  void operator()(const events::ShareTypeCreated& b) {
    ShareTypeRow row{b.share_type_id, e_.project_id, b.name, b.description, b.is_public,
                     b.extra_specs, e_.time_micros};
    r_.put(d_.share_types, row.id, encode(row));
    r_.put(d_.share_types_by_name, row.name, row.id);
  }

  void operator()(const events::ShareTypeDeleted& b) {
    auto row = r_.must<ShareTypeRow>(d_.share_types, b.share_type_id, "share type");
    r_.del(d_.share_types_by_name, row.name);
    r_.del(d_.share_types, row.id);
  }

  void operator()(const events::ShareCreated& b) {
    ShareRow share;
    share.id = b.share_id;
    share.project_id = e_.project_id;
    share.user_id = e_.user_id;
    share.name = b.name;
    share.description = b.description;
    share.share_proto = b.share_proto;
    share.size_gib = b.size_gib;
    share.share_type_id = b.share_type_id;
    share.is_public = b.is_public;
    share.status = b.status;
    share.availability_zone = b.availability_zone;
    share.metadata = b.metadata;
    share.created_at = e_.time_micros;
    for (const auto& in : b.instances) {
      share.instance_ids.push_back(in.instance_id);
      InstanceRow row;
      row.id = in.instance_id;
      row.share_id = b.share_id;
      row.host = in.host;
      row.status = in.status;
      row.export_locations = in.export_locations;
      row.created_at = e_.time_micros;
      r_.put(d_.share_instances, row.id, encode(row));
    }
    r_.put(d_.shares, share.id, encode(share));
    r_.put(d_.shares_by_type, key(share.share_type_id, share.id), "");
    r_.put(d_.project_shares, key(share.project_id, share.id), "");
  }

  void operator()(const events::ShareStatusChanged& b) {
    auto share = must_share(b.share_id);
    share.status = b.status;
    share.updated_at = e_.time_micros;
    r_.put(d_.shares, share.id, encode(share));
    for (const auto& s : b.instances) {
      auto in = r_.must<InstanceRow>(d_.share_instances, s.instance_id, "share instance");
      in.status = s.status;
      in.updated_at = e_.time_micros;
      r_.put(d_.share_instances, in.id, encode(in));
    }
  }

  void operator()(const events::ShareDeleted& b) {
    auto share = must_share(b.share_id);
    for (const auto& k : r_.keys(d_.rules_by_share, key_prefix(share.id))) {
      const auto rule_id = last_component(k, 2);
      auto rule = r_.must<RuleRow>(d_.share_access_map, rule_id, "access rule");
      remove_rule_rows(rule);
    }
    for (const auto& k : r_.keys(d_.share_groups, key_prefix(share.id))) {
      auto mapping_id = *r_.get_text(d_.share_groups, k);
      auto mapping = r_.must<MappingRow>(d_.mappings, mapping_id, "access group mapping");
      remove_mapping_rows(mapping);
    }
    for (const auto& k : r_.keys(d_.effective_rules, key_prefix(share.id))) {
      r_.del(d_.effective_rules, k);
    }
    for (const auto& id : share.instance_ids) {
      r_.del(d_.share_instances, id);
      // TODO(dispatcher): tell the back end to drop the exports of a deleted share.
      r_.del(d_.outbox, id);
    }
    r_.del(d_.shares_by_type, key(share.share_type_id, share.id));
    r_.del(d_.project_shares, key(share.project_id, share.id));
    r_.del(d_.shares, share.id);
  }

  void operator()(const events::AccessGroupCreated& b) {
    GroupRow row{b.group_id, e_.project_id, b.name, b.description, b.access_type,
                 e_.time_micros, 0, 0, 0};
    r_.put(d_.access_groups, row.id, encode(row));
    r_.put(d_.access_groups_by_name, key(row.project_id, row.name), row.id);
    r_.put(d_.project_groups, key(row.project_id, row.id), "");
  }

  void operator()(const events::AccessGroupUpdated& b) {
    auto group = must_group(b.group_id);
    r_.del(d_.access_groups_by_name, key(group.project_id, group.name));
    group.name = b.name;
    group.description = b.description;
    group.updated_at = e_.time_micros;
    r_.put(d_.access_groups, group.id, encode(group));
    r_.put(d_.access_groups_by_name, key(group.project_id, group.name), group.id);
  }

  void operator()(const events::AccessGroupDeleted& b) {
    auto group = must_group(b.group_id);
    if (group.share_count != 0) {
      throw ApplyError(fmt::format("access group {} is deleted while attached to {} shares",
                                   group.id, group.share_count));
    }
    for (const auto& k : r_.keys(d_.access_group_entries, key_prefix(group.id))) {
      r_.del(d_.access_group_entries, k);
    }
    for (const auto& k : r_.keys(d_.entries_by_identity, key_prefix(group.id))) {
      r_.del(d_.entries_by_identity, k);
    }
    r_.del(d_.access_groups_by_name, key(group.project_id, group.name));
    r_.del(d_.project_groups, key(group.project_id, group.id));
    r_.del(d_.access_groups, group.id);
  }

  void operator()(const events::EntryAdded& b) {
    auto group = must_group(b.group_id);
    EntryRow entry{b.entry_id, group.id, group.access_type, b.access_to, b.access_level,
                   e_.time_micros};
    const auto id = identity_of(group.access_type, b.access_to);
    r_.put(d_.access_group_entries, key(group.id, entry.id), encode(entry));
    r_.put(d_.entries_by_identity, key(group.id, identity_key(id)), entry.id);
    ++group.entry_count;
    r_.put(d_.access_groups, group.id, encode(group));
    const auto source = RuleSource::group(group.id, entry.id);
    for (const auto& share_id : shares_of(group.id)) {
      auto share = must_share(share_id);
      if (grant(share, id, b.access_level, source) == SetChange::added) bump(share);
    }
  }

  void operator()(const events::EntryRemoved& b) {
    auto group = must_group(b.group_id);
    const auto entry_key = key(group.id, b.entry_id);
    auto entry = r_.must<EntryRow>(d_.access_group_entries, entry_key, "access group entry");
    const auto id = identity_of(entry.access_type, entry.access_to);
    r_.del(d_.access_group_entries, entry_key);
    r_.del(d_.entries_by_identity, key(group.id, identity_key(id)));
    --group.entry_count;
    r_.put(d_.access_groups, group.id, encode(group));
    const auto source = RuleSource::group(group.id, entry.id);
    for (const auto& share_id : shares_of(group.id)) {
      auto share = must_share(share_id);
      if (revoke(share, id, source) == SetChange::removed) bump(share);
    }
  }

  void operator()(const events::RuleAllowed& b) {
    auto share = must_share(b.share_id);
    RuleRow rule{b.rule_id,  b.share_id,     b.access_type, b.access_to, b.access_level,
                 b.metadata, e_.time_micros, 0,             0};
    const auto id = identity_of(b.access_type, b.access_to);
    r_.put(d_.share_access_map, rule.id, encode(rule));
    r_.put(d_.rules_by_share, key(share.id, rule.id), "");
    r_.put(d_.rules_by_identity, key(share.id, identity_key(id)), rule.id);
    if (grant(share, id, b.access_level, RuleSource::direct(rule.id)) == SetChange::added) {
      bump(share);
    }
  }

  void operator()(const events::RuleDenied& b) {
    auto share = must_share(b.share_id);
    auto rule = r_.must<RuleRow>(d_.share_access_map, b.rule_id, "access rule");
    if (rule.denied_version != 0) return;
    const auto id = identity_of(rule.access_type, rule.access_to);
    if (revoke(share, id, RuleSource::direct(rule.id)) == SetChange::removed) bump(share);
    // The row stays until every instance has applied a version without the rule.
    rule.denied_version = std::max<std::uint64_t>(share.desired_version, 1);
    rule.updated_at = e_.time_micros;
    r_.put(d_.share_access_map, rule.id, encode(rule));
    purge_denied_rules(share);
  }

  void operator()(const events::RuleMetadataSet& b) {
    auto rule = r_.must<RuleRow>(d_.share_access_map, b.rule_id, "access rule");
    for (const auto& [k, v] : b.metadata) rule.metadata.insert_or_assign(k, v);
    rule.updated_at = e_.time_micros;
    r_.put(d_.share_access_map, rule.id, encode(rule));
  }

  void operator()(const events::RuleMetadataUnset& b) {
    auto rule = r_.must<RuleRow>(d_.share_access_map, b.rule_id, "access rule");
    for (const auto& k : b.keys) rule.metadata.erase(k);
    rule.updated_at = e_.time_micros;
    r_.put(d_.share_access_map, rule.id, encode(rule));
  }

  void operator()(const events::GroupAttached& b) {
    auto share = must_share(b.share_id);
    auto group = must_group(b.group_id);
    MappingRow mapping{b.mapping_id, share.id, group.id, e_.time_micros};
    r_.put(d_.mappings, mapping.id, encode(mapping));
    r_.put(d_.group_shares, key(group.id, share.id), mapping.id);
    r_.put(d_.share_groups, key(share.id, group.id), mapping.id);
    ++group.share_count;
    r_.put(d_.access_groups, group.id, encode(group));
    bool changed = false;
    for (const auto& entry : entries_of(group.id)) {
      const auto id = identity_of(entry.access_type, entry.access_to);
      changed |= grant(share, id, entry.access_level, RuleSource::group(group.id, entry.id)) ==
                 SetChange::added;
    }
    if (changed) bump(share);
  }

  void operator()(const events::GroupDetached& b) {
    auto share = must_share(b.share_id);
    auto mapping = r_.must<MappingRow>(d_.mappings, b.mapping_id, "access group mapping");
    remove_mapping_rows(mapping);
    bool changed = false;
    for (const auto& entry : entries_of(mapping.group_id)) {
      const auto id = identity_of(entry.access_type, entry.access_to);
      changed |= revoke(share, id, RuleSource::group(mapping.group_id, entry.id)) ==
                 SetChange::removed;
    }
    if (changed) bump(share);
  }

  void operator()(const events::AccessSyncRequested& b) {
    auto share = must_share(b.share_id);
    for (const auto& id : share.instance_ids) {
      auto in = r_.must<InstanceRow>(d_.share_instances, id, "share instance");
      if (in.host.empty()) continue;
      // A retry of everything: errors are forgotten until the back end reports again.
      in.sync_requested = true;
      in.has_error = false;
      in.status_message.clear();
      in.failures.clear();
      in.updated_at = e_.time_micros;
      r_.put(d_.share_instances, in.id, encode(in));
      r_.put(d_.outbox, in.id, outbox_value(share.id, share.desired_version));
    }
  }

  void operator()(const events::DriverOutcome& b) {
    auto in = r_.must<InstanceRow>(d_.share_instances, b.instance_id, "share instance");
    // A stale outcome (for an older version than one already recorded) changes nothing.
    if (b.applied_version < in.applied_version) return;
    auto share = must_share(in.share_id);
    in.applied_version = b.applied_version;
    in.has_error = !b.call_succeeded || !b.failures.empty();
    in.failures = b.failures;
    in.status_message = b.message;
    if (in.status_message.empty() && !b.failures.empty()) {
      in.status_message = fmt::format("{} access rule(s) failed to apply:", b.failures.size());
      for (const auto& f : b.failures) {
        in.status_message += fmt::format(" {}:{} ({});", events::to_string(f.rule.access_type),
                                         f.rule.access_to, f.message);
      }
      in.status_message.pop_back();
      in.status_message += '.';
    }
    for (const auto& k : b.access_keys) {
      auto it = std::find_if(in.access_keys.begin(), in.access_keys.end(),
                             [&](const auto& have) { return have.rule == k.rule; });
      if (it == in.access_keys.end()) {
        in.access_keys.push_back(k);
      } else {
        it->access_key = k.access_key;
      }
    }
    std::sort(in.access_keys.begin(), in.access_keys.end(),
              [](const auto& a, const auto& b) { return a.rule < b.rule; });
    if (b.applied_version >= share.desired_version) {
      in.sync_requested = false;
      r_.del(d_.outbox, in.id);
    }
    in.updated_at = e_.time_micros;
    r_.put(d_.share_instances, in.id, encode(in));
    purge_denied_rules(share);
  }

 private:
  ShareRow must_share(std::string_view id) { return r_.must<ShareRow>(d_.shares, id, "share"); }
  GroupRow must_group(std::string_view id) {
    return r_.must<GroupRow>(d_.access_groups, id, "access group");
  }

  std::vector<std::string> shares_of(std::string_view group_id) {
    std::vector<std::string> out;
    r_.scan(d_.group_shares, key_prefix(group_id), [&](std::string_view k, std::string_view) {
      out.emplace_back(last_component(k, 2));
      return true;
    });
    return out;
  }

  std::vector<EntryRow> entries_of(std::string_view group_id) {
    std::vector<EntryRow> out;
    r_.scan(d_.access_group_entries, key_prefix(group_id),
            [&](std::string_view, std::string_view v) {
              out.push_back(decode<EntryRow>(v));
              return true;
            });
    return out;
  }

  SetChange grant(const ShareRow& share, const RuleIdentity& id, events::AccessLevel level,
                  const RuleSource& source) {
    const auto k = key(share.id, identity_key(id));
    auto rule = r_.get<EffectiveRule>(d_.effective_rules, k);
    auto change = engine::grant(rule, id, level, source, share.desired_version + 1);
    if (!change) {
      throw ApplyError(fmt::format("{} grants {}:{} at another level than {} on share {}",
                                   engine::describe(source), events::to_string(id.access_type),
                                   id.identity, engine::describe(change.error().existing_source),
                                   share.id));
    }
    r_.put(d_.effective_rules, k, encode(*rule));
    return *change;
  }

  SetChange revoke(const ShareRow& share, const RuleIdentity& id, const RuleSource& source) {
    const auto k = key(share.id, identity_key(id));
    auto rule = r_.get<EffectiveRule>(d_.effective_rules, k);
    const auto change = engine::revoke(rule, source);
    if (rule) {
      r_.put(d_.effective_rules, k, encode(*rule));
    } else {
      r_.del(d_.effective_rules, k);
    }
    return change;
  }

  // The share's effective set changed: a new desired version, and every instance that has a
  // back end goes to the outbox.
  void bump(ShareRow& share) {
    ++share.desired_version;
    r_.put(d_.shares, share.id, encode(share));
    for (const auto& id : share.instance_ids) {
      auto in = r_.get<InstanceRow>(d_.share_instances, id);
      if (in && !in->host.empty()) {
        r_.put(d_.outbox, id, outbox_value(share.id, share.desired_version));
      }
    }
  }

  void remove_rule_rows(const RuleRow& rule) {
    r_.del(d_.rules_by_identity, key(rule.share_id, identity_key(identity_of(rule.access_type,
                                                                            rule.access_to))));
    r_.del(d_.rules_by_share, key(rule.share_id, rule.id));
    r_.del(d_.share_access_map, rule.id);
  }

  void remove_mapping_rows(const MappingRow& mapping) {
    auto group = must_group(mapping.group_id);
    --group.share_count;
    r_.put(d_.access_groups, group.id, encode(group));
    r_.del(d_.group_shares, key(mapping.group_id, mapping.share_id));
    r_.del(d_.share_groups, key(mapping.share_id, mapping.group_id));
    r_.del(d_.mappings, mapping.id);
  }

  // Denied rules leave share_access_map once every instance with a back end has applied a
  // version without them (Manila removes the rule when its last instance mapping goes).
  void purge_denied_rules(const ShareRow& share) {
    std::uint64_t applied = UINT64_MAX;
    for (const auto& id : share.instance_ids) {
      auto in = r_.get<InstanceRow>(d_.share_instances, id);
      if (in && !in->host.empty()) applied = std::min(applied, in->applied_version);
    }
    std::vector<RuleRow> purge;
    r_.scan(d_.rules_by_share, key_prefix(share.id), [&](std::string_view k, std::string_view) {
      auto rule = r_.must<RuleRow>(d_.share_access_map, last_component(k, 2), "access rule");
      if (rule.denied_version != 0 && rule.denied_version <= applied) purge.push_back(rule);
      return true;
    });
    for (const auto& rule : purge) remove_rule_rows(rule);
  }

  Rows r_;
  const Store::Dbs& d_;
  const events::Event& e_;
};

// ---- the engine's view ----------------------------------------------------------------------

class TxnState final : public engine::State {
 public:
  TxnState(const Store::Dbs& dbs, const lmdb::Txn& txn, const StoreOptions& options)
      : r_(dbs, txn), d_(dbs), options_(options) {}

  std::optional<ShareTypeRow> share_type(std::string_view id) const override {
    return r_.get<ShareTypeRow>(d_.share_types, id);
  }
  std::optional<ShareTypeRow> share_type_by_name(std::string_view name) const override {
    auto id = r_.get_text(d_.share_types_by_name, name);
    return id ? share_type(*id) : std::nullopt;
  }
  bool share_type_in_use(std::string_view id) const override {
    bool used = false;
    r_.scan(d_.shares_by_type, key_prefix(id), [&](auto, auto) { return !(used = true); });
    return used;
  }
  std::optional<ShareRow> share(std::string_view id) const override {
    return r_.get<ShareRow>(d_.shares, id);
  }
  std::optional<InstanceRow> instance(std::string_view id) const override {
    return r_.get<InstanceRow>(d_.share_instances, id);
  }
  std::optional<GroupRow> group(std::string_view id) const override {
    return r_.get<GroupRow>(d_.access_groups, id);
  }
  std::optional<std::string> group_id_by_name(std::string_view project_id,
                                              std::string_view name) const override {
    return r_.get_text(d_.access_groups_by_name, key(project_id, name));
  }
  std::optional<EntryRow> entry(std::string_view group_id, std::string_view entry_id) const override {
    return r_.get<EntryRow>(d_.access_group_entries, key(group_id, entry_id));
  }
  std::optional<EntryRow> entry_by_identity(std::string_view group_id,
                                            std::string_view identity) const override {
    auto g = group(group_id);
    if (!g) return std::nullopt;
    auto id = r_.get_text(d_.entries_by_identity,
                          key(group_id, identity_key({g->access_type, std::string(identity)})));
    return id ? entry(group_id, *id) : std::nullopt;
  }
  void for_each_entry(std::string_view group_id,
                      const std::function<void(const EntryRow&)>& fn) const override {
    r_.scan(d_.access_group_entries, key_prefix(group_id), [&](auto, std::string_view v) {
      fn(decode<EntryRow>(v));
      return true;
    });
  }
  std::optional<RuleRow> rule(std::string_view rule_id) const override {
    return r_.get<RuleRow>(d_.share_access_map, rule_id);
  }
  std::optional<RuleRow> rule_by_identity(std::string_view share_id,
                                          const RuleIdentity& k) const override {
    auto id = r_.get_text(d_.rules_by_identity, key(share_id, identity_key(k)));
    return id ? rule(*id) : std::nullopt;
  }
  std::uint64_t rule_count(std::string_view share_id) const override {
    std::uint64_t n = 0;
    r_.scan(d_.rules_by_share, key_prefix(share_id), [&](auto, auto) { return ++n, true; });
    return n;
  }
  void for_each_rule(std::string_view share_id,
                     const std::function<void(const RuleRow&)>& fn) const override {
    for (const auto& k : r_.keys(d_.rules_by_share, key_prefix(share_id))) {
      if (auto row = rule(last_component(k, 2))) fn(*row);
    }
  }
  std::optional<MappingRow> mapping(std::string_view mapping_id) const override {
    return r_.get<MappingRow>(d_.mappings, mapping_id);
  }
  std::optional<MappingRow> mapping_of(std::string_view share_id,
                                       std::string_view group_id) const override {
    auto id = r_.get_text(d_.share_groups, key(share_id, group_id));
    return id ? mapping(*id) : std::nullopt;
  }
  void for_each_group_of_share(std::string_view share_id,
                               const std::function<void(const MappingRow&)>& fn) const override {
    each_mapping(d_.share_groups, share_id, fn);
  }
  void for_each_share_of_group(std::string_view group_id,
                               const std::function<void(const MappingRow&)>& fn) const override {
    each_mapping(d_.group_shares, group_id, fn);
  }
  std::optional<EffectiveRule> effective_rule(std::string_view share_id,
                                              const RuleIdentity& k) const override {
    return r_.get<EffectiveRule>(d_.effective_rules, key(share_id, identity_key(k)));
  }
  bool backend_exists(std::string_view name) const override {
    return options_.backends.contains(name);
  }
  std::string default_backend() const override { return options_.default_backend; }
  const engine::Limits& limits() const override { return options_.limits; }

 private:
  void each_mapping(lmdb::Dbi index, std::string_view prefix,
                    const std::function<void(const MappingRow&)>& fn) const {
    std::vector<std::string> ids;
    r_.scan(index, key_prefix(prefix), [&](auto, std::string_view v) {
      ids.emplace_back(v);
      return true;
    });
    for (const auto& id : ids) {
      if (auto m = mapping(id)) fn(*m);
    }
  }

  Rows r_;
  const Store::Dbs& d_;
  const StoreOptions& options_;
};

}  // namespace

void Store::apply(const lmdb::Txn& txn, const events::Event& event) const {
  Applier applier(*dbs_, txn, event);
  std::visit(applier, event.body);
}

std::unique_ptr<engine::State> Store::state(const lmdb::Txn& txn) const {
  return std::make_unique<TxnState>(*dbs_, txn, *options_);
}

// ---- queries --------------------------------------------------------------------------------

std::optional<ShareRow> Store::share(const lmdb::Txn& txn, std::string_view id) const {
  return Rows(*dbs_, txn).get<ShareRow>(dbs_->shares, id);
}

std::vector<ShareRow> Store::list_shares(const lmdb::Txn& txn, const ShareFilter& f,
                                         const Page& page) const {
  Rows r(*dbs_, txn);
  std::vector<ShareRow> out;
  std::size_t skipped = 0;
  auto consider = [&](const ShareRow& s) {
    if (f.project_id && s.project_id != *f.project_id) return true;
    if (f.name && s.name != *f.name) return true;
    if (f.status && s.status != *f.status) return true;
    if (f.share_type_id && s.share_type_id != *f.share_type_id) return true;
    if (skipped < page.offset) return ++skipped, true;
    out.push_back(s);
    return out.size() < page.limit;
  };
  auto by_id = [&](std::string_view id) {
    auto s = r.get<ShareRow>(dbs_->shares, id);
    return s ? consider(*s) : true;
  };
  if (f.access_group_id) {
    r.scan(dbs_->group_shares, key_prefix(*f.access_group_id),
           [&](std::string_view k, auto) { return by_id(last_component(k, 2)); });
  } else if (f.project_id) {
    r.scan(dbs_->project_shares, key_prefix(*f.project_id),
           [&](std::string_view k, auto) { return by_id(last_component(k, 2)); });
  } else {
    r.scan(dbs_->shares, "", [&](auto, std::string_view v) { return consider(decode<ShareRow>(v)); });
  }
  return out;
}

std::vector<InstanceRow> Store::instances(const lmdb::Txn& txn, const ShareRow& share) const {
  Rows r(*dbs_, txn);
  std::vector<InstanceRow> out;
  for (const auto& id : share.instance_ids) {
    if (auto in = r.get<InstanceRow>(dbs_->share_instances, id)) out.push_back(std::move(*in));
  }
  return out;
}

std::vector<ShareTypeRow> Store::list_share_types(const lmdb::Txn& txn) const {
  std::vector<ShareTypeRow> out;
  Rows(*dbs_, txn).scan(dbs_->share_types, "", [&](auto, std::string_view v) {
    out.push_back(decode<ShareTypeRow>(v));
    return true;
  });
  return out;
}

std::optional<GroupRow> Store::group(const lmdb::Txn& txn, std::string_view id) const {
  return Rows(*dbs_, txn).get<GroupRow>(dbs_->access_groups, id);
}

std::vector<GroupRow> Store::list_groups(const lmdb::Txn& txn,
                                         const std::optional<std::string>& project_id,
                                         const std::optional<std::string>& share_id,
                                         const Page& page) const {
  Rows r(*dbs_, txn);
  std::vector<GroupRow> out;
  std::size_t skipped = 0;
  auto consider = [&](const GroupRow& g) {
    if (project_id && g.project_id != *project_id) return true;
    if (skipped < page.offset) return ++skipped, true;
    out.push_back(g);
    return out.size() < page.limit;
  };
  auto by_id = [&](std::string_view id) {
    auto g = r.get<GroupRow>(dbs_->access_groups, id);
    return g ? consider(*g) : true;
  };
  if (share_id) {
    r.scan(dbs_->share_groups, key_prefix(*share_id),
           [&](std::string_view k, auto) { return by_id(last_component(k, 2)); });
  } else if (project_id) {
    r.scan(dbs_->project_groups, key_prefix(*project_id),
           [&](std::string_view k, auto) { return by_id(last_component(k, 2)); });
  } else {
    r.scan(dbs_->access_groups, "",
           [&](auto, std::string_view v) { return consider(decode<GroupRow>(v)); });
  }
  return out;
}

std::vector<EntryRow> Store::entries(const lmdb::Txn& txn, std::string_view group_id) const {
  std::vector<EntryRow> out;
  TxnState(*dbs_, txn, *options_).for_each_entry(group_id, [&](const EntryRow& e) {
    out.push_back(e);
  });
  return out;
}

std::vector<RuleRow> Store::rules(const lmdb::Txn& txn, std::string_view share_id) const {
  std::vector<RuleRow> out;
  TxnState(*dbs_, txn, *options_).for_each_rule(share_id, [&](const RuleRow& r) {
    out.push_back(r);
  });
  return out;
}

std::vector<MappingRow> Store::groups_of_share(const lmdb::Txn& txn,
                                               std::string_view share_id) const {
  std::vector<MappingRow> out;
  TxnState(*dbs_, txn, *options_).for_each_group_of_share(share_id, [&](const MappingRow& m) {
    out.push_back(m);
  });
  return out;
}

std::vector<MappingRow> Store::shares_of_group(const lmdb::Txn& txn,
                                               std::string_view group_id) const {
  std::vector<MappingRow> out;
  TxnState(*dbs_, txn, *options_).for_each_share_of_group(group_id, [&](const MappingRow& m) {
    out.push_back(m);
  });
  return out;
}

std::vector<EffectiveRule> Store::effective_rules(const lmdb::Txn& txn,
                                                  std::string_view share_id) const {
  std::vector<EffectiveRule> out;
  Rows(*dbs_, txn).scan(dbs_->effective_rules, key_prefix(share_id),
                        [&](auto, std::string_view v) {
                          out.push_back(decode<EffectiveRule>(v));
                          return true;
                        });
  return out;
}

std::vector<OutboxEntry> Store::outbox(const lmdb::Txn& txn, std::size_t limit) const {
  std::vector<OutboxEntry> out;
  Rows(*dbs_, txn).scan(dbs_->outbox, "", [&](std::string_view k, std::string_view v) {
    out.push_back(outbox_entry(k, v));
    return out.size() < limit;
  });
  return out;
}

std::string Store::share_access_rules_status(const lmdb::Txn& txn, const ShareRow& share) const {
  std::string_view result = "active";
  for (const auto& in : instances(txn, share)) {
    if (in.status != "available") continue;
    const auto s = engine::access_rules_status(share, in);
    if (s == "error") return "error";
    if (s == "syncing") result = "syncing";
  }
  return std::string(result);
}

std::string Store::digest(const lmdb::Txn& txn) const {
  XXH3_state_t* state = XXH3_createState();
  if (!state) throw std::bad_alloc();
  XXH3_128bits_reset(state);
  auto feed = [&](std::string_view bytes) {
    const std::uint64_t n = bytes.size();
    XXH3_128bits_update(state, &n, sizeof n);
    XXH3_128bits_update(state, bytes.data(), bytes.size());
  };
  Rows r(*dbs_, txn);
  for (const auto& [name, dbi] : dbs_->all) {
    feed(name);
    r.scan(dbi, "", [&](std::string_view k, std::string_view v) {
      feed(k);
      feed(v);
      return true;
    });
  }
  const XXH128_hash_t h = XXH3_128bits_digest(state);
  XXH3_freeState(state);
  return fmt::format("{:016x}{:016x}", h.high64, h.low64);
}

}  // namespace agate::projections
