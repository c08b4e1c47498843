#include "runtime/metrics/prometheus_text.hpp"

#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace streamb {

std::string prometheus_escape_label(std::string_view x) {
  std::string out;
  out.reserve(x.size());
  for (char c : x) {
    switch (c) {
      case '\\': out += "\\\\"; break;
      case '"': out += "\\\""; break;
      case '\n': out += "\\n"; break;
      default: out += c;
    }
  }
  return out;
}

std::string prometheus_number(double x) {
  if (std::isnan(x))
    return "NaN";
  if (std::isinf(x))
    return x > 0 ? "+Inf" : "-Inf";
  char buf[64];
  if (x == std::floor(x) && std::fabs(x) < 1e15) {
    std::snprintf(buf, sizeof buf, "%.0f", x);
    return buf;
  }
  // The shortest form that reads back as the same double: 0.1, not
  // 0.10000000000000001 (an `le` label must read the same on every scrape).
  for (int digits = 15; digits < 17; ++digits) {
    std::snprintf(buf, sizeof buf, "%.*g", digits, x);
    if (std::strtod(buf, nullptr) == x)
      return buf;
  }
  std::snprintf(buf, sizeof buf, "%.17g", x);
  return buf;
}

void prometheus_text::family(std::string_view name, std::string_view type,
                             std::string_view help) {
  out_ += "# HELP ";
  out_ += name;
  out_ += ' ';
  // HELP escapes only backslash and newline.
  for (char c : help) {
    if (c == '\\')
      out_ += "\\\\";
    else if (c == '\n')
      out_ += "\\n";
    else
      out_ += c;
  }
  out_ += "\n# TYPE ";
  out_ += name;
  out_ += ' ';
  out_ += type;
  out_ += '\n';
}

void prometheus_text::sample(std::string_view name,
                             std::initializer_list<prometheus_label> xs,
                             double x) {
  out_ += name;
  labels(xs, nullptr);
  value(x);
}

void prometheus_text::sample(std::string_view name,
                             std::initializer_list<prometheus_label> xs,
                             prometheus_label extra, double x) {
  out_ += name;
  labels(xs, &extra);
  value(x);
}

void prometheus_text::labels(std::initializer_list<prometheus_label> xs,
                             const prometheus_label* extra) {
  if (xs.size() == 0 && extra == nullptr)
    return;
  out_ += '{';
  bool first = true;
  auto add = [&](const prometheus_label& l) {
    if (!first)
      out_ += ',';
    first = false;
    out_ += l.first;
    out_ += "=\"";
    out_ += prometheus_escape_label(l.second);
    out_ += '"';
  };
  for (auto& l : xs)
    add(l);
  if (extra != nullptr)
    add(*extra);
  out_ += '}';
}

void prometheus_text::value(double x) {
  out_ += ' ';
  out_ += prometheus_number(x);
  out_ += '\n';
}

} // namespace streamb
