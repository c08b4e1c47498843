#pragma once

// The agents the config expects (agents.expected) against those the hub
// knows: who is there, who is stale, who is missing.

#include "runtime/messages.hpp"

#include <string>
#include <vector>

namespace streamb {

struct roster_entry {
  /// As configured: an agent name, or "role:R".
  std::string expected;
  /// active: an active agent matches; stale: only stale ones do; missing:
  /// none, or only disconnected ones.
  std::string state;
  /// The names of the matching agents that are not disconnected.
  std::vector<std::string> agents;
};

struct roster_report {
  std::vector<roster_entry> entries;
  std::size_t missing = 0;
  std::size_t stale = 0;
};

roster_report check_roster(const std::vector<std::string>& expected,
                           const std::vector<agent_status>& agents);

} // namespace streamb
