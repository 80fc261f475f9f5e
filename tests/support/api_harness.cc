#include "tests/support/api_harness.h"

namespace agate::testing {

std::string ApiResult::message() const {
  if (!body.is_object() || body.as_object().size() != 1) return "";
  const auto& fault = body.as_object().begin()->value();
  if (!fault.is_object() || !fault.as_object().contains("message")) return "";
  return std::string(fault.as_object().at("message").as_string());
}

ApiHarness::ApiHarness(std::uint64_t seed)
    : engine_(seed),
      auth_(http::make_noauth_authenticator()),
      positions_(std::make_unique<http::PositionWaiter>(engine_.last().value)),
      services_{engine_.env(), engine_.log(), engine_.store(), engine_.writer(), *auth_} {
  services_.read_cache = &read_cache_;
  services_.positions = positions_.get();
  engine_.set_applied_listener(
      [waiter = positions_.get()](events::Seq position) { waiter->advanced(position.value); });
}

ApiHarness::~ApiHarness() {
  // The writer outlives the waiter otherwise: it must not tell a waiter that is gone.
  engine_.writer().stop();
  positions_->stop();
}

ApiResult ApiHarness::call(boost::beast::http::verb method, const std::string& target,
                           const std::string& body, const std::string& token,
                           const std::string& version) {
  return send(services_, request(method, target, body, token, version));
}

http::Request ApiHarness::request(boost::beast::http::verb method, const std::string& target,
                                  const std::string& body, const std::string& token,
                                  const std::string& version) {
  http::Request req{method, target, 11};
  req.set(boost::beast::http::field::host, "127.0.0.1:8786");
  if (!token.empty()) req.set("X-Auth-Token", token);
  if (!version.empty()) req.set("X-OpenStack-Manila-API-Version", version);
  if (!body.empty()) {
    req.set(boost::beast::http::field::content_type, "application/json");
    req.body() = body;
  }
  req.prepare_payload();
  return req;
}

ApiResult ApiHarness::send(http::Services& services, const http::Request& req) {
  ApiResult r;
  r.raw = http::handle_request_sync(services, req);
  r.status = r.raw.result_int();
  boost::system::error_code ec;
  if (!r.raw.body().empty()) {
    auto v = boost::json::parse(r.raw.body(), ec);
    if (!ec) r.body = std::move(v);
  }
  return r;
}

}  // namespace agate::testing
