// http::Server in this process, over the API harness's services, for what depends on the socket's
// deadlines: the time to answer a request is not the time the client had to send it.

#include "http/server.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/json.hpp>
#include <chrono>
#include <mutex>
#include <thread>
#include <vector>

#include "tests/support/api_harness.h"
#include "tests/support/http_client.h"

namespace agate {
namespace {

namespace bhttp = boost::beast::http;
using namespace std::chrono_literals;
using testing::ApiHarness;

class ServerTest : public ::testing::Test {
 protected:
  // Serves the harness's services on a free loopback port with a 1 s read timeout; the answers
  // to writes and to audit queries are held back by `answer_delay` before they are sent.
  void start(std::chrono::milliseconds answer_delay) {
    services_ = std::make_unique<http::Services>(api_.services());
    auto delayed = [this, answer_delay](std::function<void()> f) {
      std::lock_guard lock(mutex_);
      delayed_.emplace_back([f = std::move(f), answer_delay] {
        std::this_thread::sleep_for(answer_delay);
        f();
      });
    };
    services_->defer = delayed;
    services_->slow_reads = delayed;
    http::ServerOptions options;
    options.port = 0;
    options.threads = 1;
    options.read_timeout = 1s;
    server_ = std::make_unique<http::Server>(*services_, options);
    runner_ = std::thread([this] { server_->run(); });
  }

  void TearDown() override {
    if (server_) server_->stop();
    if (runner_.joinable()) runner_.join();
    std::lock_guard lock(mutex_);
    for (auto& t : delayed_) t.join();
  }

  ApiHarness api_;
  std::unique_ptr<http::Services> services_;
  std::unique_ptr<http::Server> server_;
  std::thread runner_;
  std::mutex mutex_;
  std::vector<std::thread> delayed_;
};

// The request arrives at once; its answer is ready 1.5 s later, past the 1 s the client had to
// send it. The answer is megabytes long and the client starts reading it only a second after
// that, so the server has to wait for room in the socket: the connection must stay open until
// the answer is through (it has its own deadline, 30 s by default).
TEST_F(ServerTest, AnAnswerReadyAfterTheReadTimeoutStillReachesASlowClientWhole) {
  auto& e = api_.engine();
  e.create_type("default");
  const auto alice = testing::EngineHarness::member("project-a", "alice");
  const auto share = e.create_share(alice);
  // Long user names, in two groups: more than a loopback socket buffers at once (a few MB).
  constexpr int kGroups = 2, kPerGroup = 9000, kEntries = kGroups * kPerGroup;
  const std::string padding(200, 'u');
  for (int g = 0; g < kGroups; ++g) {
    const auto group = e.create_group(alice, fmt::format("many-{}", g), "user");
    for (int i = 0; i < kPerGroup; ++i) {
      e.add_entry(alice, group, fmt::format("{}-{}-{}", padding, g, i));
    }
    e.attach(alice, share, group);
  }
  start(1500ms);

  namespace net = boost::asio;
  net::io_context ioc;
  boost::beast::tcp_stream stream(ioc);
  stream.connect(net::ip::tcp::endpoint(net::ip::make_address("127.0.0.1"), server_->port()));
  bhttp::request<bhttp::string_body> req{
      bhttp::verb::get,
      fmt::format("/v2/admin-project/shares/{}/effective-access?seq={}", share, e.last().value),
      11};
  req.set(bhttp::field::host, "127.0.0.1");
  req.set("X-Auth-Token", ApiHarness::kAdmin);
  req.set("X-OpenStack-Manila-API-Version", "2.45");
  bhttp::write(stream, req);
  std::this_thread::sleep_for(2500ms);
  boost::beast::flat_buffer buffer;
  bhttp::response_parser<bhttp::string_body> parser;
  parser.body_limit(64u << 20);
  boost::beast::error_code ec;
  bhttp::read(stream, buffer, parser, ec);
  ASSERT_FALSE(ec) << "the answer was cut off: " << ec.message();
  const auto& res = parser.get();
  ASSERT_EQ(res.result_int(), 200u);
  EXPECT_GT(res.body().size(), 6u << 20);
  const auto body = boost::json::parse(res.body());
  EXPECT_EQ(body.at("effective_access").at("rules").as_array().size(),
            static_cast<std::size_t>(kEntries));
}

TEST_F(ServerTest, AnIdleConnectionIsStillClosedAfterTheReadTimeout) {
  start(0ms);
  // Nothing sent: the server closes the connection after its read timeout, answering nothing.
  const auto started = std::chrono::steady_clock::now();
  EXPECT_EQ(testing::raw_exchange(server_->port(), "", 5000), "");
  const auto waited = std::chrono::steady_clock::now() - started;
  EXPECT_GE(waited, 900ms);
  EXPECT_LT(waited, 4500ms);
}

}  // namespace
}  // namespace agate
