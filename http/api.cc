#include "http/api.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <boost/json.hpp>
#include <boost/url/parse.hpp>
#include <boost/uuid/random_generator.hpp>
#include <boost/uuid/uuid_io.hpp>
#include <cctype>
#include <charconv>
#include <chrono>
#include <future>
#include <regex>
#include <set>

namespace agate::http {

namespace bhttp = boost::beast::http;

std::string to_string(engine::ApiVersion v) { return fmt::format("{}.{}", v.major, v.minor); }

std::optional<std::int64_t> parse_query_int(std::string_view text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) text.remove_prefix(1);
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.remove_suffix(1);
  if (!text.empty() && text.front() == '+') text.remove_prefix(1);
  std::int64_t n = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (text.empty() || ec != std::errc() || ptr != text.data() + text.size()) return std::nullopt;
  return n;
}

std::optional<std::string> ApiRequest::query_value(std::string_view key) const {
  auto [first, last] = query.equal_range(std::string(key));
  if (first == last) return std::nullopt;
  return std::prev(last)->second;
}

namespace {

constexpr std::string_view kVersionHeader = "X-OpenStack-Manila-API-Version";
constexpr std::string_view kNotFound = "The resource could not be found.";

// The first segment after /v2 that names a collection rather than a project id.
const std::set<std::string, std::less<>> kCollections = {
    "shares", "types", "access-groups", "share-access-rules", "share-replicas", "audit",
    "resource-locks"};

std::string new_request_id() {
  thread_local boost::uuids::random_generator generate;
  return "req-" + boost::uuids::to_string(generate());
}

std::string_view fault_name(unsigned status) {
  switch (status) {
    case 400: return "badRequest";
    case 401: return "unauthorized";
    case 403: return "forbidden";
    case 404: return "itemNotFound";
    case 405: return "badMethod";
    case 409: return "conflictingRequest";
    case 413: return "overLimit";
    case 415: return "badMediaType";
    case 501: return "notImplemented";
    case 503: return "serviceUnavailable";
    default: return "computeFault";
  }
}

Response make_json(unsigned status, const boost::json::value& body, unsigned version,
                   bool keep_alive) {
  Response res{static_cast<bhttp::status>(status), version};
  res.set(bhttp::field::content_type, "application/json");
  res.keep_alive(keep_alive);
  res.body() = boost::json::serialize(body);
  res.prepare_payload();
  return res;
}

// Parses "2.45"; Manila's format is ^([1-9]\d*)\.([1-9]\d*|0)$.
std::optional<engine::ApiVersion> parse_version(std::string_view text) {
  static const std::regex pattern("^([1-9][0-9]{0,8})\\.([1-9][0-9]{0,8}|0)$");
  std::match_results<std::string_view::const_iterator> m;
  if (!std::regex_match(text.begin(), text.end(), m, pattern)) return std::nullopt;
  engine::ApiVersion v;
  std::from_chars(&*m[1].first, &*m[1].first + m[1].length(), v.major);
  std::from_chars(&*m[2].first, &*m[2].first + m[2].length(), v.minor);
  return v;
}

// Manila's version document (api/versions.py at 2.99's time): only v2.0, v1 having been removed.
boost::json::value versions_document(const std::string& base) {
  auto links = boost::json::array{
      boost::json::object{{"rel", "describedby"}, {"type", "text/html"},
                          {"href", "http://docs.openstack.org/"}},
      boost::json::object{{"rel", "self"}, {"href", base + "/v2/"}}};
  boost::json::array versions{boost::json::object{
      {"id", "v2.0"}, {"status", "CURRENT"}, {"version", to_string(kMaxVersion)},
      {"min_version", to_string(kMinVersion)}, {"updated", "2015-08-27T11:33:21Z"},
      {"links", std::move(links)},
      {"media-types", boost::json::array{boost::json::object{
                          {"base", "application/json"},
                          {"type", "application/vnd.openstack.share+json;version=1"}}}}}};
  return boost::json::object{{"versions", std::move(versions)}};
}

const std::vector<Route>& routes() {
  static const std::vector<Route> table = [] {
    std::vector<Route> r;
    add_share_type_routes(r);
    add_share_routes(r);
    add_share_action_routes(r);
    add_access_rule_routes(r);
    add_access_group_routes(r);
    add_resource_lock_routes(r);
    add_audit_routes(r);
    return r;
  }();
  return table;
}

// Splits a pattern such as "shares/{}/action" into segments.
std::vector<std::string_view> split(std::string_view pattern) {
  std::vector<std::string_view> out;
  while (!pattern.empty()) {
    const auto slash = pattern.find('/');
    out.push_back(pattern.substr(0, slash));
    if (slash == std::string_view::npos) break;
    pattern.remove_prefix(slash + 1);
  }
  return out;
}

bool matches(const Route& route, const std::vector<std::string>& segments,
             std::vector<std::string>& params) {
  const auto parts = split(route.pattern);
  if (parts.size() != segments.size()) return false;
  params.clear();
  for (std::size_t i = 0; i < parts.size(); ++i) {
    if (parts[i] == "{}") {
      if (segments[i].empty()) return false;
      params.push_back(segments[i]);
    } else if (parts[i] != segments[i]) {
      return false;
    }
  }
  return true;
}

void healthz(Services& services, const ApiRequest& req, Respond respond) {
  auto txn = begin_read(services, req);
  const auto last = services.log.last(txn);
  const auto outbox = services.store.outbox(txn, 1000).size();
  txn.abort();
  const auto stats = services.writer.stats();
  boost::json::object body{
      {"status", "ok"},
      {"log",
       {{"path", services.env.path().string()},
        {"last_seq", last.value},
        {"map_size", services.env.map_size()},
        {"used_bytes", services.env.used_bytes()}}},
      {"writer", {{"batches", stats.batches}, {"commands", stats.commands}}},
      {"outbox", outbox}};
  respond(json_response(req, 200, body));
}

// The position this node has applied: the waiter's (what it has been told), else the log's.
std::uint64_t applied_position(Services& services) {
  if (services.positions) return services.positions->applied();
  auto txn = lmdb::Txn::begin_read(services.env);
  return services.log.last(txn).value;
}

Response position_not_reached(Services& services, const ApiRequest& req, std::uint64_t wanted,
                              std::uint64_t applied) {
  const auto waited = services.positions ? services.min_position_wait.count() : 0;
  return error_response(
      req, 503,
      fmt::format("This node has applied the log up to position {}; the request asks for "
                  "position {} or later, which did not arrive within {} ms. Try again, or ask "
                  "another node.",
                  applied, wanted, waited));
}

// The rest of handle_request once the token is known: tenancy of the URL, roles, routing.
void route_authenticated(Services& services, ApiRequest req, const std::vector<std::string>& rest,
                         const std::optional<std::string>& url_project, AuthResult identity,
                         const Respond& respond) {
  const bool read_method = req.raw.method() == Verb::get || req.raw.method() == Verb::head;
  if (!identity) {
    return respond(error_response(req, identity.error().status, identity.error().message));
  }
  if (url_project && *url_project != identity->project_id) {
    return respond(error_response(req, 400, "Malformed request url"));
  }
  if (!has_known_role(*identity)) {
    return respond(error_response(
        req, 403,
        fmt::format("Policy doesn't allow {} {} to be performed: the token holds none of the "
                    "roles admin, member and reader.",
                    req.raw.method_string(), req.path)));
  }
  req.context.project_id = identity->project_id;
  req.context.user_id = identity->user_id;
  req.context.is_admin = identity->is_admin;
  req.context.is_reader = !identity->is_admin &&
                          std::find(identity->roles.begin(), identity->roles.end(), "member") ==
                              identity->roles.end();

  const Route* found = nullptr;
  bool path_exists = false, method_exists = false;
  std::vector<std::string> params;
  for (const auto& route : routes()) {
    if (!matches(route, rest, params)) continue;
    path_exists = true;
    if (route.method != req.raw.method() &&
        !(req.raw.method() == Verb::head && route.method == Verb::get)) {
      continue;
    }
    method_exists = true;
    if (req.version() < route.min || route.max < req.version()) continue;
    found = &route;
    break;
  }
  if (!path_exists) return respond(error_response(req, 404, kNotFound));
  if (!method_exists) {
    return respond(error_response(req, 405, "The method is not allowed for the requested URL."));
  }
  if (!found) return respond(error_response(req, 404, kNotFound));
  matches(*found, rest, params);
  req.params = std::move(params);
  if (req.context.is_reader && !read_method && !found->readers_allowed) {
    return respond(error_response(
        req, 403, fmt::format("Policy doesn't allow {} {} to be performed by a reader.",
                              req.raw.method_string(), req.path)));
  }
  // X-Agate-Min-Position: answered only once this node has applied that position.
  std::optional<std::uint64_t> min_position;
  if (auto header = req.raw.find(kMinPositionHeader); header != req.raw.end()) {
    min_position = parse_position(header->value());
    if (!min_position) {
      return respond(error_response(
          req, 400,
          fmt::format("{} must be a log position (a whole number, as X-Agate-Position gives "
                      "it), not '{}'.",
                      kMinPositionHeader, header->value())));
    }
  }
  const std::uint64_t applied = applied_position(services);
  if (!min_position || *min_position <= applied) return found->handler(services, req, respond);
  if (!services.positions || services.min_position_wait.count() <= 0) {
    return respond(position_not_reached(services, req, *min_position, applied));
  }
  // The request is kept until the wait ends; the handler then runs where the server hands on
  // work (never on the writer's thread, which ends most waits).
  auto kept = std::make_shared<ApiRequest>(std::move(req));
  const auto wanted = *min_position;
  services.positions->wait(
      wanted, PositionWaiter::Clock::now() + services.min_position_wait,
      [&services, kept, found, respond, wanted](bool reached, std::uint64_t now_applied) {
        run_on(services.defer, [&services, kept, found, respond, wanted, reached, now_applied] {
          if (!reached) return respond(position_not_reached(services, *kept, wanted, now_applied));
          try {
            found->handler(services, *kept, respond);
          } catch (const std::exception& e) {
            spdlog::error("{} {} {}: {}", kept->request_id, kept->raw.method_string(),
                          kept->raw.target(), e.what());
            respond(error_response(*kept, 500, kServerError));
          }
        });
      });
}

}  // namespace

