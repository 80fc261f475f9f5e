#include "http/keystone_auth.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/json.hpp>
#include <boost/url/parse.hpp>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>
#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <fstream>
#include <sstream>
#include <list>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <unordered_map>
#include <vector>

namespace agate::http {

namespace {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace net = boost::asio;
namespace ssl = boost::asio::ssl;
using tcp = net::ip::tcp;
using SystemTime = std::chrono::system_clock::time_point;
using SteadyTime = std::chrono::steady_clock::time_point;

constexpr std::string_view kInvalidToken = "The request you have made requires authentication.";
constexpr std::string_view kUnavailable =
    "The identity service (Keystone) could not validate the token; the request was refused. Try "
    "again later.";

// Keystone's "2026-11-25T18:01:44.000000Z" (the fraction is optional; UTC). Returns nullopt if
// it is anything else.
std::optional<SystemTime> parse_expires_at(std::string_view text) {
  auto number = [&](std::size_t at, std::size_t len) -> std::optional<int> {
    if (at + len > text.size()) return std::nullopt;
    int v = 0;
    auto [p, ec] = std::from_chars(text.data() + at, text.data() + at + len, v);
    if (ec != std::errc() || p != text.data() + at + len) return std::nullopt;
    return v;
  };
  if (text.size() < 20 || text[4] != '-' || text[7] != '-' || text[10] != 'T' ||
      text[13] != ':' || text[16] != ':' || text.back() != 'Z') {
    return std::nullopt;
  }
  auto y = number(0, 4), mo = number(5, 2), d = number(8, 2), h = number(11, 2),
       mi = number(14, 2), s = number(17, 2);
  if (!y || !mo || !d || !h || !mi || !s) return std::nullopt;
  std::chrono::microseconds fraction{0};
  std::string_view rest = text.substr(19, text.size() - 20);
  if (!rest.empty()) {
    if (rest.front() != '.' || rest.size() < 2 || rest.size() > 10) return std::nullopt;
    rest.remove_prefix(1);
    auto digits = number(20, rest.size());
    if (!digits) return std::nullopt;
    long long micro = *digits;
    for (std::size_t i = rest.size(); i < 6; ++i) micro *= 10;
    for (std::size_t i = 6; i < rest.size(); ++i) micro /= 10;
    fraction = std::chrono::microseconds(micro);
  }
  const std::chrono::year_month_day date{std::chrono::year(*y), std::chrono::month(*mo),
                                         std::chrono::day(*d)};
  if (!date.ok() || *h > 23 || *mi > 59 || *s > 60) return std::nullopt;
  return std::chrono::sys_days(date) + std::chrono::hours(*h) + std::chrono::minutes(*mi) +
         std::chrono::seconds(*s) + fraction;
}

struct Endpoint {
  bool tls = false;  // https
  std::string host;  // a name, or an address without brackets
  std::string port;
  std::string host_header;  // host:port as the Host header has it ([address]:port for IPv6)
  std::string base;  // the path of the v3 endpoint, without a trailing slash
};

Endpoint parse_endpoint(const std::string& url) {
  auto u = boost::urls::parse_absolute_uri(url);
  if (!u) throw std::invalid_argument(fmt::format("keystone url \"{}\" is not a URL", url));
  if (u->scheme_id() != boost::urls::scheme::http && u->scheme_id() != boost::urls::scheme::https) {
    throw std::invalid_argument(
        fmt::format("keystone url \"{}\": the scheme must be https (or http)", url));
  }
  Endpoint e;
  e.tls = u->scheme_id() == boost::urls::scheme::https;
  e.host = u->host_address();
  if (e.host.empty()) throw std::invalid_argument(fmt::format("keystone url \"{}\": no host", url));
  e.port = u->has_port() ? std::string(u->port()) : e.tls ? "443" : "80";
  e.host_header = (u->host_type() == boost::urls::host_type::ipv6 ? "[" + e.host + "]" : e.host) +
                  ":" + e.port;
  e.base = u->path();
  while (!e.base.empty() && e.base.back() == '/') e.base.pop_back();
  return e;
}

bool is_ip_address(const std::string& host) {
  boost::system::error_code ec;
  net::ip::make_address(host, ec);
  return !ec;
}

// The TLS settings of every connection to `at`, made once: TLS 1.2 at least, the peer always
// verified against the system's CAs or, if `ca_file` is not empty, only the certificates in it,
// and the certificate checked for `at.host`. Returns nullopt for http://. Throws
// std::invalid_argument if `ca_file` cannot be read or holds no PEM certificate.
std::optional<ssl::context> make_tls_context(const Endpoint& at, const std::string& ca_file) {
  if (!at.tls) {
    if (!ca_file.empty()) {
      throw std::invalid_argument(fmt::format(
          "keystone ca_file \"{}\" is set but the url is not https://", ca_file));
    }
    return std::nullopt;
  }
  std::optional<ssl::context> ctx(std::in_place, ssl::context::tls_client);
  if (SSL_CTX_set_min_proto_version(ctx->native_handle(), TLS1_2_VERSION) != 1) {
    throw std::runtime_error("SSL_CTX_set_min_proto_version failed");
  }
  if (ca_file.empty()) {
    ctx->set_default_verify_paths();
  } else {
    std::ifstream in(ca_file, std::ios::binary);
    if (!in) {
      throw std::invalid_argument(fmt::format("keystone ca_file \"{}\" cannot be opened: {}",
                                              ca_file, std::strerror(errno)));
    }
    std::ostringstream pem;
    if (!(pem << in.rdbuf())) {  // a read error, a directory or an empty file
      throw std::invalid_argument(
          fmt::format("keystone ca_file \"{}\" is empty or cannot be read", ca_file));
    }
    boost::system::error_code ec;
    ctx->add_certificate_authority(net::buffer(pem.view()), ec);
    if (ec) {
      throw std::invalid_argument(fmt::format(
          "keystone ca_file \"{}\": not a file of PEM certificates ({})", ca_file, ec.message()));
    }
  }
  ctx->set_verify_mode(ssl::verify_peer);
  // host_name_verification only says no; the error set here is what the log reports for it.
  const int mismatch =
      is_ip_address(at.host) ? X509_V_ERR_IP_ADDRESS_MISMATCH : X509_V_ERR_HOSTNAME_MISMATCH;
  ctx->set_verify_callback([names = ssl::host_name_verification(at.host), mismatch](
                               bool preverified, ssl::verify_context& v) {
    if (names(preverified, v)) return true;
    if (preverified) X509_STORE_CTX_set_error(v.native_handle(), mismatch);
    return false;
  });
  return ctx;
}

struct HttpAnswer {
  unsigned status = 0;
  std::string subject_token;  // X-Subject-Token
  std::string body;
};

// One request on a new connection, over TLS with `tls` (https) or in clear without (http),
// bounded by `timeout` from start to end, the TLS handshake included. Returns the answer, or what
// failed.
// TODO(perf): keep connections to Keystone alive between validations.
boost::system::result<HttpAnswer, std::string> call(
    const Endpoint& at, ssl::context* tls, bhttp::verb method, const std::string& target,
    const std::vector<std::pair<std::string_view, std::string_view>>& headers,
    std::string body, std::chrono::milliseconds timeout) {
  net::io_context ioc;  // declared first: destroyed last, after everything that refers to it
  tcp::resolver resolver(ioc);
  beast::tcp_stream stream(ioc);
  std::optional<beast::ssl_stream<beast::tcp_stream&>> secure;  // over `stream`, for https
  if (tls) {
    secure.emplace(stream, *tls);
    // Server Name Indication names a host, never an address (RFC 6066, section 3).
    if (!is_ip_address(at.host) &&
        SSL_set_tlsext_host_name(secure->native_handle(), at.host.c_str()) != 1) {
      return std::string("TLS: the host name cannot be sent as SNI");
    }
  }
  beast::flat_buffer buffer;
  bhttp::response_parser<bhttp::string_body> parser;
  parser.body_limit(4u << 20);
  bhttp::request<bhttp::string_body> req{method, target, 11};
  req.set(bhttp::field::host, at.host_header);
  req.set(bhttp::field::user_agent, "agated");
  req.set(bhttp::field::accept, "application/json");
  for (const auto& [name, value] : headers) req.set(name, value);
  if (!body.empty()) {
    req.set(bhttp::field::content_type, "application/json");
    req.body() = std::move(body);
  }
  req.prepare_payload();

  std::optional<std::string> failure;
  bool done = false;
  auto fail = [&](std::string_view stage, const beast::error_code& ec) {
    failure = fmt::format("{}: {}", stage, ec == beast::error::timeout ? "timed out" : ec.message());
    if (secure) {
      // Why the certificate was refused ("unable to get local issuer certificate", "hostname
      // mismatch"…), which the handshake's error ("certificate verify failed") does not say.
      const long verified = SSL_get_verify_result(secure->native_handle());
      if (verified != X509_V_OK) {
        *failure += fmt::format(": {}", X509_verify_cert_error_string(verified));
      }
    }
    ioc.stop();
  };
  // Sends the request and reads the answer on `s`, the TCP stream or the TLS stream over it.
  // The answer is complete by its HTTP framing, so a TLS session is not shut down afterwards (a
  // body delimited by the end of the connection without TLS close_notify fails: stream_truncated).
  auto exchange = [&](auto& s) {
    bhttp::async_write(s, req, [&](beast::error_code ec, std::size_t) {
      if (ec) return fail("send", ec);
      bhttp::async_read(s, buffer, parser, [&](beast::error_code ec, std::size_t) {
        if (ec) return fail("receive", ec);
        done = true;
        ioc.stop();
      });
    });
  };
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  resolver.async_resolve(at.host, at.port, [&](beast::error_code ec,
                                               const tcp::resolver::results_type& results) {
    if (ec) return fail("resolve", ec);
    // Bounds everything from here on, the TLS handshake's reads and writes included.
    stream.expires_at(deadline);
    stream.async_connect(results, [&](beast::error_code ec, const tcp::endpoint&) {
      if (ec) return fail("connect", ec);
      if (!secure) return exchange(stream);
      secure->async_handshake(ssl::stream_base::client, [&](beast::error_code ec) {
        if (ec) return fail("TLS handshake", ec);
        exchange(*secure);
      });
    });
  });
  // The stream's own deadline ends a slow exchange; this bounds the name lookup too.
  ioc.run_for(timeout + std::chrono::milliseconds(100));
  if (failure) return *failure;
  if (!done) return std::string("timed out");
  auto res = parser.release();
  HttpAnswer answer;
  answer.status = res.result_int();
  answer.subject_token = std::string(res["X-Subject-Token"]);
  answer.body = std::move(res.body());
  return answer;
}

const boost::json::object* object_at(const boost::json::object& o, std::string_view key) {
  auto it = o.find(key);
  return it != o.end() ? it->value().if_object() : nullptr;
}

std::optional<std::string> string_at(const boost::json::object* o, std::string_view key) {
  if (!o) return std::nullopt;
  auto it = o->find(key);
  if (it == o->end() || !it->value().is_string()) return std::nullopt;
  return std::string(it->value().get_string());
}

class Keystone final : public KeystoneAuthenticator {
 public:
  explicit Keystone(KeystoneOptions options)
      : options_(std::move(options)),
        endpoint_(parse_endpoint(options_.url)),
        tls_(make_tls_context(endpoint_, options_.ca_file)),
        pool_(std::max(1u, options_.threads)) {
    if (options_.service_token.empty() &&
        (options_.user.empty() || options_.password.empty() || options_.project.empty())) {
      throw std::invalid_argument(
          "keystone: give the service's credentials (user, password and project) or a "
          "service_token");
    }
  }

