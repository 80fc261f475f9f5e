// No lost updates over the REST API: a group's and an entry's views carry their version as an
// ETag, and If-Match on update and delete refuses a stale one with 412, changing nothing.

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "tests/support/api_harness.h"
#include "tests/support/json_text.h"

namespace agate {
namespace {

namespace bhttp = boost::beast::http;
using testing::ApiHarness;
using testing::ApiResult;
using testing::EngineHarness;
using testing::text;

class VersionsApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    api_.engine().create_type("default");
    group_ = api_.engine().create_group(alice_, "web");
  }

  ApiResult send(bhttp::verb method, const std::string& target, const std::string& body = "",
                 const std::string& if_match = "", const std::string& token = ApiHarness::kAlice) {
    auto req = ApiHarness::request(method, target, body, token, "2.45");
    if (!if_match.empty()) req.set(bhttp::field::if_match, if_match);
    return ApiHarness::send(api_.services(), req);
  }
  static std::string etag(const ApiResult& r) {
    const auto it = r.raw.find(bhttp::field::etag);
    return it == r.raw.end() ? "" : std::string(it->value());
  }
  static std::string unquote(const std::string& tag) { return tag.substr(1, tag.size() - 2); }
  std::string group_target() const { return "/v2/project-a/access-groups/" + group_; }
  std::string entry_target(const std::string& entry) const {
    return group_target() + "/entries/" + entry;
  }
  ApiResult rename(const std::string& name, const std::string& if_match) {
    return send(bhttp::verb::put, group_target(),
                R"({"access-group": {"name": ")" + name + R"("}})", if_match);
  }
  ApiResult set_level(const std::string& entry, const std::string& level,
                      const std::string& if_match) {
    return send(bhttp::verb::put, entry_target(entry),
                R"({"entry": {"access_level": ")" + level + R"("}})", if_match);
  }

  ApiHarness api_;
  engine::Context alice_ = EngineHarness::member("project-a", "alice");
  std::string group_;
};

TEST_F(VersionsApiTest, AGroupsVersionIsItsETagAndMovesWithEveryChangeOfIt) {
  auto shown = send(bhttp::verb::get, group_target());
  ASSERT_EQ(shown.status, 200u) << shown.raw.body();
  const auto v1 = etag(shown);
  EXPECT_EQ(v1, "\"" + std::to_string(shown.body.at("access-group").at("version").to_number<std::uint64_t>()) +
                    "\"");

  // An entry added changes the group's view (its entry_count): a new version.
  const auto entry = api_.engine().add_entry(alice_, group_, "10.0.0.0/24");
  const auto v2 = etag(send(bhttp::verb::get, group_target()));
  EXPECT_NE(v2, v1);

  // The update answers with the group's new version.
  auto renamed = rename("web2", v2);
  ASSERT_EQ(renamed.status, 200u) << renamed.raw.body();
  EXPECT_NE(etag(renamed), v2);
  EXPECT_EQ(etag(renamed), etag(send(bhttp::verb::get, group_target())));

  // The entry's own version: its ETag on show, on add and on a level change.
  auto shown_entry = send(bhttp::verb::get, entry_target(entry));
  ASSERT_EQ(shown_entry.status, 200u);
  EXPECT_FALSE(etag(shown_entry).empty());
  auto added = send(bhttp::verb::post, group_target() + "/entries",
                    R"({"entry": {"access_to": "10.0.1.0/24"}})");
  ASSERT_EQ(added.status, 200u) << added.raw.body();
  EXPECT_EQ(etag(added),
            "\"" + std::to_string(added.body.at("entry").at("version").to_number<std::uint64_t>()) + "\"");
  auto changed = set_level(entry, "ro", etag(shown_entry));
  ASSERT_EQ(changed.status, 200u) << changed.raw.body();
  EXPECT_NE(etag(changed), etag(shown_entry));
}

