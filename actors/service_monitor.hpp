#pragma once

#include "runtime/call_windows.hpp"
#include "runtime/config.hpp"
#include "runtime/ingest_backlog.hpp"
#include "runtime/messages.hpp"
#include "runtime/threshold_alert.hpp"

#include <caf/typed_event_based_actor.hpp>

#include <memory>
#include <optional>

namespace streamb {

/// State of one service's monitor.
struct service_monitor_state {
  static inline const char* name = "service_monitor";

  service_config service;
  std::chrono::seconds snapshot_interval{15};
  alert_sink_actor alert_sink; // may be null: alerts are then only logged
  std::shared_ptr<ingest_backlog> backlog; // may be null (tests)
  std::optional<call_windows> windows;
  std::optional<threshold_alert> p95_alert;
  std::optional<threshold_alert> error_rate_alert;
  std::vector<service_alert> active_alerts;
  /// The 5 m metrics at the last snapshot.
  service_metrics last_snapshot;
  uint64_t snapshots = 0;
};

using service_monitor_pointer = service_monitor_actor::stateful_pointer<
  service_monitor_state>;

/// Keeps the rolling windows of one service, answers metrics queries, and
/// every `snapshot_interval_s` checks the alert thresholds on the 5 m window.
service_monitor_actor::behavior_type
service_monitor(service_monitor_pointer self, service_config service,
                uint32_t snapshot_interval_s, alert_sink_actor alert_sink,
                std::shared_ptr<ingest_backlog> backlog);

} // namespace streamb
