// The recycle bin over the API (Manila 2.69), without a socket: the soft_delete and restore
// actions, the share view's fields, the is_soft_deleted list filter, what a share in the bin
// refuses, bodies and callers refused before anything is written, and the purge.

#include <gtest/gtest.h>

#include "engine/recycle_bin.h"
#include "http/views.h"
#include "tests/support/api_harness.h"
#include "tests/support/json_text.h"

namespace agate {
namespace {

using testing::ApiHarness;
using testing::ApiResult;
using testing::text;

constexpr const char* kBin = "2.69";
constexpr const char* kReader = "reader:project-a:reader";

class RecycleBinApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    api_.engine().create_type("default");
    share_ = create_share("share1");
  }

  std::string create_share(const std::string& name) {
    auto r = api_.post("/v2/shares",
                       R"({"share": {"share_proto": "NFS", "size": 1, "name": ")" + name +
                           R"("}})");
    EXPECT_EQ(r.status, 200u) << r.raw.body();
    return text(r.body.at("share").at("id"));
  }
  ApiResult action(const std::string& body, const std::string& share,
                   const std::string& version = kBin,
                   const std::string& token = ApiHarness::kAlice) {
    return api_.post("/v2/shares/" + share + "/action", body, token, version);
  }
  ApiResult soft_delete(const std::string& share) {
    return action(R"({"soft_delete": null})", share);
  }
  boost::json::value show(const std::string& share, const std::string& version = kBin) {
    auto r = api_.get("/v2/shares/" + share, ApiHarness::kAlice, version);
    EXPECT_EQ(r.status, 200u) << r.raw.body();
    return r.body.is_null() ? boost::json::value() : r.body.at("share");
  }
  std::vector<std::string> ids(const std::string& target, const std::string& version = kBin,
                               const std::string& token = ApiHarness::kAlice) {
    auto r = api_.get(target, token, version);
    EXPECT_EQ(r.status, 200u) << target << ": " << r.raw.body();
    std::vector<std::string> out;
    if (r.body.is_null()) return out;
    for (const auto& s : r.body.at("shares").as_array()) out.push_back(text(s.at("id")));
    return out;
  }
  // Expects the answer refused with `status` and `message`, and the log where it was.
  void expect_refused(const ApiResult& r, unsigned status, const std::string& message,
                      events::Seq before) {
    EXPECT_EQ(r.status, status) << r.raw.body();
    EXPECT_EQ(r.message(), message);
    EXPECT_EQ(api_.engine().last(), before);
  }

  ApiHarness api_;
  std::string share_;
};

TEST_F(RecycleBinApiTest, SoftDeleteAndRestoreAnswerAsManilaDoes) {
  auto r = soft_delete(share_);
  EXPECT_EQ(r.status, 202u) << r.raw.body();
  EXPECT_TRUE(r.raw.body().empty());
  auto shown = show(share_);
  EXPECT_EQ(shown.at("is_soft_deleted"), true);
  EXPECT_EQ(shown.at("status"), "available");  // Manila leaves the status as it is
  // The time the share leaves the bin, in Manila's format: the retention after the decision.
  auto txn = lmdb::Txn::begin_read(api_.engine().env());
  const auto row = *api_.engine().store().share(txn, share_);
  txn.abort();
  EXPECT_EQ(shown.at("scheduled_to_be_deleted_at"),
            http::time_value(row.scheduled_to_be_deleted_at));
  EXPECT_EQ(row.scheduled_to_be_deleted_at, row.updated_at + 604800LL * 1000000);

  r = action(R"({"restore": null})", share_);
  EXPECT_EQ(r.status, 202u) << r.raw.body();
  EXPECT_TRUE(r.raw.body().empty());
  shown = show(share_);
  EXPECT_EQ(shown.at("is_soft_deleted"), false);
  EXPECT_TRUE(shown.at("scheduled_to_be_deleted_at").is_null());

  // Restoring a share that is not in the bin is a 200 with nothing written.
  const auto before = api_.engine().last();
  r = action(R"({"restore": {}})", share_);
  EXPECT_EQ(r.status, 200u) << r.raw.body();
  EXPECT_TRUE(r.raw.body().empty());
  EXPECT_EQ(api_.engine().last(), before);
}

TEST_F(RecycleBinApiTest, TheViewHasTheFieldsFrom2_69) {
  const auto old = show(share_, "2.68");
  EXPECT_FALSE(old.as_object().contains("is_soft_deleted"));
  EXPECT_FALSE(old.as_object().contains("scheduled_to_be_deleted_at"));
  const auto current = show(share_, "2.72");
  EXPECT_EQ(current.at("is_soft_deleted"), false);
  EXPECT_TRUE(current.at("scheduled_to_be_deleted_at").is_null());
  auto listed = api_.get("/v2/shares/detail", ApiHarness::kAlice, kBin);
  ASSERT_EQ(listed.status, 200u);
  EXPECT_EQ(listed.body.at("shares").at(0).at("is_soft_deleted"), false);
  // The summary list is the same at every version.
  auto summary = api_.get("/v2/shares", ApiHarness::kAlice, kBin);
  EXPECT_EQ(summary.body.at("shares").at(0).as_object().size(), 3u);
}

