#pragma once

// Inside the HTTP server: what every kind of connection (a request/response
// session, an SSE or WebSocket subscriber) offers the server's stop, and the
// registry the server stops them through. Not for routes.

#include "bridges/http/stream_sink.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <vector>

namespace streamb::edge {

using tls_stream = boost::beast::ssl_stream<boost::beast::tcp_stream>;

/// A plain connection's stream while it serves requests: bound to its
/// io_context's own executor type, not the type-erased any_io_executor
/// (perf: ~3 % of the edge's CPU in copying and destroying erased
/// executors, several per request).
using io_executor = boost::asio::io_context::executor_type;
using plain_stream = boost::beast::basic_stream<boost::asio::ip::tcp,
                                                io_executor>;

/// The TCP socket under any of the edge's streams.
inline boost::asio::ip::tcp::socket&
socket_of(boost::asio::ip::tcp::socket& s) {
  return s;
}

inline boost::asio::ip::tcp::socket& socket_of(boost::beast::tcp_stream& s) {
  return s.socket();
}

inline plain_stream::socket_type& socket_of(plain_stream& s) {
  return s.socket();
}

inline boost::asio::ip::tcp::socket& socket_of(tls_stream& s) {
  return s.next_layer().socket();
}

class connection : public std::enable_shared_from_this<connection> {
public:
  virtual ~connection() = default;

  /// On the connection's io thread, when the server stops: finish what is in
  /// flight, close when idle.
  virtual void on_stop() = 0;

  /// On its io thread, when the grace period is over: close now.
  virtual void cut() = 0;

  virtual boost::asio::any_io_executor executor() = 0;
};

/// Every open connection, for the server's stop and stats.
struct connection_registry {
  std::mutex mtx;
  std::unordered_map<connection*, std::weak_ptr<connection>> live;
  std::atomic<std::size_t> open{0};
  std::atomic<uint64_t> timed_out{0};
  std::atomic<bool> stopping{false};

  void add(connection* c, std::weak_ptr<connection> weak) {
    std::lock_guard<std::mutex> guard{mtx};
    live.emplace(c, std::move(weak));
  }

  void remove(connection* c) {
    std::lock_guard<std::mutex> guard{mtx};
    live.erase(c);
  }

  std::vector<std::shared_ptr<connection>> snapshot() {
    std::vector<std::shared_ptr<connection>> out;
    std::lock_guard<std::mutex> guard{mtx};
    for (auto& [ptr, weak] : live)
      if (auto c = weak.lock())
        out.push_back(std::move(c));
    return out;
  }
};

} // namespace streamb::edge
