#include "projections/audit.h"

#include <arpa/inet.h>
#include <fmt/chrono.h>
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <chrono>
#include <functional>
#include <stdexcept>
#include <tuple>
#include <unordered_map>

#include "engine/access_validation.h"

namespace agate::projections::audit {

using engine::RuleIdentity;
using engine::RuleSource;
using engine::SetChange;
using events::AccessLevel;
using events::AccessType;

// ---- times ------------------------------------------------------------------------------------

namespace {

bool take_digits(std::string_view& s, std::size_t n, int& out) {
  if (s.size() < n) return false;
  int v = 0;
  for (std::size_t i = 0; i < n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    v = v * 10 + (s[i] - '0');
  }
  out = v;
  s.remove_prefix(n);
  return true;
}

bool take_char(std::string_view& s, std::string_view accepted) {
  if (s.empty() || accepted.find(s.front()) == std::string_view::npos) return false;
  s.remove_prefix(1);
  return true;
}

}  // namespace

std::optional<std::int64_t> parse_time(std::string_view s) {
  int year, month, day, hour, minute, second;
  if (!take_digits(s, 4, year) || !take_char(s, "-") || !take_digits(s, 2, month) ||
      !take_char(s, "-") || !take_digits(s, 2, day) || !take_char(s, "Tt ") ||
      !take_digits(s, 2, hour) || !take_char(s, ":") || !take_digits(s, 2, minute) ||
      !take_char(s, ":") || !take_digits(s, 2, second)) {
    return std::nullopt;
  }
  std::int64_t micros = 0;
  if (!s.empty() && s.front() == '.') {
    s.remove_prefix(1);
    std::size_t digits = 0;
    while (!s.empty() && s.front() >= '0' && s.front() <= '9') {
      if (digits < 6) micros = micros * 10 + (s.front() - '0');
      ++digits;
      s.remove_prefix(1);
    }
    if (digits == 0) return std::nullopt;
    for (std::size_t i = digits; i < 6; ++i) micros *= 10;
  }
  std::int64_t offset_minutes = 0;
  if (take_char(s, "Zz")) {
    // UTC
  } else if (!s.empty() && (s.front() == '+' || s.front() == '-')) {
    const int sign = s.front() == '-' ? -1 : 1;
    s.remove_prefix(1);
    int oh, om;
    if (!take_digits(s, 2, oh) || !take_char(s, ":") || !take_digits(s, 2, om) || oh > 23 ||
        om > 59) {
      return std::nullopt;
    }
    offset_minutes = sign * (oh * 60 + om);
  } else {
    return std::nullopt;  // RFC 3339 requires the offset
  }
  if (!s.empty()) return std::nullopt;
  using namespace std::chrono;
  const year_month_day ymd{std::chrono::year{year},
                           std::chrono::month{static_cast<unsigned>(month)},
                           std::chrono::day{static_cast<unsigned>(day)}};
  // RFC 3339 allows second 60 (a leap second); it is read as the next second's start.
  if (!ymd.ok() || hour > 23 || minute > 59 || second > 60) return std::nullopt;
  const std::int64_t days = sys_days{ymd}.time_since_epoch().count();
  const std::int64_t seconds =
      days * 86400 + hour * 3600 + minute * 60 + second - offset_minutes * 60;
  return seconds * 1'000'000 + micros;
}

std::string format_time(std::int64_t micros) {
  std::int64_t seconds = micros / 1'000'000;
  std::int64_t fraction = micros % 1'000'000;
  if (fraction < 0) {
    fraction += 1'000'000;
    --seconds;
  }
  const std::chrono::sys_seconds tp{std::chrono::seconds(seconds)};
  return fmt::format("{:%Y-%m-%dT%H:%M:%S}.{:06d}Z", tp, fraction);
}

void throw_exception_from_error(const AuditError& e, const boost::source_location&) {
  throw std::runtime_error(e.message);
}

// ---- the fold -------------------------------------------------------------------------------

namespace {

// An event that contradicts the ones before it; becomes errc::inconsistent.
struct Inconsistent {
  events::Seq seq;
  std::string message;
};

Cause cause_of(const events::Event& e) {
  return Cause{e.seq,        e.time_micros, std::string(events::kind_name(e.body)),
               e.project_id, e.user_id,     e.request_id};
}

// An ip network as bytes, to tell whether one holds another.
struct Network {
  int family = AF_INET;
  std::array<unsigned char, 16> bytes{};
  int prefix = 0;

