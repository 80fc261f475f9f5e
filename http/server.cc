#include "http/server.h"

#include <spdlog/spdlog.h>

#include <boost/asio/dispatch.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/json.hpp>
#include <boost/uuid/random_generator.hpp>
#include <boost/uuid/uuid_io.hpp>
#include <thread>
#include <vector>

namespace agate::http {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;

namespace {

std::string new_request_id() {
  thread_local boost::uuids::random_generator generate;
  return "req-" + boost::uuids::to_string(generate());
}

std::string_view fault_name(unsigned status) {
  switch (status) {
    case 400:
      return "badRequest";
    case 401:
      return "unauthorized";
    case 403:
      return "forbidden";
    case 404:
      return "itemNotFound";
    case 405:
      return "badMethod";
    case 409:
      return "conflictingRequest";
    case 413:
      return "overLimit";
    case 415:
      return "badMediaType";
    case 501:
      return "notImplemented";
    case 503:
      return "serviceUnavailable";
    default:
      return "computeFault";
  }
}

Response json_response(unsigned status, const boost::json::value& body, unsigned version,
                       bool keep_alive) {
  Response res{static_cast<bhttp::status>(status), version};
  res.set(bhttp::field::content_type, "application/json");
  res.keep_alive(keep_alive);
  res.body() = boost::json::serialize(body);
  res.prepare_payload();
  return res;
}

Response healthz(Services& services, const Request& req) {
  auto txn = lmdb::Txn::begin_read(services.env);
  const auto last = services.log.last(txn);
  txn.abort();
  boost::json::object log;
  log["path"] = services.env.path().string();
  log["last_seq"] = last.value;
  log["map_size"] = services.env.map_size();
  log["used_bytes"] = services.env.used_bytes();
  boost::json::object body;
  body["status"] = "ok";
  body["log"] = std::move(log);
  return json_response(200, body, req.version(), req.keep_alive());
}

}  // namespace

Response error_response(unsigned status, std::string_view message, unsigned version,
                        bool keep_alive) {
  boost::json::object fault;
  fault["code"] = status;
  fault["message"] = message;
  boost::json::object body;
  body[fault_name(status)] = std::move(fault);
  return json_response(status, body, version, keep_alive);
}

Response handle_request(Services& services, const Request& req) {
  Response res;
  try {
    const std::string_view target = req.target();
    const std::string_view path = target.substr(0, target.find('?'));
    if (path == "/healthz") {
      if (req.method() != bhttp::verb::get && req.method() != bhttp::verb::head) {
        res = error_response(405, "The method is not allowed for the requested URL.", req.version(),
                             req.keep_alive());
        res.set(bhttp::field::allow, "GET, HEAD");
      } else {
        res = healthz(services, req);
      }
    } else {
      res =
          error_response(404, "The resource could not be found.", req.version(), req.keep_alive());
    }
  } catch (const std::exception& e) {
    spdlog::error("{} {}: {}", std::string(req.method_string()), std::string(req.target()),
                  e.what());
    res = error_response(500,
                         "The server has either erred or is incapable of performing the "
                         "requested operation.",
                         req.version(), req.keep_alive());
  }
  res.set("x-compute-request-id", new_request_id());
  if (req.method() == bhttp::verb::head) {
    // Keep the length of the GET response, send no body.
    const auto length = res.body().size();
    res.body().clear();
    res.content_length(length);
  }
  return res;
}

// ---- the Beast server ---------------------------------------------------------------------

namespace {

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket&& socket, Services& services, const ServerOptions& options)
      : stream_(std::move(socket)), services_(services), options_(options) {}

  void start() {
    net::dispatch(stream_.get_executor(),
                  beast::bind_front_handler(&Session::do_read, shared_from_this()));
  }

 private:
  void do_read() {
    // A fresh parser per request: limits apply to each message, not to the connection.
    parser_.emplace();
    parser_->body_limit(options_.body_limit);
    parser_->header_limit(static_cast<std::uint32_t>(options_.header_limit));
    stream_.expires_after(options_.read_timeout);
    bhttp::async_read(stream_, buffer_, *parser_,
                      beast::bind_front_handler(&Session::on_read, shared_from_this()));
  }

  void on_read(beast::error_code ec, std::size_t) {
    if (ec == bhttp::error::end_of_stream || ec == beast::error::timeout ||
        ec == net::error::connection_reset || ec == net::error::operation_aborted) {
      return close();
    }
    if (ec == bhttp::error::body_limit) {
      return send(error_response(413,
                                 "Request is too large: the body exceeds " +
                                     std::to_string(options_.body_limit) + " bytes.",
                                 11, false));
    }
    if (ec == bhttp::error::header_limit) {
      return send(error_response(400, "Request header fields too large.", 11, false));
    }
    if (ec) {
      // Anything else the parser refused: a malformed request. Answer and close, since the
      // stream can no longer be trusted to be in step.
      return send(error_response(400, "Malformed HTTP request: " + ec.message() + ".", 11, false));
    }
    send(handle_request(services_, parser_->get()));
  }

  void send(Response&& res) {
    response_ = std::move(res);
    bhttp::async_write(
        stream_, response_,
        beast::bind_front_handler(&Session::on_write, shared_from_this(), response_.keep_alive()));
  }

  void on_write(bool keep_alive, beast::error_code ec, std::size_t) {
    if (ec || !keep_alive) return close();
    do_read();
  }

  void close() {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  Response response_;
  Services& services_;
  const ServerOptions& options_;
};

}  // namespace

struct Server::Impl {
  Impl(Services& s, ServerOptions o)
      : services(s),
        options(std::move(o)),
        ioc(static_cast<int>(std::max(1u, options.threads))),
        acceptor(net::make_strand(ioc)) {}

  void accept() {
    acceptor.async_accept(net::make_strand(ioc), [this](beast::error_code ec, tcp::socket socket) {
      if (ec == net::error::operation_aborted) return;
      if (ec) {
        spdlog::warn("accept: {}", ec.message());
      } else {
        std::make_shared<Session>(std::move(socket), services, options)->start();
      }
      accept();
    });
  }

  Services& services;
  ServerOptions options;
  net::io_context ioc;
  tcp::acceptor acceptor;
};

Server::Server(Services& services, ServerOptions options)
    : impl_(std::make_unique<Impl>(services, std::move(options))) {
  const auto& o = impl_->options;
  const tcp::endpoint endpoint{net::ip::make_address(o.address), o.port};
  auto& a = impl_->acceptor;
  a.open(endpoint.protocol());
  a.set_option(net::socket_base::reuse_address(true));
  a.bind(endpoint);
  a.listen(net::socket_base::max_listen_connections);
  impl_->accept();
}

Server::~Server() = default;

std::uint16_t Server::port() const { return impl_->acceptor.local_endpoint().port(); }

net::io_context& Server::io_context() { return impl_->ioc; }

void Server::run() {
  std::vector<std::thread> extra;
  const unsigned n = std::max(1u, impl_->options.threads);
  for (unsigned i = 1; i < n; ++i) extra.emplace_back([this] { impl_->ioc.run(); });
  impl_->ioc.run();
  for (auto& t : extra) t.join();
}

void Server::stop() { impl_->ioc.stop(); }

}  // namespace agate::http