const std::vector<Route>& all_routes() { return routes(); }

std::string valid_utf8(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  const auto* p = reinterpret_cast<const unsigned char*>(text.data());
  const auto* end = p + text.size();
  while (p < end) {
    const unsigned c = *p;
    std::size_t n = 0;
    unsigned lo = 0x80, hi = 0xbf;  // the range of the second byte (RFC 3629's table)
    if (c < 0x80) n = 1;
    else if (c >= 0xc2 && c <= 0xdf) n = 2;
    else if (c == 0xe0) n = 3, lo = 0xa0;
    else if (c == 0xed) n = 3, hi = 0x9f;
    else if (c >= 0xe1 && c <= 0xef) n = 3;
    else if (c == 0xf0) n = 4, lo = 0x90;
    else if (c == 0xf4) n = 4, hi = 0x8f;
    else if (c >= 0xf1 && c <= 0xf3) n = 4;
    bool ok = n != 0 && static_cast<std::size_t>(end - p) >= n;
    for (std::size_t i = 1; ok && i < n; ++i) {
      ok = i == 1 ? (p[i] >= lo && p[i] <= hi) : (p[i] >= 0x80 && p[i] <= 0xbf);
    }
    if (ok) {
      out.append(reinterpret_cast<const char*>(p), n);
      p += n;
    } else {
      out += "\xef\xbf\xbd";
      ++p;
    }
  }
  return out;
}

