#pragma once

// The agate client's side of HTTP: one blocking request per call to agated's Manila API, with a
// deadline on the whole exchange, and the errors a command can end with.

#include <boost/beast/http/verb.hpp>
#include <boost/json/value.hpp>
#include <chrono>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace agate::cli {

// The command line is wrong (an unknown option, a malformed value, no token). Exit status 2.
class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// agated could not be reached, or did not answer in time, or answered something that is not
// HTTP. Exit status 2.
class ConnectionError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The server refused the request. what() is the message of Manila's error body. Exit status 1.
class ApiError : public std::runtime_error {
 public:
  ApiError(unsigned status, const std::string& message, std::string request_id)
      : std::runtime_error(message), status_(status), request_id_(std::move(request_id)) {}
  unsigned status() const { return status_; }
  const std::string& request_id() const { return request_id_; }

 private:
  unsigned status_;
  std::string request_id_;
};

// The command cannot go on for a reason found on the client's side, such as a name that matches
// no share or several. Exit status 1.
class CommandError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Where agated is: "http://host[:port][/path]". Requests go to <path>/<resource>; an empty path
// means "/v2".
struct Endpoint {
  std::string host;
  std::string port;
  std::string prefix;
};

// Throws UsageError for anything but an http URL with a host.
Endpoint parse_endpoint(std::string_view url);

// `text` with every byte outside RFC 3986's unreserved set percent-encoded.
std::string percent_encode(std::string_view text);

// The message of a Manila error body {"<fault>": {"code": N, "message": "…"}}; empty if the
// body is not one.
std::string fault_message(const boost::json::value& body);

using Query = std::vector<std::pair<std::string, std::string>>;

struct Reply {
  unsigned status = 0;
  boost::json::value body;  // null when the body is empty or not JSON
  std::string text;         // the body as received
  std::string request_id;   // x-compute-request-id
};

// Talks to one agated. Not thread-safe; each request is a new connection.
class Client {
 public:
  Client(Endpoint endpoint, std::string token, std::string api_version,
         std::chrono::milliseconds timeout);

  // Each sends X-Auth-Token and X-OpenStack-Manila-API-Version to <prefix>/<path>?<query> and
  // returns a 2xx reply. Throws ApiError for a status of 400 or more, ConnectionError when there
  // is no answer.
  Reply get(std::string_view path, const Query& query = {});
  Reply post(std::string_view path, const boost::json::value& body);
  Reply put(std::string_view path, const boost::json::value& body);
  Reply del(std::string_view path, const Query& query = {});

 private:
  Reply send(boost::beast::http::verb method, std::string_view path, const Query& query,
             const std::optional<boost::json::value>& body);
  Reply checked(Reply reply);

  Endpoint endpoint_;
  std::string token_;
  std::string api_version_;
  std::chrono::milliseconds timeout_;
};

}  // namespace agate::cli
