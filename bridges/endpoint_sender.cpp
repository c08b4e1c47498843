#include "bridges/endpoint_sender.hpp"

#include "runtime/webhooks/signatures/sign.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include <deque>
#include <mutex>
#include <optional>
#include <thread>
#include <utility>
#include <vector>

namespace streamb {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using error_code = boost::system::error_code;

namespace {

/// A receiver's answer body is read and dropped; one larger than this
/// closes the connection once its status is known.
constexpr std::size_t max_answer_body = 1 << 20;

bool is_ip_literal(const std::string& host) {
  error_code ec;
  asio::ip::make_address(host, ec);
  return !ec;
}

bool is_header_value(const std::string& x) {
  for (unsigned char c : x)
    if (c < 0x20 || c == 0x7f)
      return false;
  return true;
}

/// The request head up to the signature headers.
std::string request_head(const endpoint_url& url) {
  auto default_port = url.tls ? 443 : 80;
  auto host = url.host.find(':') != std::string::npos ? "[" + url.host + "]"
                                                      : url.host;
  if (url.port != default_port)
    host += ":" + std::to_string(url.port);
  return "POST " + url.path + " HTTP/1.1\r\nHost: " + host
    + "\r\nUser-Agent: streamb\r\nContent-Type: application/json\r\n";
}

int64_t unix_seconds_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(
           std::chrono::system_clock::now().time_since_epoch())
    .count();
}

} // namespace

/// One keep-alive connection; every member is touched on the io thread
/// only.
class sender_connection {
public:
  explicit sender_connection(endpoint_sender::impl& owner) : owner_(owner) {}

  /// Takes the next queued request, or goes idle.
  void next();

  void close();

private:
  void connect();
  void handshake();
  void write();
  void read();
  void finish(const error_code& ec, const char* stage);
  beast::tcp_stream& lowest();
  template <class F>
  void on_stream(F&& f);

  endpoint_sender::impl& owner_;
  std::optional<beast::tcp_stream> tcp_;
  std::optional<beast::ssl_stream<beast::tcp_stream>> tls_;
  std::optional<tcp::resolver> resolver_;
  beast::flat_buffer buffer_;
  std::string request_;
  std::optional<http::response_parser<http::string_body>> parser_;
  outbound_request current_;
  bool connected_ = false;
  /// The connection carried an answer before: a failure on it before any
  /// answer may be the receiver closing an idle connection, tried once
  /// more on a new one.
  bool reused_ = false;
  bool retried_ = false;
};

struct endpoint_sender::impl {
  // Declared first, destroyed last: the sockets need it.
  asio::io_context io{1};
  endpoint_url url;
  std::chrono::seconds timeout;
  std::string secret;
  std::string head;
  std::function<void()> ring;
  std::optional<asio::ssl::context> tls;
  /// Why https cannot be used (a ca_file that does not load); every
  /// request fails with it.
  std::string tls_error;
  std::vector<std::unique_ptr<sender_connection>> connections;
  std::mutex mtx;
  std::deque<outbound_request> queue;     // guarded by mtx
  std::vector<sender_connection*> idle;   // guarded by mtx
  std::vector<outbound_outcome> outcomes; // guarded by mtx
  bool stopping = false;                  // guarded by mtx
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>>
    work;
  std::thread thread;

  /// The owner was rung for the outcomes waiting and has not taken them.
  bool rung = false; // guarded by mtx

  /// Whether to ring the owner now (called with mtx held). Outcomes wait
  /// while more requests are queued than there are connections: the owner
  /// then takes a dozen with one wake-up instead of one each, and still
  /// refills the queue before a connection runs dry.
  bool ring_due() {
    if (rung || outcomes.empty() || queue.size() >= connections.size())
      return false;
    rung = true;
    return true;
  }

  void done(uint64_t handle, int status, std::string why) {
    bool due = false;
    {
      std::lock_guard<std::mutex> guard{mtx};
      outcomes.push_back({handle, status, std::move(why)});
      due = ring_due();
    }
    if (due)
      ring();
  }

