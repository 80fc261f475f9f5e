// Share access over the REST API, without a socket: the share actions (allow/deny/list/sync,
// the proposal's group attach and list_access_groups, reset_status), /share-access-rules, rule
// metadata and effective-access; views and states by microversion; the proposal's cases 1 and 3;
// tenancy; bad bodies.

#include <gtest/gtest.h>

#include <set>

#include "tests/support/api_harness.h"
#include "tests/support/json_text.h"

namespace agate {
namespace {

namespace bhttp = boost::beast::http;
using testing::ApiHarness;
using testing::ApiResult;
using testing::EngineHarness;

using testing::text;

std::set<std::string> keys_of(const boost::json::value& v) {
  std::set<std::string> out;
  for (const auto& kv : v.as_object()) out.emplace(kv.key());
  return out;
}

// The minor number of "2.N"; 0 for "" (no header means 2.0).
int minor(const std::string& version) {
  return version.empty() ? 0 : std::stoi(version.substr(version.find('.') + 1));
}

class AccessApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    api_.engine().create_type("default");
    share_ = api_.engine().create_share(alice_);
  }

  ApiResult action(const std::string& body, const std::string& version = "2.45",
                   const std::string& token = ApiHarness::kAlice, std::string share = "") {
    if (share.empty()) share = share_;
    return api_.post("/v2/shares/" + share + "/action", body, token, version);
  }

