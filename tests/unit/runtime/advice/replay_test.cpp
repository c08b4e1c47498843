// The advisor judged on simulated months (runtime/advice/replay.hpp).

#include "runtime/advice/replay.hpp"

#include <catch2/catch.hpp>

using namespace streamb;
using namespace streamb::advice;

namespace {

bool any_alert(const replay_result& r, const std::string& text, int64_t from_ms,
               int64_t to_ms) {
  for (auto& a : r.alerts)
    if (a.what.find(text) != std::string::npos && a.at_ms >= from_ms
        && a.at_ms < to_ms)
      return true;
  return false;
}

constexpr int64_t day_ms = 24 * 3600 * 1000;

} // namespace

TEST_CASE("replay: a burst in the observation window keeps every sustained "
          "limit recommended above the burst") {
  auto r = replay("burst");
  REQUIRE(r.burst_calls >= 300);
  REQUIRE(r.lowest_sustained_after_burst > 0);
  CHECK(r.lowest_sustained_after_burst >= r.burst_calls);
}

TEST_CASE("replay: a slow leak is alerted days before the budget is "
          "crossed") {
  auto r = replay("leak");
  REQUIRE(r.budget_crossed_ms > 0);
  REQUIRE(r.forecast_alert_ms > 0);
  CHECK(r.forecast_alert_ms + 3 * day_ms < r.budget_crossed_ms);
}

TEST_CASE("replay: claimed savings are within 20 % of what the change saves "
          "on the rest of the month, also while traffic climbs") {
  for (auto name : {"steady", "weekly", "burst", "outage", "leak"}) {
    INFO(name);
    auto r = replay(name);
    std::size_t claims = 0;
    for (auto& c : r.claims) {
      if (c.advice.monthly_saving_usd <= 0)
        continue;
      ++claims;
      INFO(advice::to_string(c.advice.kind));
      CHECK(c.advice.monthly_saving_usd
            == Approx(c.replayed_saving_usd).epsilon(0.2));
    }
    CHECK(claims >= 2); // cache and batch
  }
}

TEST_CASE("replay: an outage raises anomaly alerts during it, escalates them "
          "while open and resolves them after") {
  auto r = replay("outage");
  auto outage_start = r.start_ms + 19 * day_ms + 10 * 3600 * 1000;
  auto outage_end = outage_start + 2 * 3600 * 1000;
  CHECK(any_alert(r, "anomaly p95_ms raised", outage_start,
                  outage_start + 10 * 60 * 1000));
  CHECK(any_alert(r, "anomaly error_rate raised", outage_start,
                  outage_start + 10 * 60 * 1000));
  CHECK(any_alert(r, "anomaly:p95_ms escalated to critical", outage_start,
                  outage_end));
  CHECK(any_alert(r, "anomaly p95_ms resolved", outage_end,
                  outage_end + 30 * 60 * 1000));
}

TEST_CASE("replay: an unknown scenario is refused") {
  CHECK_THROWS_AS(replay("nope"), std::invalid_argument);
}
