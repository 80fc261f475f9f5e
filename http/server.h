#pragma once

// agated's HTTP server on Boost.Beast: accepts connections and serves HTTP/1.1 keep-alive
// sessions on a pool of threads, each request through http::handle_request().

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "http/api.h"

namespace agate::http {

struct ServerOptions {
  std::string address = "127.0.0.1";
  std::uint16_t port = 8786;  // 0 picks a free port; see Server::port()
  unsigned threads = 2;
  std::size_t body_limit = 1u << 20;
  std::size_t header_limit = 16u << 10;
  std::chrono::seconds read_timeout{30};   // for a whole request to arrive
  std::chrono::seconds write_timeout{30};  // for the client to take a whole response
  std::chrono::seconds drain_timeout{10};  // for in-flight requests at shutdown
};

// Thread-safety: stop() may be called from any thread.
class Server {
 public:
  // Binds and listens at once, so that port() is known and a port in use fails here.
  Server(Services& services, ServerOptions options);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  std::uint16_t port() const;
  boost::asio::io_context& io_context();

  // Serves on options.threads threads (the caller's among them) until stop() has drained.
  void run();
  // Stops accepting, closes idle connections, lets requests in flight finish (their responses
  // say Connection: close), and ends run() once they have — or after drain_timeout.
  void stop();

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace agate::http
