#include "http/server.h"

#include <boost/asio/dispatch.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <functional>
#include <mutex>
#include <set>
#include <spdlog/spdlog.h>
#include <thread>
#include <vector>

namespace agate::http {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;

namespace {

class Session;

// An io_context whose services can be shut down before it is destroyed.
class IoContext : public net::io_context {
 public:
  using net::io_context::io_context;
  // Abandons every operation and destroys every handler, queued or pending (as destruction
  // would), but keeps the services: the sockets and timers still owned elsewhere may then be
  // destroyed safely, on any thread, until the io_context itself goes. Idempotent.
  void shut_down() { shutdown(); }
};

// What sessions share with the server: the handler's services, the options, the registry used
// to close idle connections at shutdown, and the io_context itself.
//
// Lifetime: sessions and the server both own this. A session may outlive the server, held by
// another thread that has its request (the writer, a Keystone validation); its socket must then
// still be destroyed before its io_context, so the io_context lives here, until the last of
// them goes. Once the server is gone (`serving` false) nothing more is posted to it.
struct Shared {
  Shared(const Services& s, ServerOptions o)
      : services(s), options(std::move(o)), ioc(static_cast<int>(std::max(1u, options.threads))) {}
  Services services;  // the caller's, with `defer` and `slow_reads` set to this server's threads
  ServerOptions options;
  IoContext ioc;
  std::mutex mutex;  // guards what follows; held while posting work from other threads
  std::set<std::weak_ptr<Session>, std::owner_less<std::weak_ptr<Session>>> sessions;
  bool draining = false;
  bool serving = true;                  // false once ~Server has begun
  std::size_t live = 0;                 // sessions not yet destroyed
  std::function<void()> on_drained;     // called once draining and no session is left

  // Posts `f` to the I/O threads unless the server is gone; returns whether it did. For work
  // coming from other threads, which may come after ~Server.
  template <class Executor, class F>
  bool post_if_serving(const Executor& where, F&& f) {
    std::lock_guard lock(mutex);
    if (!serving) return false;
    net::post(where, std::forward<F>(f));
    return true;
  }
};

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket&& socket, std::shared_ptr<Shared> shared)
      : shared_(std::move(shared)), stream_(std::move(socket)) {
    std::lock_guard lock(shared_->mutex);
    ++shared_->live;
  }

  ~Session() {
    std::function<void()> drained;
    {
      std::lock_guard lock(shared_->mutex);
      if (--shared_->live == 0 && shared_->draining) drained = std::move(shared_->on_drained);
    }
    if (drained) drained();
  }

  void start() {
    {
      std::lock_guard lock(shared_->mutex);
      shared_->sessions.insert(weak_from_this());
    }
    net::dispatch(stream_.get_executor(),
                  beast::bind_front_handler(&Session::do_read, shared_from_this()));
  }

  // Called at shutdown: an idle connection (waiting for a request) is closed now; a busy one
  // closes after its response.
  void drain() {
    net::dispatch(stream_.get_executor(), [self = shared_from_this()] {
      if (!self->busy_) self->close();
    });
  }

 private:
  bool draining() {
    std::lock_guard lock(shared_->mutex);
    return shared_->draining;
  }

  void do_read() {
    if (draining()) return close();
    // A fresh parser per request: the limits apply to each message, not to the connection.
    parser_.emplace();
    parser_->body_limit(shared_->options.body_limit);
    parser_->header_limit(static_cast<std::uint32_t>(shared_->options.header_limit));
    stream_.expires_after(shared_->options.read_timeout);
    bhttp::async_read(stream_, buffer_, *parser_,
                      beast::bind_front_handler(&Session::on_read, shared_from_this()));
  }

  void on_read(beast::error_code ec, std::size_t) {
    if (ec == bhttp::error::end_of_stream || ec == beast::error::timeout ||
        ec == net::error::connection_reset || ec == net::error::operation_aborted ||
        ec == net::error::eof) {
      return close();
    }
    if (ec == bhttp::error::body_limit) {
      return refuse(413, "Request is too large: the body exceeds " +
                             std::to_string(shared_->options.body_limit) + " bytes.");
    }
    if (ec == bhttp::error::header_limit) {
      // The limit covers the request line too. Beast hands the message the request line as
      // soon as it has parsed it: if it has none, the line (the target) is what is too long.
      if (parser_->get().target().empty()) return refuse(414, "Request URI too long.");
      return refuse(431, "Request header fields too large.");
    }
    if (ec) {
      // Anything else the parser refused is a malformed request: answer and close, since the
      // stream can no longer be trusted to be in step.
      return refuse(400, "Malformed HTTP request: " + ec.message() + ".");
    }
    busy_ = true;
    request_ = parser_->release();
    // The read deadline was for the request: the time to answer it (a queued write, an audit
    // scan) is not the client's, and the response gets its own deadline in send().
    stream_.expires_never();
    // The answer may come from another thread (the writer's, Keystone's): back to this
    // session's strand, unless the server is gone by then (the answer is then dropped).
    handle_request(shared_->services, request_, [self = shared_from_this()](Response res) {
      auto& shared = *self->shared_;
      shared.post_if_serving(self->stream_.get_executor(), [self, res = std::move(res)]() mutable {
        self->send(std::move(res));
      });
    });
  }

  void refuse(unsigned status, const std::string& message) {
    beast::error_code ec;
    const auto peer = stream_.socket().remote_endpoint(ec);
    send(refused_request(status, message,
                         ec ? std::string("?")
                            : peer.address().to_string() + ":" + std::to_string(peer.port())));
  }

