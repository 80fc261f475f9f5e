#include "tests/support/sample_events.h"

#include <string>

namespace agate::testing {

using namespace agate::events;

namespace {

Event envelope(Body body) {
  Event e;
  e.time_micros = 1764072000123456;
  e.project_id = "6807e01e236c4dd1bb499687317fc3ee";
  e.user_id = "alice";
  e.request_id = "req-7f1c2a4e-8a53-4a4b-9d3e-0c1d2e3f4a5b";
  e.body = std::move(body);
  return e;
}

}  // namespace

std::vector<Event> sample_events() {
  const RuleKey bad{AccessType::ip, "3.3.3.3"};
  const RuleKey ceph{AccessType::cephx, "client-alice"};
  std::vector<Event> v;
  v.push_back(envelope(ShareTypeCreated{
      "st-1",
      "default",
      "the default type",
      true,
      {{"driver_handles_share_servers", "False"}, {"share_backend_name", "nfs1"}}}));
  v.push_back(envelope(ShareTypeDeleted{"st-1"}));
  v.push_back(envelope(ShareCreated{"share-1",
                                    "share1",
                                    "First Share",
                                    "NFS",
                                    10,
                                    "st-1",
                                    true,
                                    "available",
                                    "nova",
                                    {{"team", "web"}},
                                    {{"inst-1", "nfs1", "available", {"10.0.0.1:/exports/share-1"}},
                                     {"inst-2", "", "error", {}}},
                                    "project-a_web",
                                    true}));
  v.push_back(envelope(ShareStatusChanged{"share-1", "error", {{"inst-1", "error"}}}));
  v.push_back(envelope(ShareDeleted{"share-1"}));
  v.push_back(envelope(AccessGroupCreated{"ag-1", "AG1", "First Access Group", AccessType::user}));
  v.push_back(envelope(AccessGroupUpdated{"ag-1", "web", "Web servers"}));
  v.push_back(envelope(AccessGroupDeleted{"ag-1"}));
  v.push_back(envelope(EntryAdded{"ag-1", "entry-1", "demo", AccessLevel::ro}));
  v.push_back(envelope(EntryRemoved{"ag-1", "entry-1"}));
  v.push_back(envelope(RuleAllowed{"share-1",
                                   "rule-1",
                                   AccessType::cert,
                                   "client.example.com",
                                   AccessLevel::ro,
                                   {{"k1", "v1"}, {"k2", ""}}}));
  v.push_back(envelope(RuleDenied{"share-1", "rule-1"}));
  v.push_back(envelope(RuleMetadataSet{"share-1", "rule-1", {{"b", "3"}, {"c", "4"}}}));
  v.push_back(envelope(RuleMetadataUnset{"share-1", "rule-1", {"a", "b"}}));
  v.push_back(envelope(GroupAttached{"share-1", "ag-1", "map-1"}));
  v.push_back(envelope(GroupDetached{"share-1", "ag-1", "map-1"}));
  v.push_back(envelope(AccessSyncRequested{"share-1"}));
  v.push_back(envelope(DriverOutcome{"share-1",
                                     "inst-1",
                                     42,
                                     true,
                                     "",
                                     {{bad, "exportfs: 3.3.3.3 is not reachable"}},
                                     {{ceph, "AQBq0aFg1Z5RNBAAb6Y5vIgvyx8tK+Yl1mJw=="}},
                                     {{ceph, AccessLevel::ro}, {bad, AccessLevel::rw}},
                                     {{AccessType::user, "gone"}},
                                     true}));
  v.push_back(envelope(ShareTypeUpdated{"st-1", "gold", "", false}));
  v.push_back(envelope(ShareSoftDeleted{"share-1", 1764676800123456}));
  v.push_back(envelope(ShareRestored{"share-1"}));
  v.push_back(envelope(ResourceLockCreated{"lock-1", LockResourceType::access_rule, "rule-1",
                                           LockAction::show, LockContext::service,
                                           "audited by the storage team", "share-1"}));
  v.push_back(envelope(ResourceLockUpdated{"lock-1", LockAction::delete_, "", "share-1"}));
  v.push_back(envelope(ResourceLockDeleted{"lock-1", "share-1"}));
  v.push_back(envelope(RuleLevelUpdated{"share-1", "rule-1", AccessLevel::ro}));
  v.push_back(envelope(EntryLevelUpdated{"ag-1", "entry-1", AccessLevel::rw}));
  return v;
}

Event random_event(std::mt19937_64& rng) {
  auto pick = [&](std::size_t n) { return static_cast<std::size_t>(rng() % n); };
  auto word = [&] {
    // Arbitrary bytes, NUL and non-UTF-8 included: the log stores what it is given.
    std::string s(pick(40), '\0');
    for (auto& c : s) c = static_cast<char>(rng());
    return s;
  };
  auto samples = sample_events();
  Event e = samples[pick(samples.size())];
  e.time_micros = static_cast<std::int64_t>(rng() >> 1);
  e.project_id = word();
  e.user_id = word();
  e.request_id = word();
  std::visit(
      [&](auto& body) {
        using T = std::decay_t<decltype(body)>;
        if constexpr (requires { body.share_id; }) body.share_id = word();
        if constexpr (requires { body.group_id; }) body.group_id = word();
        if constexpr (requires { body.metadata; }) {
          body.metadata.clear();
          for (std::size_t i = pick(5); i > 0; --i) body.metadata[word()] = word();
        }
        if constexpr (std::is_same_v<T, ShareSoftDeleted>) {
          body.scheduled_to_be_deleted_at_micros = static_cast<std::int64_t>(rng());
        }
        if constexpr (std::is_same_v<T, ResourceLockCreated>) {
          body.resource_id = word();
          body.lock_reason = word();
          body.resource_type = static_cast<LockResourceType>(pick(3));
          body.lock_context = static_cast<LockContext>(pick(3));
        }
        if constexpr (requires { body.resource_action; }) {
          body.resource_action = static_cast<LockAction>(pick(2));
        }
        if constexpr (std::is_same_v<T, DriverOutcome>) {
          body.applied_version = rng();
          body.failures.resize(pick(4), RuleFailure{{AccessType::ip, word()}, word()});
        }
      },
      e.body);
  return e;
}

}  // namespace agate::testing
