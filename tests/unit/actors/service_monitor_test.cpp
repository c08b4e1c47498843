#include "actors/service_monitor.hpp"

#include "actors/store_actor.hpp"
#include "runtime/core/actor_wall_clock.hpp"
#include "runtime/core/wall_time.hpp"
#include "tests/unit/runtime/store/switchable_backend.hpp"

#include "tests/unit/actor_fixture.hpp"

#include <caf/event_based_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include <memory>

using namespace streamb;
using namespace std::chrono_literals;

namespace {

service_config stripe() {
  service_config svc;
  svc.name = "stripe";
  svc.alerts.p95_ms = 800;
  svc.alerts.error_rate = 0.05;
  svc.alerts.min_calls = 20;
  svc.alerts.clear_ratio = 0.8;
  return svc;
}

call_samples batch(std::size_t n, double latency_ms,
                   status_class outcome = status_class::ok) {
  call_samples xs(n);
  for (auto& x : xs) {
    x.endpoint = "/v1/charges";
    x.latency_us = static_cast<uint64_t>(latency_ms * 1000);
    x.outcome = outcome;
  }
  return xs;
}

using alert_log = std::shared_ptr<std::vector<service_alert>>;

alert_sink_actor::behavior_type collecting_sink(alert_log log) {
  return {[log](alerts_atom, const service_alert& x) { log->push_back(x); }};
}

struct fixture : test::actor_fixture {
  alert_log alerts = std::make_shared<std::vector<service_alert>>();
  alert_sink_actor sink = sys().spawn(collecting_sink, alerts);
  service_monitor_actor monitor = sys().spawn(service_monitor, stripe(),
                                              monitor_settings{}, sink,
                                              std::shared_ptr<ingest_backlog>{},
                                              store_actor{},
                                              budget_controller_actor{});

  fixture() {
    sched.run();
  }

  ~fixture() {
    self->send_exit(monitor, caf::exit_reason::user_shutdown);
    self->send_exit(sink, caf::exit_reason::user_shutdown);
  }

  void post(call_samples xs) {
    self->send(monitor, record_atom_v, std::move(xs));
    sched.run();
  }

  service_metrics metrics(metrics_window w) {
    return ask<service_metrics>(monitor, metrics_atom_v, w);
  }

  /// The monitor's answer to new settings: whether anything changed.
  bool reconfigure(service_config svc) {
    return ask<bool>(monitor, reconfig_atom_v,
                     std::make_shared<const service_config>(std::move(svc)),
                     std::string{"operator:ops"});
  }
};

} // namespace

TEST_CASE_METHOD(fixture, "the monitor answers metrics for recorded samples") {
  post(batch(50, 100));
  post(batch(50, 300, status_class::server_error));
  auto m = metrics(metrics_window::one_minute);
  CHECK(m.service == "stripe");
  CHECK(m.calls == 100);
  CHECK(m.error_rate == Approx(0.5));
  CHECK(m.critical_errors == 50);
  CHECK(m.p50_ms == Approx(100).epsilon(0.01));
  CHECK(m.p99_ms == Approx(300).epsilon(0.01));
}

TEST_CASE_METHOD(fixture,
                 "samples drop out of the monitor's 1 m window as "
                 "simulated time passes") {
  post(batch(10, 100));
  advance(59s);
  CHECK(metrics(metrics_window::one_minute).calls == 10);
  advance(11s);
  CHECK(metrics(metrics_window::one_minute).calls == 0);
  CHECK(metrics(metrics_window::five_minutes).calls == 10);
}

TEST_CASE_METHOD(fixture,
                 "a slow service raises one p95 alert per crossing "
                 "at the snapshot, and clears it when fast again") {
  post(batch(100, 2000));
  CHECK(alerts->empty()); // nothing until the snapshot
  advance(15s);
  REQUIRE(alerts->size() == 1);
  CHECK(alerts->at(0).metric == alert_metric::p95_ms);
  CHECK(alerts->at(0).active);
  CHECK(alerts->at(0).threshold == 800);
  CHECK(metrics(metrics_window::five_minutes).active_alerts.size() == 1);
  // Still slow at the next snapshots: no repeat.
  advance(15s);
  advance(15s);
  CHECK(alerts->size() == 1);
  // Enough fast calls push the 5 m p95 under 640 ms: cleared once.
  post(batch(4000, 100));
  advance(15s);
  REQUIRE(alerts->size() == 2);
  CHECK(alerts->at(1).metric == alert_metric::p95_ms);
  CHECK_FALSE(alerts->at(1).active);
  CHECK(metrics(metrics_window::five_minutes).active_alerts.empty());
}