  // Parses a canonical network ("10.0.0.0/24", "fd00::/8"); nullopt for anything else, and for
  // networks with a zone id, which only match themselves.
  static std::optional<Network> parse(std::string_view canonical) {
    const auto slash = canonical.find('/');
    if (slash == std::string_view::npos) return std::nullopt;
    const std::string address(canonical.substr(0, slash));
    if (address.find('%') != std::string::npos) return std::nullopt;
    Network n;
    n.family = address.find(':') == std::string::npos ? AF_INET : AF_INET6;
    const auto digits = canonical.substr(slash + 1);
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), n.prefix);
    if (ec != std::errc() || end != digits.data() + digits.size()) return std::nullopt;
    if (n.prefix < 0 || n.prefix > (n.family == AF_INET ? 32 : 128)) return std::nullopt;
    if (::inet_pton(n.family, address.c_str(), n.bytes.data()) != 1) return std::nullopt;
    return n;
  }

  // True if every address of `inner` is in this network.
  bool holds(const Network& inner) const {
    if (family != inner.family || prefix > inner.prefix) return false;
    const int whole = prefix / 8, rest = prefix % 8;
    if (!std::equal(bytes.begin(), bytes.begin() + whole, inner.bytes.begin())) return false;
    if (rest == 0) return true;
    const auto mask = static_cast<unsigned char>(0xff << (8 - rest));
    return (bytes[whole] & mask) == (inner.bytes[whole] & mask);
  }
};

struct Entry {
  std::string access_to;  // as given; the identity is worked out when it is granted
  AccessLevel level = AccessLevel::rw;
};

struct ShareState;

struct GroupState {
  AccessType type = AccessType::ip;
  std::unordered_map<std::string, Entry> entries;
  std::vector<ShareState*> shares;  // the followed shares it is attached to
};

struct ShareState {
  std::string id;
  std::string project_id;
  std::string name;
  std::optional<Cause> created;
  std::optional<Cause> deleted;
  bool alive = false;
  engine::RuleSet rules;
  std::map<std::string, std::string> mappings;  // group id -> mapping id
  std::unordered_map<std::string, std::pair<RuleIdentity, AccessLevel>> direct;  // live rules
  std::uint64_t version = 0;
  std::vector<RuleDelta> pending;  // the current event's deltas
};

// Folds events into the effective sets of the followed shares: one share, or every share. With
// an identity filter, only rules of those identities are kept (who-had-access).
class Fold {
 public:
  // Called after each event for every followed share it touched, with the share's `pending`
  // deltas (empty when only sources changed); the version is already bumped if there are some.
  using ChangeHook = std::function<void(ShareState&, const events::Event&)>;
  using OutcomeHook =
      std::function<void(ShareState&, const events::Event&, const events::DriverOutcome&)>;

  explicit Fold(std::optional<std::string> only_share) : only_share_(std::move(only_share)) {}

  // Keep only rules whose identity for their type is the one given here.
  // With `containing`, ip rules are kept when their network holds the ip identity's.
  void filter_identities(std::map<AccessType, std::string> identities, bool containing = false) {
    identities_ = std::move(identities);
    auto ip = identities_->find(AccessType::ip);
    if (ip == identities_->end()) return;
    if (containing) {
      within_ = Network::parse(ip->second);
    } else if (ip->second.find(':') == std::string::npos) {
      ipv4_address_ = ip->second.substr(0, ip->second.find('/'));
    }
  }
  void on_change(ChangeHook hook) { on_change_ = std::move(hook); }
  void on_outcome(OutcomeHook hook) { on_outcome_ = std::move(hook); }

