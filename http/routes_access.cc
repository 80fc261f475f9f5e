// Share access: the share actions, /share-access-rules and Agate's effective-access view.
//
//   POST   /v2/{project_id}/shares/{id}/action                 one action per body:
//            os-allow_access (2.0-2.6) | allow_access (2.7-)   grant a rule, or attach a group
//            os-deny_access  (2.0-2.6) | deny_access  (2.7-)   deny a rule, or detach a group
//            os-access_list  (2.0-2.6) | access_list  (2.7-2.44)
//            os-reset_status (2.0-2.6) | reset_status (2.7-)   admin
//            soft_delete, restore (2.69-)                     the recycle bin
//            access_sync, list_access_groups                   the proposal's, every version
//   GET    /v2/{project_id}/share-access-rules?share_id=S[&metadata={…}]   (2.45-)
//   GET    /v2/{project_id}/share-access-rules/{id}                        (2.45-)
//   PUT    /v2/{project_id}/share-access-rules/{id}                        (2.88-) the level
//   PUT    /v2/{project_id}/share-access-rules/{id}/metadata               (2.45-)
//   DELETE /v2/{project_id}/share-access-rules/{id}/metadata/{key}         (2.45-)
//   GET    /v2/{project_id}/shares/{id}/effective-access                   every version
//
// A group attached to a share (a share_access_group_mapping row) is shown wherever Manila shows
// rules, as an access of type "access_group" whose access_to is the group's id: the proposal's
// "access list obtained consulting both mapping tables". Its id is what deny_access takes.
//
// The per-rule state is not stored: it is worked out here, at read time, from the effective rule
// set (each rule's since_version) and what each instance's back end last reported.

#include <boost/json/serialize.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <climits>
#include <map>
#include <set>
#include <tuple>
#include <unordered_map>

#include "engine/decide.h"
#include "http/api.h"
#include "http/json_body.h"
#include "http/views.h"

namespace agate::http {

namespace {

using engine::ApiVersion;
using engine::EffectiveRule;
using engine::InstanceRow;
using engine::MappingRow;
using engine::RuleIdentity;
using engine::RuleRow;
using engine::ShareRow;

// ---- versions and messages ------------------------------------------------------------------

constexpr ApiVersion kAccessKeyVersion{2, 21};   // access_key in rule views
constexpr ApiVersion kRuleStateVersion{2, 28};   // per-rule states; below: translated
constexpr ApiVersion kTimestampsVersion{2, 33};  // created_at, updated_at in rule views
constexpr ApiVersion kMetadataVersion{2, 45};    // metadata in allow_access and rule views
constexpr ApiVersion kNewActionNames{2, 7};      // allow_access etc. instead of os-allow_access
constexpr ApiVersion kLastAccessList{2, 44};     // access_list is gone from 2.45
constexpr ApiVersion kRecycleBinVersion{2, 69};  // soft_delete and restore
constexpr ApiVersion kAccessLocksVersion{2, 82};  // allow_access locks, the rule list's filters
constexpr ApiVersion kLevelUpdateVersion{2, 88};  // PUT /share-access-rules/{id}
constexpr ApiVersion kOpenEnded{2, INT_MAX};     // the router refuses versions above the maximum

constexpr std::string_view kMalformedBody = "Malformed request body";
constexpr std::string_view kResourceNotFound = "The resource could not be found.";
// What Manila's share actions answer for a share that is missing or not the caller's.
constexpr std::string_view kShareNotFoundForAction = "NotFound: Resource could not be found.";
constexpr std::string_view kAccessGroupType = "access_group";
// What a rule under a visibility lock shows instead of access_to and access_key to those who
// may not see them (Manila's _redact_restricted_fields).
constexpr std::string_view kRedacted = "******";

// The rules and mappings of `share_id` whose access_to and access_key `viewer` may not see: those
// under a visibility lock it could not have dropped (engine::access_is_restricted).
std::set<std::string> restricted_ids(Services& s, const lmdb::Txn& txn,
                                     const engine::Context& viewer, std::string_view share_id) {
  std::set<std::string> out;
  for (const auto& lock : s.store.locks_of_share(txn, share_id)) {
    if (lock.resource_type == events::LockResourceType::access_rule &&
        lock.resource_action == events::LockAction::show &&
        engine::access_is_restricted(viewer, lock)) {
      out.insert(lock.resource_id);
    }
  }
  return out;
}

bool visible(const ApiRequest& req, std::string_view owner) {
  return req.context.is_admin || owner == req.context.project_id;
}

std::optional<ShareRow> visible_share(Services& s, const ApiRequest& req, const lmdb::Txn& txn,
                                      std::string_view id) {
  auto share = s.store.share(txn, id);
  if (!share || !visible(req, share->project_id)) return std::nullopt;
  return share;
}

// ---- rule states ----------------------------------------------------------------------------

// Manila's aggregation order over instances (models.get_aggregated_access_rules_state): the first
// state in this list that any instance has wins.
constexpr std::array<std::string_view, 8> kStatePriority = {
    "error",           "denying",  "queued_to_deny", "queued_to_update",
    "queued_to_apply", "updating", "applying",       "active"};

std::size_t rank(std::string_view state) {
  return static_cast<std::size_t>(std::find(kStatePriority.begin(), kStatePriority.end(), state) -
                                  kStatePriority.begin());
}

// The worse of two states in Manila's order.
std::string_view worse(std::string_view a, std::string_view b) { return rank(b) < rank(a) ? b : a; }

// The access state of one share as of one read transaction: its instances with a back end and
// their last reports, and its effective rules — all of them read at once for lists, or looked up
// one by one for a single rule's view (so that answering a grant on a share with 10,000 rules
// does not read them all). References must outlive it.
class ShareAccess {
 public:
  enum class Load { one_by_one, all_rules };