TEST_F(VersionsApiTest, AStaleIfMatchIsRefusedWith412AndChangesNothing) {
  const auto read = etag(send(bhttp::verb::get, group_target()));
  // Someone else renames the group after it was read.
  ASSERT_EQ(rename("theirs", read).status, 200u);
  const auto head = api_.engine().last();

  auto r = rename("mine", read);
  EXPECT_EQ(r.status, 412u);
  const auto current = etag(send(bhttp::verb::get, group_target()));
  EXPECT_EQ(r.message(),
            fmt::format("Access group {} is at version {}, not {} (If-Match): it has changed since "
                        "it was read. Read it again and retry.",
                        group_, unquote(current), unquote(read)));
  EXPECT_TRUE(r.body.as_object().contains("computeFault")) << r.raw.body();
  auto d = send(bhttp::verb::delete_, group_target(), "", read);
  EXPECT_EQ(d.status, 412u);
  EXPECT_EQ(api_.engine().last(), head);
  EXPECT_EQ(text(send(bhttp::verb::get, group_target()).body.at("access-group").at("name")),
            "theirs");

  // With the current version, both go through.
  const auto now = etag(send(bhttp::verb::get, group_target()));
  EXPECT_EQ(rename("mine", now).status, 200u);
  const auto after = etag(send(bhttp::verb::get, group_target()));
  EXPECT_EQ(send(bhttp::verb::delete_, group_target(), "", after).status, 202u);
  EXPECT_EQ(send(bhttp::verb::get, group_target()).status, 404u);
}

TEST_F(VersionsApiTest, AStaleEntryVersionRefusesALevelChangeAndARemoval) {
  const auto entry = api_.engine().add_entry(alice_, group_, "10.0.0.0/24");
  const auto read = etag(send(bhttp::verb::get, entry_target(entry)));
  ASSERT_EQ(set_level(entry, "ro", read).status, 200u);
  const auto head = api_.engine().last();

  auto r = set_level(entry, "rw", read);
  EXPECT_EQ(r.status, 412u) << r.raw.body();
  EXPECT_NE(r.message().find("Access group entry " + entry + " is at version"),
            std::string::npos)
      << r.message();
  EXPECT_EQ(send(bhttp::verb::delete_, entry_target(entry), "", read).status, 412u);
  EXPECT_EQ(api_.engine().last(), head);
  auto shown = send(bhttp::verb::get, entry_target(entry));
  EXPECT_EQ(text(shown.body.at("entry").at("access_level")), "ro");

  // Another entry's change leaves this entry's version alone: only the group's moves.
  api_.engine().add_entry(alice_, group_, "10.0.1.0/24");
  EXPECT_EQ(etag(send(bhttp::verb::get, entry_target(entry))), etag(shown));
  EXPECT_EQ(send(bhttp::verb::delete_, entry_target(entry), "", etag(shown)).status, 202u);
}

TEST_F(VersionsApiTest, NoIfMatchOrAStarChangesUnconditionally) {
  EXPECT_EQ(rename("a", "").status, 200u);
  EXPECT_EQ(rename("b", "*").status, 200u);
  EXPECT_EQ(rename("c", " * ").status, 200u);
}

TEST_F(VersionsApiTest, AMalformedIfMatchIsA400AndChangesNothing) {
  const auto head = api_.engine().last();
  for (const std::string bad : {"42", "W/\"42\"", "\"4x\"", "\"\"", "\"1\", \"2\"",
                                "\"99999999999999999999999\""}) {
    auto r = rename("never", bad);
    EXPECT_EQ(r.status, 400u) << bad;
    EXPECT_EQ(r.message(), "If-Match must be one entity tag as ETag gives it, such as \"42\", or "
                           "*; not '" + bad + "'.");
  }
  EXPECT_EQ(api_.engine().last(), head);
}

TEST_F(VersionsApiTest, IfMatchOnAnotherProjectsGroupIsStillA404) {
  const auto read = etag(send(bhttp::verb::get, group_target()));
  auto r = send(bhttp::verb::put, "/v2/project-b/access-groups/" + group_,
                R"({"access-group": {"name": "x"}})", "\"1\"", ApiHarness::kMallory);
  EXPECT_EQ(r.status, 404u);
  r = send(bhttp::verb::delete_, "/v2/project-b/access-groups/" + group_, "", read,
           ApiHarness::kMallory);
  EXPECT_EQ(r.status, 404u);
}

}  // namespace
}  // namespace agate