  // Folds one event; throws Inconsistent.
  void apply(const events::Event& e) {
    event_ = &e;
    touched_.clear();
    std::visit([this](const auto& body) { (*this)(body); }, e.body);
    for (ShareState* share : touched_) {
      if (!share->pending.empty()) {
        ++share->version;
        for (auto& d : share->pending) {
          if (!d.added) continue;
          if (const auto* rule = share->rules.find(d.rule)) d.sources = rule->sources;
        }
      }
      if (on_change_) on_change_(*share, e);
      share->pending.clear();
    }
  }

  ShareState* share(std::string_view id) {
    auto it = shares_.find(std::string(id));
    return it == shares_.end() ? nullptr : &it->second;
  }

  void operator()(const events::ShareCreated& b) {
    if (only_share_ && *only_share_ != b.share_id) return;
    auto& s = shares_[b.share_id];
    s.id = b.share_id;
    s.project_id = event_->project_id;
    s.name = b.name;
    s.created = cause_of(*event_);
    s.alive = true;
  }

  void operator()(const events::ShareDeleted& b) {
    ShareState* s = live_share(b.share_id);
    if (!s) return;
    for (const auto& [key, rule] : s->rules.rules()) {
      s->pending.push_back({false, key, rule.access_level, rule.sources});
    }
    s->rules = {};
    for (const auto& [group_id, mapping_id] : s->mappings) {
      if (auto* g = group(group_id)) std::erase(g->shares, s);
    }
    s->mappings.clear();
    s->direct.clear();
    s->alive = false;
    s->deleted = cause_of(*event_);
    touch(s);
  }

  void operator()(const events::AccessGroupCreated& b) { groups_[b.group_id].type = b.access_type; }

  void operator()(const events::AccessGroupDeleted& b) { groups_.erase(b.group_id); }

  void operator()(const events::EntryAdded& b) {
    GroupState* g = must_group(b.group_id);
    if (identities_ && !wanted(g->type, b.access_to)) return;
    g->entries.insert_or_assign(b.entry_id, Entry{b.access_to, b.access_level});
    if (g->shares.empty()) return;
    const RuleIdentity key{g->type, engine::rule_identity(g->type, b.access_to)};
    for (ShareState* s : g->shares)
      grant(*s, key, b.access_level, RuleSource::group(b.group_id, b.entry_id));
  }

  void operator()(const events::EntryRemoved& b) {
    GroupState* g = must_group(b.group_id);
    auto it = g->entries.find(b.entry_id);
    if (it == g->entries.end()) return;  // filtered out when it was added
    const RuleIdentity key{g->type, engine::rule_identity(g->type, it->second.access_to)};
    g->entries.erase(it);
    for (ShareState* s : g->shares) revoke(*s, key, RuleSource::group(b.group_id, b.entry_id));
  }

  void operator()(const events::RuleAllowed& b) {
    ShareState* s = live_share(b.share_id);
    if (!s) return;
    if (identities_ && !wanted(b.access_type, b.access_to)) return;
    const RuleIdentity key{b.access_type, engine::rule_identity(b.access_type, b.access_to)};
    s->direct.insert_or_assign(b.rule_id, std::pair{key, b.access_level});
    grant(*s, key, b.access_level, RuleSource::direct(b.rule_id));
  }

  void operator()(const events::RuleDenied& b) {
    ShareState* s = live_share(b.share_id);
    if (!s) return;
    auto it = s->direct.find(b.rule_id);
    if (it == s->direct.end()) return;  // denied before, or filtered out
    const auto key = it->second.first;
    s->direct.erase(it);
    revoke(*s, key, RuleSource::direct(b.rule_id));
  }

