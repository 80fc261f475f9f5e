@0xc4da0efec30ae75f;
# The one schema of Agate's event log. Every state change is one `Event`.
#
# COMPATIBILITY RULES — the log is kept forever and must stay readable:
#   * Field ordinals (@N) are never renumbered, reused or removed. A new field takes the next
#     free ordinal of its struct; a field that is no longer written stays in the schema.
#   * A new event kind is a new member of `Event.body` with the next free ordinal.
#   * A new enumerant goes at the end of its enum.
#   * Types of existing fields never change.
# Readers built from an older schema report unknown kinds and enumerants; they never guess.

using Cxx = import "/capnp/c++.capnp";
$Cxx.namespace("agate::schema");

enum AccessType {
  ip @0;
  user @1;
  cert @2;
  cephx @3;
}

enum AccessLevel {
  rw @0;
  ro @1;
}

struct KeyValue {
  key @0 :Text;
  value @1 :Text;
}

# A rule as the back end sees it: access_to of a given type. The effective rule set of a share
# holds at most one level per key, so the key names a rule on an instance.
struct RuleKey {
  accessType @0 :AccessType;
  accessTo @1 :Text;
}

struct Event {
  # Envelope. `seq` is the event's position in the log (1, 2, 3, … without gaps); it equals the
  # key the event is stored under. `timeMicros` is wall-clock time in microseconds since the Unix
  # epoch, chosen when the command was decided.
  seq @0 :UInt64;
  timeMicros @1 :Int64;
  projectId @2 :Text;
  userId @3 :Text;
  requestId @4 :Text;

  body :union {
    shareTypeCreated @5 :ShareTypeCreated;
    shareTypeDeleted @6 :ShareTypeDeleted;
    shareCreated @7 :ShareCreated;
    shareStatusChanged @8 :ShareStatusChanged;
    shareDeleted @9 :ShareDeleted;
    accessGroupCreated @10 :AccessGroupCreated;
    accessGroupUpdated @11 :AccessGroupUpdated;
    accessGroupDeleted @12 :AccessGroupDeleted;
    entryAdded @13 :EntryAdded;
    entryRemoved @14 :EntryRemoved;
    ruleAllowed @15 :RuleAllowed;
    ruleDenied @16 :RuleDenied;
    ruleMetadataSet @17 :RuleMetadataSet;
    ruleMetadataUnset @18 :RuleMetadataUnset;
    groupAttached @19 :GroupAttached;
    groupDetached @20 :GroupDetached;
    accessSyncRequested @21 :AccessSyncRequested;
    driverOutcome @22 :DriverOutcome;
    shareTypeUpdated @23 :ShareTypeUpdated;
    shareSoftDeleted @24 :ShareSoftDeleted;
    shareRestored @25 :ShareRestored;
    resourceLockCreated @26 :ResourceLockCreated;
    resourceLockUpdated @27 :ResourceLockUpdated;
    resourceLockDeleted @28 :ResourceLockDeleted;
    ruleLevelUpdated @29 :RuleLevelUpdated;
    entryLevelUpdated @30 :EntryLevelUpdated;
  }
}

struct ShareTypeCreated {
  shareTypeId @0 :Text;
  name @1 :Text;
  description @2 :Text;
  isPublic @3 :Bool;
  extraSpecs @4 :List(KeyValue);
}

struct ShareTypeDeleted {
  shareTypeId @0 :Text;
}

# Carries the type's name, description and visibility after the update (unchanged ones included);
# its extra specs are not changed by it.
struct ShareTypeUpdated {
  shareTypeId @0 :Text;
  name @1 :Text;
  description @2 :Text;
  isPublic @3 :Bool;
}

struct ShareInstance {
  instanceId @0 :Text;
  # The back end the instance lives on (Manila's `host`); empty when none could be chosen.
  host @1 :Text;
  status @2 :Text;
  exportLocations @3 :List(Text);
}

struct ShareCreated {
  shareId @0 :Text;
  name @1 :Text;
  description @2 :Text;
  shareProto @3 :Text;
  sizeGib @4 :UInt64;
  shareTypeId @5 :Text;
  isPublic @6 :Bool;
  status @7 :Text;
  availabilityZone @8 :Text;
  metadata @9 :List(KeyValue);
  instances @10 :List(ShareInstance);
  # The name its exports are made under (2.84, with the type's prefix); empty when the back end
  # chose it.
  mountPointName @11 :Text;
  # From the type's snapshot_inherit_share_access_support at creation (2.99).
  snapshotInheritShareAccessSupport @12 :Bool;
}

struct InstanceStatus {
  instanceId @0 :Text;
  status @1 :Text;
}

struct ShareStatusChanged {
  shareId @0 :Text;
  status @1 :Text;
  # Instances whose own status changed with the share's; may be empty.
  instances @2 :List(InstanceStatus);
}

struct ShareDeleted {
  shareId @0 :Text;
}

# The share went to the recycle bin (Manila's soft delete, 2.69). It keeps its instances, its
# rules and its groups; it is restored (`ShareRestored`) or, once the scheduled time has passed,
# deleted (`ShareDeleted`).
struct ShareSoftDeleted {
  shareId @0 :Text;
  # Microseconds since the Unix epoch: the decision's time plus the retention configured then.
  scheduledToBeDeletedAtMicros @1 :Int64;
}