  ~Keystone() override { pool_.join(); }

  AuthResult authenticate(std::string_view token) override {
    if (token.empty()) return AuthFailure{401, std::string(kInvalidToken)};
    if (auto hit = cached(token)) return *hit;
    auto v = validate(std::string(token));
    remember(std::string(token), v);
    return std::move(v.result);
  }

  void authenticate_async(std::string token, std::function<void(AuthResult)> done) override {
    if (token.empty()) return done(AuthFailure{401, std::string(kInvalidToken)});
    if (auto hit = cached(token)) return done(std::move(*hit));
    {
      std::lock_guard lock(mutex_);
      auto [it, first] = waiting_.try_emplace(token);
      it->second.push_back(std::move(done));
      if (!first) return;  // the validation already under way answers this one too
    }
    net::post(pool_, [this, token = std::move(token)] {
      Validation v = [&]() -> Validation {
        try {
          return validate(token);
        } catch (const std::exception& e) {
          spdlog::error("keystone: validating a token: {}", e.what());
          return {AuthFailure{503, std::string(kUnavailable)}, {}};
        }
      }();
      remember(token, v);
      const AuthResult& result = v.result;
      std::vector<std::function<void(AuthResult)>> callers;
      {
        std::lock_guard lock(mutex_);
        auto it = waiting_.find(token);
        callers = std::move(it->second);
        waiting_.erase(it);
      }
      for (auto& caller : callers) caller(result);
    });
  }

