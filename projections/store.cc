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
  lmdb::Dbi shares;                                    // share_data
  lmdb::Dbi groups;                                    // group_data
  lmdb::Dbi lookups;                                   // lookups
  std::vector<std::pair<std::string, lmdb::Dbi>> all;  // in database_names() order
  std::optional<lmdb::Dbi> meta;  // projections_meta: the layout stamp; absent in old ones
};

namespace {

constexpr const char* kMetaDatabase = "projections_meta";
constexpr std::string_view kLayoutKey = "layout";

std::string layout_value(std::uint32_t version) { return std::to_string(version); }

}  // namespace

const std::vector<std::string>& Store::database_names() {
  static const std::vector<std::string> names = {"group_data", "lookups", "share_data"};
  return names;
}

namespace {

std::shared_ptr<Store::Dbs> name_databases(std::shared_ptr<Store::Dbs> dbs) {
  auto get = [&](std::string_view name) {
    for (const auto& [n, dbi] : dbs->all) {
      if (n == name) return dbi;
    }
    throw std::logic_error("no projection database " + std::string(name));
  };
  dbs->shares = get("share_data");
  dbs->groups = get("group_data");
  dbs->lookups = get("lookups");
  return dbs;
}

}  // namespace

Store Store::open(lmdb::Env& env, StoreOptions options) {
  auto dbs = std::make_shared<Dbs>();
  auto txn = lmdb::Txn::begin_write(env);
  for (const auto& name : database_names()) {
    dbs->all.emplace_back(name, lmdb::Dbi::open(txn, name.c_str(), /*create=*/true));
  }
  dbs->meta = lmdb::Dbi::open(txn, kMetaDatabase, /*create=*/true);
  // Nothing reads them any more; their pages go back to the free list.
  for (const auto& name : retired_database_names()) {
    if (auto dbi = lmdb::Dbi::try_open(txn, name.c_str())) dbi->remove(txn);
  }
  Store store(name_databases(std::move(dbs)),
              std::make_shared<const StoreOptions>(std::move(options)));
  // Empty projections are of any layout: a new environment is stamped with this one.
  if (!store.dbs_->meta->get(txn, kLayoutKey) && store.empty(txn)) store.stamp(txn);
  txn.commit();
  return store;
}

std::optional<Store> Store::try_open(const lmdb::Txn& txn, StoreOptions options) {
  auto dbs = std::make_shared<Dbs>();
  for (const auto& name : database_names()) {
    auto dbi = lmdb::Dbi::try_open(txn, name.c_str());
    if (!dbi) return std::nullopt;
    dbs->all.emplace_back(name, *dbi);
  }
  dbs->meta = lmdb::Dbi::try_open(txn, kMetaDatabase);
  return Store(name_databases(std::move(dbs)),
               std::make_shared<const StoreOptions>(std::move(options)));
}

namespace {

// ---- keys -----------------------------------------------------------------------------------
//
// Ids that Agate makes (UUIDs) appear in keys as id_component()s: 17 bytes that sort as the ids.
// share_data and group_data keys start with the owner's id component, then one tag byte, then
// the tag's part: every key of one share (or group) shares that prefix, so what one event writes
// for it lands in one stretch of the B-tree. A share's row, tag 0 with nothing after, comes first.
// lookups keys start with one tag byte.

enum class ShareTag : char {
  row = 0,       // -> ShareRecord (the ShareRow and the rule count)
  instance = 1,  // + instance id -> InstanceRow
  group = 2,     // + group id -> MappingRow
  denied = 3,    // + 8-byte big-endian denied_version + identity key -> "" (denied, not purged)
  rule = 4,      // + identity key -> RuleRecord (effective rule and/or direct rule)
  applied = 5,   // + instance id + identity key -> level byte: what the instance's back end holds
};

enum class GroupTag : char {
  share = 0,  // + share id -> MappingRow
  entry = 1,  // + identity key -> encode_entry(): the entry less what the key holds (lookups 'e'
              //   finds it by entry id)
};

enum class Lookup : char {
  group = 'G',           // + group id -> GroupRow (with entry_count and share_count)
  shares_by_type = 'b',  // + share type id + share id -> ""
  group_name = 'g',      // + key(project id, group name) -> group id (text)
  instance = 'i',        // + instance id -> share id (text)
  mapping = 'm',         // + mapping id -> id(share id) id(group id)
  type_name = 'n',       // + share type name -> share type id (text)
  outbox = 'o',          // + instance id -> id(share id) u64(desired version)
  project_groups = 'p',  // + key_prefix(project id) + group id -> ""
  project_shares = 'q',  // + key_prefix(project id) + share id -> ""
  entry = 'e',           // + entry id -> id(group id) str(identity key)
  rule = 'r',            // + rule id -> id(share id) str(identity key)
  retired = 'x',         // + instance id -> InstanceRow of a deleted share, until its back end
                         //   has dropped its rules (it is in the outbox meanwhile)
  share_type = 't',      // + share type id -> ShareTypeRow
  recycle_bin = 'd',     // + recycle_bin_time() + share id -> "": soft-deleted shares by the
                         //   time they are to be deleted
  lock = 'L',            // + lock id -> LockRow
  locks_of = 'k',        // + id_component(resource id) + lock id -> ""
  locks_of_share = 'K',  // + id_component(share id) + lock id -> "": the share's, its rules',
                         //   its mappings'
  mount_point = 'u',     // + key(back end, mount point name) -> share id (text)
};

std::string owned_key(std::string_view owner, char tag, std::string_view rest) {
  std::string k = id_component(owner);
  k.reserve(k.size() + 1 + rest.size());
  k.push_back(tag);
  k.append(rest);
  return k;
}

std::string share_key(std::string_view share_id, ShareTag tag, std::string_view rest = {}) {
  return owned_key(share_id, static_cast<char>(tag), rest);
}

std::string group_key(std::string_view group_id, GroupTag tag, std::string_view rest = {}) {
  return owned_key(group_id, static_cast<char>(tag), rest);
}

// lookups: the tag, then `a` as bytes, then `id` (if any) as an id component.
std::string lookup_key(Lookup tag, std::string_view a, std::optional<std::string_view> id = {}) {
  std::string k(1, static_cast<char>(tag));
  k.append(a);
  if (id) k.append(id_component(*id));
  return k;
}

// lookups: the tag, then an id.
std::string lookup_id(Lookup tag, std::string_view id) { return lookup_key(tag, {}, id); }

std::string lock_of_key(std::string_view resource_id, std::string_view lock_id) {
  return lookup_key(Lookup::locks_of, id_component(resource_id), lock_id);
}

std::string share_lock_key(std::string_view share_id, std::string_view lock_id) {
  return lookup_key(Lookup::locks_of_share, id_component(share_id), lock_id);
}

// A time in µs as 8 bytes whose order is the times' order, negative ones included.
std::string recycle_bin_time(std::int64_t micros) {
  std::string out;
  append_be64(out, static_cast<std::uint64_t>(micros) ^ (std::uint64_t{1} << 63));
  return out;
}

std::int64_t read_recycle_bin_time(std::string_view bytes) {
  return static_cast<std::int64_t>(read_be64(bytes) ^ (std::uint64_t{1} << 63));
}

std::string recycle_bin_key(const ShareRow& share) {
  return lookup_key(Lookup::recycle_bin, recycle_bin_time(share.scheduled_to_be_deleted_at),
                    share.id);
}

std::string shares_by_type_key(std::string_view type_id, std::string_view share_id) {
  return lookup_key(Lookup::shares_by_type, id_component(type_id), share_id);
}

// project_shares or project_groups: every key of one project if `id` is nullopt.
std::string project_key(Lookup tag, std::string_view project_id,
                        std::optional<std::string_view> id = {}) {
  return lookup_key(tag, key_prefix(project_id), id);
}

std::string mount_point_key(std::string_view backend, std::string_view name) {
  return lookup_key(Lookup::mount_point, key(backend, name));
}

std::string group_name_key(std::string_view project_id, std::string_view name) {
  return lookup_key(Lookup::group_name, key(project_id, name));
}

std::string denied_key(std::string_view share_id, std::uint64_t version,
                       std::string_view identity) {
  std::string rest;
  append_be64(rest, version);
  rest.append(identity);
  return share_key(share_id, ShareTag::denied, rest);
}

// What a rule id (an entry id) points to: its share (group) and the identity key of its record.
std::string rule_pointer_value(std::string_view share_id, std::string_view identity) {
  std::string v;
  RowWriter(v).id(share_id).str(identity);
  return v;
}

// What a mapping id points to: its share and its group.
std::string mapping_pointer_value(std::string_view share_id, std::string_view group_id) {
  std::string v;
  RowWriter(v).id(share_id).id(group_id);
  return v;
}

std::string outbox_value(std::string_view share_id, std::uint64_t version) {
  std::string v;
  RowWriter(v).id(share_id).u64(version);
  return v;
}

OutboxEntry outbox_entry_of(std::string_view instance_id, std::string_view value) {
  RowReader r(value, "outbox");
  OutboxEntry e;
  e.instance_id = std::string(instance_id);
  e.share_id = r.id();
  e.desired_version = r.u64();
  r.finish();
  return e;
}

RuleIdentity identity_of(events::AccessType type, std::string_view access_to) {
  return {type, engine::rule_identity(type, access_to)};
}

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

