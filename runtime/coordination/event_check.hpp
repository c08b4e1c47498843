#pragma once

// What the hub takes as a coordination event, whoever sends it.

#include "runtime/messages.hpp"

#include <optional>
#include <string>

namespace streamb {

/// Why `ev` cannot be routed (unknown type, priority beyond low, a target
/// that is neither "agent:NAME" nor "role:ROLE"); nothing when it can.
std::optional<std::string> event_error(const coordination_event& ev);

} // namespace streamb