  KeystoneStats stats() const override {
    std::lock_guard lock(mutex_);
    return stats_;
  }

 private:
  // A validation's outcome, and until when the token is valid if it is.
  struct Validation {
    AuthResult result;
    SystemTime expires_at;
  };

  struct Entry {
    std::string token;
    Identity identity;
    SteadyTime fresh_until;
    SystemTime expires_at;
  };

  std::optional<AuthResult> cached(std::string_view token) {
    std::lock_guard lock(mutex_);
    auto it = index_.find(std::string(token));
    if (it == index_.end()) return std::nullopt;
    if (std::chrono::steady_clock::now() >= it->second->fresh_until ||
        std::chrono::system_clock::now() >= it->second->expires_at) {
      lru_.erase(it->second);
      index_.erase(it);
      return std::nullopt;
    }
    lru_.splice(lru_.begin(), lru_, it->second);
    ++stats_.cache_hits;
    return AuthResult(it->second->identity);
  }

  // Keeps a successful validation until the TTL or the token's expiry, whichever comes first.
  void remember(const std::string& token, const Validation& v) {
    if (!v.result || options_.cache_ttl.count() <= 0 || options_.cache_size == 0) return;
    std::lock_guard lock(mutex_);
    if (auto old = index_.find(token); old != index_.end()) {
      lru_.erase(old->second);
      index_.erase(old);
    }
    lru_.push_front(Entry{token, *v.result, std::chrono::steady_clock::now() + options_.cache_ttl,
                          v.expires_at});
    index_[token] = lru_.begin();
    while (lru_.size() > options_.cache_size) {
      index_.erase(lru_.back().token);
      lru_.pop_back();
    }
  }

