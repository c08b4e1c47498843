#include "bridges/http/http_message.hpp"

#include <algorithm>
#include <cctype>

namespace streamb {

namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

} // namespace

bool field_name_less::operator()(const std::string& x,
                                 const std::string& y) const noexcept {
  return std::lexicographical_compare(
    x.begin(), x.end(), y.begin(), y.end(), [](char a, char b) {
      return std::tolower(static_cast<unsigned char>(a))
        < std::tolower(static_cast<unsigned char>(b));
    });
}

std::string http_request::get_header_value(const std::string& key,
                                           const char* fallback) const {
  auto i = headers.find(key);
  return i == headers.end() ? std::string{fallback} : i->second;
}

bool http_request::has_header(const std::string& key) const {
  return headers.count(key) > 0;
}

bool http_request::has_param(const std::string& key) const {
  return params.count(key) > 0;
}

std::string http_request::get_param_value(const std::string& key) const {
  auto i = params.find(key);
  return i == params.end() ? std::string{} : i->second;
}

void http_response::set_header(const std::string& key, std::string value) {
  headers.erase(key);
  headers.emplace(key, std::move(value));
}

void http_response::set_content(std::string text, std::string type) {
  body = std::move(text);
  content_type = std::move(type);
}

std::string percent_decode(std::string_view in, bool plus_is_space) {
  std::string out;
  out.reserve(in.size());
  for (std::size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    if (c == '%' && i + 2 < in.size()) {
      int hi = hex_value(in[i + 1]);
      int lo = hex_value(in[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out.push_back(static_cast<char>(hi * 16 + lo));
        i += 2;
        continue;
      }
    }
    out.push_back(plus_is_space && c == '+' ? ' ' : c);
  }
  return out;
}

void parse_target(std::string_view target, std::string& path,
                  std::multimap<std::string, std::string>& params) {
  auto q = target.find('?');
  path = percent_decode(target.substr(0, q), false);
  if (q == std::string_view::npos)
    return;
  auto query = target.substr(q + 1);
  while (!query.empty()) {
    auto amp = query.find('&');
    auto pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view{}
                                          : query.substr(amp + 1);
    if (pair.empty())
      continue;
    auto eq = pair.find('=');
    auto key = percent_decode(pair.substr(0, eq), true);
    auto value = eq == std::string_view::npos
      ? std::string{}
      : percent_decode(pair.substr(eq + 1), true);
    params.emplace(std::move(key), std::move(value));
  }
}

} // namespace streamb
