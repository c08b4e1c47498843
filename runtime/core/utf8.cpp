#include "runtime/core/utf8.hpp"

namespace streamb {

namespace {

/// The length of the well-formed sequence at the start of `x`, or 0.
std::size_t sequence_length(std::string_view x) noexcept {
  auto byte = [&x](std::size_t i) { return static_cast<unsigned char>(x[i]); };
  auto c0 = byte(0);
  if (c0 < 0x80)
    return 1;
  std::size_t n;
  unsigned char lo = 0x80, hi = 0xBF;
  if (c0 >= 0xC2 && c0 <= 0xDF) {
    n = 2;
  } else if (c0 >= 0xE0 && c0 <= 0xEF) {
    n = 3;
    if (c0 == 0xE0)
      lo = 0xA0; // overlong
    else if (c0 == 0xED)
      hi = 0x9F; // surrogates
  } else if (c0 >= 0xF0 && c0 <= 0xF4) {
    n = 4;
    if (c0 == 0xF0)
      lo = 0x90; // overlong
    else if (c0 == 0xF4)
      hi = 0x8F; // above U+10FFFF
  } else {
    return 0;
  }
  if (x.size() < n)
    return 0;
  if (byte(1) < lo || byte(1) > hi)
    return 0;
  for (std::size_t i = 2; i < n; ++i)
    if (byte(i) < 0x80 || byte(i) > 0xBF)
      return 0;
  return n;
}

} // namespace

bool valid_utf8(std::string_view text) noexcept {
  while (!text.empty()) {
    auto n = sequence_length(text);
    if (n == 0)
      return false;
    text.remove_prefix(n);
  }
  return true;
}

std::string sanitize_utf8(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  while (!text.empty()) {
    auto n = sequence_length(text);
    if (n == 0) {
      out += "\xEF\xBF\xBD";
      text.remove_prefix(1);
      continue;
    }
    out.append(text.data(), n);
    text.remove_prefix(n);
  }
  return out;
}

std::string_view utf8_prefix(std::string_view text,
                             std::size_t max_bytes) noexcept {
  if (text.size() <= max_bytes)
    return text;
  auto n = max_bytes;
  // Back off continuation bytes (10xxxxxx) to the start of the character
  // that does not fit.
  while (n > 0 && (static_cast<unsigned char>(text[n]) & 0xC0) == 0x80)
    --n;
  return text.substr(0, n);
}

} // namespace streamb
