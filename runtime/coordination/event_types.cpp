#include "runtime/coordination/event_types.hpp"

#include <algorithm>

namespace streamb {

const std::vector<std::string> coordination_event_types{
  "performance_optimization",
  "database_coordination",
  "innovation_insight",
  "frontend_update",
  "cost_alert",
  "system_optimization",
  "webhook"};

bool is_coordination_event_type(const std::string& type) {
  return std::find(coordination_event_types.begin(),
                   coordination_event_types.end(), type)
    != coordination_event_types.end();
}

} // namespace streamb