  // `restricted`: the rules and mappings shown with access_to and access_key redacted.
  ShareAccess(Services& s, const lmdb::Txn& txn, ShareRow share, Load load,
              std::set<std::string> restricted = {})
      : store_(s.store),
        txn_(txn),
        state_(s.store.state(txn)),
        share_(std::move(share)),
        restricted_(std::move(restricted)) {
    for (auto& in : store_.instances(txn_, share_)) {
      if (in.host.empty()) continue;
      flights_.push_back(s.in_flight ? s.in_flight(in.id) : std::nullopt);
      hosted_.push_back(std::move(in));
    }
    status_ = store_.share_access_rules_status(txn_, share_);
    for (const auto& in : hosted_) any_access_key_ = any_access_key_ || !in.access_keys.empty();
    if (load == Load::all_rules) {
      all_loaded_ = true;
      for (auto& rule : store_.effective_rules(txn_, share_.id)) {
        auto key = rule.key();
        effective_.emplace(std::move(key), std::move(rule));
      }
      // Each source leads to its rule, so that views of rules and mappings need not work out
      // identities (parsing networks) again.
      for (const auto& [key, rule] : effective_) {
        for (const auto& source : rule.sources) {
          (source.kind == engine::RuleSource::Kind::direct ? by_rule_id_ : by_entry_id_)
              .emplace(source.kind == engine::RuleSource::Kind::direct ? source.id
                                                                       : source.entry_id,
                       &rule);
        }
      }
    }
  }

  const ShareRow& share() const { return share_; }
  bool restricted(const std::string& id) const { return restricted_.contains(id); }
  const std::set<std::string>& restricted_set() const { return restricted_; }
  const std::vector<InstanceRow>& hosted_instances() const { return hosted_; }
  // The share's access_rules_status at 2.28 and later: active, syncing or error.
  const std::string& access_rules_status() const { return status_; }
  // Every effective rule, when constructed with Load::all_rules; empty otherwise.
  const std::map<RuleIdentity, EffectiveRule>& effective() const { return effective_; }

  std::optional<EffectiveRule> effective_rule(events::AccessType type,
                                              std::string_view access_to) const {
    const RuleIdentity key{type, engine::rule_identity(type, access_to)};
    if (!all_loaded_) return state_->effective_rule(share_.id, key);
    auto it = effective_.find(key);
    if (it == effective_.end()) return std::nullopt;
    return it->second;
  }

  // An effective rule's state at 2.28 and later, aggregated over the instances with a back end:
  // error if the back end refused it (or the whole last call failed), active once an instance
  // has applied a version that has it, queued_to_apply before (queued_to_update, updating when
  // its level changed in place and the back end holds the old one).
  std::string_view effective_state(const EffectiveRule& rule) const {
    if (hosted_.empty()) return "queued_to_apply";  // no back end has ever been asked
    std::string_view state = "active";
    for (std::size_t i = 0; i < hosted_.size(); ++i) {
      state = worse(state, on_instance(hosted_[i], flights_[i], rule));
    }
    return state;
  }

  std::string rule_state(const RuleRow& rule, const ApiVersion& v) const {
    if (v < kRuleStateVersion) return translated();
    if (rule.denied_version != 0) {
      // Being removed by a driver call in flight: denying.
      for (const auto& flight : flights_) {
        if (flight && *flight >= rule.denied_version) return "denying";
      }
      return "queued_to_deny";
    }
    if (all_loaded_) {
      // A live rule is always a source of an effective rule: the first return is not reached.
      auto it = by_rule_id_.find(rule.id);
      if (it == by_rule_id_.end()) return "queued_to_apply";
      return std::string(effective_state(*it->second));
    }
    auto effective = effective_rule(rule.access_type, rule.access_to);
    if (!effective) return "queued_to_apply";
    return std::string(effective_state(*effective));
  }

  // A group mapping is active only when every entry of the group is active on this share.
  std::string mapping_state(const MappingRow& mapping, const ApiVersion& v) const {
    if (v < kRuleStateVersion) return translated();
    std::string_view state = "active";
    for (const auto& entry : store_.entries(txn_, mapping.group_id)) {
      if (all_loaded_) {
        if (auto it = by_entry_id_.find(entry.id); it != by_entry_id_.end()) {
          state = worse(state, effective_state(*it->second));
        }
      } else if (auto effective = effective_rule(entry.access_type, entry.access_to)) {
        state = worse(state, effective_state(*effective));
      }
    }
    return std::string(state);
  }

  // The key a back end reported for the rule (cephx), or null.
  boost::json::value access_key(events::AccessType type, std::string_view access_to) const {
    if (!any_access_key_) return nullptr;
    return key_reported(events::RuleKey{type, engine::rule_identity(type, access_to)});
  }
  // The same for an effective rule, whose access_to is its identity already.
  boost::json::value access_key_of(const EffectiveRule& rule) const {
    if (!any_access_key_) return nullptr;
    return key_reported(events::RuleKey{rule.access_type, rule.access_to});
  }