  void operator()(const events::RuleLevelUpdated& b) {
    ShareState* s = live_share(b.share_id);
    if (!s) return;
    auto it = s->direct.find(b.rule_id);
    if (it == s->direct.end()) return;  // filtered out
    it->second.second = b.access_level;
    change_level(*s, it->second.first, b.access_level, RuleSource::direct(b.rule_id));
  }

  void operator()(const events::EntryLevelUpdated& b) {
    GroupState* g = must_group(b.group_id);
    auto it = g->entries.find(b.entry_id);
    if (it == g->entries.end()) return;  // filtered out when it was added
    it->second.level = b.access_level;
    const RuleIdentity key{g->type, engine::rule_identity(g->type, it->second.access_to)};
    for (ShareState* s : g->shares) {
      change_level(*s, key, b.access_level, RuleSource::group(b.group_id, b.entry_id));
    }
  }

  void operator()(const events::GroupAttached& b) {
    ShareState* s = live_share(b.share_id);
    if (!s) return;
    GroupState* g = must_group(b.group_id);
    s->mappings.insert_or_assign(b.group_id, b.mapping_id);
    g->shares.push_back(s);
    for (const auto& [entry_id, entry] : g->entries) {
      const RuleIdentity key{g->type, engine::rule_identity(g->type, entry.access_to)};
      grant(*s, key, entry.level, RuleSource::group(b.group_id, entry_id));
    }
  }

  void operator()(const events::GroupDetached& b) {
    ShareState* s = live_share(b.share_id);
    if (!s) return;
    s->mappings.erase(b.group_id);
    GroupState* g = group(b.group_id);
    if (!g) return;
    std::erase(g->shares, s);
    for (const auto& [entry_id, entry] : g->entries) {
      const RuleIdentity key{g->type, engine::rule_identity(g->type, entry.access_to)};
      revoke(*s, key, RuleSource::group(b.group_id, entry_id));
    }
  }

  void operator()(const events::DriverOutcome& b) {
    ShareState* s = share(b.share_id);
    if (s && on_outcome_) on_outcome_(*s, *event_, b);
  }

  // Kinds that do not change anyone's access.
  template <typename Other>
  void operator()(const Other&) {}

 private:
  ShareState* live_share(std::string_view id) {
    ShareState* s = share(id);
    return s && s->alive ? s : nullptr;
  }
  GroupState* group(const std::string& id) {
    auto it = groups_.find(id);
    return it == groups_.end() ? nullptr : &it->second;
  }
  GroupState* must_group(const std::string& id) {
    GroupState* g = group(id);
    if (!g) throw Inconsistent{event_->seq, fmt::format("access group {} does not exist", id)};
    return g;
  }
  bool wanted(AccessType type, std::string_view access_to) const {
    auto it = identities_->find(type);
    if (it == identities_->end()) return false;
    // Equal text is the same identity for every type; otherwise the identities decide (an ip
    // rule may spell the network another way).
    if (access_to == it->second) return true;
    if (type == AccessType::ip && within_) {
      const auto rule = Network::parse(engine::rule_identity(type, access_to));
      return rule && rule->holds(*within_);
    }
    // A valid IPv4 access_to spells its address as the canonical network does (Python refuses
    // leading zeros), so another address text cannot be the same network; only IPv6 texts and
    // the same address with another prefix spelling need the canonical form. This keeps the
    // scan of a log of ip rules close to a plain one.
    if (type == AccessType::ip && !ipv4_address_.empty() &&
        access_to.find(':') == std::string_view::npos &&
        access_to.substr(0, access_to.find('/')) != ipv4_address_) {
      return false;
    }
    return engine::rule_identity(type, access_to) == it->second;
  }
  void touch(ShareState* s) {
    if (std::find(touched_.begin(), touched_.end(), s) == touched_.end()) touched_.push_back(s);
  }