TEST_CASE_METHOD(fixture,
                 "an error-rate alert needs the minimum number of "
                 "calls") {
  post(batch(5, 100, status_class::timeout));
  advance(15s);
  CHECK(alerts->empty());
  post(batch(30, 100, status_class::timeout));
  advance(15s);
  REQUIRE(alerts->size() == 1);
  CHECK(alerts->at(0).metric == alert_metric::error_rate);
  CHECK(alerts->at(0).value == Approx(1.0));
}

TEST_CASE("the monitor releases the ingest backlog of the samples it "
          "recorded") {
  test::actor_fixture f;
  auto backlog = std::make_shared<ingest_backlog>(1000);
  auto m = f.sys().spawn(service_monitor, stripe(), monitor_settings{},
                         alert_sink_actor{}, backlog, store_actor{},
                         budget_controller_actor{});
  REQUIRE(backlog->try_reserve(300));
  f.self->send(m, record_atom_v, batch(300, 50));
  CHECK(backlog->queued() == 300); // not processed yet
  f.sched.run();
  CHECK(backlog->queued() == 0);
  f.self->send_exit(m, caf::exit_reason::user_shutdown);
}

// -- reconfiguration (config reload) ------------------------------------------

TEST_CASE_METHOD(fixture,
                 "a lowered p95 alert threshold raises an alert at the next "
                 "snapshot") {
  post(batch(100, 600));
  advance(15s);
  CHECK(alerts->empty()); // 600 ms is under 800 ms
  auto svc = stripe();
  svc.alerts.p95_ms = 500;
  CHECK(reconfigure(svc));
  CHECK(alerts->empty()); // judged at the snapshot, not at the reconfigure
  advance(15s);
  REQUIRE(alerts->size() == 1);
  CHECK(alerts->at(0).metric == alert_metric::p95_ms);
  CHECK(alerts->at(0).active);
  CHECK(alerts->at(0).threshold == 500);
  CHECK(alerts->at(0).value == Approx(600).epsilon(0.01));
}

TEST_CASE_METHOD(fixture,
                 "a raised p95 threshold clears an active alert with the "
                 "new hysteresis") {
  post(batch(100, 2000));
  advance(15s);
  REQUIRE(alerts->size() == 1);
  auto svc = stripe();
  svc.alerts.p95_ms = 5000; // clears below 4000 ms
  CHECK(reconfigure(svc));
  CHECK(metrics(metrics_window::five_minutes).active_alerts.size() == 1);
  advance(15s);
  REQUIRE(alerts->size() == 2);
  CHECK_FALSE(alerts->at(1).active);
}

TEST_CASE_METHOD(fixture,
                 "an unchanged config replies false and keeps the windows") {
  post(batch(10, 100));
  CHECK_FALSE(reconfigure(stripe()));
  auto svc = stripe();
  svc.limits.burst = {1, 1}; // the budget controller's business
  CHECK_FALSE(reconfigure(svc));
  CHECK(metrics(metrics_window::one_minute).calls == 10);
}

TEST_CASE_METHOD(fixture,
                 "a changed cost model prices the samples after it; the "
                 "window keeps what was recorded before") {
  auto svc = stripe();
  svc.cost.per_call_usd = 0.01;
  CHECK(reconfigure(svc));
  post(batch(10, 100)); // no reported cost: 0.01 USD each
  svc.cost.per_call_usd = 0.02;
  CHECK(reconfigure(svc));
  post(batch(10, 100));
  auto m = metrics(metrics_window::one_minute);
  CHECK(m.calls == 20);
  CHECK(m.spend_micros == 10 * 10'000 + 10 * 20'000);
}