 private:
  boost::json::value key_reported(const events::RuleKey& key) const {
    for (const auto& in : hosted_) {
      for (const auto& k : in.access_keys) {
        if (k.rule == key) return boost::json::string(k.access_key);
      }
    }
    return nullptr;
  }

  static std::string_view on_instance(const InstanceRow& in,
                                      const std::optional<std::uint64_t>& flight,
                                      const EffectiveRule& rule) {
    // has_error with no per-rule failure: the whole driver call failed.
    if (in.has_error && in.failures.empty()) return "error";
    for (const auto& f : in.failures) {
      if (f.rule.access_type == rule.access_type && f.rule.access_to == rule.access_to) {
        return "error";
      }
    }
    // access_sync asks the back end to apply everything again: nothing is known to be applied
    // until it reports (Manila's resync puts active rules back to queued_to_apply too).
    const bool applied = !in.sync_requested && in.applied_version >= rule.since_version;
    if (applied) return "active";
    // Its level changed in place, and the back end holds the old one: being updated.
    const bool held_at_old_level = rule.entered_version < rule.since_version &&
                                   !in.sync_requested &&
                                   in.applied_version >= rule.entered_version;
    // A driver call in flight for a version that has the rule: applying (updating).
    if (flight && *flight >= rule.since_version) {
      return held_at_old_level ? "updating" : "applying";
    }
    return held_at_old_level ? "queued_to_update" : "queued_to_apply";
  }

  // Before 2.28 every rule shows the share's access_rules_status, syncing being "new"
  // (Manila's translate_transitional_statuses).
  std::string translated() const { return status_ == "syncing" ? "new" : status_; }

  const projections::Store& store_;
  const lmdb::Txn& txn_;
  std::unique_ptr<engine::State> state_;
  ShareRow share_;
  std::set<std::string> restricted_;
  std::vector<InstanceRow> hosted_;
  std::vector<std::optional<std::uint64_t>> flights_;  // per hosted instance
  std::string status_;
  bool all_loaded_ = false;
  bool any_access_key_ = false;  // some instance reported a key
  std::map<RuleIdentity, EffectiveRule> effective_;
  // Into effective_, when all rules are loaded: by direct rule id, and by group entry id.
  std::unordered_map<std::string, const EffectiveRule*> by_rule_id_, by_entry_id_;
};

// The state of a rule or group mapping in the answer to the request that created it: Manila
// answers with the rule as it was created (queued_to_apply, "new" before 2.28), never with what
// the back end has done with it since. The answer is rendered after the commit, when the
// dispatcher may already be applying the rule, or have applied it; later reads show that.
std::string_view created_state(const ApiVersion& v) {
  return v < kRuleStateVersion ? "new" : "queued_to_apply";
}

// ---- views ----------------------------------------------------------------------------------

// Manila's share_accesses view: summary_view without share_id (lists), view with it.
boost::json::object rule_view(const ShareAccess& a, const RuleRow& r, const ApiVersion& v,
                              bool with_share_id) {
  boost::json::object o;
  o["id"] = r.id;
  if (with_share_id) o["share_id"] = r.share_id;
  o["access_level"] = events::to_string(r.access_level);
  o["access_to"] = r.access_to;
  o["access_type"] = events::to_string(r.access_type);
  o["state"] = a.rule_state(r, v);
  if (v >= kAccessKeyVersion) o["access_key"] = a.access_key(r.access_type, r.access_to);
  if (v >= kTimestampsVersion) {
    o["created_at"] = time_value(r.created_at);
    o["updated_at"] = time_value(r.updated_at);
  }
  if (v >= kMetadataVersion) {
    boost::json::object md;
    for (const auto& [k, value] : r.metadata) md[k] = value;
    o["metadata"] = std::move(md);
  }
  if (a.restricted(r.id)) {
    o["access_to"] = kRedacted;
    if (v >= kAccessKeyVersion) o["access_key"] = kRedacted;
  }
  return o;
}

// A group mapping in the shape of a rule: access_type "access_group", access_to the group id,
// no level (each entry has its own), no key, no metadata.
boost::json::object mapping_view(const ShareAccess& a, const MappingRow& m, const ApiVersion& v,
                                 bool with_share_id) {
  boost::json::object o;
  o["id"] = m.id;
  if (with_share_id) o["share_id"] = m.share_id;
  o["access_level"] = nullptr;
  o["access_to"] = m.group_id;
  o["access_type"] = kAccessGroupType;
  o["state"] = a.mapping_state(m, v);
  if (v >= kAccessKeyVersion) o["access_key"] = nullptr;
  if (v >= kTimestampsVersion) {
    o["created_at"] = time_value(m.created_at);
    o["updated_at"] = nullptr;
  }
  if (v >= kMetadataVersion) o["metadata"] = boost::json::object{};
  if (a.restricted(m.id)) {
    o["access_to"] = kRedacted;
    if (v >= kAccessKeyVersion) o["access_key"] = kRedacted;
  }
  return o;
}

// The answer to attaching a group: the mapping view with the proposal's fields at every version.
boost::json::object attach_view(const ShareAccess& a, const MappingRow& m, const ApiVersion& v) {
  auto o = mapping_view(a, m, v, true);
  o["created_at"] = time_value(m.created_at);
  o["updated_at"] = nullptr;
  o["deleted_at"] = nullptr;
  o["deleted"] = false;
  return o;
}

// What a list of rules keeps: rules holding every metadata key with that value, and rules of
// the given access_type, access_to, access_key and access_level (Manila's exact filters).
struct RuleFilter {
  std::optional<events::Metadata> metadata;
  std::optional<std::string> access_type, access_to, access_key, access_level;