  void grant(ShareState& s, const RuleIdentity& key, AccessLevel level, const RuleSource& source) {
    auto change = s.rules.grant(key, level, source, s.version + 1);
    if (!change) {
      throw Inconsistent{
          event_->seq,
          fmt::format("{} grants {}:{} at another level than {} on share {}",
                      engine::describe(source), events::to_string(key.access_type), key.identity,
                      engine::describe(change.error().existing_source), s.id)};
    }
    touch(&s);
    if (*change == SetChange::added) {
      // Re-added within the same event after a removal: the two cancel out.
      auto it = std::find_if(s.pending.begin(), s.pending.end(),
                             [&](const RuleDelta& d) { return !d.added && d.rule == key; });
      if (it != s.pending.end()) {
        s.pending.erase(it);
      } else {
        s.pending.push_back({true, key, level, {}});
      }
    }
  }

  void change_level(ShareState& s, const RuleIdentity& key, AccessLevel level,
                    const RuleSource& source) {
    const auto* rule = s.rules.find(key);
    if (!rule) return;
    const auto old_level = rule->access_level;
    auto change = s.rules.change_level(key, source, level, s.version + 1);
    if (!change) {
      throw Inconsistent{
          event_->seq,
          fmt::format("{} changes the level of {}:{} on share {}, which {} grants too",
                      engine::describe(source), events::to_string(key.access_type), key.identity,
                      s.id, engine::describe(change.error().existing_source))};
    }
    if (*change != SetChange::updated) return;
    touch(&s);
    s.pending.push_back({false, key, old_level, {source}});
    s.pending.push_back({true, key, level, {}});
  }

  void revoke(ShareState& s, const RuleIdentity& key, const RuleSource& source) {
    const auto* rule = s.rules.find(key);
    if (!rule) return;
    const auto level = rule->access_level;
    touch(&s);
    if (s.rules.revoke(key, source) != SetChange::removed) return;
    auto it = std::find_if(s.pending.begin(), s.pending.end(),
                           [&](const RuleDelta& d) { return d.added && d.rule == key; });
    if (it != s.pending.end()) {
      s.pending.erase(it);
    } else {
      s.pending.push_back({false, key, level, {source}});
    }
  }

  std::optional<std::string> only_share_;
  std::optional<std::map<AccessType, std::string>> identities_;
  std::string ipv4_address_;       // the address of the ip identity asked about, if IPv4
  std::optional<Network> within_;  // containing: the network the kept ip rules hold
  std::unordered_map<std::string, ShareState> shares_;
  std::unordered_map<std::string, GroupState> groups_;
  ChangeHook on_change_;
  OutcomeHook on_outcome_;
  const events::Event* event_ = nullptr;
  std::vector<ShareState*> touched_;
};

// Reads the log in order, calling `fn(event)` until it returns false or the log ends. Returns the
// error that stopped it, if any.
template <typename Fn>
std::optional<AuditError> scan(const lmdb::Txn& txn, const events::EventLog& log, Fn&& fn) {
  auto reader = log.read(txn);
  try {
    while (reader.next() == events::LogReader::Status::record) {
      if (!fn(reader.event())) return std::nullopt;
    }
  } catch (const Inconsistent& e) {
    return AuditError{
        errc::inconsistent,
        fmt::format("event {} contradicts the log before it: {}", e.seq.value, e.message), e.seq};
  }
  if (reader.status() == events::LogReader::Status::corruption) {
    const auto& c = reader.corruption();
    return AuditError{errc::corrupt_log,
                      fmt::format("the event log cannot be read at {}: {}", c.seq.value, c.what),
                      c.seq};
  }
  return std::nullopt;
}

AuditError share_not_found(std::string_view id) {
  return AuditError{
      errc::not_found, fmt::format("share {} does not appear in the event log", id), {}};
}

DriverReport report_of(const events::Event& e, const events::DriverOutcome& b) {
  return DriverReport{cause_of(e),      b.instance_id, b.applied_version,
                      b.call_succeeded, b.message,     b.failures};
}

}  // namespace

