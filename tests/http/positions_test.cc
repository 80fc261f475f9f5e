// Position tokens, the consistency contract: every answer names the log position it stands at
// (X-Agate-Position), and a request carrying X-Agate-Min-Position is answered only once the node
// has applied that position.

#include <gtest/gtest.h>

#include <future>
#include <thread>

#include "tests/support/api_harness.h"

namespace agate {
namespace {

using testing::ApiHarness;
using testing::ApiResult;
namespace bhttp = boost::beast::http;

std::string position_of(const ApiResult& r) {
  return std::string(r.raw[http::kPositionHeader]);
}

class PositionsTest : public ::testing::Test {
 protected:
  std::string last() { return std::to_string(api_.engine().last().value); }

  ApiResult create_group(const std::string& name) {
    return api_.post("/v2/project-a/access-groups",
                     R"({"access-group": {"name": ")" + name + R"(", "access_type": "ip"}})");
  }

  // Sends `req` without waiting for its answer, which the future then holds.
  std::future<ApiResult> send_async(http::Request req) {
    auto kept = std::make_shared<http::Request>(std::move(req));
    auto promise = std::make_shared<std::promise<ApiResult>>();
    auto future = promise->get_future();
    http::handle_request(api_.services(), *kept, [kept, promise](http::Response res) {
      ApiResult r;
      r.status = res.result_int();
      if (!res.body().empty()) r.body = boost::json::parse(res.body());
      r.raw = std::move(res);
      promise->set_value(std::move(r));
    });
    return future;
  }

  http::Request read_at(const std::string& min_position) {
    auto req = ApiHarness::request(bhttp::verb::get, "/v2/project-a/access-groups", "",
                                   ApiHarness::kAlice, "2.45");
    req.set(http::kMinPositionHeader, min_position);
    return req;
  }

