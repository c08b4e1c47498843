#include "runtime/advice/alert_escalation.hpp"
#include "runtime/advice/hyperloglog.hpp"
#include "runtime/advice/seasonal_baseline.hpp"

#include <catch2/catch.hpp>

#include <cmath>
#include <string>

using namespace streamb;
using namespace streamb::advice;

namespace {

constexpr int64_t hour_ms = 3600 * 1000;
constexpr int64_t day_ms = 24 * hour_ms;
constexpr double pi = 3.14159265358979323846;

// Deterministic noise in [-10, 10], so runs are repeatable.
double noise(int i) {
  return static_cast<double>((i * 7919) % 21 - 10);
}

} // namespace

// -- hyperloglog --------------------------------------------------------------

TEST_CASE("hyperloglog: an empty sketch estimates 0") {
  hyperloglog h;
  CHECK(h.empty());
  CHECK(h.estimate() == 0);
}

TEST_CASE("hyperloglog: small counts are near exact (linear counting)") {
  hyperloglog h;
  h.add(42);
  CHECK_FALSE(h.empty());
  CHECK(h.estimate() == Approx(1).epsilon(0.01));
  // Sequential keys: the weak hash the mixing exists for.
  for (uint64_t i = 1; i < 10; ++i)
    h.add(42 + i);
  CHECK(h.estimate() == Approx(10).epsilon(0.01));
  hyperloglog k;
  for (uint64_t i = 0; i < 1000; ++i)
    k.add(i);
  CHECK(k.estimate() == Approx(1000).epsilon(0.02));
}

TEST_CASE("hyperloglog: 10 M distinct keys are within 3 standard errors") {
  CHECK(hyperloglog::relative_error() == Approx(0.008125));
  hyperloglog h;
  constexpr uint64_t n = 10'000'000;
  for (uint64_t i = 0; i < n; ++i)
    h.add(i);
  auto error = std::abs(h.estimate() - n) / n;
  CHECK(error < 3 * hyperloglog::relative_error());
}

TEST_CASE("hyperloglog: repeated keys are counted once") {
  hyperloglog h;
  for (int round = 0; round < 100; ++round)
    for (uint64_t i = 0; i < 1000; ++i)
      h.add(i * 0x1000);
  CHECK(h.estimate() == Approx(1000).epsilon(0.02));
}

