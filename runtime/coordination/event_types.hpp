#pragma once

// The coordination event types (DESIGN.md) and the webhook type: shared by
// the config reader, the hub and the routes without pulling in CAF.

#include <string>
#include <vector>

namespace streamb {

/// performance_optimization, database_coordination, innovation_insight,
/// frontend_update, cost_alert, system_optimization, webhook.
extern const std::vector<std::string> coordination_event_types;

/// True when `type` is one of coordination_event_types.
bool is_coordination_event_type(const std::string& type);

} // namespace streamb
