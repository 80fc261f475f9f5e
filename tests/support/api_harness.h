#pragma once

// The REST API without a socket: http::handle_request over an engine harness, with noauth
// tokens. For handler tests; integration tests use ServerProcess instead.

#include <boost/json.hpp>
#include <memory>
#include <string>

#include "http/api.h"
#include "http/auth.h"
#include "tests/support/engine_harness.h"

namespace agate::testing {

struct ApiResult {
  unsigned status = 0;
  boost::json::value body;  // null if the body is empty or not JSON
  http::Response raw;

  // The Manila error message, "" if the body is not an error body.
  std::string message() const;
};

class ApiHarness {
 public:
  explicit ApiHarness(std::uint64_t seed = 1);
  ~ApiHarness();

  // Sends one request. `token` goes into X-Auth-Token unless empty; `version` into
  // X-OpenStack-Manila-API-Version unless empty.
  ApiResult call(boost::beast::http::verb method, const std::string& target,
                 const std::string& body = "", const std::string& token = "alice:project-a",
                 const std::string& version = "2.45");
  ApiResult get(const std::string& target, const std::string& token = "alice:project-a",
                const std::string& version = "2.45") {
    return call(boost::beast::http::verb::get, target, "", token, version);
  }
  ApiResult post(const std::string& target, const std::string& body,
                 const std::string& token = "alice:project-a",
                 const std::string& version = "2.45") {
    return call(boost::beast::http::verb::post, target, body, token, version);
  }

  // The request call() sends, and sending one through other services (the same store without
  // the read cache, say).
  static http::Request request(boost::beast::http::verb method, const std::string& target,
                               const std::string& body, const std::string& token,
                               const std::string& version);
  static ApiResult send(http::Services& services, const http::Request& req);

  EngineHarness& engine() { return engine_; }
  http::Services& services() { return services_; }
  http::ReadCache& read_cache() { return read_cache_; }
  http::PositionWaiter& positions() { return *positions_; }

  static constexpr const char* kAdmin = "admin:admin-project:admin";
  static constexpr const char* kAlice = "alice:project-a";
  static constexpr const char* kMallory = "mallory:project-b";

 private:
  EngineHarness engine_;
  std::unique_ptr<http::Authenticator> auth_;
  http::ReadCache read_cache_{64u << 20};  // on, as in agated: every handler test goes through it
  // As in agated: the journal tells it each position it commits.
  std::unique_ptr<http::PositionWaiter> positions_;
  http::Services services_;
};

}  // namespace agate::testing
