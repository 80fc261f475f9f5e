#pragma once

// agated's HTTP front: a socket-free request handler, and the Boost.Beast server around it.

#include <boost/asio/io_context.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "events/event_log.h"
#include "events/lmdb.h"

namespace agate::http {

using Request = boost::beast::http::request<boost::beast::http::string_body>;
using Response = boost::beast::http::response<boost::beast::http::string_body>;

// What request handlers use. Owned by the caller; must outlive every Server using it.
struct Services {
  lmdb::Env& env;
  events::EventLog& log;
};

// Answers one request. Pure with respect to sockets: tests call it directly. Never throws;
// an infrastructure failure becomes a 500 in Manila's error format.
Response handle_request(Services& services, const Request& request);

// Builds Manila's error body {"<faultName>": {"code": N, "message": "…"}} as a full response.
Response error_response(unsigned status, std::string_view message, unsigned version,
                        bool keep_alive);

struct ServerOptions {
  std::string address = "127.0.0.1";
  std::uint16_t port = 8786;  // 0 picks a free port; see Server::port()
  unsigned threads = 2;
  std::size_t body_limit = 1u << 20;
  std::size_t header_limit = 16u << 10;
  std::chrono::seconds read_timeout{30};
};

// Accepts connections and serves HTTP/1.1 keep-alive sessions on a pool of threads.
// Thread-safety: stop() may be called from any thread (or a signal handler's strand).
class Server {
 public:
  // Binds and listens at once, so that port() is known and a port in use fails here.
  Server(Services& services, ServerOptions options);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  std::uint16_t port() const;
  boost::asio::io_context& io_context();

  // Serves on options.threads threads (the caller's among them) until stop().
  void run();
  void stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace agate::http