  // Like scan(), with the key given to fn without `prefix`.
  void scan_rest(lmdb::Dbi dbi, std::string_view prefix,
                 const std::function<bool(std::string_view, std::string_view)>& fn) const {
    scan(dbi, prefix,
         [&](std::string_view k, std::string_view v) { return fn(k.substr(prefix.size()), v); });
  }

  // Calls fn(ShareRecord bytes) for every share, in share_data's key order (the ids' order),
  // until fn returns false: it reads each share's first key, its row, then seeks past the
  // share's other keys.
  void each_share_row(const std::function<bool(std::string_view)>& fn) const {
    auto cursor = lmdb::Cursor::open(t, d.shares);
    std::string_view k, v;
    bool found = cursor.get(k, v, MDB_FIRST);
    while (found) {
      std::string_view rest = k;
      take_id_component(rest);
      if (rest.empty()) throw RowCorrupt("corrupt key: no tag after the share id");
      if (rest.size() == 1 && rest[0] == static_cast<char>(ShareTag::row) && !fn(v)) return;
      std::string next(k.substr(0, k.size() - rest.size()));
      next.push_back('\xff');  // past every tag of this share
      std::string_view seek = next;
      found = cursor.get(seek, v, MDB_SET_RANGE);
      k = seek;
    }
  }

  // Calls fn(share id, scheduled time) for the shares of the recycle bin to be deleted at
  // `until_micros` or before, the earliest first (the index, not every share), until fn returns
  // false.
  void each_in_recycle_bin(std::int64_t until_micros,
                           const std::function<bool(std::string, std::int64_t)>& fn) const {
    scan_rest(d.lookups, lookup_key(Lookup::recycle_bin, ""),
              [&](std::string_view rest, std::string_view) {
                if (rest.size() < 8) throw RowCorrupt("corrupt recycle bin key");
                const auto at = read_recycle_bin_time(rest.substr(0, 8));
                if (at > until_micros) return false;
                rest.remove_prefix(8);
                return fn(take_id_component(rest), at);
              });
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

  // ---- typed access ----

  std::optional<ShareRecord> share(std::string_view id) const {
    return get<ShareRecord>(d.shares, share_key(id, ShareTag::row));
  }
  std::optional<InstanceRow> instance(std::string_view share_id, std::string_view id) const {
    return get<InstanceRow>(d.shares, share_key(share_id, ShareTag::instance, id_component(id)));
  }
  std::optional<GroupRow> group(std::string_view id) const {
    return get<GroupRow>(d.lookups, lookup_id(Lookup::group, id));
  }
  std::optional<ShareTypeRow> share_type(std::string_view id) const {
    return get<ShareTypeRow>(d.lookups, lookup_id(Lookup::share_type, id));
  }
  std::optional<RuleRecord> rule_record(std::string_view share_id,
                                        std::string_view identity) const {
    return get<RuleRecord>(d.shares, share_key(share_id, ShareTag::rule, identity));
  }
  // The entry of a group under an identity key, if there is one.
  std::optional<EntryRow> entry(std::string_view group_id, std::string_view identity) const {
    auto v = d.groups.get(t, group_key(group_id, GroupTag::entry, identity));
    if (!v) return std::nullopt;
    return decode_entry(*v, group_id, identity);
  }
  // Calls fn(entry) for every entry of a group, in identity order.
  void each_entry(std::string_view group_id, const std::function<void(EntryRow)>& fn) const {
    scan_rest(d.groups, group_key(group_id, GroupTag::entry),
              [&](std::string_view identity, std::string_view v) {
                fn(decode_entry(v, group_id, identity));
                return true;
              });
  }
  // The group and identity key of an entry id, if the entry exists.
  std::optional<std::pair<std::string, std::string>> entry_pointer(
      std::string_view entry_id) const {
    auto v = d.lookups.get(t, lookup_id(Lookup::entry, entry_id));
    if (!v) return std::nullopt;
    RowReader r(*v, "entry pointer");
    auto group_id = r.id();
    auto identity = r.str();
    r.finish();
    return std::pair{std::move(group_id), std::move(identity)};
  }
  // The share and identity key of a rule id, if the rule exists.
  std::optional<std::pair<std::string, std::string>> rule_pointer(std::string_view rule_id) const {
    auto v = d.lookups.get(t, lookup_id(Lookup::rule, rule_id));
    if (!v) return std::nullopt;
    RowReader r(*v, "rule pointer");
    auto share_id = r.id();
    auto identity = r.str();
    r.finish();
    return std::pair{std::move(share_id), std::move(identity)};
  }
  std::optional<RuleRow> rule(std::string_view rule_id) const {
    auto p = rule_pointer(rule_id);
    if (!p) return std::nullopt;
    auto record = rule_record(p->first, p->second);
    if (!record || !record->direct || record->direct->id != rule_id) return std::nullopt;
    return std::move(record->direct);
  }
  std::optional<MappingRow> mapping(std::string_view mapping_id) const {
    auto v = d.lookups.get(t, lookup_id(Lookup::mapping, mapping_id));
    if (!v) return std::nullopt;
    RowReader r(*v, "mapping pointer");
    const auto share_id = r.id();
    const auto group_id = r.id();
    r.finish();
    return get<MappingRow>(d.shares, share_key(share_id, ShareTag::group, id_component(group_id)));
  }

  const Store::Dbs& d;
  const lmdb::Txn& t;
};

// ---- the fold -------------------------------------------------------------------------------

class Applier {
 public:
  Applier(const Store::Dbs& dbs, const lmdb::Txn& txn, const events::Event& e,
          std::vector<OutboxEntry>* dirty)
      : r_(dbs, txn), d_(dbs), e_(e), dirty_(dirty) {}

