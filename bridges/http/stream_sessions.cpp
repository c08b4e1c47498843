#include "bridges/http/stream_sessions.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <boost/beast/websocket/rfc6455.hpp>
#include <boost/beast/websocket/stream.hpp>

#include <array>
#include <deque>
#include <optional>
#include <vector>

namespace streamb::edge {

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;

/// How long a dropped or stopping subscriber gets to take its close frame.
constexpr auto close_grace = std::chrono::seconds{2};

/// The queue and the accounting both kinds of subscriber share. `push`
/// runs on any thread; everything else on the subscriber's io thread.
class subscriber : public connection, public stream_sink {
public:
  subscriber(std::shared_ptr<connection_registry> reg,
             const stream_limits& limits, asio::any_io_executor ex)
    : reg_(std::move(reg)), limits_(limits), executor_(std::move(ex)) {
    ++reg_->open;
  }

  ~subscriber() override {
    reg_->remove(this);
    --reg_->open;
  }

  push_result push(std::shared_ptr<const stream_message> msg) override {
    if (gone_)
      return push_result::gone;
    auto size = size_of(*msg);
    if (queued_bytes_.fetch_add(size) + size > limits_.max_queued_bytes) {
      queued_bytes_ -= size;
      if (gone_.exchange(true))
        return push_result::gone;
      asio::post(executor_, [self = self()] { self->drop_slow(); });
      return push_result::dropped;
    }
    asio::post(executor_, [self = self(), msg = std::move(msg)]() mutable {
      self->enqueue(std::move(msg));
    });
    return push_result::queued;
  }

  bool gone() const override {
    return gone_;
  }

  void close(std::string reason) override {
    asio::post(executor_, [self = self(), reason = std::move(reason)] {
      self->close_after_queue(reason);
    });
  }

  asio::any_io_executor executor() override {
    return executor_;
  }

  void on_stop() override {
    gone_ = true;
    say_goodbye();
  }

  void cut() override {
    gone_ = true;
    close_now();
  }

protected:
  std::shared_ptr<subscriber> self() {
    return std::static_pointer_cast<subscriber>(shared_from_this());
  }

  void registered() {
    reg_->add(this, weak_from_this());
  }

  /// Hands the sink to the route.
  void attached(stream_attach& attach) {
    if (reg_->stopping || !attach || !attach(self())) {
      gone_ = true;
      return say_goodbye();
    }
    keep_alive();
  }

  void enqueue(std::shared_ptr<const stream_message> msg) {
    if (closed_)
      return;
    queue_.push_back(std::move(msg));
    if (!writing_)
      write_next();
  }

  void write_next() {
    // A subscriber being dropped or stopped gets no more events.
    if (closed_ || gone_ || queue_.empty()) {
      writing_ = false;
      if (!closed_ && queue_.empty())
        drained();
      return;
    }
    writing_ = true;
    in_flight_ = write_front();
  }

  /// Called by the kind when the `in_flight_` front messages are written.
  void written(beast::error_code ec) {
    for (; in_flight_ > 0 && !queue_.empty(); --in_flight_) {
      queued_bytes_ -= size_of(*queue_.front());
      queue_.pop_front();
    }
    in_flight_ = 0;
    if (ec) {
      gone_ = true;
      return close_now();
    }
    write_next();
  }

  /// The subscriber stopped reading: tell it why if it still listens, and
  /// close.
  void drop_slow() {
    say_goodbye();
  }

  void keep_alive() {
    timer_.expires_after(limits_.keep_alive);
    timer_.async_wait([self = self()](beast::error_code ec) {
      if (ec || self->closed_)
        return;
      self->on_keep_alive();
      self->keep_alive();
    });
  }

  virtual std::size_t size_of(const stream_message& msg) const = 0;
  /// Starts writing the front of the queue (one message or several);
  /// returns how many, and calls written() when done.
  virtual std::size_t write_front() = 0;
  virtual void say_goodbye() = 0;
  virtual void close_now() = 0;
  /// Closes once the queue is written.
  virtual void close_after_queue(const std::string& reason) = 0;
  virtual void on_keep_alive() = 0;
  /// Everything queued is written.
  virtual void drained() {}