  ssl::context* tls() { return tls_ ? &*tls_ : nullptr; }

  AuthResult unavailable(std::string_view what) {
    spdlog::warn("keystone at {}: {}; answering 503", options_.url, what);
    return AuthFailure{503, std::string(kUnavailable)};
  }

  // The service's token: the configured one, or one obtained with the service's credentials and
  // kept until shortly before it expires.
  // `refused` is a token Keystone has just refused: another one is needed.
  boost::system::result<std::string, AuthFailure> service_token(const std::string& refused) {
    if (!options_.service_token.empty()) return options_.service_token;
    std::lock_guard login(login_mutex_);  // one login at a time; the others reuse its token
    {
      std::lock_guard lock(mutex_);
      if (!service_token_.empty() && service_token_ != refused &&
          std::chrono::system_clock::now() < service_token_renew_at_) {
        return service_token_;
      }
    }
    boost::json::object auth{
        {"identity",
         {{"methods", boost::json::array{"password"}},
          {"password",
           {{"user",
             {{"name", options_.user},
              {"domain", {{"name", options_.user_domain}}},
              {"password", options_.password}}}}}}},
        {"scope",
         {{"project", {{"name", options_.project}, {"domain", {{"name", options_.project_domain}}}}}}}};
    {
      std::lock_guard lock(mutex_);
      ++stats_.service_logins;
    }
    auto answer = call(endpoint_, tls(), bhttp::verb::post, endpoint_.base + "/auth/tokens", {},
                       boost::json::serialize(boost::json::object{{"auth", std::move(auth)}}),
                       options_.timeout);
    if (!answer) return unavailable("logging in as the service: " + answer.error()).error();
    if (answer->status != 201 || answer->subject_token.empty()) {
      return unavailable(fmt::format("logging in as the service ({} in domain {}, project {}) "
                                     "was answered HTTP {}",
                                     options_.user, options_.user_domain, options_.project,
                                     answer->status))
          .error();
    }
    boost::system::error_code ec;
    auto doc = boost::json::parse(answer->body, ec);
    const auto* root = doc.if_object();
    const auto* token = root ? object_at(*root, "token") : nullptr;
    auto expires_at = string_at(token, "expires_at");
    const SystemTime expiry =
        expires_at ? parse_expires_at(*expires_at).value_or(SystemTime{}) : SystemTime{};
    const auto now = std::chrono::system_clock::now();
    if (ec || expiry <= now) {
      return unavailable("the service's token came without a valid expires_at").error();
    }
    // Renewed a minute before it expires, or half-way through a shorter life.
    auto renew_at = expiry - std::chrono::minutes(1);
    if (renew_at <= now) renew_at = now + (expiry - now) / 2;
    std::lock_guard lock(mutex_);
    service_token_ = answer->subject_token;
    service_token_renew_at_ = renew_at;
    return service_token_;
  }

