// Integration: hostile requests against the real agated over a socket. Each gets the right 4xx
// (with Manila's error body where one is sent), writes nothing, and leaves the server healthy.

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <chrono>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/http_client.h"
#include "tests/support/server_process.h"
#include "tests/support/temp_dir.h"

namespace agate {
namespace {

namespace bhttp = boost::beast::http;
using testing::http_request;
using testing::ServerProcess;

const std::filesystem::path kAgated = AGATE_AGATED_PATH;
constexpr int kReadTimeoutSeconds = 2;

struct Answer {
  unsigned status = 0;  // 0: the server closed without answering
  std::string fault;    // the error body's one key, "" if there is no such body
  std::string message;
  std::string raw;
};

Answer parse_answer(const std::string& raw) {
  Answer a;
  a.raw = raw.substr(0, 300);
  if (!raw.starts_with("HTTP/1.1 ") || raw.size() < 12) return a;
  a.status = static_cast<unsigned>(std::stoi(raw.substr(9, 3)));
  const auto body_at = raw.find("\r\n\r\n");
  if (body_at == std::string::npos) return a;
  boost::system::error_code ec;
  auto body = boost::json::parse(raw.substr(body_at + 4), ec);
  if (ec || !body.is_object() || body.as_object().size() != 1) return a;
  const auto& [key, fault] = *body.as_object().begin();
  a.fault = std::string(key);
  if (fault.is_object() && fault.as_object().contains("code") &&
      fault.as_object().at("code") == a.status && fault.as_object().at("message").is_string()) {
    a.message = std::string(fault.as_object().at("message").as_string());
  }
  return a;
}

// A connected loopback socket, closed at the end of its scope.
class Socket {
 public:
  explicit Socket(unsigned short port) : fd_(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) {
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd_ < 0 || ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      throw std::runtime_error("connect to 127.0.0.1 failed");
    }
  }
  ~Socket() { ::close(fd_); }
  Socket(const Socket&) = delete;
  Socket& operator=(const Socket&) = delete;

  // False once the server has closed the connection.
  bool send(std::string_view bytes) {
    return ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(bytes.size());
  }
  // True if the server closed the connection (or reset it) within `timeout`, reading and
  // dropping anything it sent first.
  bool closed_within(std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    char buf[4096];
    while (true) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return false;
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) return false;
      if (::recv(fd_, buf, sizeof buf, 0) <= 0) return true;
    }
  }

 private:
  int fd_;
};

class HostileRequestsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto config = dir_.path() / "agate.toml";
    std::ofstream(config) << "[server]\nread_timeout = " << kReadTimeoutSeconds << "\n";
    server_.emplace(kAgated, dir_.path() / "data",
                    std::vector<std::string>{"--config", config.string()});
    // Something to aim at: a share type, a share and an access group.
    const std::vector<std::pair<std::string, std::string>> admin = {
        {"X-Auth-Token", "admin:admin-project:admin"}};
    ASSERT_EQ(http_request(port(), bhttp::verb::post, "/v2/types",
                           R"({"share_type": {"name": "default", "extra_specs":
                               {"driver_handles_share_servers": "False"}}})",
                           admin)
                  .result_int(),
              200);
    auto share = http_request(port(), bhttp::verb::post, "/v2/shares",
                              R"({"share": {"share_proto": "NFS", "size": 1}})", alice());
    ASSERT_EQ(share.result_int(), 200) << share.body();
    share_id_ = boost::json::parse(share.body()).at("share").at("id").as_string().c_str();
    auto group = http_request(port(), bhttp::verb::post, "/v2/access-groups",
                              R"({"access-group": {"name": "web", "access_type": "ip"}})", alice());
    ASSERT_EQ(group.result_int(), 200) << group.body();
    group_id_ = boost::json::parse(group.body()).at("access-group").at("id").as_string().c_str();
    last_seq_ = last_seq();
  }

  unsigned short port() const { return server_->port(); }
  static std::vector<std::pair<std::string, std::string>> alice() {
    return {{"X-Auth-Token", "alice:project-a"}, {"X-OpenStack-Manila-API-Version", "2.45"}};
  }
  std::uint64_t last_seq() {
    auto res = http_request(port(), bhttp::verb::get, "/healthz");
    EXPECT_EQ(res.result_int(), 200);
    return boost::json::parse(res.body()).at("log").at("last_seq").to_number<std::uint64_t>();
  }
  // The server answers, has written nothing since SetUp, and has logged no error.
  void expect_healthy_and_unchanged() {
    EXPECT_EQ(last_seq(), last_seq_);
    const auto output = server_->output();
    EXPECT_EQ(output.find("[error]"), std::string::npos) << output;
    EXPECT_EQ(output.find("[critical]"), std::string::npos) << output;
  }

  testing::TempDir dir_;
  std::optional<ServerProcess> server_;
  std::string share_id_, group_id_;
  std::uint64_t last_seq_ = 0;
};

