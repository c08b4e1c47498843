#pragma once

// Who may do what: the roles of API keys, each including the ones before it
// (viewer < reporter < operator < admin). `agent` keys are outside that
// order: they register agents on the actor port and open no HTTP route.

#include <cstdint>
#include <optional>
#include <string_view>

namespace streamb::auth {

enum class role : uint8_t { viewer, reporter, operator_, admin, agent };

/// "viewer", "reporter", "operator", "admin", "agent".
std::string_view to_string(role r);

/// The role named `text`, or nullopt.
std::optional<role> parse_role(std::string_view text);

/// Whether a key of role `have` may use a route that needs `need`.
constexpr bool grants(role have, role need) {
  if (have == role::agent || need == role::agent)
    return have == need;
  return static_cast<uint8_t>(have) >= static_cast<uint8_t>(need);
}

} // namespace streamb::auth
