#pragma once

// The words of a service alert. Texts are what clients and agents see.

#include <cstdint>

namespace streamb {

/// What an alert watches, over the 5-minute window.
enum class alert_metric : uint8_t { p95_ms, error_rate };

/// threshold: past the configured limit; anomaly: outside the range learned
/// for this hour of day.
enum class alert_kind : uint8_t { threshold, anomaly };

/// raised -> escalated (again, up to critical) -> resolved.
enum class alert_state : uint8_t { raised, escalated, resolved };

constexpr const char* to_string(alert_metric x) noexcept {
  switch (x) {
    case alert_metric::p95_ms: return "p95_ms";
    case alert_metric::error_rate: return "error_rate";
  }
  return "unknown";
}

constexpr const char* to_string(alert_kind x) noexcept {
  switch (x) {
    case alert_kind::threshold: return "threshold";
    case alert_kind::anomaly: return "anomaly";
  }
  return "unknown";
}

constexpr const char* to_string(alert_state x) noexcept {
  switch (x) {
    case alert_state::raised: return "raised";
    case alert_state::escalated: return "escalated";
    case alert_state::resolved: return "resolved";
  }
  return "unknown";
}

} // namespace streamb
