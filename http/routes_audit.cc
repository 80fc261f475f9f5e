// The audit endpoints, for administrators: a share's access as the event log tells it.
//
//   GET /v2/{project_id}/shares/{id}/effective-access?at=TIME | ?seq=N   the effective rules then
//   GET /v2/{project_id}/shares/{id}/access-history[?since=TIME][&until=TIME]
//   GET /v2/{project_id}/audit/who-had-access?access_to=X&from=TIME&to=TIME
//                                              [&access_type=T][&share_id=S][&containing=1]
//
// Without `at` or `seq`, effective-access is the live view of routes_access.cc, for everyone who
// may see the share; this file wraps that route rather than adding a second one for the path.
// Answers are folds of the log (projections/audit.h) in one read transaction: a query scans the
// log once, about half a second for a million events, through Services::slow_reads (a thread of
// the server's own), so that the I/O threads go on serving meanwhile.

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <charconv>

#include "http/api.h"
#include "http/audit_views.h"

namespace agate::http {

namespace {

namespace audit = projections::audit;

bool admin_only(const ApiRequest& req, std::string_view action, const Respond& respond) {
  if (req.context.is_admin) return true;
  // Manila's policy refusal.
  respond(
      error_response(req, 403, fmt::format("Policy doesn't allow {} to be performed.", action)));
  return false;
}

// A time query parameter; `bad` is set (and nullopt returned) when it is given but malformed.
std::optional<std::int64_t> time_param(const ApiRequest& req, std::string_view name,
                                       std::optional<std::string>& bad) {
  auto text = req.query_value(name);
  if (!text) return std::nullopt;
  auto t = audit::parse_time(*text);
  if (!t) {
    bad = fmt::format(
        "Invalid value for '{}': '{}' is not an RFC 3339 time such as "
        "2026-11-25T12:54:58Z.",
        name, *text);
  }
  return t;
}

Response audit_error(const ApiRequest& req, const audit::AuditError& e, std::string_view share_id) {
  switch (e.code) {
    case audit::errc::not_found:
      return error_response(req, 404, fmt::format("Share {} could not be found.", share_id));
    case audit::errc::bad_request:
      return error_response(req, 400, e.message);
    case audit::errc::corrupt_log:
    case audit::errc::inconsistent:
      break;
  }
  return error_response(req, 500, e.message);
}

// Runs `scan` (which reads the log and builds the answer) through Services::slow_reads and
// responds with what it returns. `req` does not outlive the handler: the scan gets a copy.
void scan_log(Services& s, const ApiRequest& req, Respond respond,
              std::function<Response(const ApiRequest&)> scan) {
  auto run = [req = std::make_shared<ApiRequest>(req), respond = std::move(respond),
              scan = std::move(scan)] {
    try {
      respond(scan(*req));
    } catch (const std::exception& e) {
      spdlog::error("{}: audit query: {}", req->request_id, e.what());
      respond(error_response(*req, 500, kServerError));
    }
  };
  run_on(s.slow_reads, std::move(run));
}

void effective_access_at(Services& s, const ApiRequest& req, Respond respond) {
  if (!admin_only(req, "share:effective_access_at", respond)) return;
  std::optional<std::string> bad;
  audit::AsOf as_of;
  as_of.time_micros = time_param(req, "at", bad);
  if (auto seq = req.query_value("seq")) {
    auto n = parse_query_int(*seq);
    if (!n || *n < 0) {
      bad = fmt::format("Invalid value for 'seq': '{}' is not a sequence number.", *seq);
    } else {
      as_of.seq = events::Seq{static_cast<std::uint64_t>(*n)};
    }
  }
  if (!bad && as_of.seq && as_of.time_micros) bad = "Give either 'at' or 'seq', not both.";
  if (bad) return respond(error_response(req, 400, *bad));
  scan_log(s, req, std::move(respond), [&s, as_of](const ApiRequest& req) {
    auto txn = begin_read(s, req);
    auto answer = audit::access_at(txn, s.log, req.params[0], as_of);
    if (!answer) return audit_error(req, answer.error(), req.params[0]);
    return json_response(req, 200, access_at_view(*answer));
  });
}

void access_history(Services& s, const ApiRequest& req, Respond respond) {
  if (!admin_only(req, "share:access_history", respond)) return;
  std::optional<std::string> bad;
  audit::TimeRange range;
  range.from_micros = time_param(req, "since", bad);
  range.to_micros = time_param(req, "until", bad);
  if (bad) return respond(error_response(req, 400, *bad));
  scan_log(s, req, std::move(respond), [&s, range](const ApiRequest& req) {
    auto txn = begin_read(s, req);
    auto answer = audit::access_history(txn, s.log, req.params[0], range);
    if (!answer) return audit_error(req, answer.error(), req.params[0]);
    return json_response(req, 200, access_history_view(*answer));
  });
}

void who_had_access(Services& s, const ApiRequest& req, Respond respond) {
  if (!admin_only(req, "share:who_had_access", respond)) return;
  std::optional<std::string> bad;
  audit::WhoQuery q;
  const auto access_to = req.query_value("access_to");
  const auto from = time_param(req, "from", bad);
  const auto to = time_param(req, "to", bad);
  if (!bad && (!access_to || access_to->empty())) bad = "'access_to' is required.";
  if (!bad && (!from || !to)) bad = "'from' and 'to' are required.";
  if (auto type = req.query_value("access_type"); !bad && type) {
    q.access_type = events::parse_access_type(*type);
    if (!q.access_type) bad = fmt::format("Invalid value for 'access_type': '{}'.", *type);
  }
  if (auto containing = req.query_value("containing"); !bad && containing) {
    if (*containing == "1" || *containing == "true" || *containing == "True") {
      q.containing = true;
    } else if (!(*containing == "0" || *containing == "false" || *containing == "False")) {
      bad = fmt::format("Invalid value for 'containing': '{}'.", *containing);
    }
  }
  if (bad) return respond(error_response(req, 400, *bad));
  q.access_to = *access_to;
  q.share_id = req.query_value("share_id");
  q.from_micros = *from;
  q.to_micros = *to;
  scan_log(s, req, std::move(respond), [&s, q = std::move(q)](const ApiRequest& req) {
    auto txn = begin_read(s, req);
    auto answer = audit::who_had_access(txn, s.log, q);
    if (!answer) return audit_error(req, answer.error(), q.share_id.value_or(""));
    return json_response(req, 200, who_had_access_view(q, *answer));
  });
}

}  // namespace

void add_audit_routes(std::vector<Route>& routes) {
  for (auto& route : routes) {
    if (route.method != Verb::get || route.pattern != "shares/{}/effective-access") continue;
    route.handler = [live = std::move(route.handler)](Services& s, const ApiRequest& req,
                                                      Respond respond) {
      if (req.query_value("at") || req.query_value("seq")) {
        return effective_access_at(s, req, std::move(respond));
      }
      live(s, req, std::move(respond));
    };
  }
  routes.push_back({Verb::get, "shares/{}/access-history", access_history});
  routes.push_back({Verb::get, "audit/who-had-access", who_had_access});
}

}  // namespace agate::http