  std::shared_ptr<connection_registry> reg_;
  stream_limits limits_;
  asio::any_io_executor executor_;
  asio::steady_timer timer_{executor_};
  std::deque<std::shared_ptr<const stream_message>> queue_;
  std::atomic<std::size_t> queued_bytes_{0};
  std::atomic<bool> gone_{false};
  std::size_t in_flight_ = 0;
  bool writing_ = false;
  bool closed_ = false;
};

// -- server-sent events -------------------------------------------------------

/// Over a plain socket or a TLS stream (whose TCP layer keeps no time: the
/// subscriber's own deadline covers writes).
template <class Stream>
class sse_subscriber : public subscriber {
public:
  sse_subscriber(std::shared_ptr<connection_registry> reg,
                 const stream_limits& limits, Stream stream)
    : subscriber(std::move(reg), limits, stream.get_executor()),
      socket_(std::move(stream)), write_deadline_(executor_) {
    if constexpr (!std::is_same_v<Stream, tcp::socket>)
      beast::get_lowest_layer(socket_).expires_never();
    beast::error_code ignored;
    socket_of(socket_).set_option(
      asio::socket_base::send_buffer_size{limits_.send_buffer_bytes}, ignored);
  }

  void start(stream_attach attach) {
    static const std::string head = "HTTP/1.1 200 OK\r\n"
                                    "Content-Type: text/event-stream\r\n"
                                    "Cache-Control: no-cache\r\n"
                                    "X-Accel-Buffering: no\r\n"
                                    "Connection: close\r\n\r\n"
                                    ": connected\n\n";
    registered();
    writing_ = true;
    arm_deadline();
    asio::async_write(socket_, asio::buffer(head),
                      [self = sse_self(), attach = std::move(attach)](
                        beast::error_code ec, std::size_t) mutable {
                        self->writing_ = false;
                        if (ec)
                          return self->close_now();
                        self->read_until_closed();
                        self->attached(attach);
                      });
  }

private:
  std::shared_ptr<sse_subscriber> sse_self() {
    return std::static_pointer_cast<sse_subscriber>(this->shared_from_this());
  }

  /// One timer for every write: armed when a write starts and none is
  /// armed, it cuts the subscriber only if the write in flight then has
  /// been going for write_timeout; otherwise it re-arms for what is left.
  /// (Arming and cancelling a timer for each of 10 000 subscribers' writes
  /// cost more than the writes.)
  void arm_deadline() {
    write_started_ = std::chrono::steady_clock::now();
    if (deadline_armed_)
      return;
    deadline_armed_ = true;
    wait_deadline(limits_.write_timeout);
  }

  void wait_deadline(std::chrono::steady_clock::duration d) {
    write_deadline_.expires_after(d);
    write_deadline_.async_wait([self = sse_self()](beast::error_code ec) {
      if (ec || self->closed_) {
        self->deadline_armed_ = false;
        return;
      }
      if (!self->writing_) {
        self->deadline_armed_ = false;
        return;
      }
      auto due = self->write_started_ + self->limits_.write_timeout;
      auto now = std::chrono::steady_clock::now();
      if (now < due)
        return self->wait_deadline(due - now);
      self->deadline_armed_ = false;
      ++self->reg_->timed_out;
      self->close_now();
    });
  }

  /// An event stream carries nothing upstream: a read ends only when the
  /// client leaves.
  void read_until_closed() {
    socket_.async_read_some(asio::buffer(scratch_),
                            [self = sse_self()](beast::error_code ec,
                                                std::size_t) {
                              if (ec) {
                                self->gone_ = true;
                                return self->close_now();
                              }
                              self->read_until_closed();
                            });
  }

  std::size_t size_of(const stream_message& msg) const override {
    return msg.sse.size();
  }

  /// Everything queued, up to 64 KiB, in one write: a subscriber that fell
  /// behind catches up in few system calls.
  std::size_t write_front() override {
    constexpr std::size_t max_gather = 64 * 1024;
    gather_.clear();
    std::size_t bytes = 0;
    for (auto& msg : queue_) {
      if (!gather_.empty() && bytes + msg->sse.size() > max_gather)
        break;
      gather_.push_back(asio::buffer(msg->sse));
      bytes += msg->sse.size();
    }
    arm_deadline();
    asio::async_write(socket_, gather_,
                      [self = sse_self()](beast::error_code ec, std::size_t) {
                        self->written(ec);
                      });
    return gather_.size();
  }