std::string host_url(const Request& request) {
  const std::string_view host = request[bhttp::field::host];
  return "http://" + (host.empty() ? std::string("localhost") : valid_utf8(host));
}

// ---- responses ------------------------------------------------------------------------------

Response json_response(const ApiRequest& req, unsigned status, const boost::json::value& body) {
  return make_json(status, body, req.raw.version(), req.raw.keep_alive());
}

Response json_text_response(const ApiRequest& req, std::string body) {
  Response res{bhttp::status::ok, req.raw.version()};
  res.set(bhttp::field::content_type, "application/json");
  res.keep_alive(req.raw.keep_alive());
  res.body() = std::move(body);
  res.prepare_payload();
  return res;
}

Response cached_json_response(Services& services, const ApiRequest& req, const lmdb::Txn& txn,
                              std::string key,
                              const std::function<boost::json::value()>& render) {
  const bool cacheable =
      services.read_cache != nullptr && (!services.in_flight || services.flight_generation);
  if (!cacheable) return json_response(req, 200, render());
  // The generation is read before anything of the calls in flight is: an answer stored under it
  // can only be newer than it, never older.
  const Snapshot at{services.log.last(txn).value,
                    services.flight_generation ? services.flight_generation() : 0};
  key += '\x1f';
  key += to_string(req.version());
  if (auto body = services.read_cache->find(key, at)) {
    return json_text_response(req, std::move(*body));
  }
  std::string body = boost::json::serialize(render());
  services.read_cache->put(key, at, body);
  return json_text_response(req, std::move(body));
}