// ---- questions --------------------------------------------------------------------------------

boost::system::result<ShareAccessAt, AuditError> access_at(const lmdb::Txn& txn,
                                                           const events::EventLog& log,
                                                           std::string_view share_id,
                                                           const AsOf& as_of) {
  Fold fold{std::string(share_id)};
  ShareAccessAt out;
  out.share_id = share_id;
  bool seen_later = false;
  bool past = false;
  auto error = scan(txn, log, [&](const events::Event& e) {
    // The point is a prefix of the log: once an event is past it, so is every later one, even
    // if a wall clock set back between two runs of agated gave a later event an earlier time.
    past = past || (as_of.seq && e.seq > *as_of.seq) ||
           (as_of.time_micros && e.time_micros > *as_of.time_micros);
    if (past) {
      // Only to tell a share created later from one that never existed.
      if (fold.share(share_id)) return false;
      if (const auto* c = std::get_if<events::ShareCreated>(&e.body);
          c && c->share_id == share_id) {
        seen_later = true;
        out.created = cause_of(e);
        return false;
      }
      return true;
    }
    fold.apply(e);
    out.as_of_seq = e.seq;
    out.as_of_time = e.time_micros;
    // At the point asked for, with the share known, what follows does not matter (and is not
    // read: a corrupt event after the point does not hide the answer).
    return !(as_of.seq && e.seq >= *as_of.seq && fold.share(share_id));
  });
  if (error) return *error;
  ShareState* s = fold.share(share_id);
  if (!s) {
    if (!seen_later) return share_not_found(share_id);
    return out;
  }
  out.existed = s->alive;
  out.created = s->created;
  out.deleted = s->deleted;
  out.project_id = s->project_id;
  out.name = s->name;
  out.desired_version = s->version;
  out.mappings = s->mappings;
  for (const auto& [key, rule] : s->rules.rules()) out.rules.push_back(rule);
  return out;
}

boost::system::result<AccessHistory, AuditError> access_history(const lmdb::Txn& txn,
                                                                const events::EventLog& log,
                                                                std::string_view share_id,
                                                                const TimeRange& range) {
  if (range.from_micros && range.to_micros && *range.to_micros < *range.from_micros) {
    return AuditError{errc::bad_request, "the range ends before it starts", {}};
  }
  auto in_range = [&](std::int64_t t) {
    return (!range.from_micros || t >= *range.from_micros) &&
           (!range.to_micros || t <= *range.to_micros);
  };
  Fold fold{std::string(share_id)};
  AccessHistory out;
  out.share_id = share_id;
  std::map<std::uint64_t, std::size_t> change_of_version;
  fold.on_change([&](ShareState& s, const events::Event& e) {
    if (s.pending.empty() || !in_range(e.time_micros)) return;
    AccessChange change{cause_of(e), s.version, std::move(s.pending), s.rules.size(), {}};
    s.pending.clear();
    change_of_version[s.version] = out.changes.size();
    out.changes.push_back(std::move(change));
  });
  fold.on_outcome([&](ShareState&, const events::Event& e, const events::DriverOutcome& b) {
    auto it = change_of_version.find(b.applied_version);
    if (it != change_of_version.end()) {
      out.changes[it->second].outcomes.push_back(report_of(e, b));
    } else if (in_range(e.time_micros)) {
      out.other_outcomes.push_back(report_of(e, b));
    }
  });
  auto error = scan(txn, log, [&](const events::Event& e) {
    fold.apply(e);
    if (in_range(e.time_micros)) {
      if (const auto* c = std::get_if<events::ResourceLockCreated>(&e.body);
          c && c->share_id == share_id) {
        out.locks.push_back({cause_of(e), c->lock_id, "created", c->resource_type,
                             c->resource_id, c->resource_action, c->lock_context,
                             c->lock_reason});
      } else if (const auto* u = std::get_if<events::ResourceLockUpdated>(&e.body);
                 u && u->share_id == share_id) {
        out.locks.push_back({cause_of(e), u->lock_id, "updated", std::nullopt, "",
                             u->resource_action, std::nullopt, u->lock_reason});
      } else if (const auto* d = std::get_if<events::ResourceLockDeleted>(&e.body);
                 d && d->share_id == share_id) {
        out.locks.push_back({cause_of(e), d->lock_id, "deleted", std::nullopt, "", std::nullopt,
                             std::nullopt, std::nullopt});
      }
    }
    return true;
  });
  if (error) return *error;
  ShareState* s = fold.share(share_id);
  if (!s) return share_not_found(share_id);
  out.project_id = s->project_id;
  out.name = s->name;
  out.created = s->created;
  out.deleted = s->deleted;
  return out;
}

