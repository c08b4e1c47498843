#include "bridges/http/http_server.hpp"

#include "bridges/http/connection.hpp"
#include "bridges/http/deadline_sweep.hpp"
#include "bridges/http/response_head.hpp"
#include "bridges/http/stream_sessions.hpp"

#include "runtime/core/log.hpp"

#include <boost/asio/dispatch.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include <array>
#include <atomic>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

namespace streamb {

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
using tcp = asio::ip::tcp;
using edge::plain_stream;
using edge::socket_of;
using edge::tls_stream;
/// What the acceptor hands over: a socket on its io_context's executor.
using accepted_socket = plain_stream::socket_type;

/// A JSON error body for the answers the server gives itself; `message` is
/// ours, never the client's, so it needs no escaping.
std::string error_body(std::string_view code, std::string_view message) {
  std::string out = R"({"error":{"code":")";
  out += code;
  out += R"(","message":")";
  out += message;
  out += R"(","path":""}})";
  return out;
}

http_response error_response(int status, std::string_view code,
                             std::string_view message) {
  http_response res;
  res.status = status;
  res.set_content(error_body(code, message), "application/json");
  return res;
}

std::string_view trim(std::string_view x) {
  while (!x.empty() && (x.front() == ' ' || x.front() == '\t'))
    x.remove_prefix(1);
  while (!x.empty() && (x.back() == ' ' || x.back() == '\t'))
    x.remove_suffix(1);
  return x;
}

bool running_in(const edge::io_executor& ex) {
  return ex.running_in_this_thread();
}

bool running_in(const asio::any_io_executor& ex) {
  auto* io = ex.target<edge::io_executor>();
  return io != nullptr && io->running_in_this_thread();
}

/// Bytes and time a refused connection may still send before it is closed.
/// Most clients send a whole body before they read an answer; closing with
/// unread data resets the connection, and the client would lose the answer
/// (a 413 to an 8 MiB upload, say). The bytes are read into a scratch
/// buffer and dropped: the cost is time, bounded here, not memory.
constexpr std::size_t drain_bytes = 64 << 20;
constexpr auto drain_time = std::chrono::seconds{2};

} // namespace

struct http_server::impl : std::enable_shared_from_this<http_server::impl> {
  http_limits limits;
  http_handlers handlers;

  edge::connection_registry connections;
  std::atomic<std::size_t> refusing{0};
  std::atomic<uint64_t> accepted{0};
  std::atomic<uint64_t> refused_over_cap{0};
  bool stopped = false;
  std::vector<std::thread> threads;

  // One io_context per io thread, each run by its thread alone: no shared
  // scheduler lock between the threads (perf: ~10 % of the edge's CPU in
  // mutexes and futex waits with one context run by two threads). A
  // connection lives on one context for its life.
  // After the members above, so that it is destroyed before them: destroying
  // a context destroys the handlers still queued, and with them sessions
  // that touch those members.
  std::vector<std::unique_ptr<asio::io_context>> iocs;
  /// One per context, same index; after `iocs`, so that its timers go
  /// before their contexts.
  std::vector<std::unique_ptr<edge::deadline_sweep>> sweeps;
  /// Keep each context's run() going while it has no connection yet.
  std::vector<asio::executor_work_guard<asio::io_context::executor_type>>
    keep_running;
  std::atomic<std::size_t> next_context{0};

  /// The index of the context the next connection lives on (round robin).
  std::size_t pick_context() {
    return next_context.fetch_add(1, std::memory_order_relaxed) % iocs.size();
  }

  /// Set: every connection is TLS.
  std::optional<asio::ssl::context> tls;
  std::optional<tcp::acceptor> acceptor;
  std::optional<asio::steady_timer> accept_pause;

  impl(http_limits l, http_handlers h) : limits(l), handlers(std::move(h)) {
    // nop
  }

  void accept();
  void refuse_over_cap(accepted_socket socket);
  void stop(std::chrono::milliseconds grace);
};

