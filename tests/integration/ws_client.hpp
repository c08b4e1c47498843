#pragma once

// A WebSocket client for tests (Boost.Beast over loopback), every call
// bounded in time.

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/websocket/stream.hpp>

#include <chrono>
#include <optional>
#include <string>

namespace streamb::test {

class ws_client {
public:
  /// Connects to 127.0.0.1:`port` and opens `target`; `key` goes in an
  /// Authorization header. False when the upgrade is refused (`status`
  /// then holds the HTTP status).
  bool open(uint16_t port, const std::string& target,
            const std::string& key = "") {
    namespace beast = boost::beast;
    beast::error_code ec;
    auto& tcp = beast::get_lowest_layer(ws_);
    tcp.expires_after(std::chrono::seconds{5});
    tcp.socket().connect(
      boost::asio::ip::tcp::endpoint{boost::asio::ip::make_address("127.0.0.1"),
                                     port},
      ec);
    if (ec)
      return false;
    ws_.set_option(beast::websocket::stream_base::decorator(
      [key](beast::websocket::request_type& req) {
        if (!key.empty())
          req.set(beast::http::field::authorization, "Bearer " + key);
      }));
    beast::websocket::response_type res;
    bool done = false;
    ws_.async_handshake(res, "127.0.0.1", target, [&](beast::error_code e) {
      ec = e;
      done = true;
    });
    ioc_.run_for(std::chrono::seconds{5});
    status = res.result_int();
    tcp.expires_never();
    return done && !ec;
  }

  bool send(const std::string& text) {
    boost::beast::error_code ec;
    ws_.text(true);
    ws_.write(boost::asio::buffer(text), ec);
    return !ec;
  }

  /// The next message, or nothing when none came within `timeout` or the
  /// connection closed (`closed` then says so; after a timeout the client
  /// is unusable).
  std::optional<std::string>
  recv(std::chrono::milliseconds timeout = std::chrono::seconds{5}) {
    std::optional<std::string> out;
    buffer_.clear();
    ws_.async_read(buffer_, [&](boost::beast::error_code ec, std::size_t) {
      if (ec) {
        closed = true;
        return;
      }
      out = boost::beast::buffers_to_string(buffer_.data());
    });
    ioc_.restart();
    ioc_.run_for(timeout);
    if (!ioc_.stopped()) {
      boost::beast::get_lowest_layer(ws_).close();
      ioc_.restart();
      ioc_.run_for(std::chrono::seconds{1});
    }
    return out;
  }

  /// The close code the server sent, once recv saw the close.
  int close_code() const {
    return static_cast<int>(ws_.reason().code);
  }

  void close() {
    boost::beast::error_code ec;
    boost::beast::get_lowest_layer(ws_).close();
  }

  int status = 0;
  bool closed = false;

private:
  boost::asio::io_context ioc_;
  boost::beast::websocket::stream<boost::beast::tcp_stream> ws_{ioc_};
  boost::beast::flat_buffer buffer_;
};

} // namespace streamb::test
