#pragma once

// The rate-limit tiers of a service. `set_limit` changes sustained and
// daily; burst is the short-term smoothing and is not an advisor's to move.

#include "runtime/core/enum_text.hpp"

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
  constexpr limit_tier all[] = {limit_tier::burst, limit_tier::sustained,
                                limit_tier::daily};
  return parse_enum(x, all);
}

} // namespace streamb::budget
