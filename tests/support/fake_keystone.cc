#include "tests/support/fake_keystone.h"

#include <fmt/chrono.h>
#include <fmt/format.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/json.hpp>
#include <openssl/ssl.h>
#include <optional>

namespace agate::testing {

namespace net = boost::asio;
namespace ssl = boost::asio::ssl;
namespace bhttp = boost::beast::http;
using tcp = net::ip::tcp;

struct FakeKeystone::Impl {
  net::io_context ioc;
  tcp::acceptor acceptor{ioc};
  std::optional<ssl::context> tls;  // HTTPS
  std::vector<tcp::socket> held;  // connections never answered (silent mode)
};

namespace {

std::string iso(std::chrono::system_clock::time_point t) {
  const auto micros =
      std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count() %
      1000000;
  return fmt::format("{:%Y-%m-%dT%H:%M:%S}.{:06d}Z",
                     std::chrono::time_point_cast<std::chrono::seconds>(t), micros);
}

}  // namespace

FakeKeystone::FakeKeystone() : impl_(std::make_unique<Impl>()) { start(); }

FakeKeystone::FakeKeystone(std::string_view address)
    : impl_(std::make_unique<Impl>()), address_(address) {
  start();
}

FakeKeystone::FakeKeystone(const CertificateAndKey& tls) : impl_(std::make_unique<Impl>()) {
  auto& ctx = impl_->tls.emplace(ssl::context::tls_server);
  ctx.use_certificate_chain(net::buffer(tls.certificate_pem));
  ctx.use_private_key(net::buffer(tls.key_pem), ssl::context::pem);
  start();
}

void FakeKeystone::start() {
  const tcp::endpoint at{net::ip::make_address(address_), 0};
  impl_->acceptor.open(at.protocol());
  impl_->acceptor.bind(at);
  impl_->acceptor.listen();
  port_ = impl_->acceptor.local_endpoint().port();
  thread_ = std::thread([this] { serve(); });
}

FakeKeystone::~FakeKeystone() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  // Wakes the blocking accept.
  boost::system::error_code ignored;
  net::io_context ioc;
  tcp::socket poke(ioc);
  poke.connect({net::ip::make_address(address_), port_}, ignored);
  thread_.join();
}

std::string FakeKeystone::url() const {
  return url(address_.find(':') == std::string::npos ? address_ : "[" + address_ + "]");
}

std::string FakeKeystone::url(std::string_view host) const {
  return fmt::format("{}://{}:{}/v3", impl_->tls ? "https" : "http", host, port_);
}

void FakeKeystone::add_token(const std::string& token, const std::string& user_id,
                             const std::string& project_id, std::vector<std::string> roles,
                             std::chrono::seconds life) {
  std::lock_guard lock(mutex_);
  tokens_[token] = {user_id, project_id, std::move(roles), std::chrono::system_clock::now() + life};
}

void FakeKeystone::revoke(const std::string& token) {
  std::lock_guard lock(mutex_);
  tokens_.erase(token);
}

void FakeKeystone::set_service_token_life(std::chrono::seconds life) {
  std::lock_guard lock(mutex_);
  service_life_ = life;
}

void FakeKeystone::revoke_service_tokens() {
  std::lock_guard lock(mutex_);
  service_tokens_.clear();
}

void FakeKeystone::set_silent(bool silent) {
  std::lock_guard lock(mutex_);
  silent_ = silent;
}

std::uint64_t FakeKeystone::validations() const {
  std::lock_guard lock(mutex_);
  return validations_;
}

std::uint64_t FakeKeystone::logins() const {
  std::lock_guard lock(mutex_);
  return logins_;
}

std::uint64_t FakeKeystone::handshakes() const {
  std::lock_guard lock(mutex_);
  return handshakes_;
}

std::string FakeKeystone::last_server_name() const {
  std::lock_guard lock(mutex_);
  return last_server_name_;
}

std::string FakeKeystone::last_host() const {
  std::lock_guard lock(mutex_);
  return last_host_;
}

