#pragma once

// The URL of an HTTP delivery endpoint, checked when the config is read so
// that a typo fails the start, not the first delivery hours later.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace streamb {

struct endpoint_url {
  bool tls = false;
  std::string host; // a name, an IPv4 address, or an IPv6 one without []
  uint16_t port = 0;
  std::string path; // "/" at least, with the query if any

  /// "scheme://host:port" as cpp-httplib's client takes it.
  std::string origin() const;
  /// scheme, host, port and path; the query is left out (it may hold a
  /// token).
  std::string display() const;
};

/// http://host[:port][/path][?query] or https://...; nullopt with `why`
/// for anything else (user info, a fragment, no host, a bad port, spaces
/// or control characters).
std::optional<endpoint_url> parse_endpoint_url(std::string_view text,
                                               std::string& why);

} // namespace streamb