  // Part of the read cache's key.
  std::string key_text(const std::string& metadata_text) const {
    return fmt::format("{}\x1f{}\x1f{}\x1f{}\x1f{}", metadata_text, access_type.value_or("\x1e"),
                       access_to.value_or("\x1e"), access_key.value_or("\x1e"),
                       access_level.value_or("\x1e"));
  }
  bool by_fields() const { return access_type || access_to || access_key || access_level; }
};

// The share's direct rules and group mappings, oldest first, as summaries (no share_id).
// `filter.metadata` (if given) keeps only the rules holding every key with that value; group
// mappings, which have no metadata and none of the four access types, then never match, nor do
// they match a filter of fields. A rule whose access_to and access_key are redacted for the
// requester is left out of lists filtered by either (Manila's).
boost::json::array access_summaries(const ShareAccess& a, Services& s, const lmdb::Txn& txn,
                                    const ApiVersion& v, const RuleFilter& filter) {
  const auto& metadata = filter.metadata;
  struct Item {
    std::int64_t created_at;
    std::string id;
    boost::json::object view;
  };
  std::vector<Item> items;
  for (const auto& r : s.store.rules(txn, a.share().id)) {
    if (metadata) {
      const bool match = std::all_of(metadata->begin(), metadata->end(), [&](const auto& kv) {
        auto it = r.metadata.find(kv.first);
        return it != r.metadata.end() && it->second == kv.second;
      });
      if (!match) continue;
    }
    if (filter.access_type && events::to_string(r.access_type) != *filter.access_type) continue;
    if (filter.access_level && events::to_string(r.access_level) != *filter.access_level) continue;
    if ((filter.access_to || filter.access_key) && a.restricted(r.id)) continue;
    if (filter.access_to && r.access_to != *filter.access_to) continue;
    if (filter.access_key) {
      const auto key = a.access_key(r.access_type, r.access_to);
      if (!key.is_string() || key.as_string() != *filter.access_key) continue;
    }
    items.push_back({r.created_at, r.id, rule_view(a, r, v, false)});
  }
  if ((!metadata || metadata->empty()) && !filter.by_fields()) {
    for (const auto& m : s.store.groups_of_share(txn, a.share().id)) {
      items.push_back({m.created_at, m.id, mapping_view(a, m, v, false)});
    }
  }
  std::sort(items.begin(), items.end(), [](const Item& x, const Item& y) {
    return std::tie(x.created_at, x.id) < std::tie(y.created_at, y.id);
  });
  boost::json::array out;
  for (auto& item : items) out.push_back(std::move(item.view));
  return out;
}

// {"access_list": […]} for a visible share, from the read cache when it holds it. `filter_text`
// is the metadata filter as the request gave it (part of the cache key, with the other filters
// and the rules redacted for the requester).
Response access_list_response(Services& s, const ApiRequest& req, const lmdb::Txn& txn,
                              ShareRow share, const RuleFilter& filter,
                              const std::string& filter_text) {
  auto restricted = restricted_ids(s, txn, req.context, share.id);
  std::string key = "access-list\x1f" + share.id + "\x1f" + filter.key_text(filter_text);
  for (const auto& id : restricted) key += "\x1d" + id;
  return cached_json_response(s, req, txn, std::move(key), [&]() -> boost::json::value {
    ShareAccess access(s, txn, std::move(share), ShareAccess::Load::all_rules,
                       std::move(restricted));
    return {{"access_list", access_summaries(access, s, txn, req.version(), filter)}};
  });
}

// ---- the metadata filter of /share-access-rules ---------------------------------------------

// Parses the text of Python's str(dict) as manilaclient sends it ("{'key3': 'v3'}"; Manila reads
// it with ast.literal_eval): string keys, and string or bare (number, True, None) values, which
// are compared as their text. Returns nullopt if the text is not such a dict.
std::optional<events::Metadata> parse_python_dict(std::string_view text) {
  std::size_t i = 0;
  auto skip_space = [&] {
    while (i < text.size() &&
           (text[i] == ' ' || text[i] == '\t' || text[i] == '\n' || text[i] == '\r')) {
      ++i;
    }
  };
  auto quoted = [&]() -> std::optional<std::string> {
    if (i >= text.size() || (text[i] != '\'' && text[i] != '"')) return std::nullopt;
    const char quote = text[i++];
    std::string out;
    while (i < text.size() && text[i] != quote) {
      char c = text[i++];
      if (c == '\\') {
        if (i >= text.size()) return std::nullopt;
        const char e = text[i++];
        switch (e) {
          case 'n':
            c = '\n';
            break;
          case 't':
            c = '\t';
            break;
          case 'r':
            c = '\r';
            break;
          case '\\':
          case '\'':
          case '"':
            c = e;
            break;
          default:
            out += '\\';
            c = e;  // Python keeps unknown escapes as written
        }
      }
      out += c;
    }
    if (i >= text.size()) return std::nullopt;
    ++i;  // the closing quote
    return out;
  };
  auto bare = [&]() -> std::optional<std::string> {
    const std::size_t start = i;
    while (i < text.size() &&
           (std::isalnum(static_cast<unsigned char>(text[i])) || text[i] == '.' || text[i] == '-' ||
            text[i] == '+' || text[i] == '_')) {
      ++i;
    }
    if (i == start) return std::nullopt;
    return std::string(text.substr(start, i - start));
  };

  events::Metadata out;
  skip_space();
  if (i >= text.size() || text[i] != '{') return std::nullopt;
  ++i;
  skip_space();
  while (i < text.size() && text[i] != '}') {
    auto key = quoted();
    if (!key) return std::nullopt;
    skip_space();
    if (i >= text.size() || text[i] != ':') return std::nullopt;
    ++i;
    skip_space();
    auto value = (i < text.size() && (text[i] == '\'' || text[i] == '"')) ? quoted() : bare();
    if (!value) return std::nullopt;
    out.insert_or_assign(std::move(*key), std::move(*value));
    skip_space();
    if (i < text.size() && text[i] == ',') {
      ++i;
      skip_space();
    } else if (i < text.size() && text[i] != '}') {
      return std::nullopt;
    }
  }
  if (i >= text.size()) return std::nullopt;
  ++i;  // '}'
  skip_space();
  if (i != text.size()) return std::nullopt;
  return out;
}

// ---- the share actions ----------------------------------------------------------------------

using ActionHandler = void (*)(Services&, const ApiRequest&, std::string_view name,
                               const boost::json::value& value, Respond);

// An action that takes no arguments accepts null or {} (Manila's clients send null).
bool no_arguments(const boost::json::value& value) {
  return value.is_null() || (value.is_object() && value.as_object().empty());
}

Response takes_no_arguments(const ApiRequest& req, std::string_view name) {
  return error_response(req, 400, fmt::format("'{}' takes no arguments.", name));
}

void allow_access(Services& s, const ApiRequest& req, std::string_view name,
                  const boost::json::value& value, Respond respond) {
  // Manila reads the keys of whatever it was given: anything but an object is its TypeError.
  if (!value.is_object()) return respond(error_response(req, 400, kCouldNotComply));
  ObjectReader r(value.as_object(), std::string(name));
  const std::string type = r.required_string("access_type");
  const std::string access_to = r.required_string("access_to");
  auto level = r.string("access_level");
  std::optional<events::Metadata> metadata;
  if (req.version() >= kMetadataVersion) {
    metadata = r.string_map("metadata");
  } else {
    r.ignore("metadata");  // Manila pops it below 2.45
  }
  engine::AccessLocks locks;
  if (req.version() >= kAccessLocksVersion) {
    locks.lock_visibility = r.boolean("lock_visibility").value_or(false);
    locks.lock_deletion = r.boolean("lock_deletion").value_or(false);
    locks.lock_reason = r.string("lock_reason");
  }
  if (auto e = r.finish()) return respond(error_response(req, 400, *e));
  const std::string share_id = req.params[0];

  if (type == kAccessGroupType) {
    if (level) {
      return respond(error_response(
          req, 400,
          fmt::format("'access_level' cannot be given in '{}' for an access group: each entry of "
                      "the group has its own level.",
                      name)));
    }
    if (metadata && !metadata->empty()) {
      return respond(error_response(
          req, 400,
          "An access group attached to a share has no metadata; set it on access rules."));
    }
    return submit(
        s, req, engine::AttachGroup{share_id, access_to, std::move(locks)},
        [&s, req](const std::vector<events::Event>& events) {
          const auto& attached = std::get<events::GroupAttached>(events.at(0).body);
          auto txn = begin_read(s, req);
          auto mapping = s.store.state(txn)->mapping(attached.mapping_id);
          auto share = s.store.share(txn, attached.share_id);
          if (!mapping || !share) return error_response(req, 404, kResourceNotFound);
          ShareAccess access(s, txn, std::move(*share), ShareAccess::Load::one_by_one);
          auto view = attach_view(access, *mapping, req.version());
          view["state"] = created_state(req.version());
          return json_response(req, 200, {{"access", std::move(view)}});
        },
        std::move(respond));
  }

  engine::AllowAccess c{share_id, type, access_to, std::move(level),
                        metadata.value_or(events::Metadata{}), std::move(locks)};
  submit(
      s, req, std::move(c),
      [&s, req](const std::vector<events::Event>& events) {
        const auto& allowed = std::get<events::RuleAllowed>(events.at(0).body);
        auto txn = begin_read(s, req);
        auto rule = s.store.state(txn)->rule(allowed.rule_id);
        auto share = s.store.share(txn, allowed.share_id);
        if (!rule || !share) return error_response(req, 404, kResourceNotFound);
        ShareAccess access(s, txn, std::move(*share), ShareAccess::Load::one_by_one);
        auto view = rule_view(access, *rule, req.version(), true);
        view["state"] = created_state(req.version());
        return json_response(req, 200, {{"access", std::move(view)}});
      },
      std::move(respond));
}

void deny_access(Services& s, const ApiRequest& req, std::string_view name,
                 const boost::json::value& value, Respond respond) {
  if (!value.is_object()) return respond(error_response(req, 400, kCouldNotComply));
  ObjectReader r(value.as_object(), std::string(name));
  const std::string access_id = r.required_string("access_id");
  // Manila reads it at every version (locks exist from 2.81).
  const bool unrestrict = r.boolean("unrestrict").value_or(false);
  if (auto e = r.finish()) return respond(error_response(req, 400, *e));
  submit(
      s, req, engine::DenyAccess{req.params[0], access_id, unrestrict},
      [req](const auto&) { return empty_response(req, 202); }, std::move(respond));
}

void access_list(Services& s, const ApiRequest& req, std::string_view name,
                 const boost::json::value& value, Respond respond) {
  if (!no_arguments(value)) return respond(takes_no_arguments(req, name));
  auto txn = begin_read(s, req);
  auto share = visible_share(s, req, txn, req.params[0]);
  if (!share) return respond(error_response(req, 404, kShareNotFoundForAction));
  // The same answer as /share-access-rules without a filter, which 2.45 replaced it with.
  respond(access_list_response(s, req, txn, std::move(*share), RuleFilter{}, ""));
}

void access_sync(Services& s, const ApiRequest& req, std::string_view name,
                 const boost::json::value& value, Respond respond) {
  if (!no_arguments(value)) return respond(takes_no_arguments(req, name));
  submit(
      s, req, engine::SyncAccess{req.params[0]},
      [req](const auto&) { return empty_response(req, 202); }, std::move(respond));
}

void list_access_groups(Services& s, const ApiRequest& req, std::string_view name,
                        const boost::json::value& value, Respond respond) {
  if (!no_arguments(value)) return respond(takes_no_arguments(req, name));
  auto txn = begin_read(s, req);
  auto share = visible_share(s, req, txn, req.params[0]);
  if (!share) return respond(error_response(req, 404, kShareNotFoundForAction));
  boost::json::array groups;
  for (const auto& m : s.store.groups_of_share(txn, share->id)) {
    auto g = s.store.group(txn, m.group_id);
    if (!g) continue;
    auto view = group_summary(*g);
    view["share-id"] = share->id;
    view["mapping_id"] = m.id;
    groups.push_back(std::move(view));
  }
  respond(json_response(req, 200, {{"access-groups", std::move(groups)}}));
}

void reset_status(Services& s, const ApiRequest& req, std::string_view name,
                  const boost::json::value& value, Respond respond) {
  if (!value.is_object()) return respond(error_response(req, 400, kCouldNotComply));
  ObjectReader r(value.as_object(), std::string(name));
  const std::string status = r.required_string("status");
  if (auto e = r.finish()) return respond(error_response(req, 400, *e));
  submit(
      s, req, engine::SetShareStatus{req.params[0], status},
      [req](const auto&) { return empty_response(req, 202); }, std::move(respond));
}

// Puts the share in the recycle bin: 202, empty.
void soft_delete(Services& s, const ApiRequest& req, std::string_view name,
                 const boost::json::value& value, Respond respond) {
  if (!no_arguments(value)) return respond(takes_no_arguments(req, name));
  submit(
      s, req, engine::SoftDeleteShare{req.params[0]},
      [req](const auto&) { return empty_response(req, 202); }, std::move(respond));
}

// Takes the share out of the recycle bin: 202, or 200 if it was not in it (Manila's), empty.
void restore(Services& s, const ApiRequest& req, std::string_view name,
             const boost::json::value& value, Respond respond) {
  if (!no_arguments(value)) return respond(takes_no_arguments(req, name));
  submit(
      s, req, engine::RestoreShare{req.params[0]},
      [req](const std::vector<events::Event>& events) {
        return empty_response(req, events.empty() ? 200 : 202);
      },
      std::move(respond));
}

struct Action {
  std::string_view name;
  ApiVersion min;
  ApiVersion max;
  ActionHandler handler;
  bool read_only = false;  // a reader may call it
};

// Manila binds each action to a version range; the same action under its old name is a separate
// entry. The router matches on path and method only, so the ranges are checked here.
constexpr std::array<Action, 12> kActions = {{
    {"os-allow_access", {2, 0}, {2, 6}, allow_access},
    {"allow_access", kNewActionNames, kOpenEnded, allow_access},
    {"os-deny_access", {2, 0}, {2, 6}, deny_access},
    {"deny_access", kNewActionNames, kOpenEnded, deny_access},
    {"os-access_list", {2, 0}, {2, 6}, access_list, true},
    {"access_list", kNewActionNames, kLastAccessList, access_list, true},
    {"os-reset_status", {2, 0}, {2, 6}, reset_status},
    {"reset_status", kNewActionNames, kOpenEnded, reset_status},
    {"access_sync", {2, 0}, kOpenEnded, access_sync},
    {"list_access_groups", {2, 0}, kOpenEnded, list_access_groups, true},
    {"soft_delete", kRecycleBinVersion, kOpenEnded, soft_delete},
    {"restore", kRecycleBinVersion, kOpenEnded, restore},
}};

void share_action(Services& s, const ApiRequest& req, Respond respond) {
  auto body = parse_object(req.raw.body());
  if (!body || body->size() != 1) return respond(error_response(req, 400, kMalformedBody));
  const auto& [key, value] = *body->begin();
  const std::string_view name = key;
  auto action = std::find_if(kActions.begin(), kActions.end(),
                             [&](const Action& a) { return a.name == name; });
  if (action == kActions.end()) {
    return respond(error_response(req, 400, fmt::format("There is no such action: {}", name)));
  }
  if (req.version() < action->min || action->max < req.version()) {
    return respond(error_response(req, 404, kResourceNotFound));
  }
  if (req.context.is_reader && !action->read_only) {
    return respond(error_response(
        req, 403, fmt::format("Policy doesn't allow share:{} to be performed.", name)));
  }
  action->handler(s, req, name, value, std::move(respond));
}

// ---- /share-access-rules --------------------------------------------------------------------

std::string rule_not_found(std::string_view id) {
  return fmt::format("Share access rule {} not found.", id);
}

void list_rules(Services& s, const ApiRequest& req, Respond respond) {
  const auto share_id = req.query_value("share_id");
  if (!share_id || share_id->empty()) {
    return respond(error_response(req, 400, "The field 'share_id' has to be specified."));
  }
  std::optional<events::Metadata> metadata;
  if (auto text = req.query_value("metadata"); text && !text->empty()) {
    metadata = parse_python_dict(*text);
    if (!metadata) {
      return respond(error_response(
          req, 400,
          fmt::format("Invalid metadata filter: {}. Expected a dictionary of strings such as "
                      "{{'key': 'value'}}.",
                      *text)));
    }
  }
  RuleFilter filter;
  filter.metadata = std::move(metadata);
  // Manila filters by these at every version; from 2.82 it also checks them.
  auto given = [&](std::string_view key) -> std::optional<std::string> {
    auto v = req.query_value(key);
    if (!v || v->empty()) return std::nullopt;
    return v;
  };
  filter.access_type = given("access_type");
  filter.access_to = given("access_to");
  filter.access_key = given("access_key");
  filter.access_level = given("access_level");
  if (req.version() >= kAccessLocksVersion) {
    if (filter.access_type && !events::parse_access_type(*filter.access_type)) {
      return respond(error_response(
          req, 400,
          fmt::format("Invalid or unsupported share access type: {}.", *filter.access_type)));
    }
    if (filter.access_to && !filter.access_type) {
      return respond(error_response(req, 400,
                                    "Invalid input received: 'access_type' parameter must be "
                                    "provided when specifying 'access_to'."));
    }
    if (filter.access_type && filter.access_to) {
      if (auto m = engine::check_access_to(*events::parse_access_type(*filter.access_type),
                                           *filter.access_to, req.version())) {
        return respond(error_response(req, 400, *m));
      }
    }
    if (filter.access_level && !events::parse_access_level(*filter.access_level)) {
      return respond(error_response(
          req, 400,
          fmt::format("Invalid or unsupported share access level: {}.", *filter.access_level)));
    }
  }
  auto txn = begin_read(s, req);
  auto share = visible_share(s, req, txn, *share_id);
  if (!share)
    return respond(error_response(req, 400, fmt::format("Share {} not found.", *share_id)));
  respond(access_list_response(s, req, txn, std::move(*share), filter,
                               req.query_value("metadata").value_or("")));
}

void show_rule(Services& s, const ApiRequest& req, Respond respond) {
  const std::string& id = req.params[0];
  auto txn = begin_read(s, req);
  auto state = s.store.state(txn);
  if (auto rule = state->rule(id)) {
    if (auto share = visible_share(s, req, txn, rule->share_id)) {
      auto restricted = restricted_ids(s, txn, req.context, share->id);
      ShareAccess access(s, txn, std::move(*share), ShareAccess::Load::one_by_one,
                         std::move(restricted));
      return respond(
          json_response(req, 200, {{"access", rule_view(access, *rule, req.version(), true)}}));
    }
  } else if (auto mapping = state->mapping(id)) {
    if (auto share = visible_share(s, req, txn, mapping->share_id)) {
      auto restricted = restricted_ids(s, txn, req.context, share->id);
      ShareAccess access(s, txn, std::move(*share), ShareAccess::Load::one_by_one,
                         std::move(restricted));
      return respond(json_response(
          req, 200, {{"access", mapping_view(access, *mapping, req.version(), true)}}));
    }
  }
  respond(error_response(req, 404, rule_not_found(id)));
}

// Manila's update (2.88): {"update_access": {"access_level": "ro" | "rw"}}. The answer is the
// rule's view; a changed rule shows as queued_to_update, as Manila answers it (later reads show
// its progress), an unchanged one as it is.
void update_rule(Services& s, const ApiRequest& req, Respond respond) {
  auto body = parse_object(req.raw.body());
  const boost::json::value* update = body ? body->if_contains("update_access") : nullptr;
  if (!update || !update->is_object()) return respond(error_response(req, 400, kCouldNotComply));
  // Manila reads only access_level, and takes any falsy value for a missing one.
  std::optional<std::string> level;
  if (const auto* v = update->as_object().if_contains("access_level")) {
    if (v->is_string()) {
      level = std::string(v->as_string());
    } else if (!v->is_null() && !(v->is_bool() && !v->as_bool()) &&
               !(v->is_int64() && v->as_int64() == 0)) {
      level = boost::json::serialize(*v);
    }
  }
  submit(
      s, req, engine::UpdateAccessLevel{req.params[0], std::move(level)},
      [&s, req](const std::vector<events::Event>& events) {
        auto txn = begin_read(s, req);
        auto rule = s.store.state(txn)->rule(req.params[0]);
        auto share = rule ? s.store.share(txn, rule->share_id) : std::nullopt;
        if (!rule || !share) return error_response(req, 404, rule_not_found(req.params[0]));
        ShareAccess access(s, txn, std::move(*share), ShareAccess::Load::one_by_one);
        auto view = rule_view(access, *rule, req.version(), true);
        if (!events.empty()) view["state"] = "queued_to_update";
        return json_response(req, 200, {{"access", std::move(view)}});
      },
      std::move(respond));
}

void set_rule_metadata(Services& s, const ApiRequest& req, Respond respond) {
  auto body = parse_object(req.raw.body());
  if (!body) return respond(error_response(req, 400, body.error()));
  ObjectReader r(*body, "request body");
  auto metadata = r.string_map("metadata");
  if (auto e = r.finish()) return respond(error_response(req, 400, *e));
  if (!metadata) {
    return respond(
        error_response(req, 400, "Missing required element 'metadata' in request body."));
  }
  // The answer is the metadata as sent (Manila's), not the rule's whole metadata.
  boost::json::value sent = body->at("metadata");
  submit(
      s, req, engine::SetRuleMetadata{req.params[0], std::move(*metadata)},
      [req, sent = std::move(sent)](const auto&) {
        return json_response(req, 200, {{"metadata", sent}});
      },
      std::move(respond));
}

void unset_rule_metadata(Services& s, const ApiRequest& req, Respond respond) {
  submit(
      s, req, engine::UnsetRuleMetadata{req.params[0], req.params[1]},
      [req](const auto&) { return empty_response(req, 200); }, std::move(respond));
}

// ---- effective access -----------------------------------------------------------------------

// The effective access of a visible share, as read in `txn`.
// An effective rule one of whose sources is a rule (or mapping) redacted for the requester shows
// access_to and access_key redacted too.
boost::json::value effective_access_view(Services& s, const lmdb::Txn& txn, ShareRow share,
                                         std::set<std::string> restricted) {
  std::map<std::string, std::string, std::less<>> mapping_of_group;
  for (const auto& m : s.store.groups_of_share(txn, share.id)) mapping_of_group[m.group_id] = m.id;
  ShareAccess access(s, txn, std::move(share), ShareAccess::Load::all_rules,
                     std::move(restricted));
  boost::json::array rules;
  for (const auto& [key, rule] : access.effective()) {
    boost::json::array sources;
    bool redacted = false;
    for (const auto& source : rule.sources) {
      if (source.kind == engine::RuleSource::Kind::direct) {
        redacted = redacted || access.restricted(source.id);
        sources.push_back({{"type", "rule"}, {"rule_id", source.id}});
      } else {
        auto it = mapping_of_group.find(source.id);
        redacted = redacted || (it != mapping_of_group.end() && access.restricted(it->second));
        sources.push_back(
            {{"type", kAccessGroupType},
             {"access_group_id", source.id},
             {"entry_id", source.entry_id},
             {"mapping_id", it == mapping_of_group.end() ? boost::json::value(nullptr)
                                                         : boost::json::value(it->second)}});
      }
    }
    rules.push_back(
        {{"access_type", events::to_string(rule.access_type)},
         {"access_to",
          redacted ? boost::json::value(kRedacted) : boost::json::value(rule.access_to)},
         {"access_level", events::to_string(rule.access_level)},
         {"state", access.effective_state(rule)},
         {"access_key", redacted ? boost::json::value(kRedacted) : access.access_key_of(rule)},
         {"sources", std::move(sources)}});
  }
  // What each back end last reported: the proposal's access_status_message lives here.
  boost::json::array instances;
  for (const auto& in : access.hosted_instances()) {
    instances.push_back({{"id", in.id},
                         {"host", in.host},
                         {"status", in.status},
                         {"access_rules_status", engine::access_rules_status(access.share(), in)},
                         {"access_status_message", in.status_message},
                         {"applied_version", in.applied_version}});
  }
  return {{"effective_access",
           {{"share_id", access.share().id},
            {"access_rules_status", access.access_rules_status()},
            {"desired_version", access.share().desired_version},
            {"rules", std::move(rules)},
            {"instances", std::move(instances)}}}};
}

void effective_access(Services& s, const ApiRequest& req, Respond respond) {
  auto txn = begin_read(s, req);
  auto share = visible_share(s, req, txn, req.params[0]);
  if (!share) {
    return respond(
        error_response(req, 404, fmt::format("Share {} could not be found.", req.params[0])));
  }
  auto restricted = restricted_ids(s, txn, req.context, share->id);
  std::string key = "effective-access\x1f" + share->id;
  for (const auto& id : restricted) key += "\x1d" + id;
  respond(cached_json_response(s, req, txn, std::move(key), [&] {
    return effective_access_view(s, txn, std::move(*share), std::move(restricted));
  }));
}

}  // namespace

void add_share_action_routes(std::vector<Route>& routes) {
  routes.push_back({Verb::post, "shares/{}/action", share_action, kMinVersion, kMaxVersion,
                    /*readers_allowed=*/true});
  routes.push_back({Verb::get, "shares/{}/effective-access", effective_access});
}

void add_access_rule_routes(std::vector<Route>& routes) {
  routes.push_back({Verb::get, "share-access-rules", list_rules, kMetadataVersion});
  routes.push_back({Verb::get, "share-access-rules/{}", show_rule, kMetadataVersion});
  routes.push_back({Verb::put, "share-access-rules/{}", update_rule, kLevelUpdateVersion});
  routes.push_back(
      {Verb::put, "share-access-rules/{}/metadata", set_rule_metadata, kMetadataVersion});
  routes.push_back(
      {Verb::delete_, "share-access-rules/{}/metadata/{}", unset_rule_metadata, kMetadataVersion});
}

}  // namespace agate::http