# The share came back from the recycle bin as it went in.
struct ShareRestored {
  shareId @0 :Text;
}

struct AccessGroupCreated {
  groupId @0 :Text;
  name @1 :Text;
  description @2 :Text;
  accessType @3 :AccessType;
}

# Carries the group's name and description after the update (unchanged values included).
struct AccessGroupUpdated {
  groupId @0 :Text;
  name @1 :Text;
  description @2 :Text;
}

struct AccessGroupDeleted {
  groupId @0 :Text;
}

struct EntryAdded {
  groupId @0 :Text;
  entryId @1 :Text;
  accessTo @2 :Text;
  accessLevel @3 :AccessLevel;
}

struct EntryRemoved {
  groupId @0 :Text;
  entryId @1 :Text;
}

struct RuleAllowed {
  shareId @0 :Text;
  ruleId @1 :Text;
  accessType @2 :AccessType;
  accessTo @3 :Text;
  accessLevel @4 :AccessLevel;
  metadata @5 :List(KeyValue);
}

struct RuleDenied {
  shareId @0 :Text;
  ruleId @1 :Text;
}

# Upserts the given keys; keys not named keep their values.
struct RuleMetadataSet {
  shareId @0 :Text;
  ruleId @1 :Text;
  metadata @2 :List(KeyValue);
}

struct RuleMetadataUnset {
  shareId @0 :Text;
  ruleId @1 :Text;
  keys @2 :List(Text);
}

# A direct rule's level changed in place (Manila's update_access, 2.88). The rule keeps its id,
# type, target and metadata; its back ends are told through the driver's update_rules.
struct RuleLevelUpdated {
  shareId @0 :Text;
  ruleId @1 :Text;
  accessLevel @2 :AccessLevel;
}

# An access-group entry's level changed in place: one change, re-applied on every share the
# group is attached to.
struct EntryLevelUpdated {
  groupId @0 :Text;
  entryId @1 :Text;
  accessLevel @2 :AccessLevel;
}

struct GroupAttached {
  shareId @0 :Text;
  groupId @1 :Text;
  mappingId @2 :Text;
}

struct GroupDetached {
  shareId @0 :Text;
  groupId @1 :Text;
  mappingId @2 :Text;
}

struct AccessSyncRequested {
  shareId @0 :Text;
}

struct RuleFailure {
  rule @0 :RuleKey;
  message @1 :Text;
}

struct AccessKey {
  rule @0 :RuleKey;
  accessKey @1 :Text;
}

struct AppliedRule {
  rule @0 :RuleKey;
  level @1 :AccessLevel;
}

# What a back end's driver did with one share instance's desired rule set.
struct DriverOutcome {
  shareId @0 :Text;
  instanceId @1 :Text;
  # The instance's desired version the driver was given; an outcome for an older version than
  # one already recorded is stale and changes nothing.
  appliedVersion @2 :UInt64;
  # False when the whole call failed (then `message` says why); per-rule failures may accompany
  # a call that otherwise succeeded.
  callSucceeded @3 :Bool;
  message @4 :Text;
  failures @5 :List(RuleFailure);
  accessKeys @6 :List(AccessKey);
  # What the driver was told to change: the rules to add (with their level) and to delete.
  # With the earlier outcomes of the instance they say which rules its back end holds: the added
  # ones that did not fail, less the deleted ones. A failed call changed nothing.
  added @7 :List(AppliedRule);
  removed @8 :List(RuleKey);
  # The driver was given the whole set to match (access_sync, a resumed call): what the back end
  # holds is exactly `added` less the failures, whatever it held before.
  fullSync @9 :Bool;
}

# Resource locks (Manila 2.81, 2.82). A lock holds back one action on one resource: the deletion
# of a share, of an access rule or of an access group (Agate's own resource type; an attached
# group's mapping is locked as an access rule, since it is shown as one), or the visibility of an
# access rule's access_to and access_key. The envelope's project and user are the lock's owner
# (who placed it).
enum LockResourceType {
  share @0;
  accessRule @1;
  accessGroup @2;
}

enum LockAction {
  delete @0;
  show @1;
}

# Who placed the lock: a project user, an administrator, or a service (a request carrying a
# service token). It decides who may change or drop the lock later.
enum LockContext {
  user @0;
  admin @1;
  service @2;
}

struct ResourceLockCreated {
  lockId @0 :Text;
  resourceType @1 :LockResourceType;
  resourceId @2 :Text;
  resourceAction @3 :LockAction;
  lockContext @4 :LockContext;
  lockReason @5 :Text;
  # The share the locked resource is or belongs to (a rule's or mapping's share); empty for an
  # access group. The audit lists the lock in that share's history.
  shareId @6 :Text;
}

# The lock's action and reason after the update (unchanged values included).
struct ResourceLockUpdated {
  lockId @0 :Text;
  resourceAction @1 :LockAction;
  lockReason @2 :Text;
  shareId @3 :Text;
}

struct ResourceLockDeleted {
  lockId @0 :Text;
  shareId @1 :Text;
}