TEST_CASE_METHOD(fixture,
                 "new batchable endpoints count for the advisor from then "
                 "on, keeping the counts so far") {
  post(batch(5, 100));
  auto svc = stripe();
  svc.batching.endpoints = {"/v1/charges"};
  CHECK(reconfigure(svc));
  post(batch(5, 100));
  auto p = ask<usage_profile>(monitor, profile_atom_v);
  CHECK(p.calls == 10);
  CHECK(p.batchable_calls == 5);
}

// -- metric history -----------------------------------------------------------

namespace {

/// A monitor writing its history to a store the test can switch off.
struct history_fixture : test::actor_fixture {
  std::shared_ptr<store::testing::switchable_backend>
    db = std::make_shared<store::testing::switchable_backend>();
  store_actor store = sys().spawn(store_service,
                                  std::shared_ptr<store::backend>{db});
  service_monitor_actor monitor;

  history_fixture() {
    monitor_settings settings;
    settings.node = "node-a";
    settings.rollup_interval_s = 60;
    settings.max_unwritten_rollups = 3;
    monitor = sys().spawn(service_monitor, stripe(), settings,
                          alert_sink_actor{}, std::shared_ptr<ingest_backlog>{},
                          store, budget_controller_actor{});
    sched.run();
  }

  ~history_fixture() {
    self->send_exit(monitor, caf::exit_reason::user_shutdown);
    self->send_exit(store, caf::exit_reason::user_shutdown);
  }

  void post(std::size_t n, double latency_ms, int64_t cost_micros) {
    auto xs = batch(n, latency_ms);
    for (auto& x : xs)
      x.cost_micros = cost_micros;
    self->send(monitor, record_atom_v, std::move(xs));
    sched.run();
  }

  std::vector<metric_rollup> history() {
    auto entries = db->inner.xrange(history_stream("stripe"), "-", "+");
    REQUIRE(entries);
    std::vector<metric_rollup> result;
    for (auto& e : *entries) {
      auto x = rollup_from_fields(e.fields);
      REQUIRE(x);
      result.push_back(*x);
    }
    return result;
  }

  int64_t usage(const char* field) {
    auto month = utc_month(epoch_ms(sched.clock()));
    auto value = db->inner.hget(usage_key("stripe", month), field);
    REQUIRE(value);
    return *value ? std::stoll(**value) : 0;
  }
};

} // namespace

TEST_CASE_METHOD(history_fixture,
                 "each period's calls land in the history with the month's "
                 "usage counters") {
  post(10, 100, 2500);
  advance(60s);
  auto h = history();
  REQUIRE(h.size() == 1);
  CHECK(h[0].service == "stripe");
  CHECK(h[0].node == "node-a");
  CHECK(h[0].stats.calls == 10);
  CHECK(h[0].stats.cost_micros == 25000);
  CHECK(h[0].p95_ms == Approx(100).epsilon(0.01));
  CHECK(h[0].start_ms % 60000 == 0);
  CHECK(usage("calls") == 10);
  CHECK(usage("spend_micros") == 25000);
  // A period without calls writes nothing; the next one with calls adds to
  // the same month's counters.
  advance(60s);
  CHECK(history().size() == 1);
  post(5, 50, 1000);
  advance(60s);
  REQUIRE(history().size() == 2);
  CHECK(history()[1].stats.calls == 5);
  CHECK(usage("calls") == 15);
  CHECK(usage("spend_micros") == 30000);
}

TEST_CASE_METHOD(history_fixture,
                 "roll-ups the store refuses are kept and written in order "
                 "once it is back") {
  db->down = true;
  post(5, 100, 0);
  advance(60s);
  post(7, 100, 0);
  advance(60s);
  CHECK(db->inner.xlen(history_stream("stripe")).value() == 0);
  db->down = false;
  post(1, 100, 0);
  advance(60s);
  auto h = history();
  REQUIRE(h.size() == 3);
  CHECK(h[0].stats.calls == 5);
  CHECK(h[1].stats.calls == 7);
  CHECK(h[2].stats.calls == 1);
  CHECK(usage("calls") == 13);
}

TEST_CASE_METHOD(history_fixture,
                 "past its backlog limit the monitor drops the oldest "
                 "roll-ups, not the newest") {
  db->down = true;
  for (std::size_t i = 1; i <= 5; ++i) {
    post(i, 100, 0);
    advance(60s);
  }
  db->down = false;
  advance(60s);
  auto h = history();
  REQUIRE(h.size() == 3); // max_unwritten_rollups
  CHECK(h[0].stats.calls == 3);
  CHECK(h[2].stats.calls == 5);
}

