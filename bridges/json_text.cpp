#include "bridges/json_text.hpp"

#include <boost/json/serialize.hpp>

#include <charconv>
#include <cmath>

namespace streamb {

namespace json = boost::json;

namespace {

template <class Integer>
void append_integer(std::string& out, Integer x) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof(buf), x);
  out.append(buf, r.ptr);
}

bool needs_escape(json::string_view s) {
  for (unsigned char c : s)
    if (c < 0x20 || c == '"' || c == '\\')
      return true;
  return false;
}

void append_string(std::string& out, json::string_view s) {
  // Almost every key and value needs no escaping; the rare one that does
  // goes through Boost.JSON, so escaping stays exactly Boost's.
  if (needs_escape(s)) {
    out += json::serialize(json::string{s});
    return;
  }
  out += '"';
  out.append(s.data(), s.size());
  out += '"';
}

// Recursive: the values written here are built by streamb, or parsed by
// Boost.JSON, whose parser refuses documents nested deeper than 32.
void append_value(std::string& out, const json::value& v) {
  switch (v.kind()) {
    case json::kind::null: out += "null"; break;
    case json::kind::bool_: out += v.get_bool() ? "true" : "false"; break;
    case json::kind::int64: append_integer(out, v.get_int64()); break;
    case json::kind::uint64: append_integer(out, v.get_uint64()); break;
    case json::kind::double_: append_json_number(out, v.get_double()); break;
    case json::kind::string: append_string(out, v.get_string()); break;
    case json::kind::array: {
      out += '[';
      auto first = true;
      for (auto& x : v.get_array()) {
        if (!first)
          out += ',';
        first = false;
        append_value(out, x);
      }
      out += ']';
      break;
    }
    case json::kind::object: {
      out += '{';
      auto first = true;
      for (auto& kv : v.get_object()) {
        if (!first)
          out += ',';
        first = false;
        append_string(out, kv.key());
        out += ':';
        append_value(out, kv.value());
      }
      out += '}';
      break;
    }
  }
}

} // namespace

std::string to_json_text(const json::value& v) {
  std::string out;
  out.reserve(256);
  append_value(out, v);
  return out;
}

void append_json_number(std::string& out, double x) {
  if (!std::isfinite(x)) {
    out += "null";
    return;
  }
  // Fixed notation of a double is at most 309 digits before the point
  // (DBL_MAX) or 2 + 324 after "0." (the smallest subnormal).
  char buf[400];
  auto r = std::to_chars(buf, buf + sizeof(buf), x, std::chars_format::fixed);
  out.append(buf, r.ptr);
}

double usd(int64_t micros) {
  return static_cast<double>(micros) / 1e6;
}

double round_usd(double x) {
  // Beyond what an int64 of micro-dollars holds (9.2e12 USD) adjacent
  // doubles are over a thousandth apart: rounding could not shorten them.
  if (!std::isfinite(x) || std::fabs(x) >= 9e12)
    return x;
  return usd(std::llround(x * 1e6));
}

} // namespace streamb
