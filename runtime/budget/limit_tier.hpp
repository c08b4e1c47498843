#pragma once

// The rate-limit tiers of a service. `set_limit` changes sustained and
// daily; burst is the short-term smoothing and is not an advisor's to move.

#include <cstdint>
#include <optional>
#include <string_view>

namespace streamb::budget {

enum class limit_tier : uint8_t { burst, sustained, daily };

constexpr const char* to_string(limit_tier x) noexcept {
  switch (x) {
    case limit_tier::burst: return "burst";
    case limit_tier::sustained: return "sustained";
    case limit_tier::daily: return "daily";
  }
  return "unknown";
}

/// "burst", "sustained" or "daily"; nothing for anything else.
constexpr std::optional<limit_tier>
parse_limit_tier(std::string_view x) noexcept {
  for (auto t : {limit_tier::burst, limit_tier::sustained, limit_tier::daily})
    if (x == to_string(t))
      return t;
  return std::nullopt;
}

} // namespace streamb::budget
