#pragma once

// The driver interface: Manila's update_access(access_rules, add_rules, delete_rules,
// update_rules) in substance. A back end's driver makes one share instance's exports match the rules it is given.
//
// Contract, as Manila's (manila-compat.md §3.5):
//   * access_rules holds every rule that must be on the instance; add_rules (already in
//     access_rules), delete_rules (not in it) and update_rules (in access_rules, at their new
//     level; never in add_rules) say what changed since the last call. update_rules are the
//     rules the back end holds at another level (Manila's 2.88 level update). A driver able to
//     do it may ignore the lists and make the back end match access_rules.
//   * Calls are idempotent: the same request twice leaves the back end as once. Deleting a rule
//     that was never applied does not fail. add_rules and delete_rules may both be empty: then
//     the back end must match access_rules exactly.
//   * A failure reported for an update rule leaves it in error; the back end is taken to hold
//     it at its old level.
//   * The result is success, or per-rule failures (with a message) and per-rule updates (the
//     access key of a cephx rule), or the failure of the whole call. A driver does not throw for
//     a back-end failure; it reports it.
//
// Thread-safety: update_access may be called concurrently for different instances, never for
// the same instance at once.

#include <memory>
#include <string>
#include <vector>

#include "events/event.h"

namespace agate::drivers {

struct AccessRule {
  events::RuleKey key;  // type and access_to (the canonical network for ip)
  events::AccessLevel level = events::AccessLevel::rw;
  friend bool operator==(const AccessRule&, const AccessRule&) = default;
};

struct InstanceInfo {
  std::string instance_id;
  std::string share_id;
  std::string host;         // the back end's name
  std::string share_proto;  // NFS, CIFS, …
  std::string export_path;  // the instance's first export location, as stored
};

struct UpdateRequest {
  InstanceInfo instance;
  std::vector<AccessRule> access_rules;
  std::vector<AccessRule> add_rules;
  std::vector<events::RuleKey> delete_rules;
  std::vector<AccessRule> update_rules;
};

struct UpdateResult {
  bool call_succeeded = true;
  std::string message;  // why the whole call failed
  std::vector<events::RuleFailure> failures;
  std::vector<events::AccessKey> access_keys;

  static UpdateResult failed(std::string why) { return {false, std::move(why), {}, {}}; }
};

class Driver {
 public:
  virtual ~Driver() = default;
  virtual UpdateResult update_access(const UpdateRequest& request) = 0;
};

}  // namespace agate::drivers