boost::system::result<std::vector<AccessInterval>, AuditError> who_had_access(
    const lmdb::Txn& txn, const events::EventLog& log, const WhoQuery& q) {
  if (q.access_to.empty()) return AuditError{errc::bad_request, "access_to is empty", {}};
  if (q.to_micros < q.from_micros) {
    return AuditError{errc::bad_request, "the range ends before it starts", {}};
  }
  std::map<AccessType, std::string> identities;
  for (auto t : {AccessType::ip, AccessType::user, AccessType::cert, AccessType::cephx}) {
    if (q.access_type && *q.access_type != t) continue;
    // An access_to that is no valid network is no ip rule's identity either.
    if (t == AccessType::ip && !engine::canonical_ip_network(q.access_to)) continue;
    identities.emplace(t, engine::rule_identity(t, q.access_to));
  }
  Fold fold{q.share_id};
  fold.filter_identities(std::move(identities), q.containing);

  std::vector<AccessInterval> done;
  // Open intervals by share and identity.
  std::map<std::pair<std::string, RuleIdentity>, AccessInterval> open;
  auto add_sources = [](AccessInterval& in, const std::vector<RuleSource>& sources) {
    for (const auto& src : sources) {
      auto at = std::lower_bound(in.sources.begin(), in.sources.end(), src);
      if (at == in.sources.end() || *at != src) in.sources.insert(at, src);
    }
  };
  fold.on_change([&](ShareState& s, const events::Event& e) {
    for (const auto& d : s.pending) {
      const auto key = std::pair{s.id, d.rule};
      if (d.added) {
        if (e.time_micros > q.to_micros) continue;
        AccessInterval in{s.id, s.project_id, s.name, d.rule, d.level, cause_of(e), {}, {}};
        add_sources(in, d.sources);
        open.insert_or_assign(key, std::move(in));
      } else if (auto it = open.find(key); it != open.end()) {
        it->second.revoked = cause_of(e);
        if (e.time_micros >= q.from_micros) done.push_back(std::move(it->second));
        open.erase(it);
      }
    }
    // A source that joins a rule already effective counts too.
    if (e.time_micros > q.to_micros) return;
    for (auto it = open.lower_bound({s.id, RuleIdentity{}});
         it != open.end() && it->first.first == s.id; ++it) {
      if (const auto* rule = s.rules.find(it->first.second)) add_sources(it->second, rule->sources);
    }
  });
  auto error = scan(txn, log, [&](const events::Event& e) {
    fold.apply(e);
    // Past the range, only the open intervals' ends are still of interest.
    return !(open.empty() && e.time_micros > q.to_micros);
  });
  if (error) return *error;
  if (q.share_id && !fold.share(*q.share_id)) return share_not_found(*q.share_id);
  for (auto& [key, in] : open) done.push_back(std::move(in));
  std::sort(done.begin(), done.end(), [](const AccessInterval& a, const AccessInterval& b) {
    return std::tie(a.granted.seq, a.share_id, a.rule) <
           std::tie(b.granted.seq, b.share_id, b.rule);
  });
  return done;
}

}  // namespace agate::projections::audit
