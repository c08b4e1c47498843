#include "actors/budget_controller.hpp"

#include "runtime/budget/forecast.hpp"
#include "runtime/budget/time_zone.hpp"
#include "runtime/config/config_diff.hpp"
#include "runtime/core/actor_wall_clock.hpp"
#include "runtime/core/audit.hpp"
#include "runtime/core/error_text.hpp"
#include "runtime/core/log.hpp"
#include "runtime/core/wall_time.hpp"
#include "runtime/metrics/metric_rollup.hpp" // utc_month

#include <boost/json.hpp>

#include <caf/send.hpp>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>

namespace streamb {

namespace {

using budget::priority;
using state_type = budget_controller_state;

constexpr auto store_timeout = std::chrono::seconds{5};
constexpr int64_t counter_ttl_ms = int64_t{62} * 24 * 3600 * 1000;
/// A retry-after for "never" (more units than a tier holds): a day.
constexpr int64_t max_retry_ms = 24 * 3600 * 1000;

/// Epoch milliseconds on the actor's clock (simulated in tests).
int64_t now_ms(budget_controller_pointer self) {
  return epoch_ms(self->clock());
}

std::string spend_key(const std::string& service, const std::string& month) {
  return "budget:spend:" + service + ":" + month;
}

std::string days_key(const std::string& service, const std::string& month) {
  return "budget:days:" + service + ":" + month;
}

std::string spend_key(const state_type& st) {
  return spend_key(st.service.name, st.month);
}

std::string days_key(const state_type& st) {
  return days_key(st.service.name, st.month);
}

/// What this month already announced: "l<bp>" per level reached, "mode"
/// (the last mode announced), "forecast" (over-budget forecast alerted).
std::string alerts_key(const state_type& st) {
  return "budget:alerts:" + st.service.name + ":" + st.month;
}

std::string day_field(int64_t now) {
  auto secs = static_cast<std::time_t>(now / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[8];
  std::snprintf(buf, sizeof(buf), "%02d", tm.tm_mday);
  return buf;
}

priority priority_of(const admission_request& r) {
  // Admission requests may come from agents in other processes: clamp.
  return static_cast<priority>(
    std::min<uint8_t>(static_cast<uint8_t>(r.priority), 3));
}

int64_t estimated_cost(const state_type& st, const admission_request& r) {
  if (r.cost_micros >= 0)
    return r.cost_micros;
  auto& model = st.service.cost;
  return std::llround(model.per_call_usd * 1e6
                      + model.per_unit_usd * 1e6
                        * static_cast<double>(r.units));
}

/// Logs a change of the circuit breaker: when admission starts or stops
/// refusing a provider's calls is what an operator looks for in the log.
void log_breaker_change(budget_controller_pointer self,
                        budget::breaker_state before) {
  auto after = self->state.breaker->state();
  if (after == before)
    return;
  auto& name = self->state.service.name;
  auto text = name + ": circuit breaker " + budget::to_string(before) + " -> "
    + budget::to_string(after);
  switch (after) {
    case budget::breaker_state::open:
      log_warning("budget",
                  text
                    + ": the provider's error rate is over the "
                      "limit, admission refuses its calls");
      break;
    case budget::breaker_state::half_open:
      log_info("budget", text + ": letting probe calls through");
      break;
    case budget::breaker_state::closed:
      log_info("budget", text + ": calls are admitted again");
      break;
  }
}

admission_decision denial(budget_controller_pointer self,
                          budget::denial_reason reason,
                          int64_t retry_after_ms) {
  auto& st = self->state;
  ++st.denied[reason];
  admission_decision d;
  d.reason = reason;
  d.retry_after_ms = std::clamp<int64_t>(retry_after_ms, 1, max_retry_ms);
  return d;
}

void fill_remaining(budget_controller_pointer self, admission_decision& d,
                    int64_t now) {
  auto& st = self->state;
  auto left = st.limits->left(now);
  d.burst_left = left.burst;
  d.sustained_left = left.sustained;
  d.daily_left = left.daily;
  auto budget = st.budget->budget_micro();
  d.budget_left_micros = budget > 0
    ? std::max<int64_t>(budget - st.budget->spend_micro(), 0)
    : -1;
}

void write_audit(budget_controller_pointer self, std::string who,
                 std::string action, std::string outcome, std::string detail) {
  auto& st = self->state;
  audit_record x;
  x.at_ms = epoch_ms(self->clock());
  x.node = st.settings.node;
  x.who = std::move(who);
  x.action = std::move(action);
  x.subject = st.service.name;
  x.outcome = std::move(outcome);
  x.detail = std::move(detail);
  // Not awaited: the transition is also in the log.
  caf::anon_send(st.store, write_atom_v,
                 write_ops{audit_write(x, st.settings.audit_retention_ms)});
}

/// A cost_alert for the agents: budget levels and mode changes. A change
/// into throttled or capped mode is critical: calls are being refused.
void publish_cost_alert(budget_controller_pointer self,
                        const budget::budget_event& e) {
  auto& st = self->state;
  if (!st.settings.events)
    return;
  coordination_event ev;
  ev.type = "cost_alert";
  ev.source = "budget:" + st.service.name;
  ev.created_ms = epoch_ms(self->clock());
  boost::json::object payload{
    {"service", st.service.name},
    {"spendUsd", static_cast<double>(e.spend_micro) / 1e6},
    {"budgetUsd", static_cast<double>(e.budget_micro) / 1e6}};
  if (e.what == budget::budget_event::kind::level_reached) {
    payload["event"] = "level_reached";
    payload["levelPercent"] = static_cast<double>(e.level_bp) / 100.0;
    ev.priority = e.level_bp >= 9000 ? priority::high : priority::normal;
  } else {
    payload["event"] = "mode_changed";
    payload["from"] = budget::to_string(e.from);
    payload["to"] = budget::to_string(e.to);
    ev.priority = e.to == budget::budget_mode::normal ? priority::high
                                                      : priority::critical;
  }
  ev.payload = boost::json::serialize(payload);
  self->send(st.settings.events, publish_atom_v, std::move(ev));
}

/// Keeps what was announced this month, so a restart does not announce it
/// again (not awaited: at worst an alert repeats after a store outage).
void remember_announced(budget_controller_pointer self, std::string field,
                        std::string value) {
  auto& st = self->state;
  write_ops ops{store::write_op::make_hset(
                  alerts_key(st), {{std::move(field), std::move(value)}}),
                store::write_op::make_expire(alerts_key(st), counter_ttl_ms)};
  self->request(st.store, store_timeout, write_atom_v, std::move(ops))
    .then([](write_results&) {},
          [self](caf::error& err) {
            log_warning("budget",
                        self->state.service.name
                          + ": cannot store the alert state: "
                          + error_text(err));
          });
}

/// Logs alerts and audits throttle changes.
void handle_events(budget_controller_pointer self,
                   const std::vector<budget::budget_event>& events,
                   const std::string& who) {
  auto& st = self->state;
  for (auto& e : events) {
    if (e.what == budget::budget_event::kind::level_reached)
      remember_announced(self, "l" + std::to_string(e.level_bp),
                         std::to_string(e.spend_micro));
    else
      remember_announced(self, "mode", budget::to_string(e.to));
    auto spend = std::to_string(e.spend_micro / 1'000'000.0);
    auto budget = std::to_string(e.budget_micro / 1'000'000.0);
    publish_cost_alert(self, e);
    if (e.what == budget::budget_event::kind::level_reached) {
      log_warning("budget",
                  "cost_alert service=" + st.service.name
                    + " level=" + std::to_string(e.level_bp / 100)
                    + "% spend=" + spend + " budget=" + budget);
    } else {
      auto detail = std::string{budget::to_string(e.from)} + " -> "
        + budget::to_string(e.to) + ", spend " + spend + " of " + budget;
      log_warning("budget",
                  "throttle service=" + st.service.name + " " + detail);
      write_audit(self, who, "budget.mode", budget::to_string(e.to), detail);
    }
  }
}

void observe_spend(budget_controller_pointer self, int64_t spend) {
  // Until this month's announcements are read back, a level reached before
  // a restart would be announced again.
  if (!self->state.announced_loaded)
    return;
  handle_events(self, self->state.budget->observe(spend), "budget_controller");
}

void grant_now(budget_controller_pointer self, state_type::reservation& r,
               int64_t now) {
  auto& st = self->state;
  ++st.granted;
  admission_decision d;
  d.granted = true;
  d.waited_ms = r.waited_ms;
  d.reserved_micros = r.cost;
  d.grant_id = st.settings.node + ":" + st.service.name + ":"
    + std::to_string(++st.grants);
  if (r.cost > 0)
    st.ledger.open(r.cost, now + st.settings.grant_ttl_ms);
  fill_remaining(self, d, now);
  r.promise.deliver(std::move(d));
}

/// Reserves the estimated costs of a batch of requests; each INCRBY's answer
/// is the total with it, so each reservation is judged against everything
/// reserved before it, by any node.
void flush_reservations(budget_controller_pointer self);

store_batcher<state_type::reservation>
make_reserver(budget_controller_pointer self) {
  using batch = std::vector<state_type::reservation>;
  store_batcher<state_type::reservation>::handlers h;
  h.make_ops = [self](const batch& xs) {
    auto& st = self->state;
    auto day = day_field(now_ms(self));
    write_ops ops;
    for (auto& r : xs) {
      ops.push_back(
        store::write_op::make_incr_by(spend_key(st), r.cost, counter_ttl_ms));
      ops.push_back(store::write_op::make_hincr_by(days_key(st), day, r.cost));
    }
    ops.push_back(store::write_op::make_expire(days_key(st), counter_ttl_ms));
    return ops;
  };
  h.stored = [self](batch& xs, write_results& rs) {
    auto& st = self->state;
    auto now = now_ms(self);
    auto day = day_field(now);
    write_ops undo;
    int64_t latest = -1;
    for (std::size_t i = 0; i < xs.size(); ++i) {
      auto& r = xs[i];
      auto& res = rs[2 * i];
      if (res.error) {
        st.limits->give_back(r.request.units, now);
        r.promise.deliver(
          denial(self, budget::denial_reason::store_unavailable, 1000));
        continue;
      }
      latest = std::max(latest, res.integer);
      auto reason = budget::spend_denial(*st.budget, st.service.hard_cap,
                                         priority_of(r.request), res.integer);
      if (reason != budget::denial_reason::none) {
        undo.push_back(store::write_op::make_incr_by(spend_key(st), -r.cost));
        undo.push_back(
          store::write_op::make_hincr_by(days_key(st), day, -r.cost));
        st.limits->give_back(r.request.units, now);
        r.promise.deliver(denial(self, reason, ms_until_next_utc_month(now)));
        continue;
      }
      grant_now(self, r, now);
    }
    if (!undo.empty())
      self->request(st.store, store_timeout, write_atom_v, std::move(undo))
        .then([](write_results&) {},
              [](caf::error& err) {
                log_error("budget",
                          "undo of a refused reservation failed: "
                            + error_text(err));
              });
    if (latest >= 0)
      observe_spend(self, latest);
    return true;
  };
  h.refused = [self](batch& xs, const caf::error& err, bool) {
    auto& st = self->state;
    auto now = now_ms(self);
    log_warning("budget",
                st.service.name + ": cannot reserve spend: " + error_text(err));
    for (auto& r : xs) {
      st.limits->give_back(r.request.units, now);
      r.promise.deliver(
        denial(self, budget::denial_reason::store_unavailable, 1000));
    }
    // What queued meanwhile is tried at once (and answered quickly if the
    // store is still away).
    flush_reservations(self);
  };
  return {"budget", on_refusal::drop, SIZE_MAX, std::move(h)};
}

void flush_reservations(budget_controller_pointer self) {
  auto& st = self->state;
  st.reserver->flush(self, st.store, store_timeout);
}

void admit_taken(budget_controller_pointer self, const admission_request& req,
                 int64_t cost, int64_t waited_ms,
                 state_type::decision_promise promise) {
  auto& st = self->state;
  state_type::reservation r{req, cost, waited_ms, std::move(promise)};
  if (cost <= 0) {
    grant_now(self, r, now_ms(self));
    return;
  }
  st.reserver->push(std::move(r));
  flush_reservations(self);
}

void arm_tick(budget_controller_pointer self, int64_t delay_ms) {
  auto& st = self->state;
  if (st.tick_armed)
    return;
  st.tick_armed = true;
  self->delayed_send(self,
                     std::chrono::milliseconds{std::max<int64_t>(delay_ms, 1)},
                     btick_atom_v);
}

/// Grants queued requests that fit now, answers those past their deadline.
void serve_queue(budget_controller_pointer self, int64_t now) {
  auto& st = self->state;
  for (auto& expired : st.queue.expire(now)) {
    auto i = st.waiting_by_id.find(expired.id);
    if (i == st.waiting_by_id.end())
      continue;
    auto p = expired.prio;
    auto f = st.limits->check(p, st.queue.units_ahead(expired) + expired.units,
                              now);
    auto reason = f.tier != budget::denial_reason::none
      ? f.tier
      : budget::denial_reason::burst;
    i->second.promise.deliver(denial(self, reason, f.wait_ms));
    st.waiting_by_id.erase(i);
  }
  for (;;) {
    auto next = st.queue.pop_next([&](const budget::waiting_request& r) {
      return st.limits->check(r.prio, r.units, now).fits();
    });
    if (!next)
      break;
    auto i = st.waiting_by_id.find(next->id);
    if (i == st.waiting_by_id.end())
      continue;
    st.limits->take(next->units, now);
    auto w = std::move(i->second);
    st.waiting_by_id.erase(i);
    admit_taken(self, w.request, w.cost, now - w.arrival_ms,
                std::move(w.promise));
  }
}

/// The next moment the queue may move: a deadline or a tier refilling.
int64_t next_queue_event(budget_controller_pointer self, int64_t now) {
  auto& st = self->state;
  int64_t next = st.settings.refresh_ms;
  if (auto d = st.queue.next_deadline_ms())
    next = std::min(next, *d - now);
  if (!st.queue.empty())
    next = std::min<int64_t>(next, 10); // tiers refill continuously
  return next;
}

/// Hands the reconciliation delta to the store; what the store refuses is
/// retried with the next one.
void write_delta(budget_controller_pointer self) {
  auto& st = self->state;
  if (auto delta = st.ledger.take_delta(); delta != 0) {
    auto day = day_field(now_ms(self));
    auto last = st.delta_writer->back();
    if (last && last->month == st.month && last->day == day)
      last->micros += delta;
    else
      st.delta_writer->push({st.month, day, delta});
  }
  st.delta_writer->flush(self, st.store, store_timeout);
}

store_batcher<state_type::spend_delta>
make_delta_writer(budget_controller_pointer self) {
  using batch = std::vector<state_type::spend_delta>;
  store_batcher<state_type::spend_delta>::handlers h;
  h.make_ops = [self](const batch& xs) {
    auto& name = self->state.service.name;
    write_ops ops;
    for (auto& x : xs) {
      ops.push_back(store::write_op::make_incr_by(spend_key(name, x.month),
                                                  x.micros, counter_ttl_ms));
      ops.push_back(store::write_op::make_hincr_by(days_key(name, x.month),
                                                   x.day, x.micros));
    }
    return ops;
  };
  h.stored = [self](batch& xs, write_results& rs) {
    auto& st = self->state;
    for (auto& r : rs)
      if (r.error) {
        // Run-time errors (a key of the wrong type) fail again on retry.
        log_error("budget",
                  st.service.name + ": a spend delta was refused: "
                    + caf::to_string(r.error));
        break;
      }
    // The latest total of this month's counter is the spend to observe.
    for (std::size_t i = xs.size(); i-- > 0;)
      if (xs[i].month == st.month && !rs[2 * i].error) {
        observe_spend(self, rs[2 * i].integer);
        break;
      }
    return true;
  };
  h.refused = [self](batch&, const caf::error& err, bool first) {
    if (first)
      log_warning("budget",
                  self->state.service.name
                    + ": spend reconciliation kept until the store "
                      "is back: "
                    + error_text(err));
  };
  // A delta per day at most (merged): a month of outage is ~31 items.
  return {"budget", on_refusal::keep, 10'000, std::move(h)};
}

void refresh(budget_controller_pointer self, int64_t now) {
  auto& st = self->state;
  auto month = utc_month(now);
  if (month != st.month) {
    st.month = month;
    handle_events(self, st.budget->roll_month(), "budget_controller");
    st.forecast_alerted = false;
    // Reservations and deltas of the old month stay in the old month.
    st.ledger.clear();
  }
  st.ledger.expire(now);
  write_delta(self);
  self->request(st.store, store_timeout, kv_get_atom_v, spend_key(st))
    .then(
      [self](bool found, std::string& value) {
        int64_t spend = 0;
        if (found)
          std::from_chars(value.data(), value.data() + value.size(), spend);
        if (self->state.spend_read_failing) {
          self->state.spend_read_failing = false;
          log_info("budget",
                   self->state.service.name + ": month's spend readable again");
        }
        observe_spend(self, spend);
      },
      [self](caf::error& err) {
        // Admission goes on from the last total seen; said once per outage.
        auto& st = self->state;
        if (!st.spend_read_failing)
          log_warning("budget",
                      st.service.name
                        + ": cannot read the month's spend, using "
                          "the last total seen: "
                        + error_text(err));
        st.spend_read_failing = true;
      });
}

/// The month-end forecast from the per-day spend hash.
budget::forecast_result forecast_from(budget_controller_pointer self,
                                      const store::field_list& days) {
  budget::forecast_input in;
  in.budget_micro = self->state.budget->budget_micro();
  in.now_ms = now_ms(self);
  for (auto& [day, value] : days) {
    int d = 0;
    int64_t v = 0;
    std::from_chars(day.data(), day.data() + day.size(), d);
    std::from_chars(value.data(), value.data() + value.size(), v);
    if (d >= 1 && d <= 31) {
      if (in.days.size() < static_cast<std::size_t>(d))
        in.days.resize(d, 0);
      in.days[d - 1] = v;
    }
  }
  return budget::forecast(in);
}

std::string runs_out_text(const budget::forecast_result& f) {
  if (!f.runs_out)
    return {};
  char buf[16];
  std::snprintf(buf, sizeof(buf), "%04d-%02u-%02u", f.runs_out->year,
                f.runs_out->month, f.runs_out->day);
  return buf;
}

budget_status with_forecast(budget_status s, const budget::forecast_result& f) {
  s.forecast_micros = f.expected_micro;
  s.forecast_low_micros = f.low_micro;
  s.forecast_high_micros = f.high_micro;
  s.daily_rate_micros = f.daily_rate_micro;
  s.runs_out = runs_out_text(f);
  return s;
}

/// A predictive cost_alert: once a month, when the month-end forecast
/// crosses the budget while spend is still below it. High priority when
/// even the forecast's low end is over budget.
void check_forecast(budget_controller_pointer self,
                    const budget::forecast_result& f) {
  auto& st = self->state;
  auto budget = st.budget->budget_micro();
  if (st.forecast_alerted
      || !budget::forecast_crosses_budget(f, budget, st.budget->spend_micro()))
    return;
  st.forecast_alerted = true;
  remember_announced(self, "forecast", std::to_string(f.expected_micro));
  auto usd = [](int64_t micros) { return static_cast<double>(micros) / 1e6; };
  boost::json::object payload{{"service", st.service.name},
                              {"event", "forecast_over_budget"},
                              {"spendUsd", usd(st.budget->spend_micro())},
                              {"budgetUsd", usd(budget)},
                              {"forecastUsd", usd(f.expected_micro)},
                              {"forecastLowUsd", usd(f.low_micro)},
                              {"forecastHighUsd", usd(f.high_micro)},
                              {"dailyRateUsd", usd(f.daily_rate_micro)}};
  auto runs_out = runs_out_text(f);
  if (!runs_out.empty())
    payload["budgetRunsOut"] = runs_out;
  auto high = f.low_micro > budget;
  log_warning("budget",
              "cost_alert service=" + st.service.name
                + " forecast=" + std::to_string(usd(f.expected_micro)) + " ["
                + std::to_string(usd(f.low_micro)) + ", "
                + std::to_string(usd(f.high_micro))
                + "] budget=" + std::to_string(usd(budget))
                + (runs_out.empty() ? "" : " runs_out=" + runs_out));
  if (!st.settings.events)
    return;
  coordination_event ev;
  ev.type = "cost_alert";
  ev.source = "budget:" + st.service.name;
  ev.created_ms = epoch_ms(self->clock());
  ev.priority = high ? priority::high : priority::normal;
  ev.payload = boost::json::serialize(payload);
  self->send(st.settings.events, publish_atom_v, std::move(ev));
}

/// Reads the per-day spend and checks the forecast (every minute).
void forecast_tick(budget_controller_pointer self, int64_t now) {
  auto& st = self->state;
  if (now - st.last_forecast_ms < st.settings.forecast_check_ms
      || !st.announced_loaded)
    return;
  st.last_forecast_ms = now;
  self->request(st.store, store_timeout, hgetall_atom_v, days_key(st))
    .then(
      [self](store::field_list& days) {
        check_forecast(self, forecast_from(self, days));
      },
      [](caf::error&) {
        // The spend refresh logs the store's absence.
      });
}

/// Reads what this month already announced, then starts observing spend.
void load_announced(budget_controller_pointer self) {
  auto& st = self->state;
  self->request(st.store, store_timeout, hgetall_atom_v, alerts_key(st))
    .then(
      [self](store::field_list& fields) {
        auto& st = self->state;
        std::vector<uint32_t> levels;
        auto mode = budget::budget_mode::normal;
        for (auto& [name, value] : fields) {
          if (name.size() > 1 && name[0] == 'l') {
            uint32_t bp = 0;
            auto r = std::from_chars(name.data() + 1, name.data() + name.size(),
                                     bp);
            if (r.ec == std::errc{})
              levels.push_back(bp);
          } else if (name == "mode") {
            if (value == "throttled")
              mode = budget::budget_mode::throttled;
            else if (value == "capped")
              mode = budget::budget_mode::capped;
          } else if (name == "forecast") {
            st.forecast_alerted = true;
          }
        }
        st.budget->restore(levels, mode);
        st.announced_loaded = true;
        refresh(self, now_ms(self));
      },
      [self](caf::error& err) {
        auto& st = self->state;
        log_warning("budget",
                    st.service.name + ": cannot read this month's alerts ("
                      + error_text(err)
                      + "): levels already reached may alert again");
        st.announced_loaded = true;
        refresh(self, now_ms(self));
      });
}

budget::time_zone load_zone(const service_config& svc) {
  std::string error;
  auto& name = svc.limits.daily.time_zone;
  if (auto zone = budget::time_zone::load(name, error))
    return *zone;
  log_error("budget",
            svc.name + ": time zone " + name + ": " + error + "; using UTC");
  return budget::time_zone::utc();
}

/// Takes what the controller uses from `next`: limits, budget, hard cap,
/// cost model and breaker. Only tiers whose settings changed are touched,
/// and those keep what they counted: the month's spend stays in the
/// budget state, today's units in the daily tier, the units of the current
/// burst and sustained window in theirs. Open grants and the wait queue
/// are not touched. Returns the changes made ("key before -> after").
std::vector<std::string> apply_settings(budget_controller_pointer self,
                                        const service_config& next,
                                        const std::string& who) {
  auto& st = self->state;
  auto wanted = st.service;
  wanted.budget_usd_month = next.budget_usd_month;
  wanted.hard_cap = next.hard_cap;
  wanted.alert_levels_bp = next.alert_levels_bp;
  wanted.throttle_bp = next.throttle_bp;
  wanted.cost = next.cost;
  wanted.limits = next.limits;
  wanted.breaker = next.breaker;
  auto changes = service_changes(st.service, wanted);
  if (changes.empty())
    return changes;
  auto now = now_ms(self);
  auto& was = st.service.limits;
  auto& now_limits = wanted.limits;
  if (was.burst.capacity != now_limits.burst.capacity
      || was.burst.refill_per_s != now_limits.burst.refill_per_s)
    st.limits->burst.reconfigure(now_limits.burst.capacity,
                                 now_limits.burst.refill_per_s, now);
  if (was.sustained.window_s != now_limits.sustained.window_s) {
    st.limits->resize_sustained(now_limits.sustained.limit,
                                int64_t{now_limits.sustained.window_s} * 1000,
                                now);
  } else if (was.sustained.limit != now_limits.sustained.limit) {
    st.limits->sustained.set_limit(now_limits.sustained.limit);
  }
  if (was.daily.limit != now_limits.daily.limit
      || was.daily.time_zone != now_limits.daily.time_zone) {
    st.limits->replace_daily(now_limits.daily.limit, load_zone(wanted), now);
  }
  st.limits->reserved = budget::reserved_share{now_limits.reserved_share};
  auto& b = wanted.breaker;
  st.breaker->reconfigure(b.error_rate, b.min_calls, b.open_s,
                          b.half_open_probes);
  st.service = std::move(wanted);
  write_audit(self, who, "budget.reconfigure", "ok", join_changes(changes));
  log_info("budget",
           "reconfigured service=" + st.service.name + " by " + who + ": "
             + join_changes(changes));
  // Throttling (or the cap) may start or end under the new budget or level.
  handle_events(self,
                st.budget->set_levels(st.service.alert_levels_bp,
                                      st.service.throttle_bp),
                who);
  handle_events(
    self,
    st.budget->reconfigure(std::llround(st.service.budget_usd_month * 1e6),
                           st.service.hard_cap),
    who);
  // Waiting requests may fit the new limits now.
  serve_queue(self, now);
  return changes;
}

budget_status make_status(budget_controller_pointer self) {
  auto& st = self->state;
  budget_status s;
  s.service = st.service.name;
  s.spend_micros = st.budget->spend_micro();
  s.budget_micros = st.budget->budget_micro();
  s.reserved_micros = st.ledger.reserved_micros();
  s.mode = st.budget->mode();
  s.override_mode = st.budget->override_mode();
  s.breaker = st.breaker->state();
  s.reached_levels_bp = st.budget->reached_levels();
  s.granted = st.granted;
  s.denied.assign(st.denied.begin(), st.denied.end());
  s.queued = st.queue.size();
  s.sustained_limit = st.limits->sustained.capacity();
  s.sustained_window_s = st.service.limits.sustained.window_s;
  s.daily_limit = st.limits->daily.capacity();
  s.reserved_share = st.service.limits.reserved_share;
  s.throttle_bp = st.budget->throttle_bp();
  return s;
}

} // namespace

budget_controller_actor::behavior_type
budget_controller(budget_controller_pointer self, service_config service,
                  budget_controller_settings settings, store_actor store) {
  auto& st = self->state;
  st.settings = std::move(settings);
  st.store = std::move(store);
  auto& limits = service.limits;
  st.limits.emplace(budget::admission_limits{
    {limits.burst.capacity, limits.burst.refill_per_s},
    {limits.sustained.limit, int64_t{limits.sustained.window_s} * 1000},
    {limits.daily.limit, load_zone(service)},
    budget::reserved_share{limits.reserved_share}});
  st.budget.emplace(std::llround(service.budget_usd_month * 1e6),
                    service.hard_cap, service.alert_levels_bp,
                    service.throttle_bp);
  st.breaker.emplace(service.breaker.error_rate, service.breaker.min_calls,
                     service.breaker.open_s, service.breaker.half_open_probes);
  st.service = std::move(service);
  st.reserver.emplace(make_reserver(self));
  st.delta_writer.emplace(make_delta_writer(self));
  auto now = now_ms(self);
  st.month = utc_month(now);
  load_announced(self);
  arm_tick(self, st.settings.refresh_ms);
  return {
    [=](admit_atom,
        const admission_request& req) -> caf::result<admission_decision> {
      auto& st = self->state;
      auto now = now_ms(self);
      auto p = priority_of(req);
      if (req.units == 0)
        return caf::make_error(error_code::invalid_argument,
                               "units must be at least 1");
      auto breaker_before = st.breaker->state();
      auto allowed = st.breaker->allow(now);
      log_breaker_change(self, breaker_before);
      if (!allowed)
        return denial(self, budget::denial_reason::circuit_open,
                      st.breaker->wait_ms(now));
      if (!st.budget->admits(p))
        return denial(self,
                      st.budget->mode() == budget::budget_mode::capped
                        ? budget::denial_reason::hard_cap
                        : budget::denial_reason::budget_throttle,
                      ms_until_next_utc_month(now));
      serve_queue(self, now);
      auto cost = estimated_cost(st, req);
      auto promise = self->make_response_promise<admission_decision>();
      auto f = st.limits->check(p, req.units, now);
      if (f.fits()) {
        st.limits->take(req.units, now);
        admit_taken(self, req, cost, 0, promise);
        return promise;
      }
      if (req.wait_ms > 0 && f.wait_ms != budget::never_ms) {
        auto id = st.queue.push(p, req.units, now + req.wait_ms, now);
        st.waiting_by_id.emplace(id,
                                 state_type::waiting{req, cost, now, promise});
        st.tick_armed = false; // re-arm for this queue's first event
        arm_tick(self, next_queue_event(self, now));
        return promise;
      }
      promise.deliver(denial(self, f.tier, f.wait_ms));
      return promise;
    },
    [=](spend_atom, const call_spend& x) {
      auto& st = self->state;
      auto now = now_ms(self);
      auto breaker_before = st.breaker->state();
      for (auto outcome : x.outcomes)
        st.breaker->record(outcome, now);
      log_breaker_change(self, breaker_before);
      st.ledger.settle(x.outcomes.size(), x.cost_micros);
      write_delta(self);
    },
    [=](budget_atom) -> caf::result<budget_status> {
      auto& st = self->state;
      auto promise = self->make_response_promise<budget_status>();
      self->request(st.store, store_timeout, hgetall_atom_v, days_key(st))
        .then(
          [self, promise](store::field_list& days) mutable {
            auto f = forecast_from(self, days);
            self->state.last_forecast = f;
            check_forecast(self, f);
            promise.deliver(with_forecast(make_status(self), f));
          },
          // The store is away: spend, state and limits are in memory; the
          // forecast is the last one, marked so.
          [self, promise](caf::error&) mutable {
            auto s = with_forecast(make_status(self),
                                   self->state.last_forecast);
            s.forecast_stale = true;
            promise.deliver(std::move(s));
          });
      return promise;
    },
    [=](override_atom, budget::budget_override ov,
        const std::string& who) -> caf::result<budget_status> {
      auto& st = self->state;
      std::string mode = to_string(ov);
      auto events = st.budget->set_override(ov);
      write_audit(self, who, "budget.override", mode,
                  "throttle override " + mode + " for " + st.service.name);
      handle_events(self, events, who);
      return make_status(self);
    },
    [=](btick_atom) {
      auto& st = self->state;
      st.tick_armed = false;
      auto now = now_ms(self);
      refresh(self, now);
      forecast_tick(self, now);
      serve_queue(self, now);
      arm_tick(self, next_queue_event(self, now));
    },
    [=](set_limit_atom, budget::limit_tier tier, uint64_t value,
        const std::string& who) -> caf::result<budget_status> {
      auto& st = self->state;
      auto& limits = st.service.limits;
      std::string before;
      // A changed tier starts empty: the old one's count was against the
      // old limit. The cost is at most one window of extra grants.
      if (tier == budget::limit_tier::sustained) {
        before = std::to_string(limits.sustained.limit);
        limits.sustained.limit = value;
        st.limits->sustained = budget::sliding_window{
          value, int64_t{limits.sustained.window_s} * 1000};
      } else if (tier == budget::limit_tier::daily) {
        before = std::to_string(limits.daily.limit);
        limits.daily.limit = value;
        std::string error;
        auto zone = budget::time_zone::load(limits.daily.time_zone, error);
        st.limits->replace_daily(value, zone ? *zone : budget::time_zone::utc(),
                                 now_ms(self));
      } else {
        return caf::make_error(error_code::invalid_argument,
                               "tier must be sustained or daily");
      }
      write_audit(self, who, "budget.set_limit", "ok",
                  std::string{"limits."} + to_string(tier) + ".limit " + before
                    + " -> " + std::to_string(value));
      return make_status(self);
    },
    [=](ping_atom) { return true; },
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