void FakeKeystone::serve() {
  // Reads one request from `stream` (the socket, or TLS over it) and answers it.
  auto respond = [this](auto& stream) {
    boost::system::error_code ec;
    boost::beast::flat_buffer buffer;
    bhttp::request<bhttp::string_body> req;
    bhttp::read(stream, buffer, req, ec);
    if (ec) return;
    {
      std::lock_guard lock(mutex_);
      last_host_ = std::string(req[bhttp::field::host]);
    }
    const auto a = answer(std::string(req.method_string()), std::string(req.target()),
                          std::string(req["X-Auth-Token"]), std::string(req["X-Subject-Token"]),
                          req.body());
    bhttp::response<bhttp::string_body> res{static_cast<bhttp::status>(a.status), 11};
    res.set(bhttp::field::content_type, "application/json");
    if (!a.subject_token.empty()) res.set("X-Subject-Token", a.subject_token);
    res.keep_alive(false);
    res.body() = a.body;
    res.prepare_payload();
    bhttp::write(stream, res, ec);
  };
  while (true) {
    tcp::socket socket(impl_->ioc);
    boost::system::error_code ec;
    impl_->acceptor.accept(socket, ec);
    bool silent;
    {
      std::lock_guard lock(mutex_);
      if (stopping_) return;
      silent = silent_;
    }
    if (ec) continue;
    if (silent) {
      impl_->held.push_back(std::move(socket));
      continue;
    }
    if (!impl_->tls) {
      respond(socket);
    } else {
      boost::beast::ssl_stream<tcp::socket&> stream(socket, *impl_->tls);
      stream.handshake(ssl::stream_base::server, ec);
      if (ec) continue;  // the client refused the certificate, or did not speak TLS
      {
        std::lock_guard lock(mutex_);
        ++handshakes_;
        const char* name = SSL_get_servername(stream.native_handle(), TLSEXT_NAMETYPE_host_name);
        last_server_name_ = name ? name : "";
      }
      // The answer's length is in its header: no TLS close_notify, which would wait for the
      // client's.
      respond(stream);
    }
    socket.shutdown(tcp::socket::shutdown_both, ec);
  }
}

FakeKeystone::Answer FakeKeystone::answer(const std::string& method, const std::string& target,
                                          const std::string& auth_token,
                                          const std::string& subject_token,
                                          const std::string& body) {
  auto error = [](unsigned code, std::string_view message) {
    return Answer{code, "",
                  boost::json::serialize(boost::json::object{
                      {"error", {{"code", code}, {"message", message}, {"title", "Error"}}}})};
  };
  std::lock_guard lock(mutex_);
  const auto now = std::chrono::system_clock::now();
  if (target != "/v3/auth/tokens") return error(404, "The resource could not be found.");
  if (method == "POST") {
    ++logins_;
    boost::system::error_code ec;
    auto doc = boost::json::parse(body, ec);
    const auto* user = ec ? nullptr : doc.find_pointer("/auth/identity/password/user", ec);
    const auto* project = ec ? nullptr : doc.find_pointer("/auth/scope/project/name", ec);
    if (!user || !project || !user->is_object() ||
        user->as_object().at("name") != kServiceUser ||
        user->as_object().at("password") != kServicePassword ||
        user->at_pointer("/domain/name") != "Default" || *project != "service") {
      return error(401, "The request you have made requires authentication.");
    }
    const std::string token = fmt::format("service-token-{}", ++issued_);
    const auto expires = now + service_life_;
    service_tokens_[token] = expires;
    return Answer{201, token,
                  boost::json::serialize(boost::json::object{
                      {"token",
                       {{"expires_at", iso(expires)},
                        {"user", {{"id", "agate-user-id"}, {"name", kServiceUser}}},
                        {"project", {{"id", "service-project-id"}, {"name", "service"}}},
                        {"roles", boost::json::array{{{"id", "r1"}, {"name", "service"}}}}}}})};
  }
  if (method != "GET") return error(405, "The method is not allowed for the requested URL.");
  ++validations_;
  auto service = service_tokens_.find(auth_token);
  if (service == service_tokens_.end() || service->second <= now) {
    return error(401, "The request you have made requires authentication.");
  }
  auto t = tokens_.find(subject_token);
  if (t == tokens_.end() || t->second.expires_at <= now) {
    return error(404, fmt::format("Could not find token: {}.", subject_token));
  }
  boost::json::array roles;
  for (const auto& r : t->second.roles) roles.push_back({{"id", "id-" + r}, {"name", r}});
  boost::json::object token{{"expires_at", iso(t->second.expires_at)},
                            {"issued_at", iso(now)},
                            {"methods", boost::json::array{"password"}},
                            {"user", {{"id", t->second.user_id}, {"name", t->second.user_id}}},
                            {"roles", std::move(roles)}};
  if (!t->second.project_id.empty()) {
    token["project"] = {{"id", t->second.project_id}, {"name", t->second.project_id}};
  }
  return Answer{200, "", boost::json::serialize(boost::json::object{{"token", std::move(token)}})};
}

}  // namespace agate::testing
