#pragma once

// The REST API's plumbing: what a handler sees (ApiRequest), how it answers (Respond), the
// router, microversions, and Manila's error bodies. Handlers live in routes_*.cc.

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/json/value.hpp>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/model.h"
#include "engine/writer.h"
#include "events/event_log.h"
#include "events/lmdb.h"
#include "http/auth.h"
#include "http/position_waiter.h"
#include "http/read_cache.h"
#include "projections/store.h"

namespace agate::http {

using Request = boost::beast::http::request<boost::beast::http::string_body>;
using Response = boost::beast::http::response<boost::beast::http::string_body>;
using Verb = boost::beast::http::verb;

// The microversions served. Claimed only where every behaviour up to the maximum holds.
inline constexpr engine::ApiVersion kMinVersion{2, 0};
inline constexpr engine::ApiVersion kMaxVersion{2, 99};

std::string to_string(engine::ApiVersion v);

// What request handlers use. Owned by the caller; must outlive every request.
// Where a piece of work runs: it is handed `work` and runs it there, now or later.
using Runner = std::function<void(std::function<void()> work)>;

// Runs `work` through `where`, or right here if `where` is empty.
inline void run_on(const Runner& where, std::function<void()> work) {
  if (where) {
    where(std::move(work));
  } else {
    work();
  }
}

struct Services {
  lmdb::Env& env;
  const events::EventLog& log;
  const projections::Store& store;
  engine::Writer& writer;
  Authenticator& auth;
  // The desired version of the driver call in flight for a share instance, if any (the
  // dispatcher's); rules being applied or denied show as "applying" / "denying". May be empty.
  std::function<std::optional<std::uint64_t>(const std::string& instance_id)> in_flight = {};
  // Grows whenever what in_flight answers may have changed (the dispatcher's). With in_flight
  // set and this empty, answers that show rule states are never cached.
  std::function<std::uint64_t()> flight_generation = {};
  // Rendered answers of the heavy reads, reused for the same snapshot. Null: none are kept.
  ReadCache* read_cache = nullptr;
  // Runs the rest of a write request once the writer has answered it (its response built,
  // reading the projections, and sent) somewhere other than the writer's thread, which would
  // otherwise do it before starting its next transaction. The server sets it to post to its
  // I/O threads. Empty: on the writer's thread.
  Runner defer = {};
  // Runs the reads that scan the event log (the audit queries, up to about a second on a large
  // log) away from the I/O threads, which would serve nothing else meanwhile. The server gives
  // them a thread of their own. Empty: on the thread that received the request.
  Runner slow_reads = {};
  // Where requests carrying X-Agate-Min-Position wait for this node to apply it, for at most
  // min_position_wait (then 503). Null: a position not yet applied is a 503 at once.
  PositionWaiter* positions = nullptr;
  std::chrono::milliseconds min_position_wait{5000};
};

// The headers of the consistency contract (docs/api/README.md): every answer names the log
// position it stands at; a request may ask to be answered only once that node has applied one.
inline constexpr std::string_view kPositionHeader = "X-Agate-Position";
inline constexpr std::string_view kMinPositionHeader = "X-Agate-Min-Position";

// Where a request's answer stands in the log: set by the handler's read snapshot or by the
// writer's outcome, and sent in X-Agate-Position. Shared by the copies of a request.
struct AnswerPosition {
  std::optional<std::uint64_t> value;
};

// A request after routing, authentication and version negotiation.
struct ApiRequest {
  const Request& raw;
  std::string path;                                 // decoded, without the query
  std::multimap<std::string, std::string> query;    // decoded
  std::vector<std::string> params;                  // the path's {placeholders}, in order
  engine::Context context;                          // who asks, at which version
  std::string request_id;                           // req-<uuid>, also in context
  bool versioned = false;                           // under /v2: echo the version headers
  std::shared_ptr<AnswerPosition> position = std::make_shared<AnswerPosition>();