Response empty_response(const ApiRequest& req, unsigned status) {
  Response res{static_cast<bhttp::status>(status), req.raw.version()};
  res.keep_alive(req.raw.keep_alive());
  res.prepare_payload();
  return res;
}

Response error_response(unsigned status, std::string_view message, unsigned http_version,
                        bool keep_alive) {
  boost::json::object body{
      {fault_name(status),
       boost::json::object{{"code", status}, {"message", valid_utf8(message)}}}};
  return make_json(status, body, http_version, keep_alive);
}

Response error_response(const ApiRequest& req, unsigned status, std::string_view message) {
  return error_response(status, message, req.raw.version(), req.raw.keep_alive());
}

Response refused_request(unsigned status, std::string_view message, std::string_view peer) {
  const std::string request_id = new_request_id();
  auto res = error_response(status, message, 11, false);
  res.set("x-compute-request-id", request_id);
  res.set("x-openstack-request-id", request_id);
  spdlog::info("- (refused by the HTTP parser from {}) {} {}: {}", peer, status, request_id,
               message);
  return res;
}

unsigned status_of(engine::errc code) {
  switch (code) {
    case engine::errc::bad_request: return 400;
    case engine::errc::forbidden: return 403;
    case engine::errc::not_found: return 404;
    case engine::errc::conflict: return 409;
    case engine::errc::precondition_failed: return 412;  // Manila's fault name: computeFault
    case engine::errc::over_limit: return 413;
    case engine::errc::out_of_space: return 507;
    case engine::errc::unavailable: return 503;
  }
  return 500;
}

Response rejection_response(const ApiRequest& req, const engine::Rejection& r) {
  return error_response(req, status_of(r.code), r.message);
}

