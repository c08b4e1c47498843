#include "actors/service_monitor.hpp"

#include "runtime/advice/anomaly_defaults.hpp"
#include "runtime/advice/usage_store.hpp"
#include "runtime/budget/priority.hpp"
#include "runtime/config/config_diff.hpp"
#include "runtime/core/actor_wall_clock.hpp"
#include "runtime/core/error_text.hpp"
#include "runtime/core/hex.hpp"
#include "runtime/core/log.hpp"
#include "runtime/core/wall_time.hpp"

#include <caf/timestamp.hpp>

#include <algorithm>
#include <sstream>

namespace streamb {

namespace {

constexpr auto store_timeout = std::chrono::seconds{5};

/// Epoch milliseconds on the actor's clock (simulated in tests): alerts,
/// their escalation and the usage history follow it.
int64_t now_ms(service_monitor_pointer self) {
  return epoch_ms(self->clock());
}

service_metrics metrics_now(service_monitor_pointer self, metrics_window w) {
  auto& st = self->state;
  auto now = self->clock().now();
  st.windows->advance(now);
  auto m = make_service_metrics(st.service, w, st.windows->view(w, now),
                                st.windows->view(w, now, true));
  m.active_alerts = st.active_alerts;
  m.batching_opportunities = static_cast<uint32_t>(
    std::min<uint64_t>(st.usage->batch_savings(now_ms(self)), UINT32_MAX));
  return m;
}

budget::priority to_priority(advice::alert_priority p) {
  switch (p) {
    case advice::alert_priority::critical: return budget::priority::critical;
    case advice::alert_priority::high: return budget::priority::high;
    default: return budget::priority::normal;
  }
}

void send_alert(service_monitor_pointer self, service_alert alert) {
  auto& st = self->state;
  std::ostringstream line;
  line << "ALERT " << to_string(alert.state) << " service=" << alert.service
       << " metric=" << to_string(alert.metric)
       << " kind=" << to_string(alert.kind) << " value=" << alert.value
       << " threshold=" << alert.threshold;
  if (alert.kind == alert_kind::anomaly)
    line << " expected=[" << alert.expected_low << ", " << alert.expected_high
         << "]";
  line << " priority=" << budget::to_string(alert.priority);
  log(alert.active ? log_level::warning : log_level::info, "service_monitor",
      line.str());
  if (st.alert_sink)
    self->send(st.alert_sink, alerts_atom_v, std::move(alert));
}

/// The escalation's name for one alert: "kind:metric".
std::string alert_key(alert_kind kind, alert_metric metric) {
  return std::string{to_string(kind)} + ":" + to_string(metric);
}

/// Raises or resolves one alert (`kind` threshold or anomaly); an open
/// alert escalates from the snapshot ticks.
void on_transition(service_monitor_pointer self, alert_transition t,
                   alert_kind kind, alert_metric metric, double value,
                   double threshold,
                   const std::optional<advice::expected_range>& range = {}) {
  if (t == alert_transition::none)
    return;
  auto& st = self->state;
  auto now = now_ms(self);
  service_alert alert{st.service.name,
                      metric,
                      value,
                      threshold,
                      t == alert_transition::raised,
                      now};
  alert.kind = kind;
  if (range) {
    alert.expected_low = range->low;
    alert.expected_mean = range->mean;
    alert.expected_high = range->high;
  }
  auto key = alert_key(kind, metric);
  auto& active = st.active_alerts;
  auto was = std::find_if(
    active.begin(), active.end(), [&](const service_alert& x) {
      return x.metric == alert.metric && x.kind == alert.kind;
    });
  if (was != active.end()) {
    alert.since_ms = was->since_ms;
    active.erase(was);
  }
  if (alert.active) {
    auto p = st.escalation->open(key, now);
    alert.state = alert_state::raised;
    alert.priority = to_priority(p ? *p : advice::alert_priority::normal);
    active.push_back(alert);
  } else {
    auto r = st.escalation->close(key, now);
    alert.state = alert_state::resolved;
    alert.priority = to_priority(r ? r->last : advice::alert_priority::normal);
  }
  send_alert(self, std::move(alert));
}

/// Open alerts that stayed open long enough move up a priority.
void escalate(service_monitor_pointer self) {
  auto& st = self->state;
  for (auto& e : st.escalation->tick(now_ms(self)))
    for (auto& a : st.active_alerts)
      if (alert_key(a.kind, a.metric) == e.key) {
        a.priority = to_priority(e.to);
        auto copy = a;
        copy.state = alert_state::escalated;
        send_alert(self, std::move(copy));
      }
}

void take_snapshot(service_monitor_pointer self) {
  auto& st = self->state;
  auto m = metrics_now(self, metrics_window::five_minutes);
  auto enough = m.calls >= st.service.alerts.min_calls;
  on_transition(self, st.p95_alert->observe(m.p95_ms, enough),
                alert_kind::threshold, alert_metric::p95_ms, m.p95_ms,
                st.p95_alert->threshold());
  on_transition(self, st.error_rate_alert->observe(m.error_rate, enough),
                alert_kind::threshold, alert_metric::error_rate, m.error_rate,
                st.error_rate_alert->threshold());
  if (st.p95_anomaly) {
    auto now = now_ms(self);
    auto t = st.p95_anomaly->observe(m.p95_ms, now, enough);
    auto& r = st.p95_anomaly->last_range();
    on_transition(self, t, alert_kind::anomaly, alert_metric::p95_ms, m.p95_ms,
                  r ? r->high : 0, r);
    t = st.error_rate_anomaly->observe(m.error_rate, now, enough);
    auto& e = st.error_rate_anomaly->last_range();
    on_transition(self, t, alert_kind::anomaly, alert_metric::error_rate,
                  m.error_rate, e ? e->high : 0, e);
  }
  escalate(self);
  m.active_alerts = st.active_alerts;
  st.last_snapshot = std::move(m);
  ++st.snapshots;
}

advice::baseline_settings anomaly_settings(const alerts_config& a,
                                           bool error_rate) {
  return advice::anomaly_baseline(a.anomaly_sigmas, a.anomaly_min_observations,
                                  error_rate);
}

// -- the advisor's inputs ---------------------------------------------------

std::string baseline_key(const std::string& service, const char* metric) {
  return "advisor:baseline:" + service + ":" + metric;
}

/// Writes what the usage history counted since the last write, and the
/// learned baselines; a refused write is counted again next time.
void persist_usage(service_monitor_pointer self) {
  auto& st = self->state;
  if (!st.store || !st.usage_loaded || st.usage_writer->busy())
    return;
  for (auto& day : st.usage->take_unsaved())
    st.usage_writer->push(std::move(day));
  st.usage_writer->flush(self, st.store, store_timeout);
}

store_batcher<advice::unsaved_day>
make_usage_writer(service_monitor_pointer self) {
  using days = std::vector<advice::unsaved_day>;
  store_batcher<advice::unsaved_day>::handlers h;
  h.make_ops = [self](const days& xs) {
    auto& st = self->state;
    auto ops = advice::usage_writes(st.service.name, xs,
                                    st.settings.observation_days);
    auto ttl = (int64_t{st.settings.observation_days} + 2) * advice::ms_per_day;
    if (st.p95_anomaly) {
      ops.push_back(
        store::write_op::make_set(baseline_key(st.service.name, "p95_ms"),
                                  st.p95_anomaly->baseline().to_string(), ttl));
      ops.push_back(store::write_op::make_set(
        baseline_key(st.service.name, "error_rate"),
        st.error_rate_anomaly->baseline().to_string(), ttl));
    }
    return ops;
  };
  h.stored = [self](days&, write_results& rs) {
    auto& st = self->state;
    if (st.usage_writer->failing())
      log_info("service_monitor",
               "usage history of " + st.service.name + ": stored again");
    for (auto& r : rs)
      if (r.error) {
        // Counters are HINCRBYs: writing them twice would double them; an
        // op that failed at run time fails again, so it is dropped.
        log_error("service_monitor",
                  "usage history of " + st.service.name
                    + ": a write failed: " + caf::to_string(r.error));
        break;
      }
    return true;
  };
  h.refused = [self](days& xs, const caf::error& err, bool first) {
    auto& st = self->state;
    st.usage->restore_unsaved(xs);
    if (first)
      log_warning("service_monitor",
                  "usage history of " + st.service.name
                    + " kept until the store is back: " + error_text(err));
  };
  return {"service_monitor", on_refusal::drop, SIZE_MAX, std::move(h)};
}

/// Reads back the observation window and the baselines (at start), so a
/// restart does not start the advice over.
void load_usage(service_monitor_pointer self) {
  auto& st = self->state;
  if (!st.store) {
    st.usage_loaded = true;
    return;
  }
  auto days = st.usage->window_days(now_ms(self));
  auto missing = std::make_shared<std::size_t>(2 * days.size() + 2);
  auto done_one = [self, missing] {
    if (--*missing == 0) {
      self->state.usage_loaded = true;
      log_info("service_monitor",
               "usage history of " + self->state.service.name
                 + " read back: observed since "
                 + iso8601_utc(self->state.usage->since_ms()));
    }
  };
  auto failed = [self, done_one](caf::error& err) {
    log_warning("service_monitor",
                "usage history of " + self->state.service.name
                  + ": cannot read back (" + error_text(err)
                  + "); advice starts from what this node sees");
    done_one();
  };
  for (auto d : days) {
    self
      ->request(st.store, store_timeout, hgetall_atom_v,
                advice::usage_key(st.service.name, d))
      .then(
        [self, d, done_one](store::field_list& fields) {
          if (!fields.empty())
            self->state.usage->merge_stored(d, advice::from_fields(fields), {});
          done_one();
        },
        failed);
    self
      ->request(st.store, store_timeout, kv_get_atom_v,
                advice::keys_key(st.service.name, d))
      .then(
        [self, d, done_one](bool found, std::string& text) {
          if (found)
            if (auto bytes = from_hex(text))
              self->state.usage->merge_stored(d, advice::day_counts{}, *bytes);
          done_one();
        },
        failed);
  }
  for (auto* metric : {"p95_ms", "error_rate"}) {
    auto is_p95 = std::string_view{metric} == "p95_ms";
    self
      ->request(st.store, store_timeout, kv_get_atom_v,
                baseline_key(st.service.name, metric))
      .then(
        [self, is_p95, done_one](bool found, std::string& text) {
          auto& st = self->state;
          auto& alert = is_p95 ? st.p95_anomaly : st.error_rate_anomaly;
          if (found && alert)
            if (auto b = advice::seasonal_baseline::from_string(
                  text, anomaly_settings(st.service.alerts, !is_p95)))
              alert->restore(std::move(*b));
          done_one();
        },
        failed);
  }
}

// -- history --------------------------------------------------------------

void answer_flush_waiters(service_monitor_pointer self, bool stored) {
  auto waiters = std::move(self->state.flush_waiters);
  self->state.flush_waiters.clear();
  for (auto& promise : waiters)
    promise.deliver(stored);
}

/// Sends the closed roll-ups (one write batch) unless a write is in flight;
/// its completion sends what arrived meanwhile.
void write_rollups(service_monitor_pointer self) {
  auto& st = self->state;
  if (!st.store)
    return;
  if (st.rollup_writer->idle()) {
    answer_flush_waiters(self, true);
    return;
  }
  st.rollup_writer->flush(self, st.store, store_timeout);
}

store_batcher<metric_rollup> make_rollup_writer(service_monitor_pointer self) {
  using rollups = std::vector<metric_rollup>;
  store_batcher<metric_rollup>::handlers h;
  h.make_ops = [self](const rollups& xs) {
    auto& st = self->state;
    auto retention_ms = int64_t{st.settings.retention_h} * 3600 * 1000;
    auto now = epoch_ms(self->clock());
    write_ops ops;
    for (auto& x : xs) {
      auto more = rollup_writes(x, retention_ms, now);
      ops.insert(ops.end(), std::make_move_iterator(more.begin()),
                 std::make_move_iterator(more.end()));
    }
    return ops;
  };
  h.stored = [self](rollups&, write_results& results) {
    auto& st = self->state;
    // An op that failed at run time (a key of the wrong type) fails again
    // on retry: log it and go on.
    for (auto& r : results)
      if (r.error)
        log_error("service_monitor",
                  "history of " + st.service.name
                    + ": a write failed: " + caf::to_string(r.error));
    if (st.rollup_writer->failing())
      log_info("service_monitor",
               "history of " + st.service.name + ": store reachable again");
    if (st.rollup_writer->queued() == 0)
      answer_flush_waiters(self, true);
    return true;
  };
  h.refused = [self](rollups&, const caf::error& err, bool first) {
    auto& st = self->state;
    // Kept for the next period; said once per outage, not per period.
    if (first)
      log_warning("service_monitor",
                  "history of " + st.service.name
                    + ": roll-ups kept until the store is back: "
                    + error_text(err));
    answer_flush_waiters(self, false);
  };
  return {"service_monitor: history of " + self->state.service.name,
          on_refusal::keep, self->state.settings.max_unwritten_rollups,
          std::move(h)};
}

/// Closes the current period into the roll-up queue, if it saw calls.
void close_period(service_monitor_pointer self, int64_t now_ms) {
  auto& st = self->state;
  if (!st.rollup.empty())
    st.rollup_writer->push(st.rollup.take(st.service.name, st.settings.node,
                                          st.period_start_ms, now_ms));
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
  st.escalation->reconfigure(
    advice::escalation_settings{wanted.alerts.escalate_after_s});
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
  st.totals.service = service.name;
  st.totals.by_outcome.resize(status_class_count);
  st.totals.latency_buckets.resize(latency_bucket_bounds_s.size() + 1);
  st.p95_alert.emplace(service.alerts.p95_ms, service.alerts.clear_ratio);
  st.error_rate_alert.emplace(service.alerts.error_rate,
                              service.alerts.clear_ratio);
  st.usage.emplace(st.settings.observation_days, service.batching.endpoints,
                   int64_t{service.batching.window_ms}, now_ms(self));
  if (service.alerts.anomaly_sigmas > 0) {
    st.p95_anomaly.emplace(anomaly_settings(service.alerts, false));
    st.error_rate_anomaly.emplace(anomaly_settings(service.alerts, true));
  }
  st.escalation.emplace(
    advice::escalation_settings{service.alerts.escalate_after_s});
  st.service = std::move(service);
  st.usage_writer.emplace(make_usage_writer(self));
  st.rollup_writer.emplace(make_rollup_writer(self));
  load_usage(self);
  self->delayed_send(self, std::chrono::seconds{st.settings.persist_interval_s},
                     persist_atom_v);
  self->delayed_send(self,
                     std::chrono::seconds{st.settings.snapshot_interval_s},
                     snapshot_atom_v);
  auto now = epoch_ms(self->clock());
  auto period_ms = int64_t{st.settings.rollup_interval_s} * 1000;
  st.period_start_ms = period_start(now, period_ms);
  schedule_rollup(self, now);
  return {
    [=](record_atom, const call_samples& xs) {
      auto& st = self->state;
      st.windows->advance(self->clock().now());
      auto& model = st.service.cost;
      auto now = now_ms(self);
      call_spend spend;
      if (st.budget)
        spend.outcomes.reserve(xs.size());
      for (auto& x : xs) {
        auto cost = call_cost_micros(x, model);
        st.windows->record(x, cost);
        st.totals.record(x.latency_us, static_cast<std::size_t>(x.outcome),
                         cost, x.cache_hit, status_class_count);
        st.rollup.record(x, cost);
        st.usage->record(x, cost, now);
        spend.cost_micros += cost;
        if (st.budget)
          spend.outcomes.push_back(x.outcome);
      }
      if (st.budget)
        self->send(st.budget, spend_atom_v, std::move(spend));
      // Samples from a peer (a router elsewhere sends them as itself) were
      // counted in that node's backlog, not in this one's.
      auto from = self->current_sender();
      bool from_peer = from && from->node() != self->node();
      if (st.backlog && !from_peer)
        st.backlog->release(xs.size());
    },
    [=](metrics_atom, metrics_window w) { return metrics_now(self, w); },
    [=](totals_atom) { return self->state.totals; },
    [=](ping_atom) { return true; },
    [=](profile_atom) {
      auto& st = self->state;
      return st.usage->profile(
        st.service.name, st.service.limits.sustained.window_s, now_ms(self));
    },
    [=](persist_atom) {
      persist_usage(self);
      self->delayed_send(
        self, std::chrono::seconds{self->state.settings.persist_interval_s},
        persist_atom_v);
    },
    [=](snapshot_atom) {
      take_snapshot(self);
      self->delayed_send(
        self, std::chrono::seconds{self->state.settings.snapshot_interval_s},
        snapshot_atom_v);
    },
    [=](rollup_atom) {
      auto& st = self->state;
      auto now = epoch_ms(self->clock());
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
      auto now = epoch_ms(self->clock());
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