  Validation validate(const std::string& token) {
    std::string refused, why;
    for (int attempt = 0; attempt < 2; ++attempt) {
      auto service = service_token(refused);
      if (!service) return {service.error(), {}};
      {
        std::lock_guard lock(mutex_);
        ++stats_.validations;
      }
      auto answer = call(endpoint_, tls(), bhttp::verb::get, endpoint_.base + "/auth/tokens",
                         {{"X-Auth-Token", *service}, {"X-Subject-Token", token}}, {},
                         options_.timeout);
      if (!answer) return {unavailable("validating a token: " + answer.error()), {}};
      if (answer->status == 404) return {AuthFailure{401, std::string(kInvalidToken)}, {}};
      if (answer->status == 401 || answer->status == 403) {
        // The service's own token was refused (expired, revoked, or lacking the right to
        // validate): log in again, once.
        why = fmt::format("the service's token was refused (HTTP {})", answer->status);
        refused = *service;
        if (!options_.service_token.empty()) break;
        continue;
      }
      if (answer->status != 200) {
        return {unavailable(fmt::format("validating a token was answered HTTP {}", answer->status)),
                {}};
      }
      return identity_of(answer->body);
    }
    return {unavailable(why), {}};
  }

  Validation identity_of(const std::string& body) {
    boost::system::error_code ec;
    auto doc = boost::json::parse(body, ec);
    const auto* root = doc.if_object();
    const auto* t = root ? object_at(*root, "token") : nullptr;
    if (ec || !t) return {unavailable("a token validation's answer has no token object"), {}};
    auto expires_at = string_at(t, "expires_at");
    auto expiry = expires_at ? parse_expires_at(*expires_at) : std::nullopt;
    auto user = string_at(object_at(*t, "user"), "id");
    if (!expiry || !user) {
      return {unavailable("a token validation's answer lacks expires_at or user"), {}};
    }
    if (*expiry <= std::chrono::system_clock::now()) {
      return {AuthFailure{401, std::string(kInvalidToken)}, {}};
    }
    auto project = string_at(object_at(*t, "project"), "id");
    if (!project) {
      return {AuthFailure{401, "The token is not scoped to a project: Agate needs a "
                               "project-scoped token."},
              {}};
    }
    Identity id;
    id.user_id = *user;
    id.project_id = *project;
    if (auto it = t->find("roles"); it != t->end() && it->value().is_array()) {
      for (const auto& r : it->value().get_array()) {
        if (auto name = r.is_object() ? string_at(&r.get_object(), "name") : std::nullopt) {
          id.roles.push_back(*name);
        }
      }
    }
    id.is_admin = std::find(id.roles.begin(), id.roles.end(), "admin") != id.roles.end();
    return {std::move(id), *expiry};
  }

  const KeystoneOptions options_;
  const Endpoint endpoint_;
  // https only. Shared by the validation threads: OpenSSL allows connections to be made from one
  // context on many threads at once, and nothing changes it after the constructor.
  std::optional<ssl::context> tls_;

  mutable std::mutex mutex_;  // guards everything below but login_mutex_ and pool_
  std::list<Entry> lru_;      // most recently used first
  std::unordered_map<std::string, std::list<Entry>::iterator> index_;
  std::unordered_map<std::string, std::vector<std::function<void(AuthResult)>>> waiting_;
  std::string service_token_;
  SystemTime service_token_renew_at_;
  KeystoneStats stats_;

  std::mutex login_mutex_;
  net::thread_pool pool_;  // last: joined first, while everything above still exists
};

}  // namespace

std::unique_ptr<KeystoneAuthenticator> make_keystone_authenticator(KeystoneOptions options) {
  return std::make_unique<Keystone>(std::move(options));
}

}  // namespace agate::http
