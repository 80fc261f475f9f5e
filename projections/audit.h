#pragma once

// Audit: a share's access as the log alone tells it, at any point of the log.
//
// Every answer is a fold of the event log, independent of the projections: a share's effective
// rules are rebuilt with the same rule algebra the projections use (engine/rule_set.h), from its
// direct rules and the entries of every group attached to it, event by event. The fold keeps only
// what the question needs — the selected share or shares, and, for who-had-access, the rules of
// one identity — so a question over a log of a million events is one scan of it (see
// tools/bench/README.md, audit_query).
//
// Points in time: event times never go backwards while one writer runs (its clock), so "as of
// time T" is the state after the last event whose time is at most T — precisely, after the
// longest prefix of the log whose events are all at or before T, should a wall clock set back
// between two runs have made times go backwards; "as of seq N" the state after event N.
//
// A log that cannot be read (an undecodable record, a gap) is never skipped: the answer is an
// AuditError naming the sequence number. Reads happen in one read transaction given by the
// caller, so a running server is never held back and the answer is one consistent snapshot.
//
// Thread-safety: the functions are reentrant; each uses only its own transaction.

#include <boost/system/result.hpp>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/rule_set.h"
#include "events/event.h"
#include "events/event_log.h"
#include "events/lmdb.h"

