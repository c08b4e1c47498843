#pragma once

// The four priorities of an admission request, most urgent first. The
// numeric order is the service order: a smaller value is served first.

#include "runtime/core/enum_text.hpp"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace streamb::budget {

/// Priority of an admission request; critical is served first.
enum class priority : uint8_t { critical = 0, high, normal, low };

constexpr size_t priority_count = 4;

constexpr const char* to_string(priority x) noexcept {
  switch (x) {
    case priority::critical: return "critical";
    case priority::high: return "high";
    case priority::normal: return "normal";
    case priority::low: return "low";
  }
  return "unknown";
}

/// "critical", "high", "normal" or "low"; nothing for anything else.
constexpr std::optional<priority> parse_priority(std::string_view x) noexcept {
  constexpr priority all[] = {priority::critical, priority::high,
                              priority::normal, priority::low};
  return parse_enum(x, all);
}

} // namespace streamb::budget