  /// The request for `c` to send, or nothing (then `c` is idle).
  std::optional<outbound_request> take(sender_connection* c) {
    std::optional<outbound_request> x;
    bool due = false;
    {
      std::lock_guard<std::mutex> guard{mtx};
      if (stopping)
        return std::nullopt;
      if (queue.empty()) {
        idle.push_back(c);
      } else {
        x = std::move(queue.front());
        queue.pop_front();
      }
      due = ring_due();
    }
    if (due)
      ring();
    return x;
  }
};

beast::tcp_stream& sender_connection::lowest() {
  return tls_ ? beast::get_lowest_layer(*tls_) : *tcp_;
}

template <class F>
void sender_connection::on_stream(F&& f) {
  if (tls_)
    f(*tls_);
  else
    f(*tcp_);
}

void sender_connection::close() {
  connected_ = false;
  reused_ = false;
  buffer_.clear();
  if (tls_) {
    error_code ec;
    beast::get_lowest_layer(*tls_).socket().close(ec);
    tls_.reset();
  }
  if (tcp_) {
    error_code ec;
    tcp_->socket().close(ec);
    tcp_.reset();
  }
}

void sender_connection::next() {
  auto x = owner_.take(this);
  if (!x)
    return;
  current_ = std::move(*x);
  retried_ = false;
  if (!owner_.tls_error.empty()) {
    owner_.done(current_.handle, 0, owner_.tls_error);
    return next();
  }
  if (!is_header_value(current_.id)) {
    // Ids come from the node and from providers' payloads: one that would
    // break the header is never put on the wire.
    owner_.done(current_.handle, 0,
                "the webhook-id is not a valid header value");
    return next();
  }
  // One buffer, one write: the head is fixed but for the signature.
  request_.assign(owner_.head);
  // Signed just before it goes: a request that waited behind a slow
  // endpoint still carries a fresh timestamp.
  if (auto h = signatures::sign_standard_webhooks(
        owner_.secret, current_.id, unix_seconds_now(), *current_.body)) {
    request_ += "webhook-id: " + h->id + "\r\nwebhook-timestamp: "
      + h->timestamp + "\r\nwebhook-signature: " + h->signature + "\r\n";
  }
  request_ += "Content-Length: " + std::to_string(current_.body->size())
    + "\r\n\r\n";
  request_ += *current_.body;
  current_.body.reset();
  if (connected_)
    write();
  else
    connect();
}

void sender_connection::connect() {
  close();
  tcp_.emplace(owner_.io);
  tcp_->expires_after(owner_.timeout);
  resolver_.emplace(owner_.io);
  resolver_->async_resolve(
    owner_.url.host, std::to_string(owner_.url.port),
    [this](const error_code& ec, tcp::resolver::results_type results) {
      if (ec)
        return finish(ec, "resolve");
      tcp_->async_connect(
        results, [this](const error_code& ec, const tcp::endpoint&) {
          if (ec)
            return finish(ec, "connect");
          // Head and body may be two writes: without
          // this, Nagle and the receiver's delayed ACK
          // hold a request ~40 ms.
          error_code ignored;
          tcp_->socket().set_option(tcp::no_delay{true}, ignored);
          if (owner_.url.tls)
            return handshake();
          connected_ = true;
          write();
        });
    });
}

void sender_connection::handshake() {
  tls_.emplace(std::move(*tcp_), *owner_.tls);
  tcp_.reset();
  auto& host = owner_.url.host;
  if (!is_ip_literal(host))
    SSL_set_tlsext_host_name(tls_->native_handle(), host.c_str());
  tls_->set_verify_mode(asio::ssl::verify_peer);
  tls_->set_verify_callback(asio::ssl::host_name_verification(host));
  tls_->async_handshake(asio::ssl::stream_base::client,
                        [this](const error_code& ec) {
                          if (ec)
                            return finish(ec, "TLS handshake");
                          connected_ = true;
                          write();
                        });
}

