#include "runtime/deliveries/endpoint_url.hpp"

#include <cctype>

namespace streamb {

namespace {

bool host_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.'
    || c == '_';
}

} // namespace

std::string endpoint_url::origin() const {
  auto h = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  return std::string{tls ? "https://" : "http://"} + h + ":"
    + std::to_string(port);
}

std::string endpoint_url::display() const {
  return origin() + path.substr(0, path.find('?'));
}

std::optional<endpoint_url> parse_endpoint_url(std::string_view text,
                                               std::string& why) {
  endpoint_url out;
  for (char c : text)
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) {
      why = "must not contain spaces or control characters";
      return std::nullopt;
    }
  if (text.rfind("https://", 0) == 0) {
    out.tls = true;
    text.remove_prefix(8);
  } else if (text.rfind("http://", 0) == 0) {
    text.remove_prefix(7);
  } else {
    why = "must start with http:// or https://";
    return std::nullopt;
  }
  if (text.find('#') != std::string_view::npos) {
    why = "must not have a fragment (#...)";
    return std::nullopt;
  }
  auto slash = text.find_first_of("/?");
  auto authority = text.substr(0, slash);
  auto rest = slash == std::string_view::npos ? std::string_view{}
                                              : text.substr(slash);
  if (authority.find('@') != std::string_view::npos) {
    why = "must not carry user:password@ (endpoints authenticate the node "
          "by its signature)";
    return std::nullopt;
  }
  std::string_view port_text;
  if (!authority.empty() && authority.front() == '[') {
    auto close = authority.find(']');
    if (close == std::string_view::npos) {
      why = "has an unclosed [IPv6 address]";
      return std::nullopt;
    }
    out.host = std::string{authority.substr(1, close - 1)};
    auto after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') {
        why = "has text after the [IPv6 address]";
        return std::nullopt;
      }
      port_text = after.substr(1);
    }
    for (char c : out.host)
      if (!std::isxdigit(static_cast<unsigned char>(c)) && c != ':'
          && c != '.') {
        why = "has an invalid IPv6 address";
        return std::nullopt;
      }
  } else {
    auto colon = authority.find(':');
    out.host = std::string{authority.substr(0, colon)};
    if (colon != std::string_view::npos)
      port_text = authority.substr(colon + 1);
    for (char c : out.host)
      if (!host_char(c)) {
        why = "has an invalid host name";
        return std::nullopt;
      }
  }
  if (out.host.empty()) {
    why = "has no host";
    return std::nullopt;
  }
  out.port = out.tls ? 443 : 80;
  if (authority.find(':') != std::string_view::npos
      && (authority.front() != '[' || !port_text.empty())) {
    if (port_text.empty() || port_text.size() > 5) {
      why = "has an invalid port";
      return std::nullopt;
    }
    unsigned long p = 0;
    for (char c : port_text) {
      if (!std::isdigit(static_cast<unsigned char>(c))) {
        why = "has an invalid port";
        return std::nullopt;
      }
      p = p * 10 + static_cast<unsigned long>(c - '0');
    }
    if (p == 0 || p > 65535) {
      why = "has a port outside 1-65535";
      return std::nullopt;
    }
    out.port = static_cast<uint16_t>(p);
  }
  out.path = rest.empty() ? "/" : std::string{rest};
  if (out.path.front() == '?')
    out.path.insert(0, "/");
  return out;
}

} // namespace streamb
