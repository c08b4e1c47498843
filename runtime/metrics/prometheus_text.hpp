#pragma once

// Prometheus' text exposition format (version 0.0.4): one HELP and TYPE per
// family, then its samples. Names follow Prometheus' conventions (base
// units, `_total` for counters); label values are escaped here, so values
// that came from clients or config cannot break the format.

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

namespace streamb {

inline constexpr std::string_view prometheus_content_type
  = "text/plain; version=0.0.4; charset=utf-8";

using prometheus_label = std::pair<std::string_view, std::string_view>;

class prometheus_text {
public:
  /// Starts a family: `type` is counter, gauge, histogram or summary.
  void family(std::string_view name, std::string_view type,
              std::string_view help);

  /// One sample of the current family (`name` may carry a suffix such as
  /// `_bucket`, `_sum`, `_count`).
  void sample(std::string_view name,
              std::initializer_list<prometheus_label> labels, double value);

  /// Appends `label="value"` pairs to a sample's labels (for histograms,
  /// whose `le` comes after the family's own labels).
  void sample(std::string_view name,
              std::initializer_list<prometheus_label> labels,
              prometheus_label extra, double value);

  /// A family of one sample without labels (a node-wide gauge or counter).
  void single(std::string_view name, std::string_view type,
              std::string_view help, double value) {
    family(name, type, help);
    sample(name, {}, value);
  }

  const std::string& text() const noexcept {
    return out_;
  }

  std::string take() && {
    return std::move(out_);
  }

private:
  void labels(std::initializer_list<prometheus_label> xs,
              const prometheus_label* extra);
  void value(double x);

  std::string out_;
};

/// A label value with `\`, `"` and newlines escaped.
std::string prometheus_escape_label(std::string_view x);

/// A number as Prometheus reads it: integers without exponent, +Inf, -Inf,
/// NaN.
std::string prometheus_number(double x);

} // namespace streamb