void sender_connection::write() {
  lowest().expires_after(owner_.timeout);
  on_stream([this](auto& s) {
    asio::async_write(s, asio::buffer(request_),
                      [this](const error_code& ec, std::size_t) {
                        if (ec)
                          return finish(ec, "write");
                        read();
                      });
  });
}

void sender_connection::read() {
  parser_.emplace();
  parser_->body_limit(max_answer_body);
  on_stream([this](auto& s) {
    http::async_read(s, buffer_, *parser_,
                     [this](const error_code& ec, std::size_t) {
                       finish(ec, "read");
                     });
  });
}

void sender_connection::finish(const error_code& ec, const char* stage) {
  bool answered = parser_ && parser_->is_header_done();
  if (ec && !answered && reused_ && !retried_) {
    // The receiver may have closed the idle connection just as the
    // request went out: once more on a new connection (delivery is at
    // least once; the webhook-id lets the receiver drop a duplicate).
    retried_ = true;
    parser_.reset();
    return connect();
  }
  auto handle = current_.handle;
  if (!answered) {
    parser_.reset();
    close();
    owner_.done(handle, 0, std::string{stage} + ": " + ec.message());
    return next();
  }
  auto status = static_cast<int>(parser_->get().result_int());
  bool keep = !ec && parser_->keep_alive();
  parser_.reset();
  if (keep)
    reused_ = true;
  else
    close();
  std::string why;
  if (status < 200 || status > 299)
    why = "HTTP " + std::to_string(status);
  owner_.done(handle, status, std::move(why));
  next();
}

endpoint_sender::endpoint_sender(endpoint_url url, std::chrono::seconds timeout,
                                 std::size_t connections, std::string ca_file,
                                 std::string secret, std::function<void()> ring)
  : impl_(std::make_unique<impl>()) {
  auto& m = *impl_;
  m.url = std::move(url);
  m.head = request_head(m.url);
  m.timeout = timeout;
  m.secret = std::move(secret);
  m.ring = std::move(ring);
  if (m.url.tls) {
    m.tls.emplace(asio::ssl::context::tls_client);
    m.tls->set_options(
      asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2
      | asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1
      | asio::ssl::context::no_tlsv1_1);
    error_code ec;
    if (ca_file.empty())
      m.tls->set_default_verify_paths(ec);
    else
      m.tls->load_verify_file(ca_file, ec);
    if (ec)
      m.tls_error = "TLS trust (" + (ca_file.empty() ? "system" : ca_file)
        + "): " + ec.message();
  }
  for (std::size_t i = 0; i < std::max<std::size_t>(connections, 1); ++i) {
    m.connections.push_back(std::make_unique<sender_connection>(m));
    m.idle.push_back(m.connections.back().get());
  }
  m.work.emplace(m.io.get_executor());
  m.thread = std::thread{[&m] { m.io.run(); }};
}

endpoint_sender::~endpoint_sender() {
  stop();
}

void endpoint_sender::submit(outbound_request req) {
  auto& m = *impl_;
  sender_connection* wake = nullptr;
  {
    std::lock_guard<std::mutex> guard{m.mtx};
    if (m.stopping)
      return;
    m.queue.push_back(std::move(req));
    // A busy connection takes the request when it is done; only an idle
    // one needs waking.
    if (!m.idle.empty()) {
      wake = m.idle.back();
      m.idle.pop_back();
    }
  }
  if (wake != nullptr)
    asio::post(m.io, [wake] { wake->next(); });
}

std::vector<outbound_outcome> endpoint_sender::take_outcomes() {
  std::lock_guard<std::mutex> guard{impl_->mtx};
  impl_->rung = false;
  return std::exchange(impl_->outcomes, {});
}

void endpoint_sender::stop() {
  auto& m = *impl_;
  {
    std::lock_guard<std::mutex> guard{m.mtx};
    if (m.stopping && !m.thread.joinable())
      return;
    m.stopping = true;
    m.queue.clear();
  }
  m.io.stop();
  if (m.thread.joinable())
    m.thread.join();
  // The io thread is gone: nothing else touches the connections.
  for (auto& c : m.connections)
    c->close();
}

} // namespace streamb