namespace {

/// One connection's requests and answers, over plain TCP or TLS.
template <class Stream>
class session : public edge::connection, public edge::deadline_holder {
public:
  static constexpr bool is_tls = std::is_same_v<Stream, tls_stream>;

  template <class... Ts>
  session(std::shared_ptr<http_server::impl> srv, edge::deadline_sweep& sweep,
          accepted_socket&& socket, Ts&... tls_ctx)
    : srv_(std::move(srv)), sweep_(&sweep),
      stream_(tcp_socket_for<Stream>(std::move(socket)), tls_ctx...),
      buffer_(srv_->limits.max_header_bytes + (1 << 20)) {
    ++srv_->connections.open;
    beast::error_code ec;
    auto ep = socket_of(stream_).remote_endpoint(ec);
    if (!ec)
      remote_ = ep.address().to_string();
  }

  ~session() override {
    srv_->connections.remove(this);
    --srv_->connections.open;
  }

  void start() {
    srv_->connections.add(this, weak_from_this());
    asio::dispatch(stream_.get_executor(), [self = self()] {
      self->sweep_->add(self);
      if constexpr (is_tls)
        self->handshake();
      else
        self->wait_for_request();
    });
  }

  asio::any_io_executor executor() override {
    return stream_.get_executor();
  }

  /// The server is stopping; an idle connection goes now.
  void on_stop() override {
    if (phase_ == phase::idle)
      close();
  }

  /// A head, body, write or idle time ran out (none while a handler has
  /// the request).
  void on_deadline() override {
    if (phase_ == phase::closed || phase_ == phase::handed_over
        || phase_ == phase::handler)
      return;
    if (!draining_)
      ++srv_->connections.timed_out;
    close();
  }

  /// The grace period is over.
  void cut() override {
    if (phase_ != phase::closed && phase_ != phase::handed_over) {
      ++srv_->connections.timed_out;
      close();
    }
  }

private:
  enum class phase { idle, head, body, handler, writing, closed, handed_over };

  std::shared_ptr<session> self() {
    return std::static_pointer_cast<session>(shared_from_this());
  }

  /// The registry, keeping the whole server (and its io_context) alive.
  std::shared_ptr<edge::connection_registry> registry() {
    return {srv_, &srv_->connections};
  }

  /// A TLS connection keeps Beast's usual (type-erased) stream: the
  /// subscribers take it over as it is.
  template <class S>
  static auto tcp_socket_for(accepted_socket&& socket) {
    if constexpr (std::is_same_v<S, tls_stream>)
      return tcp::socket{std::move(socket)};
    else
      return std::move(socket);
  }

  auto& tcp_layer() {
    return beast::get_lowest_layer(stream_);
  }

  /// The TLS handshake counts as part of the first request's head: a
  /// client that opens a connection and stalls is cut at the same deadline.
  void handshake() {
    phase_ = phase::head;
    expire_after(srv_->limits.head_timeout);
    stream_.async_handshake(asio::ssl::stream_base::server,
                            [self = self()](beast::error_code ec) {
                              if (ec)
                                return self->close();
                              self->wait_for_request();
                            });
  }

  /// Waits for the first byte of the next request: idle time is bounded by
  /// the keep-alive timeout, the head by its own deadline from then on.
  void wait_for_request() {
    if (srv_->connections.stopping)
      return close();
    if (buffer_.size() > 0)
      return read_head();
    phase_ = phase::idle;
    expire_after(served_ == 0 ? srv_->limits.head_timeout
                              : srv_->limits.keep_alive_timeout);
    stream_.async_read_some(buffer_.prepare(4096),
                            [self = self()](beast::error_code ec,
                                            std::size_t n) {
                              self->buffer_.commit(n);
                              if (ec)
                                return self->close();
                              self->read_head();
                            });
  }

  void read_head() {
    phase_ = phase::head;
    head_only_ = false;
    parser_.emplace();
    parser_->header_limit(
      static_cast<std::uint32_t>(srv_->limits.max_header_bytes));
    parser_->body_limit(srv_->limits.max_body_bytes);
    expire_after(srv_->limits.head_timeout);
    parse_head();
  }

