#pragma once

#include "actors/store_batcher.hpp"
#include "runtime/advice/alert_escalation.hpp"
#include "runtime/advice/seasonal_baseline.hpp"
#include "runtime/advice/usage_history.hpp"
#include "runtime/config/config.hpp"
#include "runtime/messages.hpp"
#include "runtime/metrics/call_windows.hpp"
#include "runtime/metrics/ingest_backlog.hpp"
#include "runtime/metrics/metric_rollup.hpp"
#include "runtime/metrics/threshold_alert.hpp"

#include <caf/typed_event_based_actor.hpp>
#include <caf/typed_response_promise.hpp>

#include <deque>
#include <memory>
#include <optional>

namespace streamb {

/// How every monitor of a node works: from the config's metrics section.
struct monitor_settings {
  std::string node = "local";
  uint32_t snapshot_interval_s = 15;
  uint32_t rollup_interval_s = 60;
  uint32_t retention_h = 24;
  /// Roll-ups kept while the store is unreachable; the oldest go first.
  std::size_t max_unwritten_rollups = 1440;
  /// The advisor's observation window and how often it is stored.
  uint32_t observation_days = 7;
  uint32_t persist_interval_s = 60;
};

/// State of one service's monitor.
struct service_monitor_state {
  static inline const char* name = "service_monitor";

  service_config service;
  monitor_settings settings;
  alert_sink_actor alert_sink; // may be null: alerts are then only logged
  std::shared_ptr<ingest_backlog> backlog; // may be null (tests)
  store_actor store;                       // may be null: no history
  budget_controller_actor budget;          // may be null: no spend feed
  std::optional<call_windows> windows;
  call_totals totals;
  std::optional<threshold_alert> p95_alert;
  std::optional<threshold_alert> error_rate_alert;
  /// The same metrics judged against the range learned for the hour.
  std::optional<advice::anomaly_alert> p95_anomaly;
  std::optional<advice::anomaly_alert> error_rate_anomaly;
  /// Open alerts (by "<kind>:<metric>") and their priority.
  std::optional<advice::alert_escalation> escalation;
  std::vector<service_alert> active_alerts;
  /// The 5 m metrics at the last snapshot.
  service_metrics last_snapshot;
  uint64_t snapshots = 0;
  /// Traffic history for the advisor, over the observation window; kept in
  /// the store (runtime/advice/usage_store.hpp) every persist interval.
  std::optional<advice::usage_history> usage;
  /// Refused writes go back into `usage` (merged, so memory stays bounded).
  std::optional<store_batcher<advice::unsaved_day>> usage_writer;
  bool usage_loaded = false;
  // -- history --
  rollup_accumulator rollup;
  int64_t period_start_ms = 0;
  /// Closed periods on their way to the store, oldest first; refused ones
  /// are kept (up to max_unwritten_rollups) and sent with the next.
  std::optional<store_batcher<metric_rollup>> rollup_writer;
  /// Flush requests waiting for the roll-ups to drain.
  std::vector<caf::typed_response_promise<bool>> flush_waiters;
};

using service_monitor_pointer = service_monitor_actor::stateful_pointer<
  service_monitor_state>;

/// Keeps the rolling windows of one service, answers metrics queries, every
/// `snapshot_interval_s` checks the alert thresholds on the 5 m window, and
/// every `rollup_interval_s` (aligned to the wall clock) appends the period's
/// roll-up to the service's history in `store`. A roll-up the store refuses
/// is kept and written with the next one, in order. Each batch's cost and
/// outcomes go to `budget` (spend reconciliation and the circuit breaker).
service_monitor_actor::behavior_type
service_monitor(service_monitor_pointer self, service_config service,
                monitor_settings settings, alert_sink_actor alert_sink,
                std::shared_ptr<ingest_backlog> backlog, store_actor store,
                budget_controller_actor budget);

} // namespace streamb