  // allow_access (os-allow_access below 2.7) of an ip rule; returns the response.
  ApiResult allow_ip(const std::string& access_to, const std::string& version = "2.45",
                     const std::string& extra = "") {
    const bool old = minor(version) < 7;
    return action(std::string(R"({")") + (old ? "os-allow_access" : "allow_access") +
                      R"(": {"access_type": "ip", "access_to": ")" + access_to + "\"" + extra +
                      "}}",
                  version);
  }

  std::string create_group_with(const std::vector<std::string>& entries,
                                const std::string& name = "AG1", const std::string& type = "ip",
                                const std::string& level = "rw") {
    const auto group = api_.engine().create_group(alice_, name, type);
    for (const auto& e : entries) api_.engine().add_entry(alice_, group, e, level);
    return group;
  }

  ApiResult attach(const std::string& group, const std::string& version = "2.45") {
    return action(
        R"({"allow_access": {"access_type": "access_group", "access_to": ")" + group + R"("}})",
        version);
  }

  engine::ShareRow share_row(const std::string& share) {
    auto txn = lmdb::Txn::begin_read(api_.engine().env());
    return *api_.engine().store().share(txn, share);
  }

  // Records what the back end did with the share's (only) instance, at its desired version, as
  // the dispatcher would (`removed`: what it was told to delete).
  void report(const std::string& share, std::vector<events::RuleFailure> failures = {},
              std::vector<events::AccessKey> keys = {}, bool call_succeeded = true,
              std::vector<events::RuleKey> removed = {}) {
    const auto row = share_row(share);
    events::DriverOutcome o;
    o.share_id = share;
    o.instance_id = row.instance_ids.at(0);
    o.applied_version = row.desired_version;
    o.call_succeeded = call_succeeded;
    if (!call_succeeded) o.message = "back end unreachable";
    o.failures = std::move(failures);
    o.access_keys = std::move(keys);
    o.removed = std::move(removed);
    api_.engine().ok(EngineHarness::admin(), engine::RecordDriverOutcome{o});
  }

  ApiResult access_list(const std::string& version, const std::string& token = ApiHarness::kAlice) {
    return action(minor(version) < 7 ? R"({"os-access_list": null})" : R"({"access_list": null})",
                  version, token);
  }

  ApiResult effective(const std::string& token = ApiHarness::kAlice, std::string share = "") {
    if (share.empty()) share = share_;
    return api_.get("/v2/project-a/shares/" + share + "/effective-access", token);
  }

  // The item of a list whose `field` is `value`, or null.
  static boost::json::value find(const boost::json::value& list, const std::string& field,
                                 const std::string& value) {
    for (const auto& item : list.as_array()) {
      if (text(item.at(field)) == value) return item;
    }
    return nullptr;
  }

  const engine::Context alice_ = EngineHarness::member("project-a");
  ApiHarness api_;
  std::string share_;
};

// ---- allow_access: views by version ---------------------------------------------------------

TEST_F(AccessApiTest, AllowAccessAnswersTheFieldsOfEachVersion) {
  struct Case {
    std::string version;
    std::set<std::string> keys;
  };
  const std::set<std::string> base = {"id",        "share_id",    "access_level",
                                      "access_to", "access_type", "state"};
  auto plus = [&](std::set<std::string> more) {
    more.insert(base.begin(), base.end());
    return more;
  };
  const std::vector<Case> cases = {
      {"2.0", base},
      {"2.20", base},
      {"2.21", plus({"access_key"})},
      {"2.27", plus({"access_key"})},
      {"2.28", plus({"access_key"})},
      {"2.32", plus({"access_key"})},
      {"2.33", plus({"access_key", "created_at", "updated_at"})},
      {"2.44", plus({"access_key", "created_at", "updated_at"})},
      {"2.45", plus({"access_key", "created_at", "updated_at", "metadata"})},
  };
  int n = 0;
  for (const auto& c : cases) {
    const std::string ip = "10.0.0." + std::to_string(++n);
    auto r = allow_ip(ip, c.version);
    ASSERT_EQ(r.status, 200u) << c.version << " " << r.raw.body();
    const auto& access = r.body.at("access");
    EXPECT_EQ(keys_of(access), c.keys) << c.version;
    EXPECT_EQ(text(access.at("share_id")), share_);
    EXPECT_EQ(text(access.at("access_to")), ip);
    EXPECT_EQ(text(access.at("access_type")), "ip");
    EXPECT_EQ(text(access.at("access_level")), "rw");
    EXPECT_EQ(r.raw["X-OpenStack-Manila-API-Version"], c.version);
    // Right after a grant: "new" up to 2.27, "queued_to_apply" from 2.28.
    EXPECT_EQ(text(access.at("state")), minor(c.version) < 28 ? "new" : "queued_to_apply")
        << c.version;
  }
}

TEST_F(AccessApiTest, AllowAccessShowsTimestampsAndMetadataFrom245) {
  auto r = allow_ip("10.1.0.0/16", "2.45", R"(, "access_level": "ro", "metadata": {"k1": "v1"})");
  ASSERT_EQ(r.status, 200u) << r.raw.body();
  const auto& a = r.body.at("access");
  EXPECT_EQ(text(a.at("access_level")), "ro");
  EXPECT_EQ(a.at("metadata"), (boost::json::object{{"k1", "v1"}}));
  EXPECT_TRUE(a.at("access_key").is_null());
  EXPECT_TRUE(a.at("updated_at").is_null());
  // Manila's format: no zone, microseconds.
  EXPECT_EQ(text(a.at("created_at")).size(), std::string("2025-11-24T16:00:00.000000").size());
}

TEST_F(AccessApiTest, MetadataIsDroppedSilentlyBelow245) {
  auto r = allow_ip("10.0.0.9", "2.44", R"(, "metadata": {"k1": "v1"})");
  ASSERT_EQ(r.status, 200u) << r.raw.body();
  const std::string id = text(r.body.at("access").at("id"));
  auto show = api_.get("/v2/share-access-rules/" + id);
  ASSERT_EQ(show.status, 200u);
  EXPECT_TRUE(show.body.at("access").at("metadata").as_object().empty());
}

TEST_F(AccessApiTest, AllowAccessAcceptsANullLevel) {
  auto r = allow_ip("10.0.0.1", "2.45", R"(, "access_level": null)");
  ASSERT_EQ(r.status, 200u) << r.raw.body();
  EXPECT_EQ(text(r.body.at("access").at("access_level")), "rw");
}

TEST_F(AccessApiTest, EngineRefusalsPassThroughWithManilasMessages) {
  ASSERT_EQ(allow_ip("10.20.30.40").status, 200u);
  auto dup = allow_ip("10.20.30.40/32");
  EXPECT_EQ(dup.status, 400u);
  EXPECT_EQ(dup.message(), "Share access ip:10.20.30.40/32 exists.");
  auto level = allow_ip("10.0.0.1", "2.45", R"(, "access_level": "su")");
  EXPECT_EQ(level.message(), "Invalid access rule: Invalid share access level: su.");
  auto ip = allow_ip("10.0.0.1/24");
  EXPECT_EQ(ip.message(), "10.0.0.1/24 has host bits set");
  auto cephx = action(R"({"allow_access": {"access_type": "cephx", "access_to": "bob"}})", "2.12");
  EXPECT_EQ(cephx.message(), "Only 'ip', 'user' or 'cert' access types are supported.");
  auto missing = action(R"({"allow_access": {"access_type": "ip", "access_to": "10.0.0.1"}})",
                        "2.45", ApiHarness::kAlice, "no-such-share");
  EXPECT_EQ(missing.status, 404u);
  EXPECT_EQ(missing.message(), "NotFound: Resource could not be found.");
}

// ---- actions at their versions --------------------------------------------------------------

TEST_F(AccessApiTest, AllowAccessIsRefusedAtItsOldNameFrom27) {
  const auto before = api_.engine().last();
  auto r = action(R"({"os-allow_access": {"access_type": "ip", "access_to": "10.0.0.1"}})", "2.7");
  EXPECT_EQ(r.status, 404u);
  EXPECT_EQ(r.message(), "The resource could not be found.");
  EXPECT_TRUE(r.body.as_object().contains("itemNotFound"));
  EXPECT_EQ(api_.engine().last(), before);
}

TEST_F(AccessApiTest, AllowAccessIsRefusedAtItsNewNameBefore27) {
  const auto before = api_.engine().last();
  auto r = action(R"({"allow_access": {"access_type": "ip", "access_to": "10.0.0.1"}})", "2.6");
  EXPECT_EQ(r.status, 404u);
  EXPECT_EQ(r.message(), "The resource could not be found.");
  // No version header means 2.0: the old name works, the new one does not.
  EXPECT_EQ(
      action(R"({"allow_access": {"access_type": "ip", "access_to": "10.0.0.1"}})", "").status,
      404u);
  EXPECT_EQ(api_.engine().last(), before);
  EXPECT_EQ(
      action(R"({"os-allow_access": {"access_type": "ip", "access_to": "10.0.0.1"}})", "").status,
      200u);
}

TEST_F(AccessApiTest, EachActionExistsOnlyAtItsVersions) {
  api_.engine().allow(alice_, share_, "ip", "10.0.0.1");
  struct Case {
    std::string body;
    std::vector<std::string> served, refused;
  };
  // Bodies that change nothing lasting when served (a deny of an unknown id is a 404 of
  // another kind, told apart by its message).
  const std::vector<Case> cases = {
      {R"({"os-deny_access": {"access_id": "nope"}})", {"2.0", "2.6"}, {"2.7", "2.45"}},
      {R"({"deny_access": {"access_id": "nope"}})", {"2.7", "2.45"}, {"2.0", "2.6"}},
      {R"({"os-access_list": null})", {"2.0", "2.6"}, {"2.7", "2.44", "2.45"}},
      {R"({"access_list": null})", {"2.7", "2.44"}, {"2.0", "2.6", "2.45"}},
      {R"({"os-reset_status": {"status": "available"}})", {"2.0", "2.6"}, {"2.7", "2.45"}},
      {R"({"reset_status": {"status": "available"}})", {"2.7", "2.45"}, {"2.0", "2.6"}},
      {R"({"access_sync": {}})", {"2.0", "2.6", "2.7", "2.45"}, {}},
      {R"({"list_access_groups": null})", {"2.0", "2.6", "2.7", "2.45"}, {}},
  };
  for (const auto& c : cases) {
    for (const auto& v : c.served) {
      auto r = action(c.body, v, ApiHarness::kAdmin);
      const bool unknown_rule = r.status == 404 && r.message() == "Resource could not be found.";
      EXPECT_TRUE(r.status == 200 || r.status == 202 || unknown_rule)
          << c.body << " at " << v << ": " << r.raw.body();
    }
    for (const auto& v : c.refused) {
      const auto before = api_.engine().last();
      auto r = action(c.body, v, ApiHarness::kAdmin);
      EXPECT_EQ(r.status, 404u) << c.body << " at " << v;
      EXPECT_EQ(r.message(), "The resource could not be found.") << c.body << " at " << v;
      EXPECT_EQ(api_.engine().last(), before);
    }
  }
}

TEST_F(AccessApiTest, ActionsAreServedUnderBothBaseUrls) {
  auto a = api_.post("/v2/shares/" + share_ + "/action",
                     R"({"allow_access": {"access_type": "ip", "access_to": "10.0.0.1"}})");
  EXPECT_EQ(a.status, 200u) << a.raw.body();
  auto b = api_.post("/v2/project-a/shares/" + share_ + "/action",
                     R"({"allow_access": {"access_type": "ip", "access_to": "10.0.0.2"}})");
  EXPECT_EQ(b.status, 200u) << b.raw.body();
}

// ---- deny_access ----------------------------------------------------------------------------

TEST_F(AccessApiTest, DenyAccessIs202WithAnEmptyBodyAndTheRuleIsQueuedToDeny) {
  const auto rule = api_.engine().allow(alice_, share_, "ip", "10.0.0.1");
  report(share_);
  auto r = action(R"({"deny_access": {"access_id": ")" + rule + R"(", "unrestrict": true}})");
  EXPECT_EQ(r.status, 202u) << r.raw.body();
  EXPECT_TRUE(r.raw.body().empty());
  auto show = api_.get("/v2/share-access-rules/" + rule);
  ASSERT_EQ(show.status, 200u);
  EXPECT_EQ(text(show.body.at("access").at("state")), "queued_to_deny");
  // Denying again changes nothing and is still accepted.
  const auto before = api_.engine().last();
  EXPECT_EQ(action(R"({"deny_access": {"access_id": ")" + rule + R"("}})").status, 202u);
  EXPECT_EQ(api_.engine().last(), before);
  // Once the back end has applied the set without it, the rule is gone.
  report(share_);
  auto gone = api_.get("/v2/share-access-rules/" + rule);
  EXPECT_EQ(gone.status, 404u);
  EXPECT_EQ(gone.message(), "Share access rule " + rule + " not found.");
}

TEST_F(AccessApiTest, DenyAtTheOldNameAndUnknownIds) {
  const auto rule = api_.engine().allow(alice_, share_, "ip", "10.0.0.1");
  auto unknown = action(R"({"os-deny_access": {"access_id": "no-such-rule"}})", "2.0");
  EXPECT_EQ(unknown.status, 404u);
  EXPECT_EQ(unknown.message(), "Resource could not be found.");
  auto r = action(R"({"os-deny_access": {"access_id": ")" + rule + R"("}})", "2.0");
  EXPECT_EQ(r.status, 202u) << r.raw.body();
}

// ---- the proposal's group attach ------------------------------------------------------------

TEST_F(AccessApiTest, AttachingAGroupAnswersTheMappingAsAnAccess) {
  const auto group = create_group_with({"1.1.1.1", "2.2.2.2"});
  auto r = attach(group);
  ASSERT_EQ(r.status, 200u) << r.raw.body();
  const auto& a = r.body.at("access");
  EXPECT_EQ(keys_of(a), (std::set<std::string>{"id", "share_id", "access_level", "access_to",
                                               "access_type", "state", "access_key", "created_at",
                                               "updated_at", "metadata", "deleted_at", "deleted"}));
  EXPECT_EQ(text(a.at("access_type")), "access_group");
  EXPECT_EQ(text(a.at("access_to")), group);
  EXPECT_EQ(text(a.at("share_id")), share_);
  EXPECT_TRUE(a.at("access_level").is_null());
  EXPECT_TRUE(a.at("updated_at").is_null());
  EXPECT_TRUE(a.at("deleted_at").is_null());
  EXPECT_EQ(a.at("deleted"), false);
  EXPECT_FALSE(a.at("created_at").is_null());
  EXPECT_EQ(text(a.at("state")), "queued_to_apply");

  // The id is the mapping's: list_access_groups names it.
  auto groups = action(R"({"list_access_groups": {}})");
  ASSERT_EQ(groups.status, 200u) << groups.raw.body();
  const auto& list = groups.body.at("access-groups");
  ASSERT_EQ(list.as_array().size(), 1u);
  EXPECT_EQ(text(list.at(0).at("id")), group);
  EXPECT_EQ(text(list.at(0).at("name")), "AG1");
  EXPECT_EQ(text(list.at(0).at("access_type")), "ip");
  EXPECT_EQ(text(list.at(0).at("share-id")), share_);
  EXPECT_EQ(text(list.at(0).at("mapping_id")), text(a.at("id")));

  // Active once the back end has applied both entries.
  report(share_);
  auto show = api_.get("/v2/share-access-rules/" + text(a.at("id")));
  ASSERT_EQ(show.status, 200u);
  EXPECT_EQ(text(show.body.at("access").at("state")), "active");
  EXPECT_EQ(text(show.body.at("access").at("share_id")), share_);
}

TEST_F(AccessApiTest, AttachingAtTheOldNameShowsTheProposalsFields) {
  const auto group = create_group_with({"1.1.1.1"});
  auto r = action(
      R"({"os-allow_access": {"access_type": "access_group", "access_to": ")" + group + R"("}})",
      "2.0");
  ASSERT_EQ(r.status, 200u) << r.raw.body();
  EXPECT_EQ(keys_of(r.body.at("access")),
            (std::set<std::string>{"id", "share_id", "access_level", "access_to", "access_type",
                                   "state", "created_at", "updated_at", "deleted_at", "deleted"}));
  EXPECT_EQ(text(r.body.at("access").at("state")), "new");
}

TEST_F(AccessApiTest, DenyWithAMappingIdDetachesTheGroup) {
  const auto group = create_group_with({"1.1.1.1", "2.2.2.2"});
  auto r = attach(group);
  ASSERT_EQ(r.status, 200u);
  const std::string mapping = text(r.body.at("access").at("id"));
  ASSERT_EQ(effective().body.at("effective_access").at("rules").as_array().size(), 2u);
  auto deny = action(R"({"deny_access": {"access_id": ")" + mapping + R"("}})");
  EXPECT_EQ(deny.status, 202u) << deny.raw.body();
  EXPECT_TRUE(
      action(R"({"list_access_groups": null})").body.at("access-groups").as_array().empty());
  const auto e = effective();
  EXPECT_TRUE(e.body.at("effective_access").at("rules").as_array().empty());
  EXPECT_EQ(text(e.body.at("effective_access").at("access_rules_status")), "syncing");
  EXPECT_EQ(api_.get("/v2/share-access-rules/" + mapping).status, 404u);
  // Denying it again: it is gone.
  EXPECT_EQ(action(R"({"deny_access": {"access_id": ")" + mapping + R"("}})").status, 404u);
}

TEST_F(AccessApiTest, AttachingTwiceOrAnUnknownGroupIsRefused) {
  const auto group = create_group_with({"1.1.1.1"});
  ASSERT_EQ(attach(group).status, 200u);
  auto twice = attach(group);
  EXPECT_EQ(twice.status, 400u);
  EXPECT_EQ(twice.message(), "Share access access_group:" + group + " exists.");
  auto unknown = attach("no-such-group");
  EXPECT_EQ(unknown.status, 404u);
  EXPECT_EQ(unknown.message(), "Access group no-such-group could not be found.");
}

// Case 1: a group whose entry contradicts a direct rule cannot be attached.
TEST_F(AccessApiTest, ProposalCase1ContradictoryGroupIsAConflictAndWritesNothing) {
  const auto rule = api_.engine().allow(alice_, share_, "user", "admin", "rw");
  const auto group = api_.engine().create_group(alice_, "AG1", "user");
  const auto entry = api_.engine().add_entry(alice_, group, "admin", "ro");
  const auto before = api_.engine().last();
  auto r = attach(group);
  EXPECT_EQ(r.status, 409u);
  EXPECT_TRUE(r.body.as_object().contains("conflictingRequest"));
  EXPECT_EQ(r.message(), "Access group " + group + " cannot be attached to share " + share_ +
                             ": entry " + entry +
                             " user:admin (ro) conflicts with access rule user:admin (rw) granted "
                             "by access rule " +
                             rule + ".");
  EXPECT_EQ(api_.engine().last(), before);
  EXPECT_TRUE(
      action(R"({"list_access_groups": null})").body.at("access-groups").as_array().empty());
}

// Case 3: the back end applies some of a group's rules and not others.
TEST_F(AccessApiTest, ProposalCase3PartialFailureShowsTheFailedRuleInError) {
  const auto direct = api_.engine().allow(alice_, share_, "ip", "10.0.0.1");
  const auto group = create_group_with({"1.1.1.1", "2.2.2.2", "3.3.3.3"});
  auto attached = attach(group);
  ASSERT_EQ(attached.status, 200u);
  const std::string mapping = text(attached.body.at("access").at("id"));
  report(share_, {{{events::AccessType::ip, "3.3.3.3/32"}, "export refused"}});

  const auto e = effective();
  ASSERT_EQ(e.status, 200u) << e.raw.body();
  const auto& ea = e.body.at("effective_access");
  EXPECT_EQ(text(ea.at("access_rules_status")), "error");
  const auto& rules = ea.at("rules");
  ASSERT_EQ(rules.as_array().size(), 4u);
  for (const auto& rule : rules.as_array()) {
    const auto to = text(rule.at("access_to"));
    EXPECT_EQ(text(rule.at("state")), to == "3.3.3.3/32" ? "error" : "active") << to;
  }
  // The instance's access_status_message names the failed rule and why.
  ASSERT_EQ(ea.at("instances").as_array().size(), 1u);
  const auto& instance = ea.at("instances").at(0);
  EXPECT_EQ(text(instance.at("access_rules_status")), "error");
  EXPECT_EQ(text(instance.at("host")), "nfs1");
  EXPECT_NE(text(instance.at("access_status_message")).find("ip:3.3.3.3/32 (export refused)"),
            std::string::npos)
      << instance;
  EXPECT_EQ(instance.at("applied_version"), share_row(share_).desired_version);

  // The rules' views: the direct rule is active, the mapping is in error (one entry failed).
  auto list = api_.get("/v2/share-access-rules?share_id=" + share_);
  ASSERT_EQ(list.status, 200u);
  EXPECT_EQ(text(find(list.body.at("access_list"), "id", direct).at("state")), "active");
  EXPECT_EQ(text(find(list.body.at("access_list"), "id", mapping).at("state")), "error");
  // Before 2.28 every rule shows the share's status.
  auto old = access_list("2.27");
  for (const auto& item : old.body.at("access_list").as_array()) {
    EXPECT_EQ(text(item.at("state")), "error");
  }

  // Adding to a share whose access is in error: refused below 2.28, accepted from it.
  auto refused = allow_ip("10.0.0.2", "2.27");
  EXPECT_EQ(refused.status, 400u);
  EXPECT_EQ(refused.message(),
            "Access rules cannot be added while the share or any of its replicas or migration "
            "copies has its access_rules_status set to error. Deny any rules in error state and "
            "try again.");
  EXPECT_EQ(allow_ip("10.0.0.2", "2.28").status, 200u);

  // access_sync retries everything: the error is forgotten until the back end reports again.
  auto sync = action(R"({"access_sync": {}})");
  EXPECT_EQ(sync.status, 202u) << sync.raw.body();
  EXPECT_TRUE(sync.raw.body().empty());
  const auto after = effective().body.at("effective_access");
  EXPECT_EQ(text(after.at("access_rules_status")), "syncing");
  for (const auto& rule : after.at("rules").as_array()) {
    EXPECT_EQ(text(rule.at("state")), "queued_to_apply");
  }
  report(share_);
  const auto applied = effective();
  for (const auto& rule : applied.body.at("effective_access").at("rules").as_array()) {
    EXPECT_EQ(text(rule.at("state")), "active");
  }
}

TEST_F(AccessApiTest, RulesInADriverCallInFlightAreApplyingOrDenying) {
  const auto rule = api_.engine().allow(alice_, share_, "ip", "10.0.0.1");
  std::optional<std::uint64_t> flight;
  api_.services().in_flight = [&](const std::string&) { return flight; };
  auto state = [&] {
    return text(api_.get("/v2/share-access-rules/" + rule).body.at("access").at("state"));
  };
  EXPECT_EQ(state(), "queued_to_apply");
  flight = share_row(share_).desired_version;
  EXPECT_EQ(state(), "applying");
  report(share_);
  flight.reset();
  EXPECT_EQ(state(), "active");
  EXPECT_EQ(action(R"({"deny_access": {"access_id": ")" + rule + R"("}})").status, 202u);
  EXPECT_EQ(state(), "queued_to_deny");
  flight = share_row(share_).desired_version;
  EXPECT_EQ(state(), "denying");
}

TEST_F(AccessApiTest, APerRuleFailureOfADirectRuleLeavesTheOthersActive) {
  const auto good = api_.engine().allow(alice_, share_, "ip", "10.0.0.1");
  const auto bad = api_.engine().allow(alice_, share_, "user", "alice_01");
  report(share_, {{{events::AccessType::user, "alice_01"}, "no such user"}});
  auto list = api_.get("/v2/share-access-rules?share_id=" + share_);
  ASSERT_EQ(list.status, 200u);
  EXPECT_EQ(text(find(list.body.at("access_list"), "id", good).at("state")), "active");
  EXPECT_EQ(text(find(list.body.at("access_list"), "id", bad).at("state")), "error");
  EXPECT_EQ(text(effective().body.at("effective_access").at("access_rules_status")), "error");
  // Denying the rule in error and applying the rest brings the share back to active.
  EXPECT_EQ(action(R"({"deny_access": {"access_id": ")" + bad + R"("}})").status, 202u);
  report(share_, {}, {}, true, {{events::AccessType::user, "alice_01"}});
  EXPECT_EQ(text(effective().body.at("effective_access").at("access_rules_status")), "active");
}

TEST_F(AccessApiTest, AWholeFailedDriverCallPutsEveryRuleInError) {
  const auto rule = api_.engine().allow(alice_, share_, "ip", "10.0.0.1");
  report(share_, {}, {}, false);
  auto show = api_.get("/v2/share-access-rules/" + rule);
  EXPECT_EQ(text(show.body.at("access").at("state")), "error");
  EXPECT_EQ(text(access_list("2.27").body.at("access_list").at(0).at("state")), "error");
  EXPECT_EQ(text(effective().body.at("effective_access").at("access_rules_status")), "error");
}

// ---- states and keys ------------------------------------------------------------------------

TEST_F(AccessApiTest, StateIsTheSharesStatusUpTo227AndTheRulesFrom228) {
  ASSERT_EQ(allow_ip("10.0.0.1").status, 200u);
  auto at27 = access_list("2.27");
  auto at28 = access_list("2.28");
  ASSERT_EQ(at27.status, 200u);
  ASSERT_EQ(at28.status, 200u);
  EXPECT_EQ(text(at27.body.at("access_list").at(0).at("state")), "new");
  EXPECT_EQ(text(at28.body.at("access_list").at(0).at("state")), "queued_to_apply");
  report(share_);
  EXPECT_EQ(text(access_list("2.27").body.at("access_list").at(0).at("state")), "active");
  EXPECT_EQ(text(access_list("2.28").body.at("access_list").at(0).at("state")), "active");
  // A second grant: the share syncs again, so at 2.27 every rule shows "new"; at 2.28 only the
  // new rule is queued.
  ASSERT_EQ(allow_ip("10.0.0.2").status, 200u);
  const auto syncing = access_list("2.27");
  for (const auto& item : syncing.body.at("access_list").as_array()) {
    EXPECT_EQ(text(item.at("state")), "new");
  }
  const auto list = access_list("2.28").body.at("access_list");
  EXPECT_EQ(text(find(list, "access_to", "10.0.0.1").at("state")), "active");
  EXPECT_EQ(text(find(list, "access_to", "10.0.0.2").at("state")), "queued_to_apply");
}

TEST_F(AccessApiTest, ARuleAlreadyGrantedByAGroupIsAnsweredAsCreatedThenReadsActive) {
  const auto group = create_group_with({"10.0.0.1/32"});
  ASSERT_EQ(attach(group).status, 200u);
  report(share_);
  auto r = allow_ip("10.0.0.1");
  ASSERT_EQ(r.status, 200u) << r.raw.body();
  // Answered as created, as Manila answers every grant…
  EXPECT_EQ(text(r.body.at("access").at("state")), "queued_to_apply");
  // …though the back end already has it (the effective set did not change): reads say so.
  const auto list = access_list("2.44").body.at("access_list");
  EXPECT_EQ(text(find(list, "access_to", "10.0.0.1").at("state")), "active");
}

TEST_F(AccessApiTest, AccessKeyFromTheBackEndIsShownFrom221) {
  auto r = action(R"({"allow_access": {"access_type": "cephx", "access_to": "alice"}})", "2.21");
  ASSERT_EQ(r.status, 200u) << r.raw.body();
  EXPECT_TRUE(r.body.at("access").at("access_key").is_null());
  report(share_, {}, {{{events::AccessType::cephx, "alice"}, "AQBkey=="}});
  auto at21 = access_list("2.21");
  EXPECT_EQ(text(at21.body.at("access_list").at(0).at("access_key")), "AQBkey==");
  EXPECT_FALSE(access_list("2.20").body.at("access_list").at(0).as_object().contains("access_key"));
  EXPECT_EQ(text(effective().body.at("effective_access").at("rules").at(0).at("access_key")),
            "AQBkey==");
}

// ---- access_list ----------------------------------------------------------------------------

TEST_F(AccessApiTest, AccessListShowsRulesAndGroupMappingsWithoutShareId) {
  const auto rule = api_.engine().allow(alice_, share_, "ip", "10.0.0.1");
  const auto group = create_group_with({"1.1.1.1"});
  const auto mapping = api_.engine().attach(alice_, share_, group);
  for (const std::string v : {"2.0", "2.6", "2.7", "2.33", "2.44"}) {
    auto r = access_list(v);
    ASSERT_EQ(r.status, 200u) << v << r.raw.body();
    const auto& list = r.body.at("access_list");
    ASSERT_EQ(list.as_array().size(), 2u) << v;
    for (const auto& item : list.as_array()) {
      EXPECT_FALSE(item.as_object().contains("share_id")) << v;
      EXPECT_FALSE(item.as_object().contains("metadata")) << v;
      EXPECT_EQ(item.as_object().contains("created_at"), v == "2.33" || v == "2.44") << v;
    }
    const auto r0 = find(list, "id", rule);
    ASSERT_FALSE(r0.is_null());
    EXPECT_EQ(text(r0.at("access_type")), "ip");
    const auto m0 = find(list, "id", mapping);
    ASSERT_FALSE(m0.is_null());
    EXPECT_EQ(text(m0.at("access_type")), "access_group");
    EXPECT_EQ(text(m0.at("access_to")), group);
    EXPECT_TRUE(m0.at("access_level").is_null());
  }
}

TEST_F(AccessApiTest, ShareAccessRulesListsBothTablesWithMetadata) {
  const auto rule = api_.engine().allow(alice_, share_, "ip", "10.0.0.1");
  const auto group = create_group_with({"1.1.1.1"});
  const auto mapping = api_.engine().attach(alice_, share_, group);
  auto r = api_.get("/v2/project-a/share-access-rules?share_id=" + share_);
  ASSERT_EQ(r.status, 200u) << r.raw.body();
  const auto& list = r.body.at("access_list");
  ASSERT_EQ(list.as_array().size(), 2u);
  const std::set<std::string> fields = {"id",          "access_level", "access_to",
                                        "access_type", "state",        "access_key",
                                        "created_at",  "updated_at",   "metadata"};
  EXPECT_EQ(keys_of(find(list, "id", rule)), fields);
  EXPECT_EQ(keys_of(find(list, "id", mapping)), fields);
  // Oldest first.
  EXPECT_EQ(text(list.at(0).at("id")), rule);
}

TEST_F(AccessApiTest, ShareAccessRulesFiltersOnMetadataAsManilaclientSendsIt) {
  const auto a = api_.engine().ok(
      alice_, engine::AllowAccess{share_, "ip", "10.0.0.1", {}, {{"key3", "v3"}, {"k", "x"}}});
  const auto b =
      api_.engine().ok(alice_, engine::AllowAccess{share_, "ip", "10.0.0.2", {}, {{"key3", "v3"}}});
  api_.engine().allow(alice_, share_, "ip", "10.0.0.3");
  api_.engine().attach(alice_, share_, create_group_with({"1.1.1.1"}));
  const std::string base = "/v2/share-access-rules?share_id=" + share_ + "&metadata=";
  auto both = api_.get(base + "%7B%27key3%27%3A+%27v3%27%7D");  // {'key3': 'v3'}
  ASSERT_EQ(both.status, 200u) << both.raw.body();
  EXPECT_EQ(both.body.at("access_list").as_array().size(), 2u);
  auto one = api_.get(base + "%7B%27key3%27%3A%20%27v3%27%2C%20%27k%27%3A%20%27x%27%7D");
  ASSERT_EQ(one.status, 200u) << one.raw.body();
  ASSERT_EQ(one.body.at("access_list").as_array().size(), 1u);
  EXPECT_EQ(text(one.body.at("access_list").at(0).at("access_to")), "10.0.0.1");
  auto json = api_.get(base + "%7B%22k%22%3A%22x%22%7D");  // {"k":"x"}
  EXPECT_EQ(json.body.at("access_list").as_array().size(), 1u);
  auto none = api_.get(base + "%7B%27key3%27%3A%20%27nope%27%7D");
  EXPECT_TRUE(none.body.at("access_list").as_array().empty());
  auto all = api_.get(base + "%7B%7D");  // {}: no filter
  EXPECT_EQ(all.body.at("access_list").as_array().size(), 4u);
  auto bad = api_.get(base + "key3%3Dv3");
  EXPECT_EQ(bad.status, 400u);
  EXPECT_EQ(bad.message(),
            "Invalid metadata filter: key3=v3. Expected a dictionary of strings such as "
            "{'key': 'value'}.");
  (void)a;
  (void)b;
}

TEST_F(AccessApiTest, ShareAccessRulesNeedsAShareItCanSee) {
  auto none = api_.get("/v2/share-access-rules");
  EXPECT_EQ(none.status, 400u);
  EXPECT_EQ(none.message(), "The field 'share_id' has to be specified.");
  EXPECT_EQ(api_.get("/v2/share-access-rules?share_id=").message(),
            "The field 'share_id' has to be specified.");
  auto unknown = api_.get("/v2/share-access-rules?share_id=nope");
  EXPECT_EQ(unknown.status, 400u);
  EXPECT_EQ(unknown.message(), "Share nope not found.");
  auto old = api_.get("/v2/share-access-rules?share_id=" + share_, ApiHarness::kAlice, "2.44");
  EXPECT_EQ(old.status, 404u);
  EXPECT_EQ(old.message(), "The resource could not be found.");
}

// ---- show -----------------------------------------------------------------------------------

TEST_F(AccessApiTest, ShowRuleFrom245) {
  auto allowed = allow_ip("10.0.0.1", "2.45", R"(, "metadata": {"a": "1"})");
  const std::string id = text(allowed.body.at("access").at("id"));
  auto r = api_.get("/v2/project-a/share-access-rules/" + id);
  ASSERT_EQ(r.status, 200u) << r.raw.body();
  EXPECT_EQ(keys_of(r.body.at("access")),
            (std::set<std::string>{"id", "share_id", "access_level", "access_to", "access_type",
                                   "state", "access_key", "created_at", "updated_at", "metadata"}));
  EXPECT_EQ(r.body.at("access"), allowed.body.at("access"));
  auto old = api_.get("/v2/share-access-rules/" + id, ApiHarness::kAlice, "2.44");
  EXPECT_EQ(old.status, 404u);
  EXPECT_EQ(old.message(), "The resource could not be found.");
  auto unknown = api_.get("/v2/share-access-rules/nope");
  EXPECT_EQ(unknown.status, 404u);
  EXPECT_EQ(unknown.message(), "Share access rule nope not found.");
}

// ---- metadata -------------------------------------------------------------------------------

TEST_F(AccessApiTest, MetadataSetMergesAndUnsetRemovesAKey) {
  const auto rule = api_.engine().ok(
      alice_, engine::AllowAccess{share_, "ip", "10.0.0.1", {}, {{"a", "1"}, {"b", "2"}}});
  const std::string id = std::get<events::RuleAllowed>(rule.at(0).body).rule_id;
  const std::string url = "/v2/project-a/share-access-rules/" + id + "/metadata";
  auto set = api_.call(bhttp::verb::put, url, R"({"metadata": {"b": "3", "c": "4"}})");
  ASSERT_EQ(set.status, 200u) << set.raw.body();
  EXPECT_EQ(set.body, (boost::json::value{{"metadata", {{"b", "3"}, {"c", "4"}}}}));
  auto shown = api_.get("/v2/share-access-rules/" + id);
  EXPECT_EQ(shown.body.at("access").at("metadata"),
            (boost::json::object{{"a", "1"}, {"b", "3"}, {"c", "4"}}));
  EXPECT_FALSE(shown.body.at("access").at("updated_at").is_null());

  auto unset = api_.call(bhttp::verb::delete_, url + "/a");
  EXPECT_EQ(unset.status, 200u) << unset.raw.body();
  EXPECT_TRUE(unset.raw.body().empty());
  EXPECT_EQ(api_.get("/v2/share-access-rules/" + id).body.at("access").at("metadata"),
            (boost::json::object{{"b", "3"}, {"c", "4"}}));
  auto again = api_.call(bhttp::verb::delete_, url + "/a");
  EXPECT_EQ(again.status, 404u);
  EXPECT_EQ(again.message(), "Share access rule metadata does not exist.");
}

TEST_F(AccessApiTest, MetadataErrorsAreManilas) {
  const auto id = api_.engine().allow(alice_, share_, "ip", "10.0.0.1");
  const std::string url = "/v2/share-access-rules/" + id + "/metadata";
  const auto before = api_.engine().last();
  EXPECT_EQ(api_.call(bhttp::verb::put, url, R"({"metadata": {"": "v"}})").message(),
            "Invalid metadata.");
  EXPECT_EQ(api_.call(bhttp::verb::put, url, R"({"metadata": {"k": ""}})").message(),
            "Invalid metadata.");
  EXPECT_EQ(api_.call(bhttp::verb::put, url,
                      R"({"metadata": {"k": ")" + std::string(1024, 'v') + R"("}})")
                .message(),
            "Invalid metadata size.");
  auto missing = api_.call(bhttp::verb::put, url, R"({"meta": {}})");
  EXPECT_EQ(missing.status, 400u);
  auto no_member = api_.call(bhttp::verb::put, url, R"({})");
  EXPECT_EQ(no_member.message(), "Missing required element 'metadata' in request body.");
  auto number = api_.call(bhttp::verb::put, url, R"({"metadata": {"k": 1}})");
  EXPECT_EQ(number.status, 400u);
  auto unknown = api_.call(bhttp::verb::put, "/v2/share-access-rules/nope/metadata",
                           R"({"metadata": {"k": "v"}})");
  EXPECT_EQ(unknown.status, 404u);
  EXPECT_EQ(unknown.message(), "Resource could not be found.");
  auto old =
      api_.call(bhttp::verb::put, url, R"({"metadata": {"k": "v"}})", ApiHarness::kAlice, "2.44");
  EXPECT_EQ(old.status, 404u);
  EXPECT_EQ(old.message(), "The resource could not be found.");
  EXPECT_EQ(api_.call(bhttp::verb::delete_, url + "/k", "", ApiHarness::kAlice, "2.44").status,
            404u);
  EXPECT_EQ(api_.engine().last(), before);
}

// ---- reset_status ---------------------------------------------------------------------------

TEST_F(AccessApiTest, ResetStatusIsForAdministrators) {
  const auto before = api_.engine().last();
  auto member = action(R"({"reset_status": {"status": "error"}})");
  EXPECT_EQ(member.status, 403u);
  EXPECT_EQ(member.message(), "Policy doesn't allow share:reset_status to be performed.");
  EXPECT_EQ(api_.engine().last(), before);
  auto bad = action(R"({"reset_status": {"status": "sleeping"}})", "2.45", ApiHarness::kAdmin);
  EXPECT_EQ(bad.status, 400u);
  EXPECT_EQ(bad.message(), "Invalid status 'sleeping' for a share.");
  auto ok = action(R"({"os-reset_status": {"status": "error"}})", "2.0", ApiHarness::kAdmin);
  EXPECT_EQ(ok.status, 202u) << ok.raw.body();
  EXPECT_TRUE(ok.raw.body().empty());
  EXPECT_EQ(share_row(share_).status, "error");
  // A share in error takes no new rules.
  auto refused = allow_ip("10.0.0.1");
  EXPECT_EQ(refused.status, 400u);
  EXPECT_EQ(refused.message(),
            "New access rules cannot be applied while the share or any of its replicas or "
            "migration copies lacks a valid host or is in an invalid state.");
  EXPECT_EQ(
      action(R"({"reset_status": {"status": "available"}})", "2.7", ApiHarness::kAdmin).status,
      202u);
  EXPECT_EQ(allow_ip("10.0.0.1").status, 200u);
}

// ---- effective access -----------------------------------------------------------------------

TEST_F(AccessApiTest, EffectiveAccessShowsEachRuleWithItsSources) {
  const auto rule = api_.engine().allow(alice_, share_, "ip", "10.0.0.1");
  const auto group = api_.engine().create_group(alice_, "AG1", "ip");
  const auto e1 = api_.engine().add_entry(alice_, group, "10.0.0.1/32");
  const auto e2 = api_.engine().add_entry(alice_, group, "10.0.0.0/24", "ro");
  const auto mapping = api_.engine().attach(alice_, share_, group);
  for (const std::string v : {"2.0", "2.45"}) {
    auto r = api_.get("/v2/shares/" + share_ + "/effective-access", ApiHarness::kAlice, v);
    ASSERT_EQ(r.status, 200u) << r.raw.body();
    const auto& ea = r.body.at("effective_access");
    EXPECT_EQ(text(ea.at("share_id")), share_);
    EXPECT_EQ(text(ea.at("access_rules_status")), "syncing");
    EXPECT_EQ(ea.at("desired_version"), share_row(share_).desired_version);
    const auto& rules = ea.at("rules");
    ASSERT_EQ(rules.as_array().size(), 2u);
    const auto host = find(rules, "access_to", "10.0.0.1/32");
    ASSERT_FALSE(host.is_null());
    EXPECT_EQ(text(host.at("access_level")), "rw");
    EXPECT_EQ(text(host.at("state")), "queued_to_apply");
    const boost::json::array sources = {{{"type", "rule"}, {"rule_id", rule}},
                                        {{"type", "access_group"},
                                         {"access_group_id", group},
                                         {"entry_id", e1},
                                         {"mapping_id", mapping}}};
    EXPECT_EQ(host.at("sources"), sources);
    const auto net = find(rules, "access_to", "10.0.0.0/24");
    EXPECT_EQ(text(net.at("access_level")), "ro");
    EXPECT_EQ(net.at("sources").as_array().size(), 1u);
    EXPECT_EQ(text(net.at("sources").at(0).at("entry_id")), e2);
  }
  report(share_);
  auto r = effective();
  EXPECT_EQ(text(r.body.at("effective_access").at("access_rules_status")), "active");
  for (const auto& rule_view : r.body.at("effective_access").at("rules").as_array()) {
    EXPECT_EQ(text(rule_view.at("state")), "active");
  }
  auto unknown = effective(ApiHarness::kAlice, "nope");
  EXPECT_EQ(unknown.status, 404u);
  EXPECT_EQ(unknown.message(), "Share nope could not be found.");
}

// ---- tenancy --------------------------------------------------------------------------------

TEST_F(AccessApiTest, AnotherProjectsShareAndRulesAreNotFoundAndNotShown) {
  const auto rule = api_.engine().ok(
      alice_, engine::AllowAccess{share_, "ip", "10.9.8.7", {}, {{"secret", "s3cr3t"}}});
  const std::string id = std::get<events::RuleAllowed>(rule.at(0).body).rule_id;
  const auto group = create_group_with({"1.1.1.1"}, "alices-group");
  const auto mapping = api_.engine().attach(alice_, share_, group);
  const auto before = api_.engine().last();
  const std::string m = ApiHarness::kMallory;
  auto post = [&](const std::string& body, const std::string& v = "2.45") {
    return api_.post("/v2/project-b/shares/" + share_ + "/action", body, m, v);
  };
  std::vector<ApiResult> answers;
  auto expect = [&](ApiResult r, unsigned status, const std::string& message) {
    EXPECT_EQ(r.status, status) << r.raw.body();
    EXPECT_EQ(r.message(), message) << r.raw.body();
    answers.push_back(std::move(r));
  };
  const std::string nf = "NotFound: Resource could not be found.";
  expect(post(R"({"allow_access": {"access_type": "ip", "access_to": "10.0.0.1"}})"), 404, nf);
  expect(
      post(R"({"allow_access": {"access_type": "access_group", "access_to": ")" + group + R"("}})"),
      404, nf);
  expect(post(R"({"deny_access": {"access_id": ")" + id + R"("}})"), 404, nf);
  expect(post(R"({"deny_access": {"access_id": ")" + mapping + R"("}})"), 404, nf);
  expect(post(R"({"access_list": null})", "2.44"), 404, nf);
  expect(post(R"({"list_access_groups": null})"), 404, nf);
  expect(post(R"({"access_sync": null})"), 404, nf);
  expect(api_.get("/v2/project-b/share-access-rules?share_id=" + share_, m), 400,
         "Share " + share_ + " not found.");
  expect(api_.get("/v2/project-b/share-access-rules/" + id, m), 404,
         "Share access rule " + id + " not found.");
  expect(api_.get("/v2/project-b/share-access-rules/" + mapping, m), 404,
         "Share access rule " + mapping + " not found.");
  expect(api_.call(bhttp::verb::put, "/v2/project-b/share-access-rules/" + id + "/metadata",
                   R"({"metadata": {"k": "v"}})", m),
         404, "Resource could not be found.");
  expect(api_.call(bhttp::verb::delete_,
                   "/v2/project-b/share-access-rules/" + id + "/metadata/secret", "", m),
         404, "Resource could not be found.");
  expect(api_.get("/v2/project-b/shares/" + share_ + "/effective-access", m), 404,
         "Share " + share_ + " could not be found.");
  for (const auto& r : answers) {
    for (const std::string secret : {"10.9.8.7", "s3cr3t", "alices-group", "1.1.1.1"}) {
      EXPECT_EQ(r.raw.body().find(secret), std::string::npos) << r.raw.body();
    }
  }
  EXPECT_EQ(api_.engine().last(), before);

  // An administrator sees it.
  auto admin = api_.get("/v2/share-access-rules/" + id, ApiHarness::kAdmin);
  EXPECT_EQ(admin.status, 200u);
  EXPECT_EQ(text(admin.body.at("access").at("access_to")), "10.9.8.7");
  EXPECT_EQ(api_.get("/v2/share-access-rules?share_id=" + share_, ApiHarness::kAdmin)
                .body.at("access_list")
                .as_array()
                .size(),
            2u);
}

TEST_F(AccessApiTest, AGroupOfAnotherProjectCannotBeAttached) {
  const auto theirs =
      api_.engine().create_group(EngineHarness::member("project-b", "mallory"), "theirs", "ip");
  const auto before = api_.engine().last();
  auto r = attach(theirs);
  EXPECT_EQ(r.status, 404u);
  EXPECT_EQ(r.message(), "Access group " + theirs + " could not be found.");
  EXPECT_EQ(api_.engine().last(), before);
}

TEST_F(AccessApiTest, ReadersListButDoNotChange) {
  api_.engine().allow(alice_, share_, "ip", "10.0.0.1");
  const std::string reader = "reader:project-a:reader";
  EXPECT_EQ(api_.get("/v2/share-access-rules?share_id=" + share_, reader).status, 200u);
  EXPECT_EQ(api_.get("/v2/shares/" + share_ + "/effective-access", reader).status, 200u);
  const auto before = api_.engine().last();
  EXPECT_EQ(
      action(R"({"allow_access": {"access_type": "ip", "access_to": "10.0.0.2"}})", "2.45", reader)
          .status,
      403u);
  EXPECT_EQ(action(R"({"access_sync": {}})", "2.45", reader).status, 403u);
  // The actions that only read are open to readers.
  EXPECT_EQ(action(R"({"access_list": null})", "2.44", reader).status, 200u);
  EXPECT_EQ(action(R"({"list_access_groups": null})", "2.45", reader).status, 200u);
  EXPECT_EQ(api_.engine().last(), before);
}

// ---- bad bodies -----------------------------------------------------------------------------

TEST_F(AccessApiTest, BadBodiesAre400AndWriteNothing) {
  const auto rule = api_.engine().allow(alice_, share_, "ip", "10.0.0.1");
  const auto before = api_.engine().last();
  struct Case {
    std::string body, message, version = "2.45";
  };
  const std::string comply =
      "The server could not comply with the request since it is either malformed or otherwise "
      "incorrect.";
  const std::vector<Case> cases = {
      {"", "Malformed request body"},
      {"{", "Malformed request body"},
      {"[]", "Malformed request body"},
      {"{}", "Malformed request body"},
      {R"({"allow_access": {}, "deny_access": {}})", "Malformed request body"},
      {R"({"frobnicate": {}})", "There is no such action: frobnicate"},
      {R"({"os-frobnicate": null})", "There is no such action: os-frobnicate"},
      {R"({"allow_access": null})", comply},
      {R"({"allow_access": "ip"})", comply},
      {R"({"allow_access": []})", comply},
      {R"({"os-allow_access": null})", comply, "2.0"},
      {R"({"allow_access": {"access_to": "10.0.0.2"}})",
       "'access_type' is required in 'allow_access'."},
      {R"({"allow_access": {"access_type": "ip"}})", "'access_to' is required in 'allow_access'."},
      {R"({"os-allow_access": {"access_type": "ip"}})",
       "'access_to' is required in 'os-allow_access'.", "2.0"},
      {R"({"allow_access": {"access_type": "ip", "access_to": null}})",
       "'access_to' in 'allow_access' must be a string, not null."},
      {R"({"allow_access": {"access_type": "ip", "access_to": 10}})",
       "'access_to' in 'allow_access' must be a string, not a number."},
      {R"({"allow_access": {"access_type": "ip", "access_to": "10.0.0.2", "access_level": 1}})",
       "'access_level' in 'allow_access' must be a string, not a number."},
      {R"({"allow_access": {"access_type": "ip", "access_to": "10.0.0.2", "colour": "red"}})",
       "Unknown element 'colour' in 'allow_access'."},
      {R"({"allow_access": {"access_type": "ip", "access_to": "10.0.0.2", "metadata": []}})",
       "'metadata' in 'allow_access' must be an object, not an array."},
      {R"({"allow_access": {"access_type": "ip", "access_to": "10.0.0.2", "metadata": {"k": ""}}})",
       "Metadata property value is blank."},
      {R"({"allow_access": {"access_type": "nfs", "access_to": "10.0.0.2"}})",
       "Only 'ip', 'user', 'cert' or 'cephx' access types are supported."},
      {R"({"allow_access": {"access_type": "ip", "access_to": "1.2.3.4/33"}})",
       "'1.2.3.4/33' does not appear to be an IPv4 or IPv6 network"},
      {R"({"allow_access": {"access_type": "access_group", "access_to": "g", "access_level": "ro"}})",
       "'access_level' cannot be given in 'allow_access' for an access group: each entry of the "
       "group has its own level."},
      {R"({"allow_access": {"access_type": "access_group", "access_to": "g", "metadata": {"k": "v"}}})",
       "An access group attached to a share has no metadata; set it on access rules."},
      {R"({"deny_access": null})", comply},
      {R"({"deny_access": {}})", "'access_id' is required in 'deny_access'."},
      {R"({"deny_access": {"access_id": 5}})",
       "'access_id' in 'deny_access' must be a string, not a number."},
      {R"({"deny_access": {"access_id": "x", "force": true}})",
       "Unknown element 'force' in 'deny_access'."},
      {R"({"access_list": {"x": 1}})", "'access_list' takes no arguments.", "2.44"},
      {R"({"access_sync": {"x": 1}})", "'access_sync' takes no arguments."},
      {R"({"access_sync": []})", "'access_sync' takes no arguments."},
      {R"({"list_access_groups": "all"})", "'list_access_groups' takes no arguments."},
      {R"({"reset_status": {}})", "'status' is required in 'reset_status'."},
      {R"({"reset_status": null})", comply},
  };
  for (const auto& c : cases) {
    auto r = action(c.body, c.version);
    EXPECT_EQ(r.status, 400u) << c.body << ": " << r.raw.body();
    EXPECT_EQ(r.message(), c.message) << c.body;
    EXPECT_TRUE(r.body.as_object().contains("badRequest")) << c.body;
  }
  EXPECT_EQ(api_.engine().last(), before);
  (void)rule;
}

}  // namespace
}  // namespace agate