  const engine::ApiVersion& version() const { return context.version; }
  // The query parameter's value, if given (the last one if repeated).
  std::optional<std::string> query_value(std::string_view key) const;
};

// An integer query parameter ("+5" and surrounding spaces accepted, as Python's int()); nullopt
// if it is not one.
std::optional<std::int64_t> parse_query_int(std::string_view text);
// A log position as X-Agate-Position (and an ETag, in its quotes) writes it: decimal digits
// only, within 64 bits; nullopt if it is not one.
std::optional<std::uint64_t> parse_position(std::string_view text);

// Answers a request exactly once, from any thread.
using Respond = std::function<void(Response)>;
using Handler = std::function<void(Services&, const ApiRequest&, Respond)>;

// `text` with every byte that is not part of a well-formed UTF-8 sequence replaced by U+FFFD, so
// that text taken from a request (a percent-decoded id, a header) can go into a JSON answer:
// Boost.JSON writes strings' bytes as they are.
std::string valid_utf8(std::string_view text);
// "http://" and the request's Host (valid UTF-8; "localhost" if absent), for links.
std::string host_url(const Request& request);

// Builders of responses; each sets the common headers later, in finish().
Response json_response(const ApiRequest& req, unsigned status, const boost::json::value& body);
Response empty_response(const ApiRequest& req, unsigned status);
// A 200 whose body is JSON already serialized.
Response json_text_response(const ApiRequest& req, std::string body);
// A 200 with the JSON `render()` gives, read in `txn`; the answer is rendered only if the read
// cache holds none under `key` for the snapshot `txn` sees. `key` must name everything the
// answer depends on besides that snapshot (the resource, the microversion, filters).
Response cached_json_response(Services& services, const ApiRequest& req, const lmdb::Txn& txn,
                              std::string key,
                              const std::function<boost::json::value()>& render);
// Manila's error body {"<faultName>": {"code": N, "message": "…"}}.
Response error_response(const ApiRequest& req, unsigned status, std::string_view message);
// The answer to bytes the HTTP parser refused before there was a request to route (too large,
// malformed): Manila's error body, a new request id in the usual headers, the connection to be
// closed, and an access-log line like every other answer's.
Response refused_request(unsigned status, std::string_view message, std::string_view peer);

// webob's text for a bare 400, which Manila gives for bodies it cannot use at all.
inline constexpr std::string_view kCouldNotComply =
    "The server could not comply with the request since it is either malformed or otherwise "
    "incorrect.";
// Manila's message for a 500: the server failed, not the request.
inline constexpr std::string_view kServerError =
    "The server has either erred or is incapable of performing the requested operation.";
Response error_response(unsigned status, std::string_view message, unsigned http_version,
                        bool keep_alive);
// The status Manila gives a rejection of this kind.
unsigned status_of(engine::errc code);
Response rejection_response(const ApiRequest& req, const engine::Rejection& r);

// A read transaction for answering `req`: the log position it sees becomes the answer's
// X-Agate-Position (the first snapshot's, if a handler takes several).
lmdb::Txn begin_read(Services& services, const ApiRequest& req);

// Submits `command` to the writer and answers with `on_accepted(events)` or the rejection; the
// answer's X-Agate-Position is the outcome's (Writer::submit_positioned).
void submit(Services& services, const ApiRequest& req, engine::Command command,
            std::function<Response(const std::vector<events::Event>&)> on_accepted,
            Respond respond);

// A route: a method, a path pattern relative to /v2 (segments; "{}" matches one segment), the
// versions it exists at, and its handler.
struct Route {
  Verb method;
  std::string pattern;
  Handler handler;
  engine::ApiVersion min = kMinVersion;
  engine::ApiVersion max = kMaxVersion;
  // A reader (read-only role) may call it even though it is not a GET: the handler then refuses
  // readers itself for whatever in it changes something (the share actions).
  bool readers_allowed = false;
};

// The routes of each area (routes_*.cc); handle_request puts them together. Version discovery
// and /healthz are answered before routing.
void add_share_type_routes(std::vector<Route>& routes);
void add_share_routes(std::vector<Route>& routes);
void add_share_action_routes(std::vector<Route>& routes);
void add_access_rule_routes(std::vector<Route>& routes);
void add_access_group_routes(std::vector<Route>& routes);
// /resource-locks (2.81).
void add_resource_lock_routes(std::vector<Route>& routes);
// The audit endpoints (administrators); also adds `at` and `seq` to shares/{}/effective-access,
// so it comes after add_share_action_routes.
void add_audit_routes(std::vector<Route>& routes);

// Every route handle_request knows, in the order they are matched (tests walk them all).
const std::vector<Route>& all_routes();

// Answers one request. Pure with respect to sockets: tests call it directly. `respond` is called
// exactly once, possibly on another thread (the writer's, or the authenticator's while a token
// is validated); `request` must stay valid until then. Never throws.
void handle_request(Services& services, const Request& request, Respond respond);
// The same, waiting for the answer (tests, tools).
Response handle_request_sync(Services& services, const Request& request);

}  // namespace agate::http
