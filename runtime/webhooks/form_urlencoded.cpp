#include "runtime/webhooks/form_urlencoded.hpp"

#include "runtime/core/hex.hpp"

namespace streamb {

// application/x-www-form-urlencoded decoding: '+' is a space, %XX a byte; a
// '%' not followed by two hex digits stays as it is (Python's unquote).
std::string form_decode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') {
      out += ' ';
    } else if (s[i] == '%' && i + 2 < s.size() && hex_digit_value(s[i + 1]) >= 0
               && hex_digit_value(s[i + 2]) >= 0) {
      out += static_cast<char>(hex_digit_value(s[i + 1]) * 16
                               + hex_digit_value(s[i + 2]));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

// `a=1&b=&c` → (a,1) (b,"") (c,""); empty items skipped.
form_params parse_form(std::string_view text) {
  form_params out;
  while (!text.empty()) {
    auto amp = text.find('&');
    auto item = text.substr(0, amp);
    text = amp == std::string_view::npos ? std::string_view{}
                                         : text.substr(amp + 1);
    if (item.empty())
      continue;
    auto eq = item.find('=');
    if (eq == std::string_view::npos)
      out.emplace_back(form_decode(item), std::string{});
    else
      out.emplace_back(form_decode(item.substr(0, eq)),
                       form_decode(item.substr(eq + 1)));
  }
  return out;
}

} // namespace streamb
