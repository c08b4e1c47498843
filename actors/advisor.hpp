#pragma once

#include "runtime/advice/advisor_rules.hpp"
#include "runtime/advice/finding_book.hpp"
#include "runtime/config/config.hpp"
#include "runtime/messages.hpp"

#include <caf/typed_event_based_actor.hpp>

#include <deque>
#include <string>
#include <vector>

namespace streamb {

struct advisor_settings {
  std::string node = "local";
  advisor_config advice;
  int64_t audit_retention_ms = int64_t{90} * 24 * 3600 * 1000;
};

struct advisor_state {
  static inline const char* name = "advisor";
  std::vector<std::string> services;
  std::vector<service_monitor_actor> monitors;
  std::vector<budget_controller_actor> budgets;
  advisor_settings settings;
  store_actor store; // may be null: changes are then kept in memory only
  /// Changes cost/optimize made, newest first (at most max_changes).
  std::deque<limit_change> changes;
  uint64_t next_change = 0;
  static constexpr std::size_t max_changes = 200;
  /// What agents found: 20 per service, for a day.
  advice::finding_book findings{20, int64_t{24} * 3600 * 1000};
};

using advisor_pointer = advisor_actor::stateful_pointer<advisor_state>;

/// Asks every monitor for its traffic profile and every budget controller
/// for its status, and runs the rules (runtime/advisor_rules.hpp) on each
/// service. `monitors[i]` and `budgets[i]` serve `services[i]`.
///
/// cost/optimize goes through here: a dry run lists the limit changes the
/// recommendations call for; with `apply` those at or above the confidence
/// threshold are made, audited with their evidence and kept (in the store
/// hash `advisor:changes`) so each can be undone with its id.
advisor_actor::behavior_type
advisor(advisor_pointer self, std::vector<std::string> services,
        std::vector<service_monitor_actor> monitors,
        std::vector<budget_controller_actor> budgets, advisor_settings settings,
        store_actor store);

} // namespace streamb
