#include "runtime/metrics/call_windows.hpp"

#include <catch2/catch.hpp>

using namespace streamb;
using namespace std::chrono_literals;

namespace {

const steady_time t0{};

call_sample sample(double latency_ms, status_class outcome = status_class::ok,
                   bool cache_hit = false) {
  call_sample x;
  x.endpoint = "/v1/charges";
  x.latency_us = static_cast<uint64_t>(latency_ms * 1000);
  x.outcome = outcome;
  x.cache_hit = cache_hit;
  return x;
}

void record_at(call_windows& w, steady_time t, const call_sample& x,
               int64_t cost = 0) {
  w.advance(t);
  w.record(x, cost);
}

service_config stripe() {
  service_config svc;
  svc.name = "stripe";
  svc.limits.sustained = {600, 60}; // 10 calls per second allowed
  return svc;
}

service_metrics metrics(const call_windows& w, metrics_window win,
                        steady_time now) {
  return make_service_metrics(stripe(), win, w.view(win, now),
                              w.view(win, now, true));
}

} // namespace

TEST_CASE("a sample leaves the 1 m window between 60 s and 70 s after it "
          "arrived") {
  call_windows w{t0};
  record_at(w, t0 + 1s, sample(100));
  w.advance(t0 + 59s);
  CHECK(w.view(metrics_window::one_minute, t0 + 59s).stats.calls == 1);
  w.advance(t0 + 69s);
  CHECK(w.view(metrics_window::one_minute, t0 + 69s).stats.calls == 1);
  w.advance(t0 + 70s);
  CHECK(w.view(metrics_window::one_minute, t0 + 70s).stats.calls == 0);
  // The longer windows still hold it.
  CHECK(w.view(metrics_window::five_minutes, t0 + 70s).stats.calls == 1);
  CHECK(w.view(metrics_window::one_hour, t0 + 70s).stats.calls == 1);
}

TEST_CASE("the 5 m and 1 h windows drop samples older than themselves") {
  call_windows w{t0};
  record_at(w, t0 + 5s, sample(100));
  w.advance(t0 + 305s);
  CHECK(w.view(metrics_window::five_minutes, t0 + 305s).stats.calls == 1);
  w.advance(t0 + 310s);
  CHECK(w.view(metrics_window::five_minutes, t0 + 310s).stats.calls == 0);
  w.advance(t0 + 3659s);
  CHECK(w.view(metrics_window::one_hour, t0 + 3659s).stats.calls == 1);
  w.advance(t0 + 3660s);
  CHECK(w.view(metrics_window::one_hour, t0 + 3660s).stats.calls == 0);
}

TEST_CASE("rates and error ratios are exact on constructed inputs") {
  call_windows w{t0};
  // 600 calls, one every 100 ms for 60 s: 60 server errors, 30 timeouts,
  // 15 rate-limited, 15 client errors, 120 cache hits.
  for (int i = 0; i < 600; ++i) {
    auto outcome = status_class::ok;
    if (i % 10 == 0)
      outcome = status_class::server_error;
    else if (i % 20 == 1)
      outcome = status_class::timeout;
    else if (i % 40 == 3)
      outcome = status_class::rate_limited;
    else if (i % 40 == 5)
      outcome = status_class::client_error;
    record_at(w, t0 + i * 100ms, sample(50, outcome, i % 5 == 0), 2000);
  }
  auto now = t0 + 60s;
  w.advance(now);
  auto m = metrics(w, metrics_window::one_minute, now);
  CHECK(m.calls == 600);
  CHECK(m.span_s == 60.0);
  CHECK(m.requests_per_second == 10.0);
  CHECK(m.utilization_pct == Approx(100.0));
  CHECK(m.error_rate == Approx(120.0 / 600));
  using sc = status_class;
  CHECK(m.calls_by_outcome[static_cast<int>(sc::server_error)] == 60);
  CHECK(m.calls_by_outcome[static_cast<int>(sc::timeout)] == 30);
  CHECK(m.calls_by_outcome[static_cast<int>(sc::rate_limited)] == 15);
  CHECK(m.calls_by_outcome[static_cast<int>(sc::client_error)] == 15);
  CHECK(m.critical_errors == 90);
  CHECK(m.cache_hit_ratio == Approx(0.2));
  CHECK(m.spend_micros == 600 * 2000);
  // $1.20 in one minute is $72 an hour.
  CHECK(m.hourly_spend_usd == Approx(72.0));
}