  void on_keep_alive() override {
    static const auto comment = std::make_shared<const stream_message>(
      stream_message{"", "", "", ":\n\n"});
    if (queue_.empty()) {
      queued_bytes_ += size_of(*comment);
      enqueue(comment);
    }
  }

  void say_goodbye() override {
    close_now();
  }

  void close_after_queue(const std::string&) override {
    // Event streams take nothing from routes that end them: close.
    gone_ = true;
    close_now();
  }

  void close_now() override {
    if (closed_)
      return;
    closed_ = true;
    beast::error_code ignored;
    timer_.cancel();
    write_deadline_.cancel();
    socket_of(socket_).shutdown(tcp::socket::shutdown_both, ignored);
    socket_of(socket_).close(ignored);
  }

  Stream socket_;
  asio::steady_timer write_deadline_;
  std::chrono::steady_clock::time_point write_started_;
  bool deadline_armed_ = false;
  std::vector<asio::const_buffer> gather_;
  std::array<char, 512> scratch_;
};

// -- WebSocket ----------------------------------------------------------------

template <class NextLayer>
class ws_subscriber : public subscriber {
public:
  ws_subscriber(std::shared_ptr<connection_registry> reg,
                const stream_limits& limits, NextLayer&& stream,
                std::shared_ptr<stream_listener> listener)
    : subscriber(std::move(reg), limits, stream.get_executor()),
      ws_(std::move(stream)), close_deadline_(executor_),
      read_pause_(executor_), listener_(std::move(listener)) {
    beast::error_code ignored;
    beast::get_lowest_layer(ws_).socket().set_option(
      asio::socket_base::send_buffer_size{limits_.send_buffer_bytes}, ignored);
    // The websocket stream keeps its own time: none on the TCP layer.
    beast::get_lowest_layer(ws_).expires_never();
    websocket::stream_base::timeout t;
    t.handshake_timeout = std::chrono::seconds{10};
    t.idle_timeout = limits_.keep_alive;
    t.keep_alive_pings = true;
    ws_.set_option(t);
    ws_.read_message_max(limits_.max_message_bytes);
    ws_.text(true);
  }

  ~ws_subscriber() override {
    tell_closed();
  }

  void start(bhttp::request<bhttp::string_body> req, stream_attach attach) {
    registered();
    upgrade_ = std::move(req);
    ws_.async_accept(upgrade_,
                     [self = ws_self(), attach = std::move(attach)](
                       beast::error_code ec) mutable {
                       if (ec)
                         return self->close_now();
                       self->read_loop();
                       self->attached(attach);
                     });
  }

private:
  std::shared_ptr<ws_subscriber> ws_self() {
    return std::static_pointer_cast<ws_subscriber>(this->shared_from_this());
  }

  /// Control frames (pings, pongs, close) are handled while a read is
  /// pending; messages from the client are read (bounded by
  /// max_message_bytes) and go to the listener, or are dropped without one.
  /// While the listener is not ready, nothing is read: TCP pushes back.
  void read_loop() {
    if (closed_)
      return;
    if (listener_ && !listener_->ready()) {
      read_pause_.expires_after(std::chrono::milliseconds{5});
      read_pause_.async_wait([self = ws_self()](beast::error_code ec) {
        if (!ec)
          self->read_loop();
      });
      return;
    }
    ws_.async_read(in_, [self = ws_self()](beast::error_code ec, std::size_t) {
      if (ec) {
        self->in_.consume(self->in_.size());
        self->gone_ = true;
        return self->close_now();
      }
      if (self->listener_ && !self->closed_)
        self->listener_->on_message(beast::buffers_to_string(self->in_.data()));
      self->in_.consume(self->in_.size());
      self->read_loop();
    });
  }

  void tell_closed() {
    if (auto l = std::exchange(listener_, nullptr))
      l->on_closed();
  }

  void drained() override {
    if (!end_reason_)
      return;
    // The node ended the conversation (a policy close: the agent's key was
    // revoked): the client has what was queued, then the close frame.
    auto reason = std::move(*end_reason_);
    end_reason_.reset();
    begin_close(
      websocket::close_reason{websocket::close_code::policy_error, reason});
  }

