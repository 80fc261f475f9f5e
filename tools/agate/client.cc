#include "tools/agate/client.h"

#include <fmt/format.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/url/parse.hpp>
#include <limits>

namespace agate::cli {

namespace beast = boost::beast;
namespace http = boost::beast::http;
namespace asio = boost::asio;

Endpoint parse_endpoint(std::string_view url) {
  auto parsed = boost::urls::parse_uri(url);
  if (!parsed) throw UsageError(fmt::format("--url {}: not a URL", url));
  if (parsed->scheme() != "http") {
    throw UsageError(fmt::format("--url {}: only http:// URLs are supported", url));
  }
  Endpoint e;
  e.host = parsed->host_address();
  if (e.host.empty()) throw UsageError(fmt::format("--url {}: no host", url));
  e.port = parsed->has_port() ? std::string(parsed->port()) : "80";
  if (parsed->has_query() || parsed->has_fragment()) {
    throw UsageError(fmt::format("--url {}: a query or fragment has no meaning here", url));
  }
  std::string path(parsed->encoded_path());
  while (!path.empty() && path.back() == '/') path.pop_back();
  e.prefix = path.empty() ? "/v2" : path;
  return e;
}

std::string percent_encode(std::string_view text) {
  std::string out;
  for (unsigned char c : text) {
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
        c == '.' || c == '_' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += fmt::format("%{:02X}", c);
    }
  }
  return out;
}

std::string fault_message(const boost::json::value& body) {
  if (!body.is_object() || body.as_object().size() != 1) return "";
  const auto& fault = body.as_object().begin()->value();
  if (!fault.is_object()) return "";
  const auto* message = fault.as_object().if_contains("message");
  return message && message->is_string() ? std::string(message->as_string()) : "";
}

Client::Client(Endpoint endpoint, std::string token, std::string api_version,
               std::chrono::milliseconds timeout)
    : endpoint_(std::move(endpoint)),
      token_(std::move(token)),
      api_version_(std::move(api_version)),
      timeout_(timeout) {}

Reply Client::get(std::string_view path, const Query& query) {
  return checked(send(http::verb::get, path, query, std::nullopt));
}

Reply Client::post(std::string_view path, const boost::json::value& body) {
  return checked(send(http::verb::post, path, {}, body));
}

Reply Client::put(std::string_view path, const boost::json::value& body) {
  return checked(send(http::verb::put, path, {}, body));
}

Reply Client::del(std::string_view path, const Query& query) {
  return checked(send(http::verb::delete_, path, query, std::nullopt));
}

Reply Client::checked(Reply reply) {
  if (reply.status < 400) return reply;
  auto message = fault_message(reply.body);
  if (message.empty()) {
    // Not Manila's error body (a proxy, or not agated at all): show what came back.
    message = reply.text.empty() ? fmt::format("the server answered {}", reply.status)
                                 : reply.text.substr(0, 200);
    while (!message.empty() && (message.back() == '\n' || message.back() == '\r')) {
      message.pop_back();
    }
  }
  throw ApiError(reply.status, message, reply.request_id);
}

// One request on a new connection. The exchange is driven through Beast's asynchronous calls
// only so that a single deadline covers connecting, writing and reading; the caller waits.
Reply Client::send(http::verb method, std::string_view path, const Query& query,
                   const std::optional<boost::json::value>& body) {
  std::string target = endpoint_.prefix + "/" + std::string(path);
  char separator = target.find('?') == std::string::npos ? '?' : '&';
  for (const auto& [key, value] : query) {
    target += separator;
    target += percent_encode(key) + "=" + percent_encode(value);
    separator = '&';
  }

  http::request<http::string_body> req{method, target, 11};
  // An IPv6 address is bracketed in the Host header and in messages, as in a URL.
  const std::string authority =
      (endpoint_.host.find(':') == std::string::npos ? endpoint_.host
                                                     : "[" + endpoint_.host + "]") +
      ":" + endpoint_.port;
  req.set(http::field::host, authority);
  req.set(http::field::user_agent, "agate");
  req.set(http::field::accept, "application/json");
  req.set("X-Auth-Token", token_);
  req.set("X-OpenStack-Manila-API-Version", api_version_);
  if (body) {
    req.set(http::field::content_type, "application/json");
    req.body() = boost::json::serialize(*body);
  }
  req.prepare_payload();

  const std::string where = "http://" + authority;
  asio::io_context ioc;
  asio::ip::tcp::resolver resolver(ioc);
  boost::system::error_code ec;
  const auto endpoints = resolver.resolve(endpoint_.host, endpoint_.port, ec);
  if (ec) throw ConnectionError(fmt::format("cannot resolve {}: {}", endpoint_.host, ec.message()));

  beast::tcp_stream stream(ioc);
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(std::numeric_limits<std::uint64_t>::max());
  const char* stage = "connect to";
  boost::system::error_code failure;
  stream.expires_after(timeout_);
  stream.async_connect(endpoints, [&](boost::system::error_code e, const auto&) {
    if (e) {
      failure = e;
      return;
    }
    stage = "send to";
    http::async_write(stream, req, [&](boost::system::error_code e, std::size_t) {
      if (e) {
        failure = e;
        return;
      }
      stage = "read the answer of";
      http::async_read(stream, buffer, parser,
                       [&](boost::system::error_code e, std::size_t) { failure = e; });
    });
  });
  ioc.run();
  if (failure) {
    if (failure == beast::error::timeout) {
      throw ConnectionError(fmt::format("no answer from {} within {} s", where,
                                        std::chrono::duration<double>(timeout_).count()));
    }
    throw ConnectionError(fmt::format("cannot {} {}: {}", stage, where, failure.message()));
  }
  stream.socket().shutdown(asio::ip::tcp::socket::shutdown_both, ec);

  auto res = parser.release();
  Reply reply;
  reply.status = res.result_int();
  reply.text = std::move(res.body());
  reply.request_id = std::string(res["x-compute-request-id"]);
  if (!reply.text.empty()) {
    auto parsed = boost::json::parse(reply.text, ec);
    if (!ec) reply.body = std::move(parsed);
  }
  return reply;
}

}  // namespace agate::cli