  void operator()(const events::ShareTypeCreated& b) {
    ShareTypeRow row{b.share_type_id, e_.project_id, b.name,        b.description,
                     b.is_public,     b.extra_specs, e_.time_micros};
    r_.put(d_.lookups, lookup_id(Lookup::share_type, row.id), encode(row));
    r_.put(d_.lookups, lookup_key(Lookup::type_name, row.name), row.id);
  }

  void operator()(const events::ShareTypeUpdated& b) {
    auto row = r_.share_type(b.share_type_id);
    if (!row) throw missing("share type", b.share_type_id);
    if (row->name != b.name) {
      r_.del(d_.lookups, lookup_key(Lookup::type_name, row->name));
      r_.put(d_.lookups, lookup_key(Lookup::type_name, b.name), row->id);
    }
    row->name = b.name;
    row->description = b.description;
    row->is_public = b.is_public;
    r_.put(d_.lookups, lookup_id(Lookup::share_type, row->id), encode(*row));
  }

  void operator()(const events::ShareTypeDeleted& b) {
    auto row = r_.share_type(b.share_type_id);
    if (!row) throw missing("share type", b.share_type_id);
    r_.del(d_.lookups, lookup_key(Lookup::type_name, row->name));
    r_.del(d_.lookups, lookup_id(Lookup::share_type, row->id));
  }

  void operator()(const events::ShareCreated& b) {
    ShareRecord record;
    ShareRow& share = record.row;
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
    share.mount_point_name = b.mount_point_name;
    share.snapshot_inherit_share_access_support = b.snapshot_inherit_share_access_support;
    share.created_at = e_.time_micros;
    for (const auto& in : b.instances) {
      if (!b.mount_point_name.empty() && !in.host.empty()) {
        r_.put(d_.lookups, mount_point_key(in.host, b.mount_point_name), share.id);
      }
      share.instance_ids.push_back(in.instance_id);
      InstanceRow row;
      row.id = in.instance_id;
      row.share_id = b.share_id;
      row.host = in.host;
      row.status = in.status;
      row.export_locations = in.export_locations;
      row.created_at = e_.time_micros;
      put_instance(row);
      r_.put(d_.lookups, lookup_id(Lookup::instance, row.id), share.id);
    }
    put_share(record);
    r_.put(d_.lookups, shares_by_type_key(share.share_type_id, share.id), "");
    r_.put(d_.lookups, project_key(Lookup::project_shares, share.project_id, share.id), "");
  }

  void operator()(const events::ShareStatusChanged& b) {
    auto share = must_share(b.share_id);
    share.row.status = b.status;
    share.row.updated_at = e_.time_micros;
    put_share(share);
    for (const auto& s : b.instances) {
      auto in = must_instance(share.row.id, s.instance_id);
      in.status = s.status;
      in.updated_at = e_.time_micros;
      put_instance(in);
    }
  }

  void operator()(const events::ShareDeleted& b) {
    const auto share = must_share(b.share_id).row;
    std::vector<std::string> rule_ids;
    r_.scan(d_.shares, share_key(share.id, ShareTag::rule), [&](auto, std::string_view v) {
      if (auto record = decode<RuleRecord>(v); record.direct) rule_ids.push_back(record.direct->id);
      return true;
    });
    for (const auto& id : rule_ids) r_.del(d_.lookups, lookup_id(Lookup::rule, id));
    for (const auto& mapping : mappings_of_share(share.id)) remove_mapping_rows(mapping);
    for (const auto& id : share.instance_ids) {
      r_.del(d_.lookups, lookup_id(Lookup::instance, id));
      r_.del(d_.lookups, lookup_id(Lookup::outbox, id));
      // The back end must drop what it exports for the instance: it stays, retired, in the
      // outbox until a driver outcome says that is done.
      auto in = r_.instance(share.id, id);
      if (in && !share.mount_point_name.empty()) {
        r_.del(d_.lookups, mount_point_key(in->host, share.mount_point_name));
      }
      if (in && !in->host.empty()) {
        r_.put(d_.lookups, lookup_id(Lookup::retired, id), encode(*in));
        mark_dirty(share, id);
      }
    }
    r_.del(d_.lookups, shares_by_type_key(share.share_type_id, share.id));
    r_.del(d_.lookups, project_key(Lookup::project_shares, share.project_id, share.id));
    if (share.is_soft_deleted) r_.del(d_.lookups, recycle_bin_key(share));
    // The row, instances, rules, effective rules and what mappings remain: the whole prefix.
    for (const auto& k : r_.keys(d_.shares, id_component(share.id))) r_.del(d_.shares, k);
  }

  // Only the share's row and the recycle bin's index change: the share keeps its instances,
  // rules and groups, and its back ends what they hold.
  void operator()(const events::ShareSoftDeleted& b) {
    auto share = must_share(b.share_id);
    if (share.row.is_soft_deleted) {
      throw ApplyError(fmt::format("share {} is soft-deleted twice", share.row.id));
    }
    share.row.is_soft_deleted = true;
    share.row.scheduled_to_be_deleted_at = b.scheduled_to_be_deleted_at_micros;
    share.row.updated_at = e_.time_micros;
    put_share(share);
    r_.put(d_.lookups, recycle_bin_key(share.row), "");
  }

  void operator()(const events::ShareRestored& b) {
    auto share = must_share(b.share_id);
    if (!share.row.is_soft_deleted) {
      throw ApplyError(fmt::format("share {} is restored but not soft-deleted", share.row.id));
    }
    r_.del(d_.lookups, recycle_bin_key(share.row));
    share.row.is_soft_deleted = false;
    share.row.scheduled_to_be_deleted_at = 0;
    share.row.updated_at = e_.time_micros;
    put_share(share);
  }

  void operator()(const events::ResourceLockCreated& b) {
    if (r_.d.lookups.get(r_.t, lookup_id(Lookup::lock, b.lock_id))) {
      throw ApplyError(fmt::format("resource lock {} is created twice", b.lock_id));
    }
    engine::LockRow row{b.lock_id,       e_.project_id,   e_.user_id,  b.lock_context,
                        b.resource_type, b.resource_id,   b.resource_action,
                        b.lock_reason,   b.share_id,      e_.time_micros, 0};
    r_.put(d_.lookups, lookup_id(Lookup::lock, row.id), encode(row));
    r_.put(d_.lookups, lock_of_key(row.resource_id, row.id), "");
    if (!row.share_id.empty()) r_.put(d_.lookups, share_lock_key(row.share_id, row.id), "");
  }

  void operator()(const events::ResourceLockUpdated& b) {
    auto row = must_lock(b.lock_id);
    row.resource_action = b.resource_action;
    row.lock_reason = b.lock_reason;
    row.updated_at = e_.time_micros;
    r_.put(d_.lookups, lookup_id(Lookup::lock, row.id), encode(row));
  }

  void operator()(const events::ResourceLockDeleted& b) {
    const auto row = must_lock(b.lock_id);
    r_.del(d_.lookups, lookup_id(Lookup::lock, row.id));
    r_.del(d_.lookups, lock_of_key(row.resource_id, row.id));
    if (!row.share_id.empty()) r_.del(d_.lookups, share_lock_key(row.share_id, row.id));
  }

  void operator()(const events::AccessGroupCreated& b) {
    GroupRow row{b.group_id, e_.project_id, b.name,        b.description, b.access_type,
                 e_.time_micros, 0,         0,      0,            0};
    put_group(row);
    r_.put(d_.lookups, group_name_key(row.project_id, row.name), row.id);
    r_.put(d_.lookups, project_key(Lookup::project_groups, row.project_id, row.id), "");
  }

