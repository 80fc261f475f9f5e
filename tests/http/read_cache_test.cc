// The read cache: the store itself (snapshots, budget, order of eviction), then the handlers
// using it — every cached answer must be byte for byte what rendering it again gives, after
// any change and whatever the driver calls in flight.

#include "http/read_cache.h"

#include <gtest/gtest.h>

#include <atomic>
#include <random>
#include <thread>

#include "tests/support/api_harness.h"

namespace agate {
namespace {

namespace bhttp = boost::beast::http;
using http::ReadCache;
using http::Snapshot;
using testing::ApiHarness;
using testing::EngineHarness;

TEST(ReadCache, AnswersOnlyForTheSnapshotItWasRenderedAt) {
  ReadCache cache(1 << 20);
  EXPECT_FALSE(cache.find("a", {1, 0}));
  cache.put("a", {1, 0}, "one");
  EXPECT_EQ(cache.find("a", {1, 0}), "one");
  EXPECT_FALSE(cache.find("a", {2, 0})) << "a later log position";
  EXPECT_FALSE(cache.find("a", {1, 1})) << "another set of calls in flight";
  EXPECT_FALSE(cache.find("b", {1, 0}));
  cache.put("a", {2, 0}, "two");
  EXPECT_EQ(cache.find("a", {2, 0}), "two");
  EXPECT_FALSE(cache.find("a", {1, 0}));
  const auto s = cache.stats();
  EXPECT_EQ(s.hits, 2u);
  EXPECT_EQ(s.misses, 5u);
  EXPECT_EQ(s.entries, 1u);
}

TEST(ReadCache, AnOlderSnapshotNeverReplacesANewerAnswer) {
  ReadCache cache(1 << 20);
  cache.put("a", {5, 0}, "new");
  cache.put("a", {4, 0}, "old");  // a reader that began before the commit finishing late
  EXPECT_EQ(cache.find("a", {5, 0}), "new");
  EXPECT_FALSE(cache.find("a", {4, 0}));
}

TEST(ReadCache, EvictsTheLeastRecentlyUsedOnceTheBudgetIsSpent) {
  const std::string body(1000, 'x');
  ReadCache cache(5000);  // room for four entries of ~1 KB, not five
  for (const char* key : {"a", "b", "c", "d"}) cache.put(key, {1, 0}, body);
  ASSERT_TRUE(cache.find("a", {1, 0}));  // a is now the most recently used
  cache.put("e", {1, 0}, body);
  EXPECT_FALSE(cache.find("b", {1, 0})) << "the least recently used goes first";
  EXPECT_TRUE(cache.find("a", {1, 0}));
  EXPECT_TRUE(cache.find("e", {1, 0}));
  EXPECT_LE(cache.stats().bytes, 5000u);
  EXPECT_GE(cache.stats().evictions, 1u);
}

// Readers on several threads find, put and evict at once (the I/O threads do): under
// ThreadSanitizer this is where a race in the cache would show; every answer found is one that
// was put for that key and snapshot.
TEST(ReadCache, ThreadsFindAndPutAtOnceAndOnlyFindWhatWasPut) {
  ReadCache cache(20000);  // small: evictions all the time
  std::atomic<bool> wrong{false};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      std::mt19937 rng(t);
      for (int i = 0; i < 5000; ++i) {
        const std::string key = "k" + std::to_string(rng() % 40);
        const Snapshot at{rng() % 4, rng() % 2};
        const std::string body = key + "@" + std::to_string(at.log_position) + "/" +
                                 std::to_string(at.flight_generation) + std::string(200, '.');
        if (auto found = cache.find(key, at)) {
          if (*found != body) wrong = true;
        } else {
          cache.put(key, at, body);
        }
        if (i % 500 == 0) (void)cache.stats();
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_FALSE(wrong);
  EXPECT_LE(cache.stats().bytes, 20000u);
}

TEST(ReadCache, KeepsNothingLargerThanAQuarterOfItsBudget) {
  ReadCache cache(4000);
  cache.put("big", {1, 0}, std::string(2000, 'x'));
  EXPECT_FALSE(cache.find("big", {1, 0}));
  ReadCache none(0);
  none.put("a", {1, 0}, "x");
  EXPECT_EQ(none.stats().entries, 0u);
}

class ReadCacheApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    api_.engine().create_type("default");
    share_ = api_.engine().create_share(alice_);
    plain_.read_cache = nullptr;
  }

  // The same request through the cached services and through services without a cache; the
  // bodies must be equal byte for byte. Returns the cached one.
  std::string same_both_ways(const std::string& target, const std::string& version = "2.45") {
    auto req = ApiHarness::request(bhttp::verb::get, target, "", ApiHarness::kAlice, version);
    auto cached = ApiHarness::send(api_.services(), req);
    auto fresh = ApiHarness::send(plain_, req);
    EXPECT_EQ(cached.status, 200u) << target;
    EXPECT_EQ(cached.raw.body(), fresh.raw.body()) << target << " at " << version;
    return cached.raw.body();
  }

