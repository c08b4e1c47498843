#pragma once

// What the hub keeps in the store about each agent that registered with
// it, so that after a restart events for those agents wait for them instead
// of being unrouted.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace streamb {

/// An agent as the store remembers it.
struct known_agent {
  std::string role;
  std::vector<std::string> subscriptions;
  int64_t registered_ms = 0;
};

/// {"role","subscriptions","registeredAt"}.
std::string encode_known_agent(const known_agent& x);

/// The inverse of encode_known_agent; fields that are missing or of the
/// wrong type stay empty. Nothing when `text` is not a JSON object.
std::optional<known_agent> decode_known_agent(const std::string& text);

} // namespace streamb