std::optional<std::uint64_t> parse_position(std::string_view text) {
  if (text.empty() || text.size() > 20) return std::nullopt;
  std::uint64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

lmdb::Txn begin_read(Services& services, const ApiRequest& req) {
  auto txn = lmdb::Txn::begin_read(services.env);
  if (!req.position->value) req.position->value = services.log.last(txn).value;
  return txn;
}

void submit(Services& services, const ApiRequest& req, engine::Command command,
            std::function<Response(const std::vector<events::Event>&)> on_accepted,
            Respond respond) {
  // `req` does not outlive this call: the callback keeps copies of what it needs.
  auto reply_to = std::make_shared<ApiRequest>(req);
  services.writer.submit_positioned(
      req.context, std::move(command),
      [defer = services.defer, reply_to, on_accepted = std::move(on_accepted),
       respond = std::move(respond)](engine::Outcome outcome, events::Seq position) mutable {
        // The answer stands where the outcome does (handed on with it to `defer`).
        if (position.value > 0) reply_to->position->value = position.value;
        auto answer = [reply_to, on_accepted = std::move(on_accepted),
                       respond = std::move(respond), outcome = std::move(outcome)] {
          if (!outcome) {
            respond(rejection_response(*reply_to, outcome.error()));
            return;
          }
          try {
            respond(on_accepted(outcome->events));
          } catch (const std::exception& e) {
            spdlog::error("{}: building the response: {}", reply_to->request_id, e.what());
            respond(error_response(*reply_to, 500, kServerError));
          }
        };
        run_on(defer, std::move(answer));
      });
}

// ---- dispatch -------------------------------------------------------------------------------

void handle_request(Services& services, const Request& raw, Respond respond) {
  const auto started = std::chrono::steady_clock::now();
  const std::string request_id = new_request_id();
  const std::string method(raw.method_string());
  const std::string target(raw.target());

  // Every answer leaves through here: common headers, the access log.
  auto versioned = std::make_shared<std::optional<engine::ApiVersion>>();
  auto position = std::make_shared<AnswerPosition>();
  const bool is_head = raw.method() == Verb::head;
  // Captures only small values: the request itself stays with the caller.
  auto finish = [&services, request_id, method, target, started, versioned, position, is_head,
                 respond = std::move(respond)](Response res) {
    res.set("x-compute-request-id", request_id);
    res.set("x-openstack-request-id", request_id);
    // An answer that read nothing and wrote nothing (an error before either) stands where the
    // log is now.
    if (!position->value) {
      try {
        auto txn = lmdb::Txn::begin_read(services.env);
        position->value = services.log.last(txn).value;
      } catch (const std::exception& e) {
        spdlog::warn("{}: reading the log position for the answer: {}", request_id, e.what());
      }
    }
    if (position->value) res.set(kPositionHeader, std::to_string(*position->value));
    if (versioned->has_value()) {
      res.set(kVersionHeader, to_string(**versioned));
      res.set(bhttp::field::vary, kVersionHeader);
    }
    if (is_head) {
      const auto length = res.body().size();
      res.body().clear();
      res.content_length(length);
    }
    const double ms = std::chrono::duration<double, std::milli>(
                          std::chrono::steady_clock::now() - started)
                          .count();
    spdlog::info("{} {} {} {:.1f}ms {}", method, target, res.result_int(), ms, request_id);
    respond(std::move(res));
  };

  try {
    auto url = boost::urls::parse_origin_form(target);
    if (!url) {
      finish(error_response(400, "Malformed request URL.", raw.version(), raw.keep_alive()));
      return;
    }
    std::vector<std::string> segments;
    for (auto s : url->segments()) segments.push_back(s);
    if (!segments.empty() && segments.back().empty()) segments.pop_back();  // trailing slash

    ApiRequest req{raw, url->path(), {}, {}, {}, request_id, false, position};
    for (auto p : url->params()) req.query.emplace(p.key, p.has_value ? p.value : "");
    req.context.request_id = request_id;

    const bool read_method = raw.method() == Verb::get || raw.method() == Verb::head;
    if (segments.size() == 1 && segments[0] == "healthz") {
      if (!read_method) {
        auto res = error_response(req, 405, "The method is not allowed for the requested URL.");
        res.set(bhttp::field::allow, "GET, HEAD");
        return finish(std::move(res));
      }
      return healthz(services, req, finish);
    }
    const std::string base = host_url(raw);
    if (segments.empty()) {
      if (!read_method) return finish(error_response(req, 405, "The method is not allowed for the requested URL."));
      return finish(json_response(req, 300, versions_document(base)));
    }
    if (segments[0] != "v2") return finish(error_response(req, 404, kNotFound));

    // Microversion: only under /v2; absent means 2.0.
    engine::ApiVersion version = kMinVersion;
    if (auto header = raw.find(kVersionHeader); header != raw.end()) {
      const std::string_view text = header->value();
      auto parsed = parse_version(text);
      if (!parsed) {
        return finish(error_response(
            req, 400,
            fmt::format("API Version String {} is of invalid format. Must be of format "
                        "MajorNum.MinorNum.",
                        text)));
      }
      if (*parsed < kMinVersion || kMaxVersion < *parsed) {
        *versioned = *parsed;
        return finish(error_response(
            req, 406,
            fmt::format("Version {} is not supported by the API. Minimum is {} and maximum is {}.",
                        text, to_string(kMinVersion), to_string(kMaxVersion))));
      }
      version = *parsed;
    }
    *versioned = version;
    req.context.version = version;
    req.versioned = true;

    if (segments.size() == 1) {
      if (!read_method) return finish(error_response(req, 405, "The method is not allowed for the requested URL."));
      return finish(json_response(req, 200, versions_document(base)));
    }

    // /v2/{project_id}/… or /v2/…
    std::optional<std::string> url_project;
    std::vector<std::string> rest(segments.begin() + 1, segments.end());
    if (!kCollections.contains(rest[0])) {
      url_project = rest[0];
      rest.erase(rest.begin());
    }

    // Routing before authentication would tell strangers which paths exist; Manila
    // authenticates first too. The answer may come later on the authenticator's thread (a
    // Keystone validation); `raw` outlives the request by Respond's contract.
    //
    // A request may also carry an X-Service-Token (a service acting for the user, as Nova does
    // with Manila): it is validated by the same authenticator, and makes the request a service's
    // only if valid and holding the "service" role. An invalid one is refused as an invalid
    // user token is (keystonemiddleware's 401).
    auto routed = [&services, req = std::move(req), rest = std::move(rest),
                   url_project = std::move(url_project),
                   finish](AuthResult identity, std::optional<AuthResult> service) mutable {
      try {
        if (service) {
          if (!*service) {
            return finish(
                error_response(req, service->error().status, service->error().message));
          }
          const auto& roles = service->value().roles;
          req.context.is_service = std::find(roles.begin(), roles.end(), "service") != roles.end();
        }
        route_authenticated(services, req, rest, url_project, std::move(identity), finish);
      } catch (const std::exception& e) {
        spdlog::error("{} {} {}: {}", req.request_id, req.raw.method_string(), req.raw.target(),
                      e.what());
        finish(error_response(req, 500, kServerError));
      }
    };
    std::string service_token(raw["X-Service-Token"]);
    services.auth.authenticate_async(
        std::string(raw["X-Auth-Token"]),
        [&services, routed = std::move(routed),
         service_token = std::move(service_token)](AuthResult identity) mutable {
          if (service_token.empty()) return routed(std::move(identity), std::nullopt);
          services.auth.authenticate_async(
              std::move(service_token),
              [routed = std::move(routed),
               identity = std::move(identity)](AuthResult service) mutable {
                routed(std::move(identity), std::move(service));
              });
        });
  } catch (const std::exception& e) {
    spdlog::error("{} {} {}: {}", request_id, method, target, e.what());
    finish(error_response(500, kServerError, raw.version(), raw.keep_alive()));
  }
}

Response handle_request_sync(Services& services, const Request& request) {
  std::promise<Response> promise;
  auto future = promise.get_future();
  handle_request(services, request, [&promise](Response r) { promise.set_value(std::move(r)); });
  return future.get();
}

}  // namespace agate::http
