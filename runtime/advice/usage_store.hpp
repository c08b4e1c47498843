#pragma once

// Where a service's usage history lives in the store: per UTC day a hash of
// counters (`advisor:usage:<service>:<YYYYMMDD>`, added to with HINCRBY, so
// nodes sharing a store add up) and the day's key sketch
// (`advisor:keys:<service>:<YYYYMMDD>`, hex), both expiring after the
// observation window. Observation began at the first minute with calls of
// the oldest day read back.

#include "runtime/advice/usage_history.hpp"
#include "runtime/messages.hpp"

#include <string>
#include <vector>

namespace streamb::advice {

std::string usage_key(const std::string& service, int64_t day);
std::string keys_key(const std::string& service, int64_t day);

/// The writes that store `days` (what `usage_history::take_unsaved` gave).
write_ops usage_writes(const std::string& service,
                       const std::vector<unsaved_day>& days,
                       uint32_t window_days);

} // namespace streamb::advice
