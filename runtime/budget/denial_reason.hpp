#pragma once

// Why an admission request was not granted. The text is what clients see in
// `reason` and what `deniedByReason` counts by.

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace streamb::budget {

enum class denial_reason : uint8_t {
  none, // granted
  burst,
  sustained,
  daily,
  budget_throttle,
  hard_cap,
  circuit_open,
  store_unavailable,
};

constexpr const char* to_string(denial_reason x) noexcept {
  switch (x) {
    case denial_reason::none: return "";
    case denial_reason::burst: return "burst";
    case denial_reason::sustained: return "sustained";
    case denial_reason::daily: return "daily";
    case denial_reason::budget_throttle: return "budget_throttle";
    case denial_reason::hard_cap: return "hard_cap";
    case denial_reason::circuit_open: return "circuit_open";
    case denial_reason::store_unavailable: return "store_unavailable";
  }
  return "unknown";
}

} // namespace streamb::budget
