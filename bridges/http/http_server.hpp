#pragma once

// The node's HTTP/1.1 listener on Boost.Beast: asynchronous, a few io
// threads for any number of connections, and every resource a client can
// make it hold bounded (connections, header and body bytes, time to send a
// head or a body, idle keep-alive time, time to take an answer).
//
// The server knows nothing of routes: it hands each request head to
// `on_head` (which may refuse it before its body is read) and each full
// request to `on_request`, which answers through a callback, from any
// thread, whenever the answer is ready. An io thread never waits.

#include "bridges/http/http_message.hpp"

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

namespace streamb {

struct http_limits {
  /// io threads; 0: one per core.
  unsigned io_threads = 0;
  std::size_t max_connections = 10000;
  std::size_t max_header_bytes = 16 * 1024;
  std::size_t max_body_bytes = 8 * 1024 * 1024;
  /// From the first byte of a request to the end of its head.
  std::chrono::seconds head_timeout{10};
  /// From the end of the head to the end of the body.
  std::chrono::seconds body_timeout{30};
  /// How long a connection may sit idle between requests.
  std::chrono::seconds keep_alive_timeout{30};
  /// Requests served on one connection before it is closed.
  uint32_t keep_alive_max_count = 100000;
  /// To write one answer.
  std::chrono::seconds write_timeout{10};
  int backlog = 1024;
  /// SSE and WebSocket subscribers.
  stream_limits streams;
};

struct http_handlers {
  /// On an io thread, once the head is read (req.body is empty): false
  /// refuses the request with `res`, before its body is read; the
  /// connection is then closed, since the body is never read. May set
  /// req.route.
  std::function<bool(http_request& req, http_response& res)> on_head;
  /// On an io thread, with the whole request; must not block.
  std::function<void(http_request req, http_reply reply)> on_request;
  /// On an io thread, for every answer the edge writes (the handlers', its
  /// own refusals, 101 or 200 for a stream): the request's `route` (null
  /// before a head was read) and the status. Must not block.
  std::function<void(const void* route, int status)> on_answered;
};

/// Counters for stats and tests.
struct http_server_stats {
  std::size_t open_connections = 0;
  uint64_t accepted = 0;
  /// Connections refused with 503 past max_connections.
  uint64_t refused_over_cap = 0;
  /// Connections cut at a deadline (head, body, idle, write, shutdown).
  uint64_t timed_out = 0;
};

class http_server {
public:
  http_server(http_limits limits, http_handlers handlers);
  ~http_server();

  http_server(const http_server&) = delete;
  http_server& operator=(const http_server&) = delete;

  /// Binds and listens (port 0: any free port). Returns the port, or 0 with
  /// `err` saying why (with the system's reason).
  uint16_t listen(const std::string& host, uint16_t port, std::string& err);

  /// Serves TLS only, with the certificate chain and key in these PEM
  /// files; call before start(). Returns false with `err` saying why (a
  /// file unreadable, a key that does not match the certificate).
  bool use_tls(const std::string& cert_file, const std::string& key_file,
               std::string& err);

  /// Starts the io threads.
  void start();

  /// Stops accepting, closes idle connections, lets requests in flight
  /// finish for at most `grace`, then cuts what is still open and joins the
  /// io threads. Idempotent.
  void stop(std::chrono::milliseconds grace);

  http_server_stats stats() const;

  struct impl;

private:
  std::shared_ptr<impl> impl_;
};

} // namespace streamb