// A request from alice with `body` (sent as is, Content-Length set), and Connection: close so
// that the exchange ends with the answer.
std::string alice_request(std::string_view method, std::string_view target, std::string_view body,
                          std::string_view extra_headers = "") {
  std::string r = std::string(method) + " " + std::string(target) + " HTTP/1.1\r\nHost: x\r\n" +
                  "X-Auth-Token: alice:project-a\r\nX-OpenStack-Manila-API-Version: 2.45\r\n" +
                  "Connection: close\r\n" + std::string(extra_headers);
  if (!body.empty() || method == "POST" || method == "PUT") {
    r += "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
         "\r\n";
  }
  return r + "\r\n" + std::string(body);
}

std::string get(std::string_view target, std::string_view extra_headers = "") {
  return alice_request("GET", target, "", extra_headers);
}

std::string group_body(std::string_view members) {
  return R"({"access-group": {)" + std::string(members) + "}}";
}

std::string chunked_body(std::size_t total) {
  std::string out;
  const std::string chunk(64u << 10, 'a');
  for (std::size_t sent = 0; sent < total; sent += chunk.size()) {
    out += "10000\r\n" + chunk + "\r\n";
  }
  return out + "0\r\n\r\n";
}

struct Case {
  std::string name;
  std::string bytes;
  unsigned status;
  std::string fault;  // "" where no body is expected
};

TEST_F(HostileRequestsTest, EachIsAnsweredWithTheRightStatusAndTheServerStaysHealthy) {
  const std::string deep = std::string(100000, '[') + std::string(100000, ']');
  const std::string nested_33 = std::string(33, '[') + std::string(33, ']');
  const std::vector<Case> cases = {
      // Sizes.
      {"body over the limit, announced", alice_request("POST", "/v2/access-groups",
                                                        std::string(2u << 20, ' ')),
       413, "overLimit"},
      {"body over the limit, chunked",
       "POST /v2/access-groups HTTP/1.1\r\nHost: x\r\nX-Auth-Token: alice:project-a\r\n"
       "Transfer-Encoding: chunked\r\n\r\n" + chunked_body(2u << 20),
       413, "overLimit"},
      {"Content-Length past 2^64",
       "POST /v2/access-groups HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999999"
       "\r\n\r\n",
       400, "badRequest"},
      {"URL over the header limit", get("/v2/shares/" + std::string(20000, 'a')), 414,
       "computeFault"},
      {"long URL within the limit", get("/v2/shares/" + std::string(8000, 'a')), 404,
       "itemNotFound"},
      {"header over the limit", get("/v2/shares", "X-Junk: " + std::string(20000, 'a') + "\r\n"),
       431, "computeFault"},
      {"too many headers", [] {
         std::string h;
         for (int i = 0; i < 2000; ++i) h += "X-H" + std::to_string(i) + ": v\r\n";
         return get("/v2/shares", h);
       }(),
       431, "computeFault"},
      // JSON.
      {"deep nesting", alice_request("POST", "/v2/access-groups", deep), 400, "badRequest"},
      {"nesting one level past the limit",
       alice_request("POST", "/v2/access-groups", group_body(R"("name": )" + nested_33)), 400,
       "badRequest"},
      {"invalid UTF-8 in a string",
       alice_request("POST", "/v2/access-groups",
                     group_body("\"name\": \"\xff\xfe\", \"access_type\": \"ip\"")),
       400, "badRequest"},
      {"overlong UTF-8 encoding of '/'",
       alice_request("POST", "/v2/access-groups",
                     group_body("\"name\": \"\xc0\xaf\", \"access_type\": \"ip\"")),
       400, "badRequest"},
      {"NUL byte in the body",
       alice_request("POST", "/v2/access-groups",
                     group_body(std::string("\"name\": \"a\0b\", \"access_type\": \"ip\"", 33))),
       400, "badRequest"},
      {"number where a string belongs",
       alice_request("POST", "/v2/access-groups", group_body(R"("name": 5, "access_type": "ip")")),
       400, "badRequest"},
      {"number as access_to",
       alice_request("POST", "/v2/access-groups/" + group_id_ + "/entries",
                     R"({"entry": {"access_to": 167772160}})"),
       400, "badRequest"},
      {"array as access_level",
       alice_request("POST", "/v2/shares/" + share_id_ + "/action",
                     R"({"allow_access": {"access_type": "ip", "access_to": "10.0.0.1",
                         "access_level": ["rw"]}})"),
       400, "badRequest"},
      {"duplicate key", alice_request("POST", "/v2/access-groups",
                                      group_body(R"("name": "a", "name": "b", "access_type": "ip")")),
       400, "badRequest"},
      {"duplicate top-level key",
       alice_request("POST", "/v2/access-groups",
                     R"({"access-group": {"name": "a", "access_type": "ip"},
                         "access-group": {"name": "b", "access_type": "ip"}})"),
       400, "badRequest"},
      {"not JSON", alice_request("POST", "/v2/access-groups", "{'name': 'a'}"), 400, "badRequest"},
      // NUL bytes and bad bytes outside the body.
      {"NUL byte in the URL", get(std::string("/v2/shares/a\0b", 15)), 400, "badRequest"},
      {"NUL byte in a header", get("/v2/shares", std::string("X-Junk: a\0b\r\n", 13)), 400,
       "badRequest"},
      {"encoded NUL in an id", get("/v2/shares/a%00b"), 404, "itemNotFound"},
      {"encoded invalid UTF-8 in an id", get("/v2/shares/%ff%fe"), 404, "itemNotFound"},
      {"invalid UTF-8 in the version header",
       "GET /v2/shares HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
       "X-OpenStack-Manila-API-Version: 2.\xff\r\n\r\n",
       400, "badRequest"},
      {"malformed percent-encoding", get("/v2/shares/%zz"), 400, "badRequest"},
      // Path traversal in ids.
      {"dot-dot segments", get("/v2/shares/../../etc/passwd"), 404, "itemNotFound"},
      {"encoded dot-dot and slashes", get("/v2/shares/..%2F..%2Fetc%2Fpasswd"), 404,
       "itemNotFound"},
      {"encoded dot-dot as a group id", get("/v2/access-groups/%2e%2e/entries"), 404,
       "itemNotFound"},
      {"traversal as an entry id",
       alice_request("DELETE", "/v2/access-groups/" + group_id_ + "/entries/..%2F..%2Fdata.mdb",
                     ""),
       404, "itemNotFound"},
      {"traversal as a rule id",
       alice_request("POST", "/v2/shares/" + share_id_ + "/action",
                     R"({"deny_access": {"access_id": "../../../data.mdb"}})"),
       404, "itemNotFound"},
      // Framing.
      {"Content-Length and chunked together",
       "POST /v2/access-groups HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
       "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
       400, "badRequest"},
      {"negative Content-Length",
       "POST /v2/access-groups HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n", 400,
       "badRequest"},
      {"not HTTP", std::string("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 11) + "\r\n\r\n",
       400, "badRequest"},
      {"unknown HTTP version", "GET /healthz HTTP/9.9\r\nHost: x\r\n\r\n", 400, "badRequest"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    const auto raw = testing::raw_exchange(port(), c.bytes);
    const auto answer = parse_answer(raw);
    EXPECT_EQ(answer.status, c.status) << answer.raw;
    EXPECT_EQ(answer.fault, c.fault) << answer.raw;
    // Every answer carries a request id, also those refused before routing (for the logs).
    const auto head = raw.substr(0, raw.find("\r\n\r\n"));
    EXPECT_NE(head.find("\r\nx-compute-request-id: req-"), std::string::npos) << head;
    if (!c.fault.empty()) {
      EXPECT_FALSE(answer.message.empty()) << answer.raw;
    }
  }
  expect_healthy_and_unchanged();
}

