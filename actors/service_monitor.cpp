#include "actors/service_monitor.hpp"

#include "runtime/log.hpp"
#include "runtime/wall_time.hpp"

#include <caf/timestamp.hpp>

#include <algorithm>
#include <sstream>

namespace streamb {

namespace {

service_metrics metrics_now(service_monitor_pointer self, metrics_window w) {
  auto& st = self->state;
  auto now = self->clock().now();
  st.windows->advance(now);
  auto m = make_service_metrics(st.service, w, st.windows->view(w, now),
                                st.windows->view(w, now, true));
  m.active_alerts = st.active_alerts;
  return m;
}

void on_transition(service_monitor_pointer self, alert_transition t,
                   const char* metric, double value, double threshold) {
  if (t == alert_transition::none)
    return;
  auto& st = self->state;
  service_alert alert{
    st.service.name, metric, value, threshold, t == alert_transition::raised,
    epoch_ms_now()};
  auto& active = st.active_alerts;
  active.erase(std::remove_if(active.begin(), active.end(),
                              [&](const service_alert& x) {
                                return x.metric == alert.metric;
                              }),
               active.end());
  if (alert.active)
    active.push_back(alert);
  std::ostringstream line;
  line << (alert.active ? "ALERT raised" : "ALERT cleared")
       << " service=" << alert.service << " metric=" << metric
       << " value=" << value << " threshold=" << threshold;
  log(alert.active ? log_level::warning : log_level::info, "service_monitor",
      line.str());
  if (st.alert_sink)
    self->send(st.alert_sink, alerts_atom_v, std::move(alert));
}

void take_snapshot(service_monitor_pointer self) {
  auto& st = self->state;
  auto m = metrics_now(self, metrics_window::five_minutes);
  auto enough = m.calls >= st.service.alerts.min_calls;
  on_transition(self, st.p95_alert->observe(m.p95_ms, enough), "p95_ms",
                m.p95_ms, st.p95_alert->threshold());
  on_transition(self, st.error_rate_alert->observe(m.error_rate, enough),
                "error_rate", m.error_rate, st.error_rate_alert->threshold());
  m.active_alerts = st.active_alerts;
  st.last_snapshot = std::move(m);
  ++st.snapshots;
}

} // namespace

service_monitor_actor::behavior_type
service_monitor(service_monitor_pointer self, service_config service,
                uint32_t snapshot_interval_s, alert_sink_actor alert_sink,
                std::shared_ptr<ingest_backlog> backlog) {
  auto& st = self->state;
  st.snapshot_interval = std::chrono::seconds{snapshot_interval_s};
  st.alert_sink = std::move(alert_sink);
  st.backlog = std::move(backlog);
  st.windows.emplace(self->clock().now());
  st.p95_alert.emplace(service.alerts.p95_ms, service.alerts.clear_ratio);
  st.error_rate_alert.emplace(service.alerts.error_rate,
                              service.alerts.clear_ratio);
  st.service = std::move(service);
  self->delayed_send(self, st.snapshot_interval, snapshot_atom_v);
  return {
    [=](record_atom, const call_samples& xs) {
      auto& st = self->state;
      st.windows->advance(self->clock().now());
      auto& model = st.service.cost;
      for (auto& x : xs)
        st.windows->record(x, call_cost_micros(x, model));
      if (st.backlog)
        st.backlog->release(xs.size());
    },
    [=](metrics_atom, metrics_window w) { return metrics_now(self, w); },
    [=](ping_atom) { return true; },
    [=](snapshot_atom) {
      take_snapshot(self);
      self->delayed_send(self, self->state.snapshot_interval, snapshot_atom_v);
    },
  };
}

} // namespace streamb