  void send(Response&& res) {
    busy_ = true;
    if (draining()) res.keep_alive(false);
    response_ = std::move(res);
    stream_.expires_after(shared_->options.write_timeout);
    bhttp::async_write(stream_, response_,
                       beast::bind_front_handler(&Session::on_write, shared_from_this(),
                                                 response_.keep_alive()));
  }

  void on_write(bool keep_alive, beast::error_code ec, std::size_t) {
    busy_ = false;
    if (ec || !keep_alive) return close();
    do_read();
  }

  void close() {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    stream_.socket().close(ignored);
  }

  // Declared first, destroyed last: the io_context the stream belongs to lives in Shared.
  std::shared_ptr<Shared> shared_;
  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  Request request_;
  Response response_;
  bool busy_ = false;
};

}  // namespace

struct Server::Impl : std::enable_shared_from_this<Server::Impl> {
  Impl(Services& services, ServerOptions o)
      : shared(std::make_shared<Shared>(services, std::move(o))),
        ioc(shared->ioc),
        acceptor(net::make_strand(ioc)),
        drain_timer(ioc) {
    // Responses to writes are built on the I/O threads, not on the writer's. Held weakly: the
    // services (and so this runner) live in Shared.
    if (!shared->services.defer) {
      shared->services.defer = [weak = std::weak_ptr<Shared>(shared)](std::function<void()> f) {
        if (auto s = weak.lock()) s->post_if_serving(s->ioc.get_executor(), std::move(f));
      };
    }
  }

  // Called once the Impl is owned by a shared_ptr, before anything is accepted.
  void wire() {
    // Audit queries scan the log on a thread of their own, one at a time. They are handed over
    // on the I/O threads, which run only while the server exists.
    if (!shared->services.slow_reads) {
      shared->services.slow_reads = [weak = weak_from_this()](std::function<void()> f) {
        if (auto impl = weak.lock()) net::post(impl->slow_reads, std::move(f));
      };
    }
  }

  void accept() {
    acceptor.async_accept(net::make_strand(ioc), [self = shared_from_this()](
                                                     beast::error_code ec, tcp::socket socket) {
      if (ec == net::error::operation_aborted || !self->acceptor.is_open()) return;
      if (ec) {
        spdlog::warn("accept: {}", ec.message());
      } else {
        std::make_shared<Session>(std::move(socket), self->shared)->start();
      }
      self->accept();
    });
  }

  std::shared_ptr<Shared> shared;
  IoContext& ioc;  // shared->ioc, which outlives this
  tcp::acceptor acceptor;
  net::steady_timer drain_timer;
  net::thread_pool slow_reads{1};  // joined by ~Server, before the I/O threads' context goes
};

Server::Server(Services& services, ServerOptions options)
    : impl_(std::make_shared<Impl>(services, std::move(options))) {
  impl_->wire();
  const auto& o = impl_->shared->options;
  const tcp::endpoint endpoint{net::ip::make_address(o.address), o.port};
  auto& a = impl_->acceptor;
  a.open(endpoint.protocol());
  a.set_option(net::socket_base::reuse_address(true));
  a.bind(endpoint);
  a.listen(net::socket_base::max_listen_connections);
  impl_->accept();
}

Server::~Server() {
  auto& shared = *impl_->shared;
  shared.ioc.stop();
  // A scan still queued is dropped; one running finishes and hands its answer back first.
  // Joined here, so that the last owner of the Impl is never one of the pool's own threads.
  impl_->slow_reads.stop();
  impl_->slow_reads.join();
  {
    std::lock_guard lock(shared.mutex);
    shared.serving = false;
    shared.on_drained = nullptr;
  }
  // Every handler still queued or pending is destroyed now, with the sessions only they held.
  // A session another thread still holds (its request with the writer or with Keystone) is
  // destroyed there later; its answer is dropped, and the io_context goes with the last of them.
  shared.ioc.shut_down();
}

std::uint16_t Server::port() const { return impl_->acceptor.local_endpoint().port(); }

net::io_context& Server::io_context() { return impl_->ioc; }

void Server::run() {
  std::vector<std::thread> extra;
  const unsigned n = std::max(1u, impl_->shared->options.threads);
  for (unsigned i = 1; i < n; ++i) extra.emplace_back([this] { impl_->ioc.run(); });
  impl_->ioc.run();
  for (auto& t : extra) t.join();
}

void Server::stop() {
  net::dispatch(impl_->acceptor.get_executor(), [impl = impl_] {
    // Bound the wait first: run() returns by itself once the last session is gone (the timer
    // is then cancelled), or when this fires.
    impl->drain_timer.expires_after(impl->shared->options.drain_timeout);
    impl->drain_timer.async_wait([impl](beast::error_code ec) {
      if (!ec) {
        spdlog::warn("shutdown: requests still in flight after {}s; stopping anyway",
                     impl->shared->options.drain_timeout.count());
        impl->ioc.stop();
      }
    });
    beast::error_code ignored;
    impl->acceptor.close(ignored);
    std::vector<std::shared_ptr<Session>> sessions;
    bool idle;
    {
      std::lock_guard lock(impl->shared->mutex);
      impl->shared->draining = true;
      idle = impl->shared->live == 0;
      // Weak: the server's state keeps this callback, which must not keep the state alive.
      impl->shared->on_drained = [weak = std::weak_ptr<Impl>(impl)] {
        if (auto impl = weak.lock()) {
          net::post(impl->acceptor.get_executor(), [impl] { impl->drain_timer.cancel(); });
        }
      };
      for (const auto& weak : impl->shared->sessions) {
        if (auto s = weak.lock()) sessions.push_back(std::move(s));
      }
      impl->shared->sessions.clear();
    }
    if (idle) impl->drain_timer.cancel();
    for (auto& s : sessions) s->drain();
  });
}

}  // namespace agate::http
