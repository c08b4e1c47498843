#pragma once

// Inside the HTTP server: a connection that became a subscriber, as a
// server-sent events stream or a WebSocket. Not for routes (they answer
// with http_response::stream and an attach callback).

#include "bridges/http/connection.hpp"
#include "bridges/http/stream_sink.hpp"

#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

namespace streamb::edge {

/// `reg` is shared: its owner (the server and its io_context) must outlive
/// the subscriber, which the stream hub may hold after the server stopped.
///
/// Writes the event-stream head on `stream`, then `attach`es the subscriber
/// and sends what it is pushed until the client leaves, is dropped for not
/// reading, or the server stops.
void start_sse(std::shared_ptr<connection_registry> reg,
               boost::beast::tcp_stream&& stream, stream_attach attach,
               const stream_limits& limits);
void start_sse(std::shared_ptr<connection_registry> reg,
               boost::beast::ssl_stream<boost::beast::tcp_stream>&& stream,
               stream_attach attach, const stream_limits& limits);

/// Completes the WebSocket handshake of `req` on `stream`, then the same as
/// start_sse with text frames; pings a silent client and closes one that
/// does not answer. What the client sends goes to `listener` (when set;
/// otherwise it is read and dropped).
void start_websocket(
  std::shared_ptr<connection_registry> reg, boost::beast::tcp_stream&& stream,
  boost::beast::http::request<boost::beast::http::string_body>&& req,
  stream_attach attach, std::shared_ptr<stream_listener> listener,
  const stream_limits& limits);
void start_websocket(
  std::shared_ptr<connection_registry> reg,
  boost::beast::ssl_stream<boost::beast::tcp_stream>&& stream,
  boost::beast::http::request<boost::beast::http::string_body>&& req,
  stream_attach attach, std::shared_ptr<stream_listener> listener,
  const stream_limits& limits);

/// Whether `req` asks for a WebSocket upgrade.
bool is_websocket_upgrade(
  const boost::beast::http::request<boost::beast::http::string_body>& req);

} // namespace streamb::edge