TEST_CASE("hyperloglog: merging disjoint sets estimates their sum") {
  hyperloglog a;
  hyperloglog b;
  for (uint64_t i = 0; i < 50'000; ++i)
    a.add(i);
  for (uint64_t i = 50'000; i < 150'000; ++i)
    b.add(i);
  a.merge(b);
  auto tolerance = 3 * hyperloglog::relative_error();
  CHECK(a.estimate() == Approx(150'000).epsilon(tolerance));
  // Merging is idempotent: the union with itself is the same set.
  auto before = a.estimate();
  a.merge(b);
  CHECK(a.estimate() == before);
}

TEST_CASE("hyperloglog: a sketch survives a round trip via bytes") {
  hyperloglog h;
  for (uint64_t i = 0; i < 5000; ++i)
    h.add(i);
  auto bytes = h.to_bytes();
  CHECK(bytes.size() == hyperloglog::register_count);
  auto back = hyperloglog::from_bytes(bytes);
  REQUIRE(back);
  CHECK(back->estimate() == h.estimate());
  CHECK(back->to_bytes() == bytes);
  auto empty = hyperloglog::from_bytes(hyperloglog{}.to_bytes());
  REQUIRE(empty);
  CHECK(empty->empty());
}

TEST_CASE("hyperloglog: from_bytes rejects a wrong length or register") {
  auto bytes = hyperloglog{}.to_bytes();
  CHECK_FALSE(hyperloglog::from_bytes(""));
  CHECK_FALSE(hyperloglog::from_bytes(bytes.substr(1)));
  CHECK_FALSE(hyperloglog::from_bytes(bytes + '\0'));
  bytes[7] = static_cast<char>(hyperloglog::max_rank);
  CHECK(hyperloglog::from_bytes(bytes));
  bytes[7] = static_cast<char>(hyperloglog::max_rank + 1);
  CHECK_FALSE(hyperloglog::from_bytes(bytes));
  bytes[7] = static_cast<char>(0xff);
  CHECK_FALSE(hyperloglog::from_bytes(bytes));
}

// -- seasonal_baseline and anomaly_alert --------------------------------------

TEST_CASE("seasonal_baseline: slots are UTC hours, also before 1970") {
  CHECK(seasonal_baseline::slot_of(0) == 0);
  CHECK(seasonal_baseline::slot_of(3 * hour_ms + 59 * 60'000) == 3);
  CHECK(seasonal_baseline::slot_of(10 * day_ms + 15 * hour_ms) == 15);
  CHECK(seasonal_baseline::slot_of(-1) == 23);
  CHECK(seasonal_baseline::slot_of(-hour_ms) == 23);
  CHECK(seasonal_baseline::slot_of(-hour_ms - 1) == 22);
}

TEST_CASE("seasonal_baseline: the range needs min_observations and has a "
          "minimum width") {
  seasonal_baseline b{baseline_settings{}};
  auto t = 3 * hour_ms;
  for (int i = 0; i < 29; ++i)
    b.learn(100, t);
  CHECK_FALSE(b.expected(t));
  b.learn(100, t);
  auto r = b.expected(t);
  REQUIRE(r);
  CHECK(r->observations == 30);
  CHECK(r->mean == Approx(100));
  // A flat metric has no variance: min_spread sets the width.
  CHECK(r->low == Approx(90));
  CHECK(r->high == Approx(110));
  // Other hours have learned nothing.
  CHECK_FALSE(b.expected(4 * hour_ms));
  baseline_settings wide;
  wide.min_absolute_spread = 50;
  b.reconfigure(wide);
  CHECK(b.expected(t)->high == Approx(150));
  // Latency and error rates are never negative.
  CHECK(b.expected(t)->low == 50);
  wide.min_absolute_spread = 500;
  b.reconfigure(wide);
  CHECK(b.expected(t)->low == 0);
}

TEST_CASE("seasonal_baseline: a string round trip keeps the profile") {
  seasonal_baseline b{baseline_settings{}};
  for (int i = 0; i < 500; ++i)
    b.learn(200 + noise(i) / 3, i * 7 * 60'000);
  auto text = b.to_string();
  auto back = seasonal_baseline::from_string(text, baseline_settings{});
  REQUIRE(back);
  CHECK(back->to_string() == text);
  for (int h = 0; h < 24; ++h) {
    auto x = b.expected(h * hour_ms);
    auto y = back->expected(h * hour_ms);
    REQUIRE(x.has_value() == y.has_value());
    if (x) {
      CHECK(x->mean == y->mean);
      CHECK(x->high == y->high);
      CHECK(x->observations == y->observations);
    }
  }
  // The last newline is optional.
  text.pop_back();
  CHECK(seasonal_baseline::from_string(text, baseline_settings{}));
}

TEST_CASE("seasonal_baseline: from_string rejects garbage") {
  auto good = seasonal_baseline{baseline_settings{}}.to_string();
  auto rejects = [](const std::string& str) {
    return !seasonal_baseline::from_string(str, baseline_settings{});
  };
  CHECK_FALSE(rejects(good));
  CHECK(rejects(""));
  CHECK(rejects("hello"));
  CHECK(rejects(good + "\n"));
  CHECK(rejects(good + "24 0 0 0\n"));
  CHECK(rejects(good.substr(0, good.rfind("23 "))));              // 23 slots
  CHECK(rejects("1 0 0 0\n" + good.substr(good.find('\n') + 1))); // order
  auto with_slot0 = [&](const std::string& line) {
    return line + good.substr(good.find('\n'));
  };
  CHECK_FALSE(rejects(with_slot0("0 5 1.5 0.25")));
  CHECK(rejects(with_slot0("0 5 1.5 -0.25"))); // negative variance
  CHECK(rejects(with_slot0("0 5 nan 0")));
  CHECK(rejects(with_slot0("0 5 inf 0")));
  CHECK(rejects(with_slot0("0 -5 1.5 0")));  // negative count
  CHECK(rejects(with_slot0("0 5.5 1.5 0"))); // fractional count
  CHECK(rejects(with_slot0("0 5 1.5 0 7"))); // extra field
  CHECK(rejects(with_slot0("0 5 1.5")));     // missing field
  CHECK(rejects(with_slot0("0  5 1.5 0")));  // double space
  CHECK(rejects(with_slot0("0 5 1.5x 0")));
  CHECK(rejects(with_slot0("0 99999999999 1.5 0"))); // count overflows
}

TEST_CASE("anomaly_alert: learns a daily profile and judges by hour") {
  anomaly_alert a{baseline_settings{}};
  // Five days, one p95 every 5 minutes: 200 ms at 03:00 UTC, 800 ms at
  // 15:00 UTC, a cosine in between, and +-5 % noise.
  int i = 0;
  for (int64_t t = 0; t < 5 * day_ms; t += 5 * 60'000, ++i) {
    auto hour = static_cast<double>(seasonal_baseline::slot_of(t));
    auto level = 500 - 300 * std::cos(2 * pi * (hour - 3) / 24);
    CHECK(a.observe(level * (1 + noise(i) / 200), t, true)
          == alert_transition::none);
  }
  auto day5 = 5 * day_ms;
  auto night = a.baseline().expected(day5 + 3 * hour_ms);
  auto afternoon = a.baseline().expected(day5 + 15 * hour_ms);
  REQUIRE(night);
  REQUIRE(afternoon);
  CHECK(night->mean == Approx(200).epsilon(0.05));
  CHECK(afternoon->mean == Approx(800).epsilon(0.05));
  CHECK(a.observe(600, day5 + 15 * hour_ms, true) == alert_transition::none);
  CHECK(a.observe(600, day5 + 3 * hour_ms, true) == alert_transition::raised);
  CHECK(a.active());
  REQUIRE(a.last_range());
  CHECK(a.last_range()->high < 600);
  CHECK(a.last_range()->mean == Approx(200).epsilon(0.05));
}

TEST_CASE("anomaly_alert: no alert before min_observations") {
  auto t = 3 * hour_ms;
  anomaly_alert a{baseline_settings{}};
  for (int i = 0; i < 29; ++i)
    CHECK(a.observe(100, t, true) == alert_transition::none);
  // The 30th observation: its hour has 29, so there is no range yet.
  CHECK(a.observe(10'000, t, true) == alert_transition::none);
  CHECK_FALSE(a.active());
  CHECK_FALSE(a.last_range());
  anomaly_alert b{baseline_settings{}};
  for (int i = 0; i < 30; ++i)
    b.observe(100, t, true);
  CHECK(b.observe(10'000, t, true) == alert_transition::raised);
  REQUIRE(b.last_range());
  CHECK(b.last_range()->observations == 30);
}

TEST_CASE("anomaly_alert: clears with hysteresis") {
  auto t = 3 * hour_ms;
  anomaly_alert a{baseline_settings{}, 0.5};
  for (int i = 0; i < 100; ++i)
    a.observe(100 + noise(i) / 2, t, true);
  CHECK(a.observe(200, t, true) == alert_transition::raised);
  // Each step reads the range the next judgement uses (learning moves it).
  auto r = *a.baseline().expected(t);
  CHECK(a.observe(r.high - 0.01, t, true) == alert_transition::none);
  CHECK(a.active());
  r = *a.baseline().expected(t);
  auto clear_below = r.mean + 0.5 * (r.high - r.mean);
  CHECK(a.observe(clear_below + 0.01, t, true) == alert_transition::none);
  CHECK(a.active());
  r = *a.baseline().expected(t);
  CHECK(a.observe(r.mean, t, true) == alert_transition::cleared);
  CHECK_FALSE(a.active());
  CHECK(a.observe(r.mean, t, true) == alert_transition::none);
}

TEST_CASE("anomaly_alert: ignores observations without enough data") {
  auto t = 3 * hour_ms;
  anomaly_alert a{baseline_settings{}};
  for (int i = 0; i < 30; ++i)
    a.observe(100, t, true);
  auto before = a.baseline().to_string();
  CHECK(a.observe(10'000, t, false) == alert_transition::none);
  CHECK_FALSE(a.active());
  // Not learned either.
  CHECK(a.baseline().to_string() == before);
  CHECK(a.observe(10'000, t, true) == alert_transition::raised);
  CHECK(a.observe(0, t, false) == alert_transition::none);
  CHECK(a.active());
}

TEST_CASE("anomaly_alert: an outage stays raised and barely moves the "
          "baseline") {
  auto t = 3 * hour_ms;
  anomaly_alert a{baseline_settings{}};
  for (int i = 0; i < 200; ++i)
    a.observe(200 + noise(i), t, true);
  CHECK(a.observe(600, t, true) == alert_transition::raised);
  // An hour of 3x latency, one value a minute: still one open alert.
  for (int i = 1; i < 60; ++i)
    CHECK(a.observe(600 + noise(i), t, true) == alert_transition::none);
  CHECK(a.active());
  CHECK(a.baseline().expected(t)->mean < 230);
  CHECK(a.observe(200, t, true) == alert_transition::cleared);
}

TEST_CASE("anomaly_alert: a permanent level shift is eventually learned") {
  // What the semantics guarantee: values above the range are learned as its
  // high end at alpha/10, which still widens the range geometrically, so
  // any lasting level is inside the range after finitely many observations
  // (~150 for 3x here); once cleared, the new level is learned at the full
  // rate and, being normal now, raises nothing again.
  auto t = 3 * hour_ms;
  anomaly_alert a{baseline_settings{}};
  for (int i = 0; i < 200; ++i)
    a.observe(200 + noise(i), t, true);
  CHECK(a.observe(600, t, true) == alert_transition::raised);
  int cleared_after = -1;
  int raised_again = 0;
  for (int i = 1; i < 2000; ++i) {
    auto x = a.observe(600 + noise(i), t, true);
    if (x == alert_transition::cleared && cleared_after < 0)
      cleared_after = i;
    else if (x == alert_transition::raised)
      ++raised_again;
  }
  CHECK(cleared_after > 60); // not within the hour of the outage test
  CHECK(cleared_after < 300);
  CHECK(raised_again == 0);
  CHECK_FALSE(a.active());
  CHECK(a.baseline().expected(t)->mean == Approx(600).epsilon(0.01));
}

TEST_CASE("anomaly_alert: restore replaces the profile, keeps the state") {
  auto t = 3 * hour_ms;
  anomaly_alert a{baseline_settings{}};
  for (int i = 0; i < 30; ++i)
    a.observe(100, t, true);
  auto saved = a.baseline().to_string();
  anomaly_alert b{baseline_settings{}};
  auto profile = seasonal_baseline::from_string(saved, baseline_settings{});
  REQUIRE(profile);
  b.restore(*profile);
  CHECK(b.baseline().to_string() == saved);
  CHECK(b.observe(500, t, true) == alert_transition::raised);
  b.restore(seasonal_baseline{baseline_settings{}});
  CHECK(b.active());
  CHECK_FALSE(b.baseline().expected(t));
}

// -- alert_escalation ---------------------------------------------------------

namespace {

constexpr int64_t s = 1000;

using prio = alert_priority;

} // namespace

TEST_CASE("alert_escalation: priorities have names") {
  CHECK(std::string{to_string(prio::normal)} == "normal");
  CHECK(std::string{to_string(prio::high)} == "high");
  CHECK(std::string{to_string(prio::critical)} == "critical");
}

TEST_CASE("alert_escalation: an open alert escalates once per step") {
  alert_escalation e{escalation_settings{}};
  CHECK(e.open("a", 0) == prio::normal);
  CHECK(e.open_count() == 1);
  CHECK(e.tick(899 * s).empty());
  auto xs = e.tick(900 * s);
  REQUIRE(xs.size() == 1);
  CHECK(xs[0].key == "a");
  CHECK(xs[0].from == prio::normal);
  CHECK(xs[0].to == prio::high);
  CHECK(xs[0].open_for_ms == 900 * s);
  CHECK(e.priority_of("a") == prio::high);
  CHECK(e.tick(901 * s).empty());
  CHECK(e.tick(3599 * s).empty());
  xs = e.tick(3600 * s);
  REQUIRE(xs.size() == 1);
  CHECK(xs[0].from == prio::high);
  CHECK(xs[0].to == prio::critical);
  CHECK(e.priority_of("a") == prio::critical);
  CHECK(e.tick(100'000 * s).empty());
}

TEST_CASE("alert_escalation: a long gap reports every step, lowest first") {
  alert_escalation e{escalation_settings{}};
  e.open("b", 0);
  e.open("a", 10 * s);
  auto xs = e.tick(5000 * s);
  REQUIRE(xs.size() == 4);
  // By when each step was due: b's at 900 s and a's at 910 s, then b's and
  // a's second steps.
  CHECK(xs[0].key == "b");
  CHECK(xs[0].to == prio::high);
  CHECK(xs[0].open_for_ms == 5000 * s);
  CHECK(xs[1].key == "a");
  CHECK(xs[1].to == prio::high);
  CHECK(xs[1].open_for_ms == 4990 * s);
  CHECK(xs[2].key == "b");
  CHECK(xs[2].from == prio::high);
  CHECK(xs[2].to == prio::critical);
  CHECK(xs[3].key == "a");
  CHECK(xs[3].to == prio::critical);
  CHECK(e.tick(6000 * s).empty());
}

TEST_CASE("alert_escalation: re-opening keeps the open time and priority") {
  alert_escalation e{escalation_settings{}};
  e.open("a", 0);
  e.tick(1000 * s);
  CHECK(e.open("a", 2000 * s) == prio::high);
  CHECK(e.open("a", 2000 * s, prio::normal) == prio::high);
  CHECK(e.open_count() == 1);
  // Still due at 3600 s after the first open, not after the second.
  CHECK(e.tick(3600 * s).size() == 1);
  CHECK(e.priority_of("a") == prio::critical);
}

TEST_CASE("alert_escalation: an alert opened at high escalates only to "
          "critical") {
  alert_escalation e{escalation_settings{}};
  CHECK(e.open("a", 0, prio::high) == prio::high);
  CHECK(e.tick(900 * s).empty());
  CHECK(e.priority_of("a") == prio::high);
  auto xs = e.tick(3600 * s);
  REQUIRE(xs.size() == 1);
  CHECK(xs[0].from == prio::high);
  CHECK(xs[0].to == prio::critical);
  CHECK(e.open("c", 0, prio::critical) == prio::critical);
  CHECK(e.tick(100'000 * s).empty());
}

TEST_CASE("alert_escalation: fewer steps escalate less") {
  alert_escalation never{escalation_settings{{}}};
  never.open("a", 0);
  CHECK(never.tick(100'000 * s).empty());
  CHECK(never.priority_of("a") == prio::normal);
  alert_escalation once{escalation_settings{{60}}};
  once.open("a", 0);
  CHECK(once.tick(100'000 * s).size() == 1);
  CHECK(once.priority_of("a") == prio::high);
  // A second step below the first: critical follows high at once.
  alert_escalation odd{escalation_settings{{600, 60}}};
  odd.open("a", 0);
  CHECK(odd.tick(599 * s).empty());
  auto xs = odd.tick(600 * s);
  REQUIRE(xs.size() == 2);
  CHECK(xs[0].to == prio::high);
  CHECK(xs[1].to == prio::critical);
}

TEST_CASE("alert_escalation: closing reports the last priority") {
  alert_escalation e{escalation_settings{}};
  e.open("a", 1000 * s);
  e.tick(2000 * s);
  auto r = e.close("a", 2500 * s);
  REQUIRE(r);
  CHECK(r->key == "a");
  CHECK(r->last == prio::high);
  CHECK(r->open_for_ms == 1500 * s);
  CHECK(e.open_count() == 0);
  CHECK_FALSE(e.priority_of("a"));
  CHECK_FALSE(e.close("a", 2600 * s));
  CHECK_FALSE(e.close("never", 2600 * s));
  CHECK(e.tick(10'000 * s).empty());
  // Opened again, it is a new incident.
  CHECK(e.open("a", 3000 * s) == prio::normal);
}

TEST_CASE("alert_escalation: a clock that goes back escalates nothing") {
  alert_escalation e{escalation_settings{}};
  e.open("a", 10'000 * s);
  CHECK(e.tick(5000 * s).empty());
  auto r = e.close("a", 5000 * s);
  REQUIRE(r);
  CHECK(r->open_for_ms == 0);
}

TEST_CASE("alert_escalation: at most max_open alerts are tracked") {
  alert_escalation e{escalation_settings{}};
  for (std::size_t i = 0; i < alert_escalation::max_open; ++i)
    REQUIRE(e.open("k" + std::to_string(i), 0) == prio::normal);
  CHECK(e.open_count() == alert_escalation::max_open);
  CHECK_FALSE(e.open("one-too-many", 0));
  CHECK_FALSE(e.priority_of("one-too-many"));
  // Already open keys still answer.
  CHECK(e.open("k7", 0) == prio::normal);
  CHECK(e.close("k7", 0));
  CHECK(e.open("one-too-many", 0) == prio::normal);
  CHECK(e.open_count() == alert_escalation::max_open);
}

TEST_CASE("alert_escalation: reconfigure keeps open alerts") {
  alert_escalation e{escalation_settings{}};
  e.open("a", 0);
  e.open("b", 0);
  e.tick(1000 * s);
  e.reconfigure(escalation_settings{{3000, 6000}});
  CHECK(e.open_count() == 2);
  // No step is taken back.
  CHECK(e.priority_of("a") == prio::high);
  CHECK(e.tick(3600 * s).empty());
  auto xs = e.tick(6000 * s);
  REQUIRE(xs.size() == 2);
  CHECK(xs[0].key == "a");
  CHECK(xs[1].key == "b");
  e.open("c", 6000 * s);
  e.reconfigure(escalation_settings{{60, 120}});
  xs = e.tick(6200 * s);
  REQUIRE(xs.size() == 2);
  CHECK(xs[0].key == "c");
  CHECK(xs[1].to == prio::critical);
}
