#include "bridges/http/response_head.hpp"

// status.hpp uses std::ostream without including it.
#include <ostream>

#include <boost/beast/core/string.hpp>
#include <boost/beast/http/status.hpp>

#include <charconv>

namespace streamb::edge {

namespace {

using boost::beast::iequals;

/// A token (RFC 9110 5.6.2): what a field name may hold.
bool is_token(std::string_view name) {
  if (name.empty())
    return false;
  for (unsigned char c : name)
    if (c <= 0x20 || c >= 0x7f || c == ':' || c == '(' || c == ')' || c == ','
        || c == '/' || c == ';' || c == '<' || c == '=' || c == '>' || c == '?'
        || c == '@' || c == '[' || c == '\\' || c == ']' || c == '{' || c == '}'
        || c == '"')
      return false;
  return true;
}

bool framed_by_edge(std::string_view name) {
  return iequals(name, "Content-Length") || iequals(name, "Connection")
    || iequals(name, "Transfer-Encoding");
}

void append_value(std::string& out, std::string_view value) {
  for (char c : value)
    out.push_back(c == '\r' || c == '\n' || c == '\0' ? ' ' : c);
}

void append_number(std::string& out, std::size_t n) {
  char digits[24];
  auto [end, ec] = std::to_chars(digits, digits + sizeof digits, n);
  out.append(digits, end);
}

} // namespace

void write_response_head(std::string& out, int status,
                         const http_fields& headers,
                         const std::string& content_type,
                         std::size_t content_length, bool keep_alive) {
  out.clear();
  out += "HTTP/1.1 ";
  if (status < 100 || status > 999)
    status = 500;
  append_number(out, static_cast<std::size_t>(status));
  out += ' ';
  auto reason = boost::beast::http::obsolete_reason(
    static_cast<boost::beast::http::status>(status));
  out.append(reason.data(), reason.size());
  out += "\r\n";
  for (auto& [name, value] : headers) {
    if (!is_token(name) || framed_by_edge(name)
        || (!content_type.empty() && iequals(name, "Content-Type")))
      continue;
    out += name;
    out += ": ";
    append_value(out, value);
    out += "\r\n";
  }
  if (!content_type.empty()) {
    out += "Content-Type: ";
    append_value(out, content_type);
    out += "\r\n";
  }
  // 1xx, 204 and 304 carry no body and no Content-Length (RFC 9110 8.6).
  if (status >= 200 && status != 204 && status != 304) {
    out += "Content-Length: ";
    append_number(out, content_length);
    out += "\r\n";
  }
  if (!keep_alive)
    out += "Connection: close\r\n";
  out += "\r\n";
}

} // namespace streamb::edge