  void operator()(const events::AccessGroupUpdated& b) {
    auto group = must_group(b.group_id);
    r_.del(d_.lookups, group_name_key(group.project_id, group.name));
    group.name = b.name;
    group.description = b.description;
    group.updated_at = e_.time_micros;
    put_group(group);
    r_.put(d_.lookups, group_name_key(group.project_id, group.name), group.id);
  }

  void operator()(const events::AccessGroupDeleted& b) {
    auto group = must_group(b.group_id);
    if (group.share_count != 0) {
      throw ApplyError(fmt::format("access group {} is deleted while attached to {} shares",
                                   group.id, group.share_count));
    }
    for (const auto& entry : entries_of(group.id)) {
      r_.del(d_.lookups, lookup_id(Lookup::entry, entry.id));
    }
    // The entries and the attached shares (none): the whole prefix.
    for (const auto& k : r_.keys(d_.groups, id_component(group.id))) r_.del(d_.groups, k);
    r_.del(d_.lookups, lookup_id(Lookup::group, group.id));
    r_.del(d_.lookups, group_name_key(group.project_id, group.name));
    r_.del(d_.lookups, project_key(Lookup::project_groups, group.project_id, group.id));
  }

  void operator()(const events::EntryAdded& b) {
    auto group = must_group(b.group_id);
    EntryRow entry{b.entry_id,  group.id,       group.access_type,
                   b.access_to, b.access_level, e_.time_micros, e_.seq.value};
    const auto id = identity_of(group.access_type, b.access_to);
    const auto identity = identity_key(id);
    // One record per identity in the group's stretch, and the entry id in lookups: new ids are
    // time-ordered, so those land together at the end of the 'e' range.
    r_.put(d_.groups, group_key(group.id, GroupTag::entry, identity),
           encode_entry(entry, identity));
    r_.put(d_.lookups, lookup_id(Lookup::entry, entry.id), rule_pointer_value(group.id, identity));
    ++group.entry_count;
    put_group(group);
    const auto source = RuleSource::group(group.id, entry.id);
    for (const auto& share_id : shares_of(group.id)) {
      auto share = must_share(share_id);
      if (grant(share, id, b.access_level, source) == SetChange::added) bump(share);
    }
  }

  void operator()(const events::EntryRemoved& b) {
    auto group = must_group(b.group_id);
    auto pointer = r_.entry_pointer(b.entry_id);
    if (!pointer || pointer->first != group.id) throw missing("access group entry", b.entry_id);
    auto entry = r_.entry(group.id, pointer->second);
    if (!entry || entry->id != b.entry_id) throw missing("access group entry", b.entry_id);
    const auto id = identity_of(entry->access_type, entry->access_to);
    r_.del(d_.groups, group_key(group.id, GroupTag::entry, pointer->second));
    r_.del(d_.lookups, lookup_id(Lookup::entry, b.entry_id));
    --group.entry_count;
    put_group(group);
    const auto source = RuleSource::group(group.id, entry->id);
    for (const auto& share_id : shares_of(group.id)) {
      auto share = must_share(share_id);
      if (revoke(share, id, source) == SetChange::removed) bump(share);
    }
  }

  // The entry takes its new level on every share the group reaches: each share's effective rule
  // changes level in place, and the share is bumped (its instances reconciled).
  void operator()(const events::EntryLevelUpdated& b) {
    auto group = must_group(b.group_id);
    auto pointer = r_.entry_pointer(b.entry_id);
    if (!pointer || pointer->first != group.id) throw missing("access group entry", b.entry_id);
    auto entry = r_.entry(group.id, pointer->second);
    if (!entry || entry->id != b.entry_id) throw missing("access group entry", b.entry_id);
    entry->access_level = b.access_level;
    entry->version = e_.seq.value;
    r_.put(d_.groups, group_key(group.id, GroupTag::entry, pointer->second),
           encode_entry(*entry, pointer->second));
    const auto id = identity_of(entry->access_type, entry->access_to);
    const auto source = RuleSource::group(group.id, entry->id);
    for (const auto& share_id : shares_of(group.id)) {
      auto share = must_share(share_id);
      const auto k = share_key(share.row.id, ShareTag::rule, identity_key(id));
      auto record = r_.get<RuleRecord>(d_.shares, k);
      if (!record) throw missing("effective rule of access group entry", entry->id);
      if (change_level(share, record->effective, source, b.access_level) == SetChange::updated) {
        r_.put(d_.shares, k, encode(*record));
        bump(share);
      }
    }
  }

  void operator()(const events::RuleLevelUpdated& b) {
    auto share = must_share(b.share_id);
    auto [k, record] = must_rule(b.rule_id, share.row.id);
    auto& rule = *record.direct;
    if (rule.denied_version != 0) {
      throw ApplyError(fmt::format("access rule {} changes level while being denied", rule.id));
    }
    rule.access_level = b.access_level;
    rule.updated_at = e_.time_micros;
    const auto change =
        change_level(share, record.effective, RuleSource::direct(rule.id), b.access_level);
    r_.put(d_.shares, k, encode(record));
    if (change == SetChange::updated) {
      bump(share);
    } else {
      put_share(share);
    }
  }

  void operator()(const events::RuleAllowed& b) {
    auto share = must_share(b.share_id);
    const auto id = identity_of(b.access_type, b.access_to);
    const auto k = share_key(share.row.id, ShareTag::rule, identity_key(id));
    auto record = r_.get<RuleRecord>(d_.shares, k).value_or(RuleRecord{});
    if (record.direct) {
      throw ApplyError(
          fmt::format("access rule {} allows {}:{} on share {}, which access rule {} "
                      "already does",
                      b.rule_id, events::to_string(id.access_type), id.identity, share.row.id,
                      record.direct->id));
    }
    record.direct = RuleRow{b.rule_id,
                            b.share_id,
                            b.access_type,
                            b.access_to,
                            b.access_level,
                            b.metadata,
                            e_.time_micros,
                            0,
                            0};
    const auto change =
        grant(share, record.effective, id, b.access_level, RuleSource::direct(b.rule_id));
    r_.put(d_.shares, k, encode(record));
    r_.put(d_.lookups, lookup_id(Lookup::rule, b.rule_id),
           rule_pointer_value(share.row.id, identity_key(id)));
    ++share.rule_count;
    if (change == SetChange::added) {
      bump(share);
    } else {
      put_share(share);
    }
  }

  void operator()(const events::RuleDenied& b) {
    auto share = must_share(b.share_id);
    auto [k, record] = must_rule(b.rule_id, share.row.id);
    auto& rule = *record.direct;
    if (rule.denied_version != 0) return;
    const auto id = identity_of(rule.access_type, rule.access_to);
    if (engine::revoke(record.effective, RuleSource::direct(rule.id)) == SetChange::removed) {
      bump(share);
    }
    // The row stays until every instance has applied a version without the rule.
    rule.denied_version = std::max<std::uint64_t>(share.row.desired_version, 1);
    rule.updated_at = e_.time_micros;
    r_.put(d_.shares, k, encode(record));
    r_.put(d_.shares, denied_key(share.row.id, rule.denied_version, identity_key(id)), "");
    purge_denied_rules(share);
  }

  void operator()(const events::RuleMetadataSet& b) {
    auto [k, record] = must_rule(b.rule_id);
    auto& metadata = record.direct->metadata;
    for (const auto& [key, value] : b.metadata) metadata.insert_or_assign(key, value);
    record.direct->updated_at = e_.time_micros;
    r_.put(d_.shares, k, encode(record));
  }

