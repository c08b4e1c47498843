#pragma once

#include "actors/store_batcher.hpp"
#include "runtime/budget/admission_limits.hpp"
#include "runtime/budget/admission_queue.hpp"
#include "runtime/budget/budget_state.hpp"
#include "runtime/budget/circuit_breaker.hpp"
#include "runtime/budget/forecast.hpp"
#include "runtime/budget/spend_ledger.hpp"
#include "runtime/config/config.hpp"
#include "runtime/messages.hpp"

#include <caf/typed_event_based_actor.hpp>
#include <caf/typed_response_promise.hpp>

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace streamb {

struct budget_controller_settings {
  std::string node = "local";
  /// A grant whose call never reports its cost gives its reservation back
  /// after this.
  int64_t grant_ttl_ms = 10 * 60 * 1000;
  /// How often the month's spend is read back from the store (what other
  /// nodes reserved) and expired grants are released.
  int64_t refresh_ms = 2000;
  int64_t audit_retention_ms = int64_t{90} * 24 * 3600 * 1000;
  /// Takes the cost_alert events (budget levels, mode changes); may be null.
  event_sink_actor events;
  /// How often the month-end forecast is checked against the budget.
  int64_t forecast_check_ms = 60'000;
};

struct budget_controller_state {
  static inline const char* name = "budget_controller";
  /// What GET budget shows while the store cannot be read (zero: none yet).
  budget::forecast_result last_forecast;
  using decision_promise = caf::typed_response_promise<admission_decision>;

  service_config service;
  budget_controller_settings settings;
  store_actor store;
  std::optional<budget::admission_limits> limits;
  std::optional<budget::budget_state> budget;
  std::optional<budget::circuit_breaker> breaker;
  budget::admission_queue queue;

  /// Requests waiting in `queue`, by queue id.
  struct waiting {
    admission_request request;
    int64_t cost = 0;
    int64_t arrival_ms = 0;
    decision_promise promise;
  };
  std::map<uint64_t, waiting> waiting_by_id;

  /// Grants that took their limits and wait for the store's reservation.
  struct reservation {
    admission_request request;
    int64_t cost = 0;
    int64_t waited_ms = 0;
    decision_promise promise;
  };
  /// Reservations on their way to the store, one batch in flight; a
  /// refused batch is denied (the callers retry), never kept.
  std::optional<store_batcher<reservation>> reserver;

  /// Granted, reserved, not yet settled by a call's cost.
  budget::spend_ledger ledger;
  /// The last read of the month's spend failed (logged once per outage).
  bool spend_read_failing = false;
  /// A spend delta for one month's and one day's counters.
  struct spend_delta {
    std::string month;
    std::string day;
    int64_t micros = 0;
  };
  /// Deltas on their way to the store; refused ones are kept and retried,
  /// each for the month and day it was made in.
  std::optional<store_batcher<spend_delta>> delta_writer;

  std::string month; // "YYYY-MM" (UTC) of the spend counters
  uint64_t grants = 0;
  uint64_t granted = 0;
  std::map<budget::denial_reason, uint64_t> denied;
  bool tick_armed = false;
  /// This month's announcements were read back from the store (or could
  /// not be): spend is observed only from then on.
  bool announced_loaded = false;
  bool forecast_alerted = false;
  int64_t last_forecast_ms = INT64_MIN / 2;
};

using budget_controller_pointer = budget_controller_actor::stateful_pointer<
  budget_controller_state>;

/// See budget_controller_actor in runtime/messages.hpp. Spend lives in the
/// store as the month's counter `budget:spend:<service>:<YYYY-MM>`
/// (micro-dollars; UTC months) and per-day hash `budget:days:...`; a grant
/// adds its estimated cost with INCRBY and keeps it only if the new total is
/// within what the priority may spend, so nodes sharing a Redis never
/// together reserve past the budget.
budget_controller_actor::behavior_type
budget_controller(budget_controller_pointer self, service_config service,
                  budget_controller_settings settings, store_actor store);

} // namespace streamb