  void check_every_view() {
    same_both_ways("/v2/shares/" + share_ + "/effective-access");
    same_both_ways("/v2/share-access-rules?share_id=" + share_);
    same_both_ways("/v2/share-access-rules?share_id=" + share_, "2.45");
    auto req = ApiHarness::request(bhttp::verb::post, "/v2/shares/" + share_ + "/action",
                                   R"({"access_list": null})", ApiHarness::kAlice, "2.44");
    auto cached = ApiHarness::send(api_.services(), req);
    auto fresh = ApiHarness::send(plain_, req);
    EXPECT_EQ(cached.raw.body(), fresh.raw.body()) << "access_list at 2.44";
    auto old = ApiHarness::request(bhttp::verb::post, "/v2/shares/" + share_ + "/action",
                                   R"({"os-access_list": null})", ApiHarness::kAlice, "2.1");
    EXPECT_EQ(ApiHarness::send(api_.services(), old).raw.body(),
              ApiHarness::send(plain_, old).raw.body())
        << "os-access_list at 2.1";
  }

  engine::Context alice_ = EngineHarness::member("project-a");
  ApiHarness api_;
  http::Services plain_ = api_.services();
  std::string share_;
};

// Seeded random changes of every kind that touches a share's access; after each, every cached
// view equals a fresh rendering.
TEST_F(ReadCacheApiTest, EveryAnswerEqualsAFreshRenderingAfterEachChange) {
  std::mt19937_64 rng(7);
  auto& e = api_.engine();
  std::vector<std::string> rules, groups;
  for (int step = 0; step < 120; ++step) {
    const std::string net =
        "10." + std::to_string(rng() % 4) + "." + std::to_string(rng() % 8) + ".0/24";
    switch (rng() % 6) {
      case 0:
      case 1:
        if (e.run(alice_, engine::AllowAccess{share_, "ip", net, "rw", {}}).has_value())
          rules.push_back(net);
        break;
      case 2:
        if (!rules.empty()) {
          auto list = api_.get("/v2/share-access-rules?share_id=" + share_);
          for (const auto& r : list.body.at("access_list").as_array()) {
            if (r.at("access_type") == "ip" && r.at("access_to").as_string() == rules.back()) {
              e.run(alice_, engine::DenyAccess{share_, std::string(r.at("id").as_string())});
            }
          }
          rules.pop_back();
        }
        break;
      case 3: {
        const auto g = e.create_group(alice_, "g" + std::to_string(step));
        e.run(alice_, engine::AddEntry{g, std::nullopt, net, "ro"});
        e.run(alice_, engine::AttachGroup{share_, g});
        groups.push_back(g);
        break;
      }
      case 4:
        if (!groups.empty())
          e.run(alice_, engine::AddEntry{groups[rng() % groups.size()], std::nullopt, net, "rw"});
        break;
      case 5:
        e.run(alice_, engine::SyncAccess{share_});
        break;
    }
    check_every_view();
    // Read twice at the same snapshot: the second answer comes from the cache.
    check_every_view();
  }
  EXPECT_GT(api_.read_cache().stats().hits, 100u);
}

TEST_F(ReadCacheApiTest, ACallInFlightChangesTheAnswerOnceItsGenerationDoes) {
  std::optional<std::uint64_t> flight;
  std::uint64_t generation = 0;
  api_.services().in_flight = [&](const std::string&) { return flight; };
  api_.services().flight_generation = [&] { return generation; };
  api_.engine().allow(alice_, share_, "ip", "10.0.0.0/24");
  const std::string target = "/v2/shares/" + share_ + "/effective-access";
  auto state = [&] {
    auto r = api_.get(target);
    return std::string(r.body.at("effective_access").at("rules").at(0).at("state").as_string());
  };
  EXPECT_EQ(state(), "queued_to_apply");
  flight = 1000;  // a call for a version that has the rule, not yet announced
  EXPECT_EQ(state(), "queued_to_apply") << "the same generation: the cached answer";
  ++generation;
  EXPECT_EQ(state(), "applying");
}

TEST_F(ReadCacheApiTest, WithoutAGenerationCallsInFlightAreNeverCached) {
  api_.services().in_flight = [](const std::string&) { return std::nullopt; };
  api_.engine().allow(alice_, share_, "ip", "10.0.0.0/24");
  for (int i = 0; i < 3; ++i) api_.get("/v2/shares/" + share_ + "/effective-access");
  EXPECT_EQ(api_.read_cache().stats().hits, 0u);
  EXPECT_EQ(api_.read_cache().stats().entries, 0u);
}

TEST_F(ReadCacheApiTest, AnotherProjectIsRefusedBeforeTheCacheIsConsulted) {
  api_.engine().allow(alice_, share_, "ip", "10.0.0.0/24");
  ASSERT_EQ(api_.get("/v2/shares/" + share_ + "/effective-access").status, 200u);
  auto r = api_.get("/v2/shares/" + share_ + "/effective-access", ApiHarness::kMallory);
  EXPECT_EQ(r.status, 404u);
  EXPECT_EQ(r.raw.body().find("10.0.0.0"), std::string::npos);
  auto rules = api_.get("/v2/share-access-rules?share_id=" + share_, ApiHarness::kMallory);
  EXPECT_EQ(rules.status, 400u);
  EXPECT_EQ(rules.raw.body().find("10.0.0.0"), std::string::npos);
}

}  // namespace
}  // namespace agate