TEST_F(RecycleBinApiTest, TheActionsDoNotExistBelow2_69) {
  const auto before = api_.engine().last();
  expect_refused(action(R"({"soft_delete": null})", share_, "2.68"), 404,
                 "The resource could not be found.", before);
  expect_refused(action(R"({"restore": null})", share_, "2.45"), 404,
                 "The resource could not be found.", before);
}

TEST_F(RecycleBinApiTest, BodiesWithArgumentsAreRefusedAndWriteNothing) {
  const auto before = api_.engine().last();
  expect_refused(action(R"({"soft_delete": {"force": true}})", share_), 400,
                 "'soft_delete' takes no arguments.", before);
  expect_refused(action(R"({"soft_delete": true})", share_), 400,
                 "'soft_delete' takes no arguments.", before);
  expect_refused(action(R"({"restore": []})", share_), 400, "'restore' takes no arguments.",
                 before);
  expect_refused(action(R"({"soft_delete": null, "restore": null})", share_), 400,
                 "Malformed request body", before);
  expect_refused(action(R"({"soft_delete": null, "force": true})", share_), 400,
                 "Malformed request body", before);
  // {} is no arguments, as null is.
  EXPECT_EQ(action(R"({"soft_delete": {}})", share_).status, 202u);
}

TEST_F(RecycleBinApiTest, AnotherProjectsShareIsNotFound) {
  const auto before = api_.engine().last();
  expect_refused(action(R"({"soft_delete": null})", share_, kBin, ApiHarness::kMallory), 404,
                 "The resource could not be found.", before);
  ASSERT_EQ(soft_delete(share_).status, 202u);
  const auto after = api_.engine().last();
  expect_refused(action(R"({"restore": null})", share_, kBin, ApiHarness::kMallory), 404,
                 "No share exists with ID " + share_ + ".", after);
  expect_refused(action(R"({"restore": null})", "no-such-share"), 404,
                 "No share exists with ID no-such-share.", after);
  // Nor does it appear in another project's recycle bin.
  EXPECT_TRUE(ids("/v2/shares/detail?is_soft_deleted=true&all_tenants=1", kBin,
                  ApiHarness::kMallory)
                  .empty());
}

TEST_F(RecycleBinApiTest, SoftDeletingTwiceIsForbidden) {
  ASSERT_EQ(soft_delete(share_).status, 202u);
  const auto before = api_.engine().last();
  auto twice = soft_delete(share_);
  expect_refused(twice, 403, "Invalid share: The share has been soft deleted already.", before);
  EXPECT_TRUE(twice.body.as_object().contains("forbidden"));
}

TEST_F(RecycleBinApiTest, AShareInTheBinRefusesAccessChanges) {
  auto rule = action(R"({"allow_access": {"access_type": "ip", "access_to": "10.0.0.0/24"}})",
                     share_);
  ASSERT_EQ(rule.status, 200u) << rule.raw.body();
  const std::string rule_id = text(rule.body.at("access").at("id"));
  auto group = api_.post("/v2/access-groups",
                         R"({"access-group": {"name": "web", "access_type": "ip"}})");
  ASSERT_EQ(group.status, 200u) << group.raw.body();
  const std::string group_id = text(group.body.at("access-group").at("id"));
  ASSERT_EQ(soft_delete(share_).status, 202u);
  const auto before = api_.engine().last();
  const std::string allowed =
      "Cannot allow access for share '" + share_ + "' since it has been soft deleted.";
  const std::string denied =
      "Cannot deny access for share '" + share_ + "' since it has been soft deleted.";
  for (const std::string version : {"2.69", "2.45", "2.0"}) {
    const std::string prefix = version == "2.0" ? "os-" : "";
    const std::string allow =
        R"(allow_access": {"access_type": "ip", "access_to": "10.9.0.0/16"}})";
    expect_refused(action(R"({")" + prefix + allow, share_, version), 403, allowed, before);
    expect_refused(action(R"({")" + prefix + R"(deny_access": {"access_id": ")" + rule_id +
                              R"("}})",
                          share_, version),
                   403, denied, before);
  }
  expect_refused(action(R"({"allow_access": {"access_type": "access_group", "access_to": ")" +
                            group_id + R"("}})",
                        share_),
                 403, allowed, before);
  expect_refused(action(R"({"access_sync": null})", share_), 403,
                 "Cannot sync access for share '" + share_ + "' since it has been soft deleted.",
                 before);
  expect_refused(action(R"({"reset_status": {"status": "error"}})", share_, kBin,
                        ApiHarness::kAdmin),
                 403,
                 "status cannot be reset for share '" + share_ +
                     "' since it has been soft deleted.",
                 before);
  // Reading its access still works.
  EXPECT_EQ(api_.get("/v2/share-access-rules?share_id=" + share_, ApiHarness::kAlice, kBin).status,
            200u);
  EXPECT_EQ(api_.get("/v2/shares/" + share_ + "/effective-access", ApiHarness::kAlice, kBin).status,
            200u);
}