  // The parser is driven here rather than by Beast's async_read_header and
  // async_read: those complete through a post even when the buffer already
  // holds the whole request (one more trip through the io queue per
  // request, and their composed operations cost ~3 % of the edge's CPU).

  /// Parses what is buffered; reads more until the head is complete.
  void parse_head() {
    if (!parse_buffered([this] { return parser_->is_header_done(); }))
      return;
    if (parser_->is_header_done())
      return on_head({});
    read_more([](session& s) { s.parse_head(); });
  }

  /// Parses what is buffered; reads more until the body is complete.
  void parse_body() {
    if (!parse_buffered([this] { return parser_->is_done(); }))
      return;
    if (parser_->is_done())
      return dispatch();
    read_more([](session& s) { s.parse_body(); });
  }

  /// Feeds the buffer to the parser until `enough` or the buffer is used
  /// up. False: the request is malformed or over a limit, and answered.
  template <class Enough>
  bool parse_buffered(Enough enough) {
    while (buffer_.size() > 0 && !enough()) {
      beast::error_code ec;
      auto used = parser_->put(buffer_.data(), ec);
      buffer_.consume(used);
      if (ec == bhttp::error::need_more)
        break;
      if (ec) {
        on_read_error(ec);
        return false;
      }
      // Nothing taken and nothing wrong: the parser waits for more bytes.
      if (used == 0)
        break;
    }
    return true;
  }

  /// Reads what the client sends next, then `next`; the deadline set by
  /// the caller stays.
  template <class Next>
  void read_more(Next next) {
    auto room = buffer_.max_size() - buffer_.size();
    if (room == 0)
      return on_read_error(bhttp::error::buffer_overflow);
    stream_.async_read_some(buffer_.prepare(std::min<std::size_t>(room, 65536)),
                            [self = self(), next](beast::error_code ec,
                                                  std::size_t n) {
                              self->buffer_.commit(n);
                              if (ec)
                                return self->on_read_error(ec);
                              next(*self);
                            });
  }

  /// Maps a read error to the answer it deserves, or to a plain close when
  /// the peer is gone or too slow to be answered.
  void on_read_error(beast::error_code ec) {
    if (ec == bhttp::error::header_limit)
      return refuse(error_response(431, "header_too_large",
                                   "the request head exceeds the configured "
                                   "limit"));
    if (ec == bhttp::error::body_limit)
      return refuse(error_response(413, "too_large",
                                   "request body exceeds the configured "
                                   "limit"));
    // (Deadlines are the sweep's: no read fails with a timeout.) The peer left,
    // or a transport error: nobody to answer.
    if (ec == bhttp::error::end_of_stream || ec == bhttp::error::partial_message
        || ec.category()
          != bhttp::make_error_code(bhttp::error::end_of_stream).category())
      return close();
    refuse(error_response(400, "malformed",
                          "malformed HTTP request: " + ec.message()));
  }

