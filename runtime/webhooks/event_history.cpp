#include "runtime/webhooks/event_history.hpp"

#include "runtime/core/wall_time.hpp"

namespace streamb::event_history {

std::string attempt_field(uint32_t n) {
  auto digits = std::to_string(n);
  return "attempt_"
    + std::string(digits.size() < 2 ? 2 - digits.size() : 0, '0') + digits;
}

store::field_list queued(const webhook_event& ev, const std::string& node) {
  return {{"service", ev.service},
          {"type", ev.type},
          {"critical", ev.critical ? "true" : "false"},
          {"received_at", iso8601_utc(ev.received_ms)},
          {"verdict", "verified"},
          {"status", "queued"},
          {"attempts", "0"},
          {"node", node}};
}

store::field_list delivered(uint32_t attempts, int64_t now_ms) {
  auto now = iso8601_utc(now_ms);
  return {{"status", "delivered"},
          {"delivered_at", now},
          {"attempts", std::to_string(attempts)},
          {attempt_field(attempts), now + " delivered"}};
}

store::field_list retrying(uint32_t attempts, const std::string& why,
                           int64_t now_ms, int64_t next_ms) {
  return {{"status", "retrying"},
          {"attempts", std::to_string(attempts)},
          {"last_error", why},
          {"next_attempt_at", iso8601_utc(next_ms)},
          {attempt_field(attempts), iso8601_utc(now_ms) + " failed: " + why}};
}

store::field_list dead_lettered(uint32_t attempts, const std::string& why,
                                int64_t now_ms) {
  return {{"status", "dead_lettered"},
          {"attempts", std::to_string(attempts)},
          {"last_error", why},
          {attempt_field(attempts), iso8601_utc(now_ms) + " failed: " + why}};
}

store::field_list replayed() {
  return {{"status", "replayed"}, {"attempts", "0"}};
}

bool finished(const store::field_list& history) {
  for (auto& [name, value] : history)
    if (name == "status")
      return value == "delivered" || value == "dead_lettered";
  return false;
}

} // namespace streamb::event_history
