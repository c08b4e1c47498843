#pragma once

// Where an agent, an event and one delivery of it stand. Texts are what the
// HTTP answers show and what event records in the store hold.

#include "runtime/core/enum_text.hpp"

#include <cstdint>
#include <optional>
#include <string_view>

namespace streamb {

enum class agent_state : uint8_t { active, stale, disconnected };

/// queued -> delivering -> completed | failed; unrouted if no agent serves
/// its type.
enum class event_state : uint8_t {
  queued,
  delivering,
  completed,
  failed,
  unrouted,
};

/// One delivery: in flight until the agent answers ok or failed, or it
/// times out, or the agent's connection drops.
enum class delivery_status : uint8_t {
  in_flight,
  ok,
  failed,
  timeout,
  disconnected,
};

/// What an agent answers to an event.
enum class answer_status : uint8_t { ok, failed };

constexpr const char* to_string(agent_state x) noexcept {
  switch (x) {
    case agent_state::active: return "active";
    case agent_state::stale: return "stale";
    case agent_state::disconnected: return "disconnected";
  }
  return "unknown";
}

constexpr const char* to_string(event_state x) noexcept {
  switch (x) {
    case event_state::queued: return "queued";
    case event_state::delivering: return "delivering";
    case event_state::completed: return "completed";
    case event_state::failed: return "failed";
    case event_state::unrouted: return "unrouted";
  }
  return "unknown";
}

constexpr const char* to_string(delivery_status x) noexcept {
  switch (x) {
    case delivery_status::in_flight: return "in_flight";
    case delivery_status::ok: return "ok";
    case delivery_status::failed: return "failed";
    case delivery_status::timeout: return "timeout";
    case delivery_status::disconnected: return "disconnected";
  }
  return "unknown";
}

constexpr const char* to_string(answer_status x) noexcept {
  return x == answer_status::ok ? "ok" : "failed";
}

/// For records read back from the store; nothing for an unknown text.
constexpr std::optional<event_state>
parse_event_state(std::string_view x) noexcept {
  constexpr event_state all[] = {event_state::queued, event_state::delivering,
                                 event_state::completed, event_state::failed,
                                 event_state::unrouted};
  return parse_enum(x, all);
}

constexpr std::optional<delivery_status>
parse_delivery_status(std::string_view x) noexcept {
  constexpr delivery_status all[] = {
    delivery_status::in_flight, delivery_status::ok, delivery_status::failed,
    delivery_status::timeout, delivery_status::disconnected};
  return parse_enum(x, all);
}

} // namespace streamb