  void on_head(beast::error_code ec) {
    if (ec)
      return on_read_error(ec);
    auto& head = parser_->get();
    head_only_ = head.method() == bhttp::verb::head;
    route_ = nullptr;
    req_ = http_request{};
    req_.method = std::string{head.method_string()};
    req_.target = std::string{head.target()};
    parse_target(req_.target, req_.path, req_.params);
    req_.remote_addr = remote_;
    for (auto& field : head)
      req_.headers.emplace(std::string{field.name_string()},
                           std::string{field.value()});
    // Two framings for one body is how requests are smuggled past proxies:
    // refuse rather than pick one (RFC 9112 6.3).
    auto te = head.find(bhttp::field::transfer_encoding);
    if (te != head.end()) {
      if (head.find(bhttp::field::content_length) != head.end())
        return refuse(error_response(400, "malformed",
                                     "Transfer-Encoding together with "
                                     "Content-Length"));
      if (!beast::iequals(trim(te->value()), "chunked"))
        return refuse(error_response(400, "malformed",
                                     "the only transfer coding accepted is "
                                     "chunked"));
    }
    if (head.version() != 11 && head.version() != 10)
      return refuse(error_response(400, "malformed", "HTTP/1.x only"));
    keep_alive_ = head.keep_alive();
    upgrade_.reset();
    if (edge::is_websocket_upgrade(head))
      upgrade_.emplace(head);
    if (srv_->handlers.on_head) {
      http_response res;
      bool admitted = srv_->handlers.on_head(req_, res);
      route_ = req_.route;
      if (!admitted) {
        // A request without a body is complete: the connection can go on.
        if (parser_->is_done())
          return send(std::move(res), false);
        return refuse(std::move(res));
      }
    }
    if (parser_->is_done())
      return dispatch();
    auto expect = head.find(bhttp::field::expect);
    if (expect != head.end()
        && beast::iequals(trim(expect->value()), "100-continue")) {
      static const std::string continue_line = "HTTP/1.1 100 Continue\r\n\r\n";
      expire_after(srv_->limits.write_timeout);
      return asio::async_write(stream_, asio::buffer(continue_line),
                               [self = self()](beast::error_code ec,
                                               std::size_t) {
                                 if (ec)
                                   return self->close();
                                 self->read_body();
                               });
    }
    read_body();
  }

  void read_body() {
    phase_ = phase::body;
    expire_after(srv_->limits.body_timeout);
    parse_body();
  }

  void dispatch() {
    phase_ = phase::handler;
    expire_never();
    req_.body = std::move(parser_->get().body());
    parser_.reset();
    if (!srv_->handlers.on_request)
      return send(error_response(404, "not_found", "no route"), false);
    auto self = this->self();
    srv_->handlers.on_request(std::move(req_), [self](http_response res) {
      // Answered on this connection's io thread (a handler that ran
      // inline): write now, without a trip through the io queue.
      auto ex = self->stream_.get_executor();
      if (running_in(ex))
        return self->send(std::move(res), false);
      asio::post(ex, [self, res = std::move(res)]() mutable {
        self->send(std::move(res), false);
      });
    });
  }

  void answered(int status) {
    if (srv_->handlers.on_answered)
      srv_->handlers.on_answered(route_, status);
  }

  /// Answers and closes without reading the rest of the request.
  void refuse(http_response res) {
    send(std::move(res), true);
  }

  /// Writes out_head_ and out_body_ (the answer being sent), then reads
  /// the next request, drains or closes.
  void write(bool keep, bool drain) {
    phase_ = phase::writing;
    expire_after(srv_->limits.write_timeout);
    std::array<asio::const_buffer, 2> buffers{asio::buffer(out_head_),
                                              asio::buffer(out_body_)};
    asio::async_write(stream_, buffers,
                      [self = self(), keep, drain](beast::error_code ec,
                                                   std::size_t) {
                        // Released, not cleared: an idle connection must not
                        // keep the capacity of a large answer.
                        self->out_body_ = std::string{};
                        if (ec)
                          return self->close();
                        if (keep)
                          return self->wait_for_request();
                        if (drain)
                          return self->drain_and_close();
                        self->close();
                      });
  }

  void send(http_response res, bool refused) {
    if (phase_ == phase::closed)
      return;
    if (res.stream != stream_kind::none && !refused)
      return hand_over(std::move(res));
    answered(res.status);
    ++served_;
    bool keep = !refused && keep_alive_ && !srv_->connections.stopping
      && served_ < srv_->limits.keep_alive_max_count;
    edge::write_response_head(out_head_, res.status, res.headers,
                              res.content_type, res.body.size(), keep);
    bool bodyless = res.status < 200 || res.status == 204 || res.status == 304;
    if (!head_only_ && !bodyless)
      out_body_ = std::move(res.body);
    write(keep, refused);
  }