TEST_F(HostileRequestsTest, SlowClientsAreCutOffWithoutStallingOthers) {
  // Slowloris: many connections that each send a header a byte at a time, never finishing, and
  // one that sends its header and then the body a byte at a time.
  std::vector<std::unique_ptr<Socket>> slow;
  for (int i = 0; i < 32; ++i) slow.push_back(std::make_unique<Socket>(port()));
  auto slow_body = std::make_unique<Socket>(port());
  ASSERT_TRUE(slow_body->send(
      "POST /v2/access-groups HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n"));
  const std::string header = "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ";
  const auto started = std::chrono::steady_clock::now();
  const auto cut_off = std::chrono::seconds(kReadTimeoutSeconds);
  for (std::size_t i = 0; std::chrono::steady_clock::now() - started < cut_off / 2; ++i) {
    for (auto& s : slow) s->send(std::string(1, i < header.size() ? header[i] : 'a'));
    slow_body->send("a");
    // Others are served meanwhile, promptly.
    const auto asked = std::chrono::steady_clock::now();
    EXPECT_EQ(http_request(port(), bhttp::verb::get, "/healthz").result_int(), 200);
    EXPECT_LT(std::chrono::steady_clock::now() - asked, cut_off / 2);
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  // Cut off once the read timeout has passed since each connection opened, however busy.
  const auto grace = cut_off + std::chrono::seconds(2);
  for (auto& s : slow) {
    s->send("a");
    EXPECT_TRUE(s->closed_within(std::chrono::duration_cast<std::chrono::milliseconds>(grace)));
  }
  EXPECT_TRUE(slow_body->closed_within(std::chrono::duration_cast<std::chrono::milliseconds>(grace)));
  EXPECT_LT(std::chrono::steady_clock::now() - started, cut_off + grace);
  expect_healthy_and_unchanged();
}

TEST_F(HostileRequestsTest, IdleKeepAliveConnectionIsClosedAfterTheReadTimeout) {
  Socket s(port());
  ASSERT_TRUE(s.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"));
  // The answer comes, the connection stays open for the next request, then is closed.
  EXPECT_FALSE(s.closed_within(std::chrono::milliseconds(500)));
  EXPECT_TRUE(s.closed_within(std::chrono::seconds(kReadTimeoutSeconds + 2)));
  expect_healthy_and_unchanged();
}

}  // namespace
}  // namespace agate