namespace agate::projections::audit {

// ---- times ------------------------------------------------------------------------------------

// Parses an RFC 3339 date-time ("2026-11-25T12:54:58Z", "…58.282315+01:00", a space instead of
// the T, lower-case t and z accepted) into microseconds since the Unix epoch, UTC. Fractions
// beyond microseconds are truncated. Returns nullopt if the text is not one.
std::optional<std::int64_t> parse_time(std::string_view text);
// "2026-11-25T12:54:58.282315Z": UTC, always six fraction digits.
std::string format_time(std::int64_t micros);

// ---- answers ----------------------------------------------------------------------------------

enum class errc {
  not_found,     // the share never appears in the log
  bad_request,   // the question itself is malformed (a range that ends before it starts, …)
  corrupt_log,   // the log cannot be read at `seq`
  inconsistent,  // an event contradicts the events before it (a log decide() never wrote)
};

struct AuditError {
  errc code = errc::bad_request;
  std::string message;
  events::Seq seq;  // where the log is corrupt or inconsistent; 0 otherwise
};

// Called by boost::system::result::value() when it holds an error.
[[noreturn]] void throw_exception_from_error(const AuditError& e,
                                             const boost::source_location& loc);

// The event a change comes from: its place, its kind, and who asked.
struct Cause {
  events::Seq seq;
  std::int64_t time_micros = 0;
  std::string kind;  // the schema's name: "ruleAllowed", "entryRemoved", …
  std::string project_id;
  std::string user_id;
  std::string request_id;
  friend bool operator==(const Cause&, const Cause&) = default;
};

// Where to stop folding. Neither set: the end of the log.
struct AsOf {
  std::optional<events::Seq> seq;           // after this event
  std::optional<std::int64_t> time_micros;  // after the last event at or before this time
};

// The effective rules of a share at one point of the log.
struct ShareAccessAt {
  std::string share_id;
  // The last event folded (Seq{0}, time 0 if the point is before the first event).
  events::Seq as_of_seq;
  std::int64_t as_of_time = 0;
  bool existed = false;          // the share had been created and not deleted at that point
  std::optional<Cause> created;  // when the share was created, if it was by then
  std::optional<Cause> deleted;  // when it was deleted, if it was by then
  std::string project_id;
  std::string name;
  // Counts the changes of the effective set up to that point, as the share's desired_version.
  std::uint64_t desired_version = 0;
  std::vector<engine::EffectiveRule> rules;     // by identity; since_version as in projections
  std::map<std::string, std::string> mappings;  // attached group id -> mapping id
};

// One rule entering or leaving a share's effective set.
// A level changed in place (ruleLevelUpdated, entryLevelUpdated) is two deltas of one event:
// the rule removed at its old level, and added at its new one.
struct RuleDelta {
  bool added = false;
  engine::RuleIdentity rule;
  events::AccessLevel level = events::AccessLevel::rw;
  // Added: the rule's sources after the event. Removed: the sources it lost in the event.
  std::vector<engine::RuleSource> sources;
  friend bool operator==(const RuleDelta&, const RuleDelta&) = default;
};

// What a back end's driver reported for one of the share's instances.
struct DriverReport {
  Cause cause;
  std::string instance_id;
  std::uint64_t applied_version = 0;
  bool call_succeeded = true;
  std::string message;
  std::vector<events::RuleFailure> failures;
};

// One change of a share's effective set: the event, what entered and left, the version it made,
// and the driver reports of exactly that version (a back end that was already a version further
// when it reported is listed under the later change).
struct AccessChange {
  Cause cause;
  std::uint64_t version = 0;
  std::vector<RuleDelta> deltas;
  std::size_t rules_after = 0;  // the size of the effective set after the change
  std::vector<DriverReport> outcomes;
};

// A resource lock placed, changed or dropped on the share, one of its rules or its mappings: who
// (the cause's project and user) locked what and why.
struct LockChange {
  Cause cause;
  std::string lock_id;
  std::string change;  // "created", "updated" or "deleted"
  // Created: all of them; updated: the action and reason after the update; deleted: none.
  std::optional<events::LockResourceType> resource_type;
  std::string resource_id;
  std::optional<events::LockAction> resource_action;
  std::optional<events::LockContext> lock_context;
  std::optional<std::string> lock_reason;
  friend bool operator==(const LockChange&, const LockChange&) = default;
};

struct AccessHistory {
  std::string share_id;
  std::string project_id;
  std::string name;
  std::optional<Cause> created;
  std::optional<Cause> deleted;
  std::vector<AccessChange> changes;  // in log order
  // Driver reports of versions the history has no change for (version 0: before any rule).
  std::vector<DriverReport> other_outcomes;
  std::vector<LockChange> locks;  // in log order, within the range
};

// Bounds of a history, both optional and inclusive, in times.
struct TimeRange {
  std::optional<std::int64_t> from_micros;
  std::optional<std::int64_t> to_micros;
};

// Who could reach a given access_to: the effective rules of that identity, on which shares,
// between which events.
struct WhoQuery {
  std::string access_to;  // compared as rule identities: "10.0.0.1" is "10.0.0.1/32"
  std::optional<events::AccessType> access_type;  // every type if not given
  std::optional<std::string> share_id;            // every share if not given
  std::int64_t from_micros = 0;
  std::int64_t to_micros = 0;
  // For ip rules: every rule whose network contains access_to's network (10.0.0.0/24 and
  // 0.0.0.0/0 for 10.0.0.7), not only the same network. Rules of other types still need the
  // same identity; networks with an IPv6 zone id only match themselves.
  bool containing = false;
};

struct AccessInterval {
  std::string share_id;
  std::string project_id;
  std::string share_name;
  engine::RuleIdentity rule;
  events::AccessLevel level = events::AccessLevel::rw;
  Cause granted;
  std::optional<Cause> revoked;  // still effective at the end of the log if not
  // Every source that granted the rule at some time while it was effective.
  std::vector<engine::RuleSource> sources;
};

// ---- questions --------------------------------------------------------------------------------

// The share's effective rules, with their sources, at `as_of`. not_found if the share appears
// nowhere in the log (a share created after `as_of` is found: `existed` is then false).
[[nodiscard]] boost::system::result<ShareAccessAt, AuditError> access_at(
    const lmdb::Txn& txn, const events::EventLog& log, std::string_view share_id,
    const AsOf& as_of);

// Each change of the share's effective rules within `range`, with its cause and the driver
// reports that followed. not_found if the share appears nowhere in the log.
[[nodiscard]] boost::system::result<AccessHistory, AuditError> access_history(
    const lmdb::Txn& txn, const events::EventLog& log, std::string_view share_id,
    const TimeRange& range = {});

// Every time the identity (or, with `containing`, a network holding it) was effective on a share
// (one share or all) during any part of [from, to]. bad_request if to < from or access_to is empty.
// An unknown share is not_found.
[[nodiscard]] boost::system::result<std::vector<AccessInterval>, AuditError> who_had_access(
    const lmdb::Txn& txn, const events::EventLog& log, const WhoQuery& query);

}  // namespace agate::projections::audit