  /// The connection becomes a subscriber; this session ends here.
  void hand_over(http_response res) {
    if (res.stream == stream_kind::websocket && !upgrade_) {
      res = error_response(426, "upgrade_required",
                           "this route is a WebSocket: send an Upgrade: "
                           "websocket request");
      res.set_header("Upgrade", "websocket");
      return send(std::move(res), true);
    }
    phase_ = phase::handed_over;
    answered(res.stream == stream_kind::websocket ? 101 : 200);
    if (res.stream == stream_kind::websocket)
      edge::start_websocket(registry(), released_stream(), std::move(*upgrade_),
                            std::move(res.attach), std::move(res.listener),
                            srv_->limits.streams);
    else
      edge::start_sse(registry(), released_stream(), std::move(res.attach),
                      srv_->limits.streams);
  }

  /// The stream, for a subscriber to take over (a plain one on the
  /// type-erased executor the subscribers use).
  auto released_stream() {
    if constexpr (is_tls)
      return std::move(stream_);
    else
      return beast::tcp_stream{tcp::socket{stream_.release_socket()}};
  }

  /// After an answer to a request whose body was not read: stop sending,
  /// read (and drop) what the client still sends for a moment, then close;
  /// closing with unread data would reset the connection, and the client
  /// could lose the answer.
  void drain_and_close() {
    phase_ = phase::writing;
    draining_ = true;
    beast::error_code ec;
    socket_of(stream_).shutdown(tcp::socket::shutdown_send, ec);
    buffer_.clear();
    expire_after(drain_time);
    drain_some();
  }

  void drain_some() {
    stream_.async_read_some(buffer_.prepare(16384),
                            [self = self()](beast::error_code ec,
                                            std::size_t n) {
                              self->drained_ += n;
                              self->buffer_.consume(self->buffer_.size());
                              if (ec || self->drained_ > drain_bytes)
                                return self->close();
                              self->drain_some();
                            });
  }

  void close() {
    if (phase_ == phase::closed || phase_ == phase::handed_over)
      return;
    phase_ = phase::closed;
    beast::error_code ec;
    // Over TLS, without a close_notify: the answers were framed by length,
    // so a peer cannot mistake the cut for a truncated message.
    socket_of(stream_).shutdown(tcp::socket::shutdown_both, ec);
    tcp_layer().close();
  }

  // Owned: the io_context (in impl) must outlive this session's socket,
  // and an answer may still hold the session after the server stopped.
  std::shared_ptr<http_server::impl> srv_;
  /// Its io_context's, used on that context's thread only.
  edge::deadline_sweep* sweep_;
  Stream stream_;
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  std::optional<bhttp::request<bhttp::string_body>> upgrade_;
  http_request req_;
  /// The answer being written: its head (the buffer reused from one answer
  /// to the next) and its body.
  std::string out_head_;
  std::string out_body_;
  /// req_.route as the head handler left it (req_ is handed on).
  const void* route_ = nullptr;
  std::string remote_;
  phase phase_ = phase::idle;
  uint32_t served_ = 0;
  std::size_t drained_ = 0;
  bool keep_alive_ = true;
  bool head_only_ = false;
  /// Reading what a refused client still sends: its deadline is no timeout.
  bool draining_ = false;
};

/// A connection past the cap: one 503, then closed.
class over_cap_refusal : public std::enable_shared_from_this<over_cap_refusal> {
public:
  over_cap_refusal(std::atomic<std::size_t>& count, accepted_socket&& socket)
    : count_(count), stream_(std::move(socket)) {
    ++count_;
  }

  ~over_cap_refusal() {
    --count_;
  }

  void start() {
    static const std::string answer = [] {
      auto body = error_body("unavailable",
                             "the node holds as many connections as it is "
                             "configured to; retry later");
      return "HTTP/1.1 503 Service Unavailable\r\nContent-Type: "
             "application/json\r\nRetry-After: 1\r\nConnection: close\r\n"
             "Content-Length: "
        + std::to_string(body.size()) + "\r\n\r\n" + body;
    }();
    stream_.expires_after(drain_time);
    asio::async_write(
      stream_, asio::buffer(answer),
      [self = shared_from_this()](beast::error_code ec, std::size_t) {
        beast::error_code ignored;
        if (ec)
          return self->stream_.close();
        self->stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
        self->drain();
      });
  }

private:
  void drain() {
    stream_.async_read_some(asio::buffer(scratch_),
                            [self = shared_from_this()](beast::error_code ec,
                                                        std::size_t n) {
                              self->drained_ += n;
                              if (ec || self->drained_ > drain_bytes)
                                return self->stream_.close();
                              self->drain();
                            });
  }