  ApiHarness api_;
};

TEST_F(PositionsTest, AWriteAnswersThePositionOfItsLastEvent) {
  auto created = create_group("web");
  ASSERT_EQ(created.status, 200u);
  EXPECT_EQ(position_of(created), last());
  EXPECT_EQ(position_of(created), "1");
  auto second = create_group("db");
  EXPECT_EQ(position_of(second), "2");
}

TEST_F(PositionsTest, AWriteThatChangesNothingAnswersThePositionBeforeIt) {
  ASSERT_EQ(create_group("web").status, 200u);
  const auto before = last();
  // Refused by the writer (a duplicate name), refused before it (a malformed body), and
  // refused at routing: each names the position it was decided at, which has not moved.
  auto duplicate = create_group("web");
  EXPECT_EQ(duplicate.status, 409u);
  EXPECT_EQ(position_of(duplicate), before);
  auto malformed = api_.post("/v2/project-a/access-groups", "{");
  EXPECT_EQ(malformed.status, 400u);
  EXPECT_EQ(position_of(malformed), before);
  auto unknown = api_.get("/v2/project-a/no-such-thing");
  EXPECT_EQ(unknown.status, 404u);
  EXPECT_EQ(position_of(unknown), before);
  EXPECT_EQ(last(), before);
}

TEST_F(PositionsTest, AReadAnswersThePositionItWasReadAt) {
  ASSERT_EQ(create_group("web").status, 200u);
  ASSERT_EQ(create_group("db").status, 200u);
  auto list = api_.get("/v2/project-a/access-groups");
  ASSERT_EQ(list.status, 200u);
  EXPECT_EQ(position_of(list), last());
  // The version documents and /healthz carry it too.
  EXPECT_EQ(position_of(api_.get("/healthz")), last());
  EXPECT_EQ(position_of(api_.call(bhttp::verb::get, "/", "", "", "")), last());
}

TEST_F(PositionsTest, APositionAlreadyAppliedIsAnsweredAtOnce) {
  auto created = create_group("web");
  auto read = api_.send(api_.services(), read_at(position_of(created)));
  ASSERT_EQ(read.status, 200u) << read.message();
  EXPECT_EQ(read.body.at("access-groups").as_array().size(), 1u);
  EXPECT_EQ(api_.send(api_.services(), read_at("0")).status, 200u);
}

TEST_F(PositionsTest, AReadWaitsForAPositionNotYetAppliedAndSeesIt) {
  ASSERT_EQ(create_group("web").status, 200u);
  const auto wanted = api_.engine().last().value + 1;
  api_.services().min_position_wait = std::chrono::seconds(60);
  auto pending = send_async(read_at(std::to_string(wanted)));
  // Not answered while the position is not there: the wait is registered, not refused.
  while (api_.positions().pending() == 0) std::this_thread::yield();
  EXPECT_EQ(pending.wait_for(std::chrono::seconds(0)), std::future_status::timeout);
  // The write that reaches it ends the wait; the read sees the write.
  ASSERT_EQ(create_group("db").status, 200u);
  auto read = pending.get();
  ASSERT_EQ(read.status, 200u) << read.message();
  EXPECT_EQ(read.body.at("access-groups").as_array().size(), 2u);
  EXPECT_EQ(position_of(read), std::to_string(wanted));
  EXPECT_EQ(api_.positions().pending(), 0u);
}

TEST_F(PositionsTest, APositionThatDoesNotArriveIs503AfterTheWait) {
  ASSERT_EQ(create_group("web").status, 200u);
  api_.services().min_position_wait = std::chrono::milliseconds(20);
  auto read = api_.send(api_.services(), read_at("9"));
  EXPECT_EQ(read.status, 503u);
  EXPECT_EQ(read.message(),
            "This node has applied the log up to position 1; the request asks for position 9 or "
            "later, which did not arrive within 20 ms. Try again, or ask another node.");
  EXPECT_TRUE(read.body.as_object().contains("serviceUnavailable")) << read.body;
  // With no wait configured it is refused at once, and writes wait the same way.
  api_.services().min_position_wait = std::chrono::milliseconds(0);
  auto req = ApiHarness::request(bhttp::verb::post, "/v2/project-a/access-groups",
                                 R"({"access-group": {"name": "db", "access_type": "ip"}})",
                                 ApiHarness::kAlice, "2.45");
  req.set(http::kMinPositionHeader, "9");
  auto refused = api_.send(api_.services(), req);
  EXPECT_EQ(refused.status, 503u);
  EXPECT_EQ(last(), "1");
}

TEST_F(PositionsTest, AMalformedMinPositionIsRefusedAndChangesNothing) {
  for (const std::string bad : {"abc", "-1", "+5", "1.5", "7 8", "", "0x10",
                                "123456789012345678901", "18446744073709551616"}) {
    auto req = ApiHarness::request(bhttp::verb::post, "/v2/project-a/access-groups",
                                   R"({"access-group": {"name": "web", "access_type": "ip"}})",
                                   ApiHarness::kAlice, "2.45");
    req.set(http::kMinPositionHeader, bad);
    auto r = api_.send(api_.services(), req);
    EXPECT_EQ(r.status, 400u) << bad;
    EXPECT_EQ(r.message(), "X-Agate-Min-Position must be a log position (a whole number, as "
                           "X-Agate-Position gives it), not '" + bad + "'.")
        << bad;
  }
  EXPECT_EQ(last(), "0");
  // The largest position is well-formed: it is only far away.
  api_.services().min_position_wait = std::chrono::milliseconds(0);
  EXPECT_EQ(api_.send(api_.services(), read_at("18446744073709551615")).status, 503u);
}

// ---- the waiter itself ---------------------------------------------------------------------

TEST(PositionWaiter, EndsEachWaitOnceWhenReachedOrAtItsDeadline) {
  http::PositionWaiter w(3);
  std::vector<std::pair<bool, std::uint64_t>> ends;
  std::mutex m;
  auto record = [&](bool reached, std::uint64_t applied) {
    std::lock_guard lock(m);
    ends.emplace_back(reached, applied);
  };
  const auto far = http::PositionWaiter::Clock::now() + std::chrono::hours(1);
  w.wait(2, far, record);  // already applied: at once, on this thread
  ASSERT_EQ(ends.size(), 1u);
  EXPECT_EQ(ends[0], std::make_pair(true, std::uint64_t{3}));
  w.wait(5, far, record);
  w.wait(6, far, record);
  w.advanced(5);
  ASSERT_EQ(ends.size(), 2u);
  EXPECT_EQ(ends[1], std::make_pair(true, std::uint64_t{5}));
  w.advanced(4);  // never backwards
  EXPECT_EQ(w.applied(), 5u);
  // A deadline already passed ends on the timer's thread.
  std::promise<void> expired;
  w.wait(9, http::PositionWaiter::Clock::now(), [&](bool reached, std::uint64_t applied) {
    record(reached, applied);
    expired.set_value();
  });
  expired.get_future().wait();
  {
    std::lock_guard lock(m);
    ASSERT_EQ(ends.size(), 3u);
    EXPECT_EQ(ends[2], std::make_pair(false, std::uint64_t{5}));
  }
  EXPECT_EQ(w.pending(), 1u);  // position 6
  w.stop();
  ASSERT_EQ(ends.size(), 4u);
  EXPECT_EQ(ends[3], std::make_pair(false, std::uint64_t{5}));
  EXPECT_EQ(w.pending(), 0u);
  // After stop, a wait for a position not applied ends at once, unreached.
  w.wait(7, far, record);
  EXPECT_EQ(ends.back(), std::make_pair(false, std::uint64_t{5}));
}

// Stopped while another thread still advances it, with waits pending, and destroyed right
// after: every wait ends exactly once, and none after stop() has returned.
TEST(PositionWaiter, StopsSafelyWhileWorkIsStillCompleting) {
  for (int round = 0; round < 20; ++round) {
    std::atomic<int> started{0}, ended{0};
    std::atomic<bool> stopped{false}, late{false};
    auto w = std::make_unique<http::PositionWaiter>(0);
    std::atomic<bool> advancing{true}, waiting{true};
    std::thread writer([&] {
      for (std::uint64_t p = 1; advancing; ++p) w->advanced(p);
    });
    std::thread waiter([&] {
      for (std::uint64_t p = 1; waiting; ++p) {
        ++started;
        w->wait(p * 1000, http::PositionWaiter::Clock::now() + std::chrono::milliseconds(p % 3),
                [&](bool, std::uint64_t) {
                  if (stopped) late = true;
                  ++ended;
                });
      }
    });
    while (started < 200) std::this_thread::yield();
    waiting = false;
    waiter.join();
    w->stop();  // the writer is still advancing it
    stopped = true;
    advancing = false;
    writer.join();
    w.reset();
    EXPECT_FALSE(late);
    EXPECT_EQ(started.load(), ended.load());
  }
}

}  // namespace
}  // namespace agate