  void close_after_queue(const std::string& reason) override {
    if (closed_ || closing_)
      return;
    end_reason_ = std::string{utf8_cut(reason)};
    // A client that stopped reading never drains the queue: cut it then.
    close_deadline_.expires_after(limits_.write_timeout + close_grace);
    close_deadline_.async_wait([self = ws_self()](beast::error_code ec) {
      if (!ec)
        self->close_now();
    });
    if (!writing_ && queue_.empty())
      drained();
  }

  /// A close reason is at most 123 bytes.
  static std::string_view utf8_cut(std::string_view x) {
    if (x.size() <= 120)
      return x;
    auto n = std::size_t{120};
    while (n > 0 && (static_cast<unsigned char>(x[n]) & 0xC0) == 0x80)
      --n;
    return x.substr(0, n);
  }

  std::size_t size_of(const stream_message& msg) const override {
    return msg.json.size();
  }

  std::size_t write_front() override {
    ws_.async_write(asio::buffer(queue_.front()->json),
                    [self = ws_self()](beast::error_code ec, std::size_t) {
                      self->written(ec);
                    });
    return 1;
  }

  void on_keep_alive() override {
    // Beast pings a silent client itself (keep_alive_pings).
  }

  void say_goodbye() override {
    websocket::close_reason why{websocket::close_code::try_again_later,
                                "too slow or the node is stopping"};
    if (reg_->stopping)
      why = websocket::close_reason{websocket::close_code::going_away,
                                    "the node is stopping"};
    begin_close(why);
  }

  void begin_close(const websocket::close_reason& why) {
    if (closed_ || closing_)
      return;
    closing_ = true;
    // A subscriber that stopped reading may never take the close frame:
    // wait for it a moment, then cut.
    close_deadline_.expires_after(close_grace);
    close_deadline_.async_wait([self = ws_self()](beast::error_code ec) {
      if (!ec)
        self->close_now();
    });
    ws_.async_close(why, [self = ws_self()](beast::error_code) {
      self->close_now();
    });
  }

  void close_now() override {
    if (closed_)
      return;
    closed_ = true;
    timer_.cancel();
    close_deadline_.cancel();
    read_pause_.cancel();
    tell_closed();
    beast::error_code ignored;
    auto& sock = beast::get_lowest_layer(ws_).socket();
    sock.shutdown(tcp::socket::shutdown_both, ignored);
    sock.close(ignored);
  }

  websocket::stream<NextLayer> ws_;
  bhttp::request<bhttp::string_body> upgrade_;
  beast::flat_buffer in_;
  asio::steady_timer close_deadline_;
  asio::steady_timer read_pause_;
  std::shared_ptr<stream_listener> listener_;
  std::optional<std::string> end_reason_;
  bool closing_ = false;
};

} // namespace

void start_sse(std::shared_ptr<connection_registry> reg,
               beast::tcp_stream&& stream, stream_attach attach,
               const stream_limits& limits) {
  auto s = std::make_shared<sse_subscriber<tcp::socket>>(
    std::move(reg), limits, stream.release_socket());
  s->start(std::move(attach));
}

void start_sse(std::shared_ptr<connection_registry> reg, tls_stream&& stream,
               stream_attach attach, const stream_limits& limits) {
  auto s = std::make_shared<sse_subscriber<tls_stream>>(std::move(reg), limits,
                                                        std::move(stream));
  s->start(std::move(attach));
}

void start_websocket(std::shared_ptr<connection_registry> reg,
                     beast::tcp_stream&& stream,
                     bhttp::request<bhttp::string_body>&& req,
                     stream_attach attach,
                     std::shared_ptr<stream_listener> listener,
                     const stream_limits& limits) {
  auto s = std::make_shared<ws_subscriber<beast::tcp_stream>>(
    std::move(reg), limits, std::move(stream), std::move(listener));
  s->start(std::move(req), std::move(attach));
}

void start_websocket(std::shared_ptr<connection_registry> reg,
                     tls_stream&& stream,
                     bhttp::request<bhttp::string_body>&& req,
                     stream_attach attach,
                     std::shared_ptr<stream_listener> listener,
                     const stream_limits& limits) {
  auto s = std::make_shared<ws_subscriber<tls_stream>>(
    std::move(reg), limits, std::move(stream), std::move(listener));
  s->start(std::move(req), std::move(attach));
}

bool is_websocket_upgrade(const bhttp::request<bhttp::string_body>& req) {
  return websocket::is_upgrade(req);
}

} // namespace streamb::edge