  std::atomic<std::size_t>& count_;
  plain_stream stream_;
  std::array<char, 4096> scratch_;
  std::size_t drained_ = 0;
};

} // namespace

void http_server::impl::accept() {
  // No strand: each io_context is run by one thread, so a connection's
  // handlers never run concurrently (a strand cost ~5 % of the CPU of a
  // request in shared-pointer counts, type-erased copies and its mutex).
  auto i = pick_context();
  acceptor->async_accept(
    iocs[i]->get_executor(),
    [this, i](beast::error_code ec, accepted_socket socket) {
      if (connections.stopping)
        return;
      if (ec) {
        if (ec == asio::error::operation_aborted)
          return;
        // Out of descriptors (EMFILE) and the like: pause rather than spin.
        log_warning("http", "accept failed: " + ec.message());
        accept_pause->expires_after(std::chrono::milliseconds{50});
        accept_pause->async_wait([this](beast::error_code) {
          if (!connections.stopping)
            accept();
        });
        return;
      }
      ++accepted;
      beast::error_code ignored;
      socket.set_option(tcp::no_delay{true}, ignored);
      if (connections.open >= limits.max_connections)
        refuse_over_cap(std::move(socket));
      else if (tls)
        std::make_shared<session<tls_stream>>(shared_from_this(), *sweeps[i],
                                              std::move(socket), *tls)
          ->start();
      else
        std::make_shared<session<plain_stream>>(shared_from_this(), *sweeps[i],
                                                std::move(socket))
          ->start();
      accept();
    });
}

void http_server::impl::refuse_over_cap(accepted_socket socket) {
  ++refused_over_cap;
  // Refusals are bounded too: past this many in flight, just close. Over
  // TLS a 503 would cost a handshake, the work the cap is there to refuse.
  if (refusing >= 1024 || tls) {
    beast::error_code ignored;
    socket.close(ignored);
    return;
  }
  if (handlers.on_answered)
    handlers.on_answered(nullptr, 503);
  // Written on the socket's own io thread, not the acceptor's.
  auto ex = socket.get_executor();
  asio::post(
    ex, [r = std::make_shared<over_cap_refusal>(refusing, std::move(socket))] {
      r->start();
    });
}

void http_server::impl::stop(std::chrono::milliseconds grace) {
  if (stopped)
    return;
  stopped = true;
  connections.stopping = true;
  if (acceptor)
    asio::post(acceptor->get_executor(), [this] {
      beast::error_code ignored;
      acceptor->close(ignored);
      accept_pause->cancel();
    });
  for (auto& c : connections.snapshot())
    asio::post(c->executor(), [c] { c->on_stop(); });
  auto deadline = std::chrono::steady_clock::now() + grace;
  while (connections.open > 0 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds{5});
  for (auto& c : connections.snapshot())
    asio::post(c->executor(), [c] { c->cut(); });
  // What was cut closes at once; give the io threads a moment to run it.
  auto cut_deadline = std::chrono::steady_clock::now()
    + std::chrono::milliseconds{500};
  while ((connections.open > 0 || refusing > 0)
         && std::chrono::steady_clock::now() < cut_deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds{5});
  keep_running.clear();
  for (auto& ioc : iocs)
    ioc->stop();
  for (auto& t : threads)
    if (t.joinable())
      t.join();
  threads.clear();
  // Run what the cut left queued (completions of closed sockets), so that
  // no queued handler keeps a session, and with it this object, alive.
  for (auto& ioc : iocs) {
    ioc->restart();
    ioc->poll();
  }
}

