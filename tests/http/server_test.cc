// http::Server in this process, over the API harness's services, for what depends on the socket's
// deadlines: the time to answer a request is not the time the client had to send it.

#include "http/server.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/json.hpp>
#include <chrono>
#include <future>
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

// The server may be destroyed while another thread still holds a request: the writer (its
// answer built through Services::defer) or the authenticator (a validation under way). What
// comes back afterwards is dropped, and nothing of the server's is touched after it is gone (a
// use after free of its io_context before: the sanitizer builds show it).
class ServerLifetimeTest : public ::testing::Test {
 protected:
  // An authenticator that answers only when the test says so, from the test's own thread.
  class HeldAuthenticator : public http::Authenticator {
   public:
    http::AuthResult authenticate(std::string_view token) override {
      return inner_->authenticate(token);
    }
    void authenticate_async(std::string token,
                            std::function<void(http::AuthResult)> done) override {
      std::lock_guard lock(mutex_);
      held_.emplace_back(std::move(token), std::move(done));
    }
    std::size_t held() {
      std::lock_guard lock(mutex_);
      return held_.size();
    }
    void answer_all() {
      decltype(held_) held;
      {
        std::lock_guard lock(mutex_);
        held.swap(held_);
      }
      for (auto& [token, done] : held) done(inner_->authenticate(token));
    }

   private:
    std::unique_ptr<http::Authenticator> inner_ = http::make_noauth_authenticator();
    std::mutex mutex_;
    std::vector<std::pair<std::string, std::function<void(http::AuthResult)>>> held_;
  };

  void start(http::Services services) {
    services_ = std::make_unique<http::Services>(std::move(services));
    http::ServerOptions options;
    options.port = 0;
    options.threads = 2;
    options.drain_timeout = 1s;
    server_ = std::make_unique<http::Server>(*services_, options);
    runner_ = std::thread([this] { server_->run(); });
  }

  // Sends a request from a thread of its own; the answer, if any, is not looked at.
  void send_in_background(bhttp::verb method, const std::string& target, const std::string& body) {
    clients_.emplace_back([port = server_->port(), method, target, body] {
      try {
        testing::http_request(port, method, target, body,
                              {{"X-Auth-Token", "alice:project-a"},
                               {"X-OpenStack-Manila-API-Version", "2.45"}});
      } catch (const std::exception&) {
        // The connection closes unanswered: the server was destroyed with the request.
      }
    });
  }

  // Stops the server (the drain gives up after 1 s on the request that is held) and destroys it.
  void destroy_server() {
    server_->stop();
    runner_.join();
    server_.reset();
  }

  void TearDown() override {
    if (server_) server_->stop();
    if (runner_.joinable()) runner_.join();
    server_.reset();
    for (auto& t : clients_) t.join();
  }

  ApiHarness api_;
  std::unique_ptr<http::Services> services_;
  std::unique_ptr<http::Server> server_;
  std::thread runner_;
  std::vector<std::thread> clients_;
};

TEST_F(ServerLifetimeTest, AWriteAnsweredAfterTheServerIsGoneIsDropped) {
  auto& writer = api_.engine().writer();
  // The writer is kept busy in a callback until released: the request below waits behind it.
  std::promise<void> release;
  auto released = release.get_future().share();
  writer.submit(testing::EngineHarness::member("project-a"),
                engine::DeleteAccessGroup{"no-such-group", false, std::nullopt},
                [released](engine::Outcome) { released.wait(); });
  start(api_.services());
  send_in_background(bhttp::verb::post, "/v2/access-groups",
                     R"({"access-group": {"name": "late", "access_type": "ip"}})");
  std::this_thread::sleep_for(300ms);  // the request is now queued with the writer
  destroy_server();
  release.set_value();
  // The write itself is committed (a retry with an idempotency key finds its answer); only the
  // answer to a connection that is gone was dropped.
  const auto outcome = writer.execute(testing::EngineHarness::member("project-a"),
                                      engine::CreateAccessGroup{"after", "", "ip"});
  ASSERT_TRUE(outcome) << outcome.error().message;
  auto txn = lmdb::Txn::begin_read(api_.engine().env());
  std::size_t groups = 0;
  for (const auto& g : api_.engine().store().list_groups(txn, {}, std::nullopt, {})) {
    groups += g.name == "late" || g.name == "after";
  }
  EXPECT_EQ(groups, 2u);
}

TEST_F(ServerLifetimeTest, AnAuthenticationAnsweredAfterTheServerIsGoneIsDropped) {
  HeldAuthenticator auth;
  auto services = api_.services();
  http::Services held{services.env,   services.log,        services.store,
                      services.writer, auth,               services.in_flight,
                      services.flight_generation, services.read_cache};
  start(held);
  for (int i = 0; i < 4; ++i) send_in_background(bhttp::verb::get, "/v2/shares", "");
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while (auth.held() < 4 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(5ms);
  }
  ASSERT_EQ(auth.held(), 4u);
  destroy_server();
  auth.answer_all();  // each request is routed and answered; the answers have nowhere to go
}

}  // namespace
}  // namespace agate