TEST_CASE("rates use the time the node has been up while the window fills") {
  call_windows w{t0};
  for (int i = 0; i < 100; ++i)
    record_at(w, t0 + i * 100ms, sample(10));
  auto now = t0 + 10s;
  w.advance(now);
  auto m = metrics(w, metrics_window::five_minutes, now);
  CHECK(m.span_s == 10.0);
  CHECK(m.requests_per_second == 10.0);
}

TEST_CASE("the trend turns degrading when p95 doubles and improving when it "
          "halves") {
  call_windows w{t0};
  for (int i = 0; i < 600; ++i)
    record_at(w, t0 + i * 100ms, sample(100));
  for (int i = 0; i < 600; ++i)
    record_at(w, t0 + 60s + i * 100ms, sample(200));
  auto now = t0 + 120s;
  w.advance(now);
  auto m = metrics(w, metrics_window::one_minute, now);
  CHECK(m.trend == "degrading");
  CHECK(m.trend_change_pct == Approx(100.0).margin(2.0));
  for (int i = 0; i < 600; ++i)
    record_at(w, t0 + 120s + i * 100ms, sample(100));
  now = t0 + 180s;
  w.advance(now);
  m = metrics(w, metrics_window::one_minute, now);
  CHECK(m.trend == "improving");
  CHECK(m.trend_change_pct == Approx(-50.0).margin(2.0));
  for (int i = 0; i < 600; ++i)
    record_at(w, t0 + 180s + i * 100ms, sample(100));
  now = t0 + 240s;
  w.advance(now);
  m = metrics(w, metrics_window::one_minute, now);
  CHECK(m.trend == "stable");
}

TEST_CASE("the trend is stable when the previous window had no calls") {
  auto t = compute_trend(500, 0, 0);
  CHECK(std::string{t.label} == "stable");
  CHECK(t.change_pct == 0);
}

TEST_CASE("latency percentiles of a window come from its histogram") {
  call_windows w{t0};
  // 1..1000 ms, once each: p50 = 500, p95 = 950, p99 = 990.
  for (int i = 1; i <= 1000; ++i)
    record_at(w, t0 + i * 10ms, sample(i));
  auto now = t0 + 15s;
  w.advance(now);
  auto m = metrics(w, metrics_window::one_minute, now);
  CHECK(m.p50_ms == Approx(500).epsilon(0.01));
  CHECK(m.p95_ms == Approx(950).epsilon(0.01));
  CHECK(m.p99_ms == Approx(990).epsilon(0.01));
  CHECK(m.average_ms == Approx(500.5));
}

TEST_CASE("an idle gap longer than the ring leaves no stale slots behind") {
  call_windows w{t0};
  record_at(w, t0 + 1s, sample(100));
  // Ten hours later the ring positions are reused: old data must not show.
  record_at(w, t0 + 36000s, sample(300));
  auto now = t0 + 36001s;
  w.advance(now);
  CHECK(w.view(metrics_window::one_minute, now).stats.calls == 1);
  CHECK(w.view(metrics_window::one_hour, now).stats.calls == 1);
  CHECK(w.view(metrics_window::one_hour, now, true).stats.calls == 0);
}

TEST_CASE("a call without a reported cost is charged by the cost model") {
  cost_config model;
  model.per_call_usd = 0.005;
  auto x = sample(10);
  CHECK(call_cost_micros(x, model) == 5000);
  x.cost_micros = 1234;
  CHECK(call_cost_micros(x, model) == 1234);
}