  void operator()(const events::RuleMetadataUnset& b) {
    auto [k, record] = must_rule(b.rule_id);
    for (const auto& key : b.keys) record.direct->metadata.erase(key);
    record.direct->updated_at = e_.time_micros;
    r_.put(d_.shares, k, encode(record));
  }

  void operator()(const events::GroupAttached& b) {
    auto share = must_share(b.share_id);
    auto group = must_group(b.group_id);
    MappingRow mapping{b.mapping_id, share.row.id, group.id, e_.time_micros};
    const auto row = encode(mapping);
    r_.put(d_.shares, share_key(share.row.id, ShareTag::group, id_component(group.id)), row);
    r_.put(d_.groups, group_key(group.id, GroupTag::share, id_component(share.row.id)), row);
    r_.put(d_.lookups, lookup_id(Lookup::mapping, mapping.id),
           mapping_pointer_value(share.row.id, group.id));
    ++group.share_count;
    put_group(group);
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
    auto mapping = r_.mapping(b.mapping_id);
    if (!mapping) throw missing("access group mapping", b.mapping_id);
    if (mapping->share_id != share.row.id) {
      throw ApplyError(fmt::format("access group mapping {} is of share {}, not of share {}",
                                   mapping->id, mapping->share_id, share.row.id));
    }
    remove_mapping_rows(*mapping);
    bool changed = false;
    for (const auto& entry : entries_of(mapping->group_id)) {
      const auto id = identity_of(entry.access_type, entry.access_to);
      changed |=
          revoke(share, id, RuleSource::group(mapping->group_id, entry.id)) == SetChange::removed;
    }
    if (changed) bump(share);
  }

  void operator()(const events::AccessSyncRequested& b) {
    auto share = must_share(b.share_id);
    for (const auto& id : share.row.instance_ids) {
      auto in = must_instance(share.row.id, id);
      if (in.host.empty()) continue;
      // A retry of everything: errors are forgotten until the back end reports again.
      in.sync_requested = true;
      in.has_error = false;
      in.status_message.clear();
      in.failures.clear();
      in.updated_at = e_.time_micros;
      put_instance(in);
      mark_dirty(share.row, in.id);
    }
  }

