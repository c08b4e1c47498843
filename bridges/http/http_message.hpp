#pragma once

// A request as routes see it and the answer they fill in: plain values, no
// server types, so that route handlers and the auth gate are unit-testable
// and the server underneath (Beast) stays out of their headers.

#include "bridges/http/stream_sink.hpp"

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace streamb {

/// Orders header names case-insensitively (HTTP field names are).
struct field_name_less {
  bool operator()(const std::string& x, const std::string& y) const noexcept;
};

using http_fields = std::multimap<std::string, std::string, field_name_less>;

struct http_request {
  std::string method;
  /// As sent: path and query, still percent-encoded.
  std::string target;
  /// The target's path, percent-decoded.
  std::string path;
  /// Query parameters, percent-decoded, in order.
  std::multimap<std::string, std::string> params;
  http_fields headers;
  std::string body;
  std::string remote_addr;
  /// matches[0] is the path, then one entry per `{name}` of the route's
  /// pattern, in order (as a regex's groups would be).
  std::vector<std::string> matches;
  /// What the head handler made of the request (the route-table row), for
  /// http_handlers::on_answered; opaque to the edge.
  const void* route = nullptr;
  /// Set by the gate when an agent ticket opened the request: the hash of
  /// the agent key that asked for the ticket.
  std::string ticket_key_hash;

  /// The first value of header `key`, or `fallback`.
  std::string get_header_value(const std::string& key,
                               const char* fallback = "") const;
  bool has_header(const std::string& key) const;
  bool has_param(const std::string& key) const;
  /// The first value of query parameter `key`, or "".
  std::string get_param_value(const std::string& key) const;
};

struct http_response {
  int status = 200;
  http_fields headers;
  std::string body;
  std::string content_type;

  /// Set by a stream route: instead of a body, the connection becomes a
  /// subscriber of this kind and `attach` gets its sink.
  stream_kind stream = stream_kind::none;
  stream_attach attach;
  /// A WebSocket route that reads what its client sends (agents).
  std::shared_ptr<stream_listener> listener;

  void set_header(const std::string& key, std::string value);
  void set_content(std::string text, std::string type);
};

/// Decodes %XX (and '+' as a space when `plus_is_space`). Invalid escapes
/// are kept as they are.
std::string percent_decode(std::string_view in, bool plus_is_space);

/// Splits `target` into its decoded path and query parameters.
void parse_target(std::string_view target, std::string& path,
                  std::multimap<std::string, std::string>& params);

/// Sends the answer to one request; call it exactly once, from any thread.
using http_reply = std::function<void(http_response)>;

} // namespace streamb