TEST_F(RecycleBinApiTest, ListsLeaveTheBinOutAtEveryVersionUnlessAskedForIt) {
  const auto kept = create_share("kept");
  ASSERT_EQ(soft_delete(share_).status, 202u);
  for (const std::string version : {"2.0", "2.45", "2.68", "2.69", "2.72"}) {
    EXPECT_EQ(ids("/v2/shares", version), std::vector<std::string>{kept}) << version;
    EXPECT_EQ(ids("/v2/shares/detail", version), std::vector<std::string>{kept}) << version;
    // Still shown by id.
    EXPECT_EQ(api_.get("/v2/shares/" + share_, ApiHarness::kAlice, version).status, 200u);
  }
  EXPECT_EQ(ids("/v2/shares?is_soft_deleted=true"), std::vector<std::string>{share_});
  EXPECT_EQ(ids("/v2/shares/detail?is_soft_deleted=True"), std::vector<std::string>{share_});
  EXPECT_EQ(ids("/v2/shares/detail?is_soft_deleted=1&all_tenants=1", kBin, ApiHarness::kAdmin),
            std::vector<std::string>{share_});
  EXPECT_EQ(ids("/v2/shares/detail?is_soft_deleted=false"), std::vector<std::string>{kept});
  // Below 2.69 the filter is dropped unread, as Manila drops it.
  EXPECT_EQ(ids("/v2/shares/detail?is_soft_deleted=true", "2.68"), std::vector<std::string>{kept});
  EXPECT_EQ(ids("/v2/shares/detail?is_soft_deleted=maybe", "2.68"),
            std::vector<std::string>{kept});
  auto counted = api_.get("/v2/shares/detail?is_soft_deleted=true&with_count=true",
                          ApiHarness::kAlice, kBin);
  EXPECT_EQ(counted.body.at("count"), 1);

  for (const std::string bad : {"maybe", "", "2"}) {
    auto r = api_.get("/v2/shares/detail?is_soft_deleted=" + bad, ApiHarness::kAlice, kBin);
    EXPECT_EQ(r.status, 400u) << bad;
    EXPECT_EQ(r.message(), "Invalid value " + bad + " for is_soft_deleted. Expecting a boolean.");
  }
}

TEST_F(RecycleBinApiTest, AReaderMayNotUseTheBin) {
  const auto before = api_.engine().last();
  expect_refused(action(R"({"soft_delete": null})", share_, kBin, kReader), 403,
                 "Policy doesn't allow share:soft_delete to be performed.", before);
  expect_refused(action(R"({"restore": null})", share_, kBin, kReader), 403,
                 "Policy doesn't allow share:restore to be performed.", before);
}

TEST_F(RecycleBinApiTest, DeleteRemovesAShareInTheBinAtOnce) {
  ASSERT_EQ(soft_delete(share_).status, 202u);
  auto r = api_.call(boost::beast::http::verb::delete_, "/v2/shares/" + share_, "",
                     ApiHarness::kAlice, kBin);
  EXPECT_EQ(r.status, 202u) << r.raw.body();
  EXPECT_EQ(api_.get("/v2/shares/" + share_, ApiHarness::kAlice, kBin).status, 404u);
}

TEST_F(RecycleBinApiTest, ThePurgeDeletesOnlyTheSharesWhoseTimeIsUp) {
  const auto later = create_share("later");
  const auto kept = create_share("kept");
  ASSERT_EQ(soft_delete(share_).status, 202u);
  api_.engine().advance_clock(std::chrono::hours(24));
  ASSERT_EQ(soft_delete(later).status, 202u);
  // A week after the first soft deletion, less than a week after the second.
  api_.engine().advance_clock(std::chrono::hours(24 * 6) + std::chrono::seconds(1));
  engine::RecycleBinPurger purger(api_.engine().writer());
  const auto purged = purger.purge();
  ASSERT_TRUE(purged) << purged.error().message;
  EXPECT_EQ(*purged, 1u);
  EXPECT_EQ(api_.get("/v2/shares/" + share_, ApiHarness::kAlice, kBin).status, 404u);
  EXPECT_EQ(ids("/v2/shares?is_soft_deleted=true"), std::vector<std::string>{later});
  EXPECT_EQ(ids("/v2/shares"), std::vector<std::string>{kept});
  EXPECT_EQ(api_.engine().digest(), api_.engine().rebuild_digest());
}

}  // namespace
}  // namespace agate