  void operator()(const events::DriverOutcome& b) {
    auto share_id = r_.get_text(d_.lookups, lookup_id(Lookup::instance, b.instance_id));
    if (!share_id) {
      // A retired instance: once its back end has dropped everything, it is forgotten.
      if (!r_.get_text(d_.lookups, lookup_id(Lookup::retired, b.instance_id))) {
        throw missing("share instance", b.instance_id);
      }
      if (b.call_succeeded) {
        r_.del(d_.lookups, lookup_id(Lookup::retired, b.instance_id));
        r_.del(d_.lookups, lookup_id(Lookup::outbox, b.instance_id));
      }
      return;
    }
    auto in = must_instance(*share_id, b.instance_id);
    // A stale outcome (for an older version than one already recorded) changes nothing.
    if (b.applied_version < in.applied_version) return;
    auto share = must_share(in.share_id);
    in.applied_version = b.applied_version;

    // What the back end holds: a failed call changed nothing; otherwise the added rules that did
    // not fail are there and the deleted ones are gone (all else is gone too after a full sync).
    std::set<events::RuleKey> refused;
    for (const auto& f : b.failures) refused.insert(f.rule);
    const std::string applied_prefix =
        share_key(in.share_id, ShareTag::applied, id_component(in.id));
    if (b.call_succeeded) {
      if (b.full_sync) {
        for (const auto& k : r_.keys(d_.shares, applied_prefix)) r_.del(d_.shares, k);
      }
      for (const auto& k : b.removed) {
        r_.del(d_.shares, applied_prefix + identity_key({k.access_type, k.access_to}));
      }
      for (const auto& a : b.added) {
        if (refused.contains(a.rule)) continue;
        r_.put(d_.shares, applied_prefix + identity_key({a.rule.access_type, a.rule.access_to}),
               std::string(1, static_cast<char>(a.level)));
      }
    }

    // Rules the back end refused stay in error — and are not sent again — until they are
    // deleted, applied after all, or the user asks for a sync. A failed call refuses every rule
    // it was to add.
    std::vector<events::RuleFailure> failures;
    std::set<events::RuleKey> settled(refused);
    for (const auto& k : b.removed) settled.insert(k);
    if (b.call_succeeded) {
      for (const auto& a : b.added) settled.insert(a.rule);
    }
    if (!b.full_sync) {
      for (const auto& f : in.failures) {
        if (!settled.contains(f.rule)) failures.push_back(f);
      }
    }
    failures.insert(failures.end(), b.failures.begin(), b.failures.end());
    if (!b.call_succeeded) {
      for (const auto& a : b.added) {
        if (!refused.contains(a.rule)) failures.push_back({a.rule, b.message});
      }
    }
    std::sort(failures.begin(), failures.end(),
              [](const auto& x, const auto& y) { return x.rule < y.rule; });
    in.failures = std::move(failures);
    in.has_error = !b.call_succeeded || !in.failures.empty();
    in.status_message.clear();
    if (!b.call_succeeded) {
      in.status_message = b.message;
    } else if (!in.failures.empty()) {
      in.status_message = fmt::format("{} access rule(s) failed to apply:", in.failures.size());
      for (const auto& f : in.failures) {
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
    if (b.applied_version >= share.row.desired_version) {
      in.sync_requested = false;
      r_.del(d_.lookups, lookup_id(Lookup::outbox, in.id));
    }
    in.updated_at = e_.time_micros;
    put_instance(in);
    purge_denied_rules(share);
  }

 private:
  static ApplyError missing(std::string_view what, std::string_view id) {
    return ApplyError(fmt::format("{} {} does not exist", what, id));
  }

  ShareRecord must_share(std::string_view id) {
    auto share = r_.share(id);
    if (!share) throw missing("share", id);
    return std::move(*share);
  }
  engine::LockRow must_lock(std::string_view id) {
    auto lock = r_.get<engine::LockRow>(d_.lookups, lookup_id(Lookup::lock, id));
    if (!lock) throw missing("resource lock", id);
    return std::move(*lock);
  }
  GroupRow must_group(std::string_view id) {
    auto group = r_.group(id);
    if (!group) throw missing("access group", id);
    return std::move(*group);
  }
  InstanceRow must_instance(std::string_view share_id, std::string_view id) {
    auto in = r_.instance(share_id, id);
    if (!in) throw missing("share instance", id);
    return std::move(*in);
  }
  // The key and record of a direct rule, which must exist (on `share_id`, if given).
  std::pair<std::string, RuleRecord> must_rule(std::string_view rule_id,
                                               std::string_view share_id = {}) {
    auto p = r_.rule_pointer(rule_id);
    if (!p) throw missing("access rule", rule_id);
    if (!share_id.empty() && p->first != share_id) {
      throw ApplyError(fmt::format("access rule {} is of share {}, not of share {}", rule_id,
                                   p->first, share_id));
    }
    auto k = share_key(p->first, ShareTag::rule, p->second);
    auto record = r_.get<RuleRecord>(d_.shares, k);
    if (!record || !record->direct || record->direct->id != rule_id) {
      throw missing("access rule", rule_id);
    }
    return {std::move(k), std::move(*record)};
  }

  void put_share(const ShareRecord& share) {
    r_.put(d_.shares, share_key(share.row.id, ShareTag::row), encode(share));
  }
  void put_instance(const InstanceRow& in) {
    r_.put(d_.shares, share_key(in.share_id, ShareTag::instance, id_component(in.id)), encode(in));
  }
  // Every change of a group's row is a new version of it: this event's position.
  void put_group(GroupRow group) {
    group.version = e_.seq.value;
    r_.put(d_.lookups, lookup_id(Lookup::group, group.id), encode(group));
  }

  std::vector<std::string> shares_of(std::string_view group_id) {
    std::vector<std::string> out;
    r_.scan_rest(d_.groups, group_key(group_id, GroupTag::share),
                 [&](std::string_view rest, std::string_view) {
                   out.push_back(take_id_component(rest));
                   return true;
                 });
    return out;
  }

  std::vector<MappingRow> mappings_of_share(std::string_view share_id) {
    std::vector<MappingRow> out;
    r_.scan(d_.shares, share_key(share_id, ShareTag::group), [&](auto, std::string_view v) {
      out.push_back(decode<MappingRow>(v));
      return true;
    });
    return out;
  }

  std::vector<EntryRow> entries_of(std::string_view group_id) {
    std::vector<EntryRow> out;
    r_.each_entry(group_id, [&](EntryRow e) { out.push_back(std::move(e)); });
    return out;
  }

  // Grants `id` from `source` on the share, in the stored effective rule `rule` (updated in
  // place; the caller stores it). Throws ApplyError on a conflict.
  SetChange grant(const ShareRecord& share, std::optional<EffectiveRule>& rule,
                  const RuleIdentity& id, events::AccessLevel level, const RuleSource& source) {
    auto change = engine::grant(rule, id, level, source, share.row.desired_version + 1);
    if (!change) {
      throw ApplyError(fmt::format("{} grants {}:{} at another level than {} on share {}",
                                   engine::describe(source), events::to_string(id.access_type),
                                   id.identity, engine::describe(change.error().existing_source),
                                   share.row.id));
    }
    return *change;
  }

  // Changes the level `source` grants `rule` at (see engine::change_level). Throws ApplyError
  // on a conflict.
  SetChange change_level(const ShareRecord& share, std::optional<EffectiveRule>& rule,
                         const RuleSource& source, events::AccessLevel level) {
    auto change = engine::change_level(rule, source, level, share.row.desired_version + 1);
    if (!change) {
      throw ApplyError(fmt::format("{} changes the level of {}:{} on share {}, which {} grants too",
                                   engine::describe(source),
                                   events::to_string(change.error().rule.access_type),
                                   change.error().rule.identity, share.row.id,
                                   engine::describe(change.error().existing_source)));
    }
    return *change;
  }

  // The same, reading and writing the share's record for `id`.
  SetChange grant(const ShareRecord& share, const RuleIdentity& id, events::AccessLevel level,
                  const RuleSource& source) {
    const auto k = share_key(share.row.id, ShareTag::rule, identity_key(id));
    auto record = r_.get<RuleRecord>(d_.shares, k).value_or(RuleRecord{});
    const auto change = grant(share, record.effective, id, level, source);
    r_.put(d_.shares, k, encode(record));
    return change;
  }

  SetChange revoke(const ShareRecord& share, const RuleIdentity& id, const RuleSource& source) {
    const auto k = share_key(share.row.id, ShareTag::rule, identity_key(id));
    auto record = r_.get<RuleRecord>(d_.shares, k);
    if (!record) return SetChange::none;
    // Written even when the set did not change: the rule may have lost one of its sources.
    const auto change = engine::revoke(record->effective, source);
    if (record->empty()) {
      r_.del(d_.shares, k);
    } else {
      r_.put(d_.shares, k, encode(*record));
    }
    return change;
  }

  // Puts an instance in the outbox at the share's desired version, and tells the caller.
  void mark_dirty(const ShareRow& share, std::string_view instance_id) {
    r_.put(d_.lookups, lookup_id(Lookup::outbox, instance_id),
           outbox_value(share.id, share.desired_version));
    if (dirty_) {
      dirty_->push_back({std::string(instance_id), share.id, share.desired_version});
    }
  }

  // The share's effective set changed: a new desired version, and every instance that has a
  // back end goes to the outbox. Writes the share's record.
  void bump(ShareRecord& share) {
    ++share.row.desired_version;
    put_share(share);
    for (const auto& id : share.row.instance_ids) {
      auto in = r_.instance(share.row.id, id);
      if (in && !in->host.empty()) mark_dirty(share.row, id);
    }
  }

  void remove_mapping_rows(const MappingRow& mapping) {
    auto group = must_group(mapping.group_id);
    --group.share_count;
    put_group(group);
    r_.del(d_.groups, group_key(mapping.group_id, GroupTag::share, id_component(mapping.share_id)));
    r_.del(d_.shares, share_key(mapping.share_id, ShareTag::group, id_component(mapping.group_id)));
    r_.del(d_.lookups, lookup_id(Lookup::mapping, mapping.id));
  }

  // Denied rules leave the share once every instance with a back end has applied a version
  // without them (Manila removes the rule when its last instance mapping goes). The denied index
  // is in version order, so this reads only the rules it removes and one key more.
  void purge_denied_rules(ShareRecord& share) {
    std::uint64_t applied = UINT64_MAX;
    for (const auto& id : share.row.instance_ids) {
      auto in = r_.instance(share.row.id, id);
      if (in && !in->host.empty()) applied = std::min(applied, in->applied_version);
    }
    std::vector<std::string> purge;  // rest of the denied keys: version + identity key
    r_.scan_rest(d_.shares, share_key(share.row.id, ShareTag::denied),
                 [&](std::string_view rest, std::string_view) {
                   if (read_be64(rest) > applied) return false;
                   purge.emplace_back(rest);
                   return true;
                 });
    if (purge.empty()) return;
    for (const auto& rest : purge) {
      const auto k = share_key(share.row.id, ShareTag::rule, std::string_view(rest).substr(8));
      auto record = r_.get<RuleRecord>(d_.shares, k);
      if (!record || !record->direct || record->direct->denied_version == 0) {
        throw ApplyError(
            fmt::format("share {} lists a denied access rule it does not hold", share.row.id));
      }
      r_.del(d_.lookups, lookup_id(Lookup::rule, record->direct->id));
      record->direct.reset();
      if (record->empty()) {
        r_.del(d_.shares, k);
      } else {
        r_.put(d_.shares, k, encode(*record));
      }
      r_.del(d_.shares, share_key(share.row.id, ShareTag::denied, rest));
      --share.rule_count;
    }
    put_share(share);
  }

  Rows r_;
  const Store::Dbs& d_;
  const events::Event& e_;
  std::vector<OutboxEntry>* dirty_;
};

// ---- the engine's view ----------------------------------------------------------------------

class TxnState final : public engine::State {
 public:
  TxnState(const Store::Dbs& dbs, const lmdb::Txn& txn, const StoreOptions& options)
      : r_(dbs, txn), d_(dbs), options_(options) {}

  std::optional<ShareTypeRow> share_type(std::string_view id) const override {
    return r_.share_type(id);
  }
  std::optional<ShareTypeRow> share_type_by_name(std::string_view name) const override {
    auto id = r_.get_text(d_.lookups, lookup_key(Lookup::type_name, name));
    return id ? share_type(*id) : std::nullopt;
  }
  bool share_type_in_use(std::string_view id) const override {
    bool used = false;
    r_.scan(d_.lookups, lookup_key(Lookup::shares_by_type, id_component(id)),
            [&](auto, auto) { return !(used = true); });
    return used;
  }
  std::optional<ShareRow> share(std::string_view id) const override {
    auto record = r_.share(id);
    if (!record) return std::nullopt;
    return std::move(record->row);
  }
  std::vector<std::string> expired_shares(std::int64_t now_micros,
                                          std::size_t limit) const override {
    std::vector<std::string> out;
    if (limit == 0) return out;
    r_.each_in_recycle_bin(now_micros, [&](std::string id, std::int64_t) {
      out.push_back(std::move(id));
      return out.size() < limit;
    });
    return out;
  }
  std::optional<std::string> share_by_mount_point(std::string_view backend,
                                                  std::string_view name) const override {
    return r_.get_text(d_.lookups, mount_point_key(backend, name));
  }
  std::optional<InstanceRow> instance(std::string_view id) const override {
    auto share_id = r_.get_text(d_.lookups, lookup_id(Lookup::instance, id));
    return share_id ? r_.instance(*share_id, id) : std::nullopt;
  }
  std::optional<InstanceRow> retired_instance(std::string_view id) const override {
    return r_.get<InstanceRow>(d_.lookups, lookup_id(Lookup::retired, id));
  }
  std::optional<GroupRow> group(std::string_view id) const override { return r_.group(id); }
  std::optional<std::string> group_id_by_name(std::string_view project_id,
                                              std::string_view name) const override {
    return r_.get_text(d_.lookups, group_name_key(project_id, name));
  }
  std::optional<EntryRow> entry(std::string_view group_id,
                                std::string_view entry_id) const override {
    auto pointer = r_.entry_pointer(entry_id);
    if (!pointer || pointer->first != group_id) return std::nullopt;
    auto entry = r_.entry(group_id, pointer->second);
    if (!entry || entry->id != entry_id) return std::nullopt;
    return entry;
  }
  std::optional<EntryRow> entry_by_identity(std::string_view group_id,
                                            std::string_view identity) const override {
    auto g = group(group_id);
    if (!g) return std::nullopt;
    return r_.entry(group_id, identity_key({g->access_type, std::string(identity)}));
  }
  void for_each_entry(std::string_view group_id,
                      const std::function<void(const EntryRow&)>& fn) const override {
    r_.each_entry(group_id, [&](const EntryRow& e) { fn(e); });
  }
  std::optional<RuleRow> rule(std::string_view rule_id) const override { return r_.rule(rule_id); }
  std::optional<RuleRow> rule_by_identity(std::string_view share_id,
                                          const RuleIdentity& k) const override {
    auto record = r_.rule_record(share_id, identity_key(k));
    if (!record) return std::nullopt;
    return std::move(record->direct);
  }
  std::uint64_t rule_count(std::string_view share_id) const override {
    auto record = r_.share(share_id);
    return record ? record->rule_count : 0;
  }
  // In rule id order.
  void for_each_rule(std::string_view share_id,
                     const std::function<void(const RuleRow&)>& fn) const override {
    std::vector<RuleRow> rules;
    r_.scan(d_.shares, share_key(share_id, ShareTag::rule), [&](auto, std::string_view v) {
      if (auto record = decode<RuleRecord>(v); record.direct) {
        rules.push_back(std::move(*record.direct));
      }
      return true;
    });
    std::sort(rules.begin(), rules.end(),
              [](const RuleRow& a, const RuleRow& b) { return a.id < b.id; });
    for (const auto& rule : rules) fn(rule);
  }
  std::optional<MappingRow> mapping(std::string_view mapping_id) const override {
    return r_.mapping(mapping_id);
  }
  std::optional<MappingRow> mapping_of(std::string_view share_id,
                                       std::string_view group_id) const override {
    return r_.get<MappingRow>(d_.shares,
                              share_key(share_id, ShareTag::group, id_component(group_id)));
  }
  // In group id order.
  void for_each_group_of_share(std::string_view share_id,
                               const std::function<void(const MappingRow&)>& fn) const override {
    each_mapping(d_.shares, share_key(share_id, ShareTag::group), fn);
  }
  // In share id order.
  void for_each_share_of_group(std::string_view group_id,
                               const std::function<void(const MappingRow&)>& fn) const override {
    each_mapping(d_.groups, group_key(group_id, GroupTag::share), fn);
  }
  std::optional<EffectiveRule> effective_rule(std::string_view share_id,
                                              const RuleIdentity& k) const override {
    auto record = r_.rule_record(share_id, identity_key(k));
    if (!record) return std::nullopt;
    return std::move(record->effective);
  }
  std::optional<engine::LockRow> lock(std::string_view lock_id) const override {
    return r_.get<engine::LockRow>(d_.lookups, lookup_id(Lookup::lock, lock_id));
  }
  void for_each_lock_of(std::string_view resource_id,
                        const std::function<void(const engine::LockRow&)>& fn) const override {
    const std::string prefix = lookup_key(Lookup::locks_of, id_component(resource_id));
    std::vector<std::string> ids;
    r_.scan_rest(d_.lookups, prefix, [&](std::string_view rest, std::string_view) {
      ids.push_back(take_id_component(rest));
      return true;
    });
    for (const auto& id : ids) {
      if (auto l = lock(id)) fn(*l);
    }
  }
  bool backend_exists(std::string_view name) const override {
    return options_.backends.contains(name);
  }
  std::string default_backend() const override { return options_.default_backend; }
  const engine::Limits& limits() const override { return options_.limits; }
  std::int64_t soft_deleted_share_retention_micros() const override {
    return std::chrono::duration_cast<std::chrono::microseconds>(
               options_.soft_deleted_share_retention)
        .count();
  }

 private:
  void each_mapping(lmdb::Dbi dbi, std::string_view prefix,
                    const std::function<void(const MappingRow&)>& fn) const {
    std::vector<MappingRow> rows;  // collected first: fn may read the same database
    r_.scan(dbi, prefix, [&](auto, std::string_view v) {
      rows.push_back(decode<MappingRow>(v));
      return true;
    });
    for (const auto& m : rows) fn(m);
  }

  Rows r_;
  const Store::Dbs& d_;
  const StoreOptions& options_;
};

}  // namespace

void Store::apply(const lmdb::Txn& txn, const events::Event& event,
                  std::vector<OutboxEntry>* dirty) const {
  Applier applier(*dbs_, txn, event, dirty);
  std::visit(applier, event.body);
}

std::optional<OutboxEntry> Store::outbox_entry(const lmdb::Txn& txn,
                                               std::string_view instance_id) const {
  auto v = dbs_->lookups.get(txn, lookup_id(Lookup::outbox, instance_id));
  if (!v) return std::nullopt;
  return outbox_entry_of(instance_id, *v);
}

std::map<events::RuleKey, events::AccessLevel> Store::applied_rules(
    const lmdb::Txn& txn, std::string_view instance_id) const {
  std::map<events::RuleKey, events::AccessLevel> out;
  auto share_id =
      Rows(*dbs_, txn).get_text(dbs_->lookups, lookup_id(Lookup::instance, instance_id));
  if (!share_id) return out;
  const std::string prefix = share_key(*share_id, ShareTag::applied, id_component(instance_id));
  Rows(*dbs_, txn).scan(dbs_->shares, prefix, [&](std::string_view k, std::string_view v) {
    const auto rest = k.substr(prefix.size());
    if (rest.empty() || v.size() != 1) throw RowCorrupt("corrupt applied-rule record");
    const auto type = static_cast<unsigned char>(rest[0]);
    const auto level = static_cast<unsigned char>(v[0]);
    if (type > 3 || level > 1) throw RowCorrupt("corrupt applied-rule record");
    out.emplace(events::RuleKey{static_cast<events::AccessType>(type), std::string(rest.substr(1))},
                static_cast<events::AccessLevel>(level));
    return true;
  });
  return out;
}

std::unique_ptr<engine::State> Store::state(const lmdb::Txn& txn) const {
  return std::make_unique<TxnState>(*dbs_, txn, *options_);
}

// ---- queries --------------------------------------------------------------------------------

std::optional<ShareRow> Store::share(const lmdb::Txn& txn, std::string_view id) const {
  auto record = Rows(*dbs_, txn).share(id);
  if (!record) return std::nullopt;
  return std::move(record->row);
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
    if (s.is_soft_deleted != f.soft_deleted) return true;
    if (skipped < page.offset) return ++skipped, true;
    out.push_back(s);
    return out.size() < page.limit;
  };
  auto by_id = [&](std::string_view id) {
    auto s = r.share(id);
    return s ? consider(s->row) : true;
  };
  if (f.access_group_id) {
    r.scan_rest(dbs_->groups, group_key(*f.access_group_id, GroupTag::share),
                [&](std::string_view rest, auto) { return by_id(take_id_component(rest)); });
  } else if (f.project_id) {
    r.scan_rest(dbs_->lookups, project_key(Lookup::project_shares, *f.project_id),
                [&](std::string_view rest, auto) { return by_id(take_id_component(rest)); });
  } else {
    r.each_share_row([&](std::string_view v) { return consider(decode<ShareRecord>(v).row); });
  }
  return out;
}

std::vector<RecycleBinEntry> Store::recycle_bin(const lmdb::Txn& txn, std::int64_t until_micros,
                                               std::size_t limit) const {
  std::vector<RecycleBinEntry> out;
  if (limit == 0) return out;
  Rows(*dbs_, txn).each_in_recycle_bin(until_micros, [&](std::string id, std::int64_t at) {
    out.push_back({std::move(id), at});
    return out.size() < limit;
  });
  return out;
}

std::vector<InstanceRow> Store::instances(const lmdb::Txn& txn, const ShareRow& share) const {
  Rows r(*dbs_, txn);
  std::vector<InstanceRow> out;
  for (const auto& id : share.instance_ids) {
    if (auto in = r.instance(share.id, id)) out.push_back(std::move(*in));
  }
  return out;
}

std::vector<ShareTypeRow> Store::list_share_types(const lmdb::Txn& txn) const {
  std::vector<ShareTypeRow> out;
  Rows(*dbs_, txn)
      .scan(dbs_->lookups, lookup_key(Lookup::share_type, ""), [&](auto, std::string_view v) {
        out.push_back(decode<ShareTypeRow>(v));
        return true;
      });
  return out;
}

std::optional<engine::LockRow> Store::lock(const lmdb::Txn& txn, std::string_view id) const {
  return Rows(*dbs_, txn).get<engine::LockRow>(dbs_->lookups, lookup_id(Lookup::lock, id));
}

std::vector<engine::LockRow> Store::locks(const lmdb::Txn& txn) const {
  std::vector<engine::LockRow> out;
  Rows(*dbs_, txn).scan(dbs_->lookups, lookup_key(Lookup::lock, ""),
                        [&](auto, std::string_view v) {
                          out.push_back(decode<engine::LockRow>(v));
                          return true;
                        });
  return out;
}

std::vector<engine::LockRow> Store::locks_of(const lmdb::Txn& txn,
                                             std::string_view resource_id) const {
  return locks_under(txn, lookup_key(Lookup::locks_of, id_component(resource_id)));
}

std::vector<engine::LockRow> Store::locks_of_share(const lmdb::Txn& txn,
                                                   std::string_view share_id) const {
  return locks_under(txn, lookup_key(Lookup::locks_of_share, id_component(share_id)));
}

std::vector<engine::LockRow> Store::locks_under(const lmdb::Txn& txn,
                                                const std::string& prefix) const {
  Rows rows(*dbs_, txn);
  std::vector<std::string> ids;
  rows.scan_rest(dbs_->lookups, prefix, [&](std::string_view rest, std::string_view) {
    ids.push_back(take_id_component(rest));
    return true;
  });
  std::vector<engine::LockRow> out;
  for (const auto& id : ids) {
    if (auto l = rows.get<engine::LockRow>(dbs_->lookups, lookup_id(Lookup::lock, id))) {
      out.push_back(std::move(*l));
    }
  }
  return out;
}

std::optional<GroupRow> Store::group(const lmdb::Txn& txn, std::string_view id) const {
  return Rows(*dbs_, txn).group(id);
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
    auto g = r.group(id);
    return g ? consider(*g) : true;
  };
  if (share_id) {
    r.scan_rest(dbs_->shares, share_key(*share_id, ShareTag::group),
                [&](std::string_view rest, auto) { return by_id(take_id_component(rest)); });
  } else if (project_id) {
    r.scan_rest(dbs_->lookups, project_key(Lookup::project_groups, *project_id),
                [&](std::string_view rest, auto) { return by_id(take_id_component(rest)); });
  } else {
    r.scan(dbs_->lookups, lookup_key(Lookup::group, ""),
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
  Rows(*dbs_, txn)
      .scan(dbs_->shares, share_key(share_id, ShareTag::rule), [&](auto, std::string_view v) {
        if (auto record = decode<RuleRecord>(v); record.effective) {
          out.push_back(std::move(*record.effective));
        }
        return true;
      });
  return out;
}

std::vector<OutboxEntry> Store::outbox(const lmdb::Txn& txn, std::size_t limit) const {
  std::vector<OutboxEntry> out;
  Rows(*dbs_, txn)
      .scan_rest(dbs_->lookups, lookup_key(Lookup::outbox, ""),
                 [&](std::string_view rest, std::string_view v) {
                   out.push_back(outbox_entry_of(take_id_component(rest), v));
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

bool Store::empty(const lmdb::Txn& txn) const {
  for (const auto& [name, dbi] : dbs_->all) {
    if (dbi.stat(txn).ms_entries != 0) return false;
  }
  return true;
}

bool Store::layout_current(const lmdb::Txn& txn) const {
  if (!dbs_->meta) return false;
  const auto v = dbs_->meta->get(txn, kLayoutKey);
  return v && *v == layout_value(kLayoutVersion);
}

const std::vector<std::string>& Store::retired_database_names() {
  // Layout 0: one database per relation and index, before projections had a layout stamp.
  static const std::vector<std::string> names = {
      "access_group_entries", "access_groups", "access_groups_by_name", "effective_rules",
      "entries_by_identity", "group_shares", "outbox", "project_groups", "project_shares",
      "rules_by_identity", "rules_by_share", "share_access_group_mapping", "share_access_map",
      "share_groups", "share_instances", "share_types", "share_types_by_name", "shares",
      "shares_by_type"};
  return names;
}

void Store::reset(const lmdb::Txn& txn) const {
  for (const auto& [name, dbi] : dbs_->all) dbi.clear(txn);
  if (dbs_->meta) dbs_->meta->del(txn, kLayoutKey);
}

void Store::stamp(const lmdb::Txn& txn) const {
  if (!dbs_->meta) throw std::logic_error("the projections' stamp database is not open");
  dbs_->meta->put(txn, kLayoutKey, layout_value(kLayoutVersion));
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
