#pragma once

// The advisor's words: what a recommendation is about, what acting on it
// means, and where a limit change stands. Texts are what clients see.

#include "runtime/core/enum_text.hpp"

#include <cstdint>
#include <optional>
#include <string_view>

namespace streamb::advice {

enum class recommendation_kind : uint8_t {
  cache,                 // repeated requests a cache would answer
  batch,                 // bursts of single calls a batch endpoint would take
  lower_sustained_limit, // our limit above what demand needs (429s seen)
  provider_rate_limit,   // demand above our limit: ask the provider
  budget_daily_limit,    // a daily limit that lands the month on budget
  agent_finding,         // what an agent's answer found (its source says who)
};

/// advice: for a developer (add a cache); set_limit: cost/optimize applies it.
enum class action_type : uint8_t { advice, set_limit };

/// planned (dry run) -> applied | skipped | failed; applied -> undone.
enum class change_status : uint8_t { planned, applied, skipped, failed, undone };

constexpr const char* to_string(recommendation_kind x) noexcept {
  switch (x) {
    case recommendation_kind::cache: return "cache";
    case recommendation_kind::batch: return "batch";
    case recommendation_kind::lower_sustained_limit:
      return "lower_sustained_limit";
    case recommendation_kind::provider_rate_limit: return "provider_rate_limit";
    case recommendation_kind::budget_daily_limit: return "budget_daily_limit";
    case recommendation_kind::agent_finding: return "agent_finding";
  }
  return "unknown";
}

constexpr const char* to_string(action_type x) noexcept {
  switch (x) {
    case action_type::advice: return "advice";
    case action_type::set_limit: return "set_limit";
  }
  return "unknown";
}

constexpr const char* to_string(change_status x) noexcept {
  switch (x) {
    case change_status::planned: return "planned";
    case change_status::applied: return "applied";
    case change_status::skipped: return "skipped";
    case change_status::failed: return "failed";
    case change_status::undone: return "undone";
  }
  return "unknown";
}

/// For changes read back from the store; nothing for an unknown text.
constexpr std::optional<change_status>
parse_change_status(std::string_view x) noexcept {
  constexpr change_status all[] = {change_status::planned,
                                   change_status::applied,
                                   change_status::skipped,
                                   change_status::failed, change_status::undone};
  return parse_enum(x, all);
}

} // namespace streamb::advice
