#pragma once

#include "runtime/advisor_rules.hpp"
#include "runtime/messages.hpp"

#include <caf/typed_event_based_actor.hpp>

#include <string>
#include <vector>

namespace streamb {

struct advisor_state {
  static inline const char* name = "advisor";
  std::vector<std::string> services;
  std::vector<service_monitor_actor> monitors;
  std::vector<budget_controller_actor> budgets;
};

using advisor_pointer = advisor_actor::stateful_pointer<advisor_state>;

/// Asks every monitor for its traffic profile and every budget controller
/// for its status, and runs the rules (runtime/advisor_rules.hpp) on each
/// service. `monitors[i]` and `budgets[i]` serve `services[i]`.
advisor_actor::behavior_type
advisor(advisor_pointer self, std::vector<std::string> services,
        std::vector<service_monitor_actor> monitors,
        std::vector<budget_controller_actor> budgets);

} // namespace streamb