http_server::http_server(http_limits limits, http_handlers handlers)
  : impl_(std::make_shared<impl>(limits, std::move(handlers))) {
  if (impl_->limits.io_threads == 0)
    impl_->limits.io_threads = std::max(1u,
                                        std::thread::hardware_concurrency());
  for (unsigned i = 0; i < impl_->limits.io_threads; ++i) {
    // Concurrency hint 1: each context is run by one thread only.
    impl_->iocs.push_back(std::make_unique<asio::io_context>(1));
    impl_->sweeps.push_back(
      std::make_unique<edge::deadline_sweep>(*impl_->iocs.back()));
    impl_->keep_running.push_back(
      asio::make_work_guard(impl_->iocs.back()->get_executor()));
  }
}

http_server::~http_server() {
  stop(std::chrono::milliseconds{0});
}

uint16_t http_server::listen(const std::string& host, uint16_t port,
                             std::string& err) {
  auto& d = *impl_;
  beast::error_code ec;
  auto address = asio::ip::make_address(host, ec);
  if (ec) {
    tcp::resolver resolver{*d.iocs.front()};
    auto found = resolver.resolve(host, std::to_string(port), ec);
    if (ec || found.empty()) {
      err = "cannot bind " + host + ":" + std::to_string(port)
        + ": cannot resolve the host: " + ec.message();
      return 0;
    }
    address = found.begin()->endpoint().address();
  }
  tcp::endpoint endpoint{address, port};
  d.acceptor.emplace(d.iocs.front()->get_executor());
  d.accept_pause.emplace(d.acceptor->get_executor());
  auto fail = [&](const char* what) {
    err = "cannot bind " + host + ":" + std::to_string(port) + ": " + what
      + ": " + ec.message();
    d.acceptor.reset();
    return uint16_t{0};
  };
  d.acceptor->open(endpoint.protocol(), ec);
  if (ec)
    return fail("socket");
  // Not SO_REUSEPORT: with it a second node on the same port binds too and
  // silently takes half the traffic.
  d.acceptor->set_option(asio::socket_base::reuse_address{true}, ec);
  d.acceptor->bind(endpoint, ec);
  if (ec)
    return fail("bind");
  d.acceptor->listen(d.limits.backlog, ec);
  if (ec)
    return fail("listen");
  return d.acceptor->local_endpoint().port();
}

bool http_server::use_tls(const std::string& cert_file,
                          const std::string& key_file, std::string& err) {
  auto& d = *impl_;
  asio::ssl::context ctx{asio::ssl::context::tls_server};
  ctx.set_options(
    asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2
    | asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1
    | asio::ssl::context::no_tlsv1_1 | asio::ssl::context::single_dh_use);
  beast::error_code ec;
  ctx.use_certificate_chain_file(cert_file, ec);
  if (ec) {
    err = "node.http.tls.cert_file " + cert_file + ": " + ec.message();
    return false;
  }
  ctx.use_private_key_file(key_file, asio::ssl::context::pem, ec);
  if (ec) {
    err = "node.http.tls.key_file " + key_file + ": " + ec.message();
    return false;
  }
  if (SSL_CTX_check_private_key(ctx.native_handle()) != 1) {
    err = "node.http.tls.key_file " + key_file
      + ": the key does not match the certificate";
    return false;
  }
  d.tls.emplace(std::move(ctx));
  return true;
}

void http_server::start() {
  auto& d = *impl_;
  if (d.acceptor)
    d.accept();
  for (unsigned i = 0; i < d.limits.io_threads; ++i)
    d.threads.emplace_back([&d, &ioc = *d.iocs[i]] {
      for (;;) {
        try {
          ioc.run();
          return;
        } catch (const std::exception& e) {
          log_error("http", std::string{"io thread: "} + e.what());
        }
      }
    });
}

void http_server::stop(std::chrono::milliseconds grace) {
  impl_->stop(grace);
}

http_server_stats http_server::stats() const {
  auto& d = *impl_;
  http_server_stats out;
  out.open_connections = d.connections.open;
  out.accepted = d.accepted;
  out.refused_over_cap = d.refused_over_cap;
  out.timed_out = d.connections.timed_out;
  return out;
}

} // namespace streamb
