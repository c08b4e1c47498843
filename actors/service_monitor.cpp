#include "actors/service_monitor.hpp"

#include "runtime/config_diff.hpp"
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

// -- history --------------------------------------------------------------

constexpr auto store_timeout = std::chrono::seconds{5};

void answer_flush_waiters(service_monitor_pointer self, bool stored) {
  auto waiters = std::move(self->state.flush_waiters);
  self->state.flush_waiters.clear();
  for (auto& promise : waiters)
    promise.deliver(stored);
}

/// Sends every unwritten roll-up (one write batch) unless a write is in
/// flight; its completion sends what arrived meanwhile.
void write_rollups(service_monitor_pointer self) {
  auto& st = self->state;
  if (!st.store || st.in_flight > 0)
    return;
  if (st.unwritten.empty()) {
    answer_flush_waiters(self, true);
    return;
  }
  auto retention_ms = int64_t{st.settings.retention_h} * 3600 * 1000;
  auto now = epoch_ms_now();
  write_ops ops;
  for (auto& x : st.unwritten) {
    auto more = rollup_writes(x, retention_ms, now);
    ops.insert(ops.end(), std::make_move_iterator(more.begin()),
               std::make_move_iterator(more.end()));
  }
  st.in_flight = st.unwritten.size();
  self->request(st.store, store_timeout, write_atom_v, std::move(ops))
    .then(
      [self](write_results& results) {
        auto& st = self->state;
        // An op that failed at run time (a key of the wrong type) fails
        // again on retry: log it and go on.
        for (auto& r : results)
          if (r.error)
            log_error("service_monitor",
                      "history of " + st.service.name
                        + ": a write failed: " + caf::to_string(r.error));
        st.unwritten.erase(st.unwritten.begin(),
                           st.unwritten.begin() + st.in_flight);
        st.rollups_written += st.in_flight;
        st.in_flight = 0;
        if (st.store_failing) {
          st.store_failing = false;
          log_info("service_monitor",
                   "history of " + st.service.name + ": store reachable again");
        }
        write_rollups(self);
      },
      [self](caf::error& err) {
        auto& st = self->state;
        st.in_flight = 0;
        // Kept for the next period; said once per outage, not per period.
        if (!st.store_failing) {
          st.store_failing = true;
          log_warning("service_monitor",
                      "history of " + st.service.name
                        + ": roll-ups kept until the store is back: "
                        + caf::to_string(err));
        }
        answer_flush_waiters(self, false);
      });
}

/// Closes the current period into `unwritten`, if it saw calls.
void close_period(service_monitor_pointer self, int64_t now_ms) {
  auto& st = self->state;
  if (!st.rollup.empty()) {
    st.unwritten.push_back(st.rollup.take(st.service.name, st.settings.node,
                                          st.period_start_ms, now_ms));
    while (st.unwritten.size() > st.settings.max_unwritten_rollups
           && st.unwritten.size() > st.in_flight) {
      st.unwritten.erase(st.unwritten.begin() + st.in_flight);
      if (++st.rollups_dropped % 60 == 1)
        log_error("service_monitor",
                  "history of " + st.service.name + ": "
                    + std::to_string(st.rollups_dropped)
                    + " roll-ups dropped: the store has been unreachable "
                      "longer than the backlog holds");
    }
  }
}

/// Arms the timer for the next wall-clock boundary of the roll-up period.
void schedule_rollup(service_monitor_pointer self, int64_t now_ms) {
  auto period_ms = int64_t{self->state.settings.rollup_interval_s} * 1000;
  self->delayed_send(self,
                     std::chrono::milliseconds{period_ms - now_ms % period_ms},
                     rollup_atom_v);
}

/// Takes what the monitor uses from `next`: alert thresholds (an active
/// alert stays active until the next snapshot judges it), the cost model
/// for samples without a reported cost, the batchable endpoints, and the
/// sustained limit the utilization is measured against. The windows, the
/// advisor's counters and the history are kept. Returns the changes made.
std::vector<std::string> apply_settings(service_monitor_pointer self,
                                        const service_config& next,
                                        const std::string& who) {
  auto& st = self->state;
  auto wanted = st.service;
  wanted.alerts = next.alerts;
  wanted.cost = next.cost;
  wanted.batching = next.batching;
  wanted.limits.sustained = next.limits.sustained;
  auto changes = service_changes(st.service, wanted);
  if (changes.empty())
    return changes;
  st.p95_alert->reconfigure(wanted.alerts.p95_ms, wanted.alerts.clear_ratio);
  st.error_rate_alert->reconfigure(wanted.alerts.error_rate,
                                   wanted.alerts.clear_ratio);
  st.usage->set_batching(wanted.batching.endpoints,
                         int64_t{wanted.batching.window_ms});
  st.service = std::move(wanted);
  log_info("service_monitor",
           "reconfigured service=" + st.service.name + " by " + who + ": "
             + join_changes(changes));
  return changes;
}

} // namespace