TEST_CASE_METHOD(history_fixture,
                 "flush stores the current partial period, and says false "
                 "while the store is down without losing it") {
  post(3, 100, 0);
  db->down = true;
  CHECK_FALSE(ask<bool>(monitor, flush_atom_v));
  db->down = false;
  CHECK(ask<bool>(monitor, flush_atom_v));
  auto h = history();
  REQUIRE(h.size() == 1);
  CHECK(h[0].stats.calls == 3);
  // Nothing left: the next flush writes nothing new.
  CHECK(ask<bool>(monitor, flush_atom_v));
  CHECK(history().size() == 1);
}

// -- escalation and anomalies -------------------------------------------------

namespace {

/// A monitor of `svc` with its own alert log.
struct alerting_fixture : test::actor_fixture {
  alert_log alerts = std::make_shared<std::vector<service_alert>>();
  alert_sink_actor sink = sys().spawn(collecting_sink, alerts);
  service_monitor_actor monitor;

  explicit alerting_fixture(service_config svc) {
    monitor = sys().spawn(service_monitor, std::move(svc), monitor_settings{},
                          sink, std::shared_ptr<ingest_backlog>{},
                          store_actor{}, budget_controller_actor{});
    sched.run();
  }

  ~alerting_fixture() {
    self->send_exit(monitor, caf::exit_reason::user_shutdown);
    self->send_exit(sink, caf::exit_reason::user_shutdown);
  }

  /// `n` snapshots (15 s each) with 100 calls of `latency_ms` before each.
  void run_for(int n, double latency_ms) {
    for (int i = 0; i < n; ++i) {
      self->send(monitor, record_atom_v, batch(100, latency_ms));
      advance(15s);
    }
  }

  std::vector<std::string> states(const char* kind) {
    std::vector<std::string> out;
    for (auto& a : *alerts)
      if (std::string_view{to_string(a.kind)} == kind)
        out.push_back(std::string{to_string(a.state)} + ":"
                      + std::to_string(static_cast<int>(a.priority)));
    return out;
  }
};

} // namespace

TEST_CASE("an alert that stays open escalates, and its resolution says the "
          "last priority") {
  auto svc = stripe();
  svc.alerts.escalate_after_s = {60, 120};
  svc.alerts.anomaly_sigmas = 0;
  alerting_fixture f{svc};
  f.run_for(1, 2000);
  CHECK(f.states("threshold") == std::vector<std::string>{"raised:2"});
  f.run_for(4, 2000); // 60 s open: high (1)
  CHECK(f.states("threshold")
        == std::vector<std::string>{"raised:2", "escalated:1"});
  f.run_for(4, 2000); // 120 s: critical (0)
  CHECK(f.states("threshold")
        == std::vector<std::string>{"raised:2", "escalated:1", "escalated:0"});
  // Fast calls for five minutes clear it.
  f.run_for(21, 10);
  auto s = f.states("threshold");
  REQUIRE(s.size() == 4);
  CHECK(s.back() == "resolved:0");
  CHECK_FALSE(f.alerts->back().active);
}

TEST_CASE("latency outside the range learned for the hour raises an anomaly "
          "alert below the fixed threshold") {
  auto svc = stripe();
  svc.alerts.anomaly_min_observations = 20;
  alerting_fixture f{svc};
  // Start at the beginning of an hour of the monitor's clock so the test
  // stays in one hour-of-day slot.
  auto now = epoch_ms(f.sched.clock());
  f.advance(std::chrono::milliseconds{3'600'000 - now % 3'600'000 + 1000});
  f.run_for(25, 100);
  CHECK(f.alerts->empty());
  f.run_for(3, 400); // under the 800 ms threshold, far above 100 ms
  REQUIRE_FALSE(f.alerts->empty());
  auto& a = f.alerts->front();
  CHECK(a.kind == alert_kind::anomaly);
  CHECK(a.metric == alert_metric::p95_ms);
  CHECK(a.active);
  CHECK(a.expected_mean == Approx(100).epsilon(0.05));
  CHECK(a.expected_high < 400);
  CHECK(a.value > a.expected_high);
}