service_monitor_actor::behavior_type
service_monitor(service_monitor_pointer self, service_config service,
                monitor_settings settings, alert_sink_actor alert_sink,
                std::shared_ptr<ingest_backlog> backlog, store_actor store,
                budget_controller_actor budget) {
  auto& st = self->state;
  st.settings = std::move(settings);
  st.alert_sink = std::move(alert_sink);
  st.backlog = std::move(backlog);
  st.store = std::move(store);
  st.budget = std::move(budget);
  st.windows.emplace(self->clock().now());
  st.p95_alert.emplace(service.alerts.p95_ms, service.alerts.clear_ratio);
  st.error_rate_alert.emplace(service.alerts.error_rate,
                              service.alerts.clear_ratio);
  st.usage.emplace(service.batching.endpoints,
                   int64_t{service.batching.window_ms}, epoch_ms_now());
  st.service = std::move(service);
  self->delayed_send(self,
                     std::chrono::seconds{st.settings.snapshot_interval_s},
                     snapshot_atom_v);
  auto now = epoch_ms_now();
  auto period_ms = int64_t{st.settings.rollup_interval_s} * 1000;
  st.period_start_ms = period_start(now, period_ms);
  schedule_rollup(self, now);
  return {
    [=](record_atom, const call_samples& xs) {
      auto& st = self->state;
      st.windows->advance(self->clock().now());
      auto& model = st.service.cost;
      call_spend spend;
      if (st.budget)
        spend.outcomes.reserve(xs.size());
      for (auto& x : xs) {
        auto cost = call_cost_micros(x, model);
        st.windows->record(x, cost);
        st.rollup.record(x, cost);
        st.usage->record(x, cost);
        spend.cost_micros += cost;
        if (st.budget)
          spend.outcomes.push_back(x.outcome);
      }
      if (st.budget)
        self->send(st.budget, spend_atom_v, std::move(spend));
      if (st.backlog)
        st.backlog->release(xs.size());
    },
    [=](metrics_atom, metrics_window w) { return metrics_now(self, w); },
    [=](ping_atom) { return true; },
    [=](profile_atom) {
      auto& st = self->state;
      auto now = epoch_ms_now();
      auto profile = st.usage->profile(st.service.name, now);
      // The advice follows the last day's traffic.
      if (now - st.usage->since_ms() > int64_t{24} * 3600 * 1000)
        st.usage->reset(now);
      return profile;
    },
    [=](snapshot_atom) {
      take_snapshot(self);
      self->delayed_send(
        self, std::chrono::seconds{self->state.settings.snapshot_interval_s},
        snapshot_atom_v);
    },
    [=](rollup_atom) {
      auto& st = self->state;
      auto now = epoch_ms_now();
      close_period(self, now);
      // The timer may fire a little early or late: the new period starts
      // at the boundary nearest to now.
      auto period_ms = int64_t{st.settings.rollup_interval_s} * 1000;
      st.period_start_ms = period_start(now + period_ms / 2, period_ms);
      schedule_rollup(self, now);
      write_rollups(self);
    },
    [=](flush_atom) -> caf::result<bool> {
      auto& st = self->state;
      if (!st.store)
        return false;
      auto now = epoch_ms_now();
      close_period(self, now);
      // The rest of this period counts from now on.
      st.period_start_ms = now;
      auto promise = self->make_response_promise<bool>();
      st.flush_waiters.push_back(promise);
      write_rollups(self);
      return promise;
    },
    [=](reconfig_atom, const service_config_ptr& next,
        const std::string& who) -> caf::result<bool> {
      auto& st = self->state;
      if (!next || next->name != st.service.name)
        return caf::make_error(error_code::invalid_argument,
                               "reconfig needs the settings of service "
                                 + st.service.name);
      return !apply_settings(self, *next, who).empty();
    },
  };
}

} // namespace streamb
