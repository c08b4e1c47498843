#include "runtime/budget/forecast.hpp"

#include "tests/unit/runtime/budget/sim_clock.hpp"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

using namespace streamb::budget;
using namespace streamb::budget::test;

namespace {

constexpr int64_t usd = 1'000'000; // micro-dollars

std::vector<int64_t> dollars(std::initializer_list<double> xs) {
  std::vector<int64_t> out;
  for (auto x : xs)
    out.push_back(static_cast<int64_t>(x * usd));
  return out;
}

} // namespace

TEST_CASE("forecast: mean of the last 7 full days, interval from their "
          "spread, run-out date",
          "[budget]") {
  // June 2024 (30 days), noon on the 11th: half of today and 19 whole days
  // are left, d = 19.5. Days 1-3 cost 10 $ each and are older than 7 days;
  // days 4-10 cost 2,4,2,4,2,4,3 $: mean 3 $, deviations +-1 six times and
  // 0 once, so s^2 = 6 / (7 - 1) = 1 and s = 1 $. Today so far: 1.5 $.
  forecast_input in;
  in.days = dollars({10, 10, 10, 2, 4, 2, 4, 2, 4, 3, 1.5});
  in.budget_micro = 100 * usd;
  in.now_ms = utc_ms(2024, 6, 11, 12);
  auto f = forecast(in);
  CHECK(f.today == civil_date{2024, 6, 11});
  CHECK(f.basis == forecast_basis::full_days);
  CHECK(f.rate_days == 7);
  CHECK(f.spent_micro == 52'500'000); // 30 + 21 + 1.5
  CHECK(f.daily_rate_micro == 3 * usd);
  CHECK(f.days_left == Approx(19.5));
  // 52.5 + 3 * 19.5 = 111 $
  CHECK(f.expected_micro == 111 * usd);
  // half = 1.96 * 1 $ * sqrt(19.5 + 19.5^2 / 7)
  //      = 1.96 * sqrt(73.8214286) = 1.96 * 8.5919397 = 16.840202 $
  REQUIRE(f.has_interval);
  CHECK(f.low_micro == Approx(94'159'798).margin(1));
  CHECK(f.high_micro == Approx(127'840'202).margin(1));
  // 47.5 $ left: the rest of today adds 1.5 $, then 3 $ a day: end of the
  // 26th is at 99 $, the 27th reaches 102 $.
  REQUIRE(f.runs_out);
  CHECK(*f.runs_out == civil_date{2024, 6, 27});
}

TEST_CASE("forecast: no run-out date when the month ends within budget",
          "[budget]") {
  forecast_input in;
  in.days = dollars({10, 10, 10, 2, 4, 2, 4, 2, 4, 3, 1.5});
  in.budget_micro = 111 * usd; // exactly the month-end forecast ...
  in.now_ms = utc_ms(2024, 6, 11, 12);
  auto f = forecast(in);
  REQUIRE(f.runs_out); // ... is reached on the last day
  CHECK(*f.runs_out == civil_date{2024, 6, 30});
  in.budget_micro = 112 * usd;
  CHECK_FALSE(forecast(in).runs_out);
}

TEST_CASE("forecast: a budget already spent ran out on the day it was "
          "crossed",
          "[budget]") {
  forecast_input in;
  in.days = dollars({50, 60, 5});
  in.budget_micro = 100 * usd;
  in.now_ms = utc_ms(2024, 6, 3, 8);
  auto f = forecast(in);
  REQUIRE(f.runs_out);
  CHECK(*f.runs_out == civil_date{2024, 6, 2});
}

TEST_CASE("forecast on the 1st: nothing for the first hour, then today "
          "extrapolated",
          "[budget]") {
  forecast_input in;
  in.days = dollars({0.2});
  in.budget_micro = 500 * usd;
  in.now_ms = utc_ms(2024, 7, 1, 0, 30);
  auto early = forecast(in);
  CHECK(early.basis == forecast_basis::none);
  CHECK(early.expected_micro == 200'000); // just the spend so far
  CHECK_FALSE(early.has_interval);
  CHECK_FALSE(early.runs_out);

  // 06:00 with 3 $ spent: 3 $ per 6 h is 12 $ a day; 0.75 of today and 30
  // days are left: 3 + 12 * 30.75 = 372 $.
  in.days = dollars({3});
  in.now_ms = utc_ms(2024, 7, 1, 6);
  auto f = forecast(in);
  CHECK(f.basis == forecast_basis::partial_today);
  CHECK(f.daily_rate_micro == 12 * usd);
  CHECK(f.expected_micro == 372 * usd);
  CHECK_FALSE(f.has_interval);
  CHECK(f.low_micro == f.expected_micro);
  CHECK(f.high_micro == f.expected_micro);
}

TEST_CASE("forecast early in the month uses the previous month's last days",
          "[budget]") {
  // July 3rd, noon: this month's full days are 6 and 7 $; June 26-30 cost
  // 1-5 $. The 7 days 1..7 $ have mean 4 $ and s^2 = 28 / 6. Left: 0.5 of
  // today + 28 days. Spent: 6 + 7 + 2 = 15 $; expected 15 + 4 * 28.5 = 129.
  forecast_input in;
  in.previous_days = dollars({9, 9, 1, 2, 3, 4, 5}); // only the last 5 count
  in.days = dollars({6, 7, 2});
  in.budget_micro = 1000 * usd;
  in.now_ms = utc_ms(2024, 7, 3, 12);
  auto f = forecast(in);
  CHECK(f.rate_days == 7);
  CHECK(f.spent_micro == 15 * usd);
  CHECK(f.expected_micro == 129 * usd);
  // half = 1.96 * sqrt(28/6) $ * sqrt(28.5 + 28.5^2 / 7)
  //      = 1.96 * 2.1602469 * 12.0223007 = 50.903430 $
  CHECK(f.low_micro == Approx(78'096'570).margin(1));
  CHECK(f.high_micro == Approx(179'903'430).margin(1));

  // Without last month, two full days: a rate but no interval yet from one
  // day, an interval from two.
  in.previous_days.clear();
  in.now_ms = utc_ms(2024, 7, 2, 12);
  auto one = forecast(in);
  CHECK(one.rate_days == 1);
  CHECK(one.daily_rate_micro == 6 * usd);
  CHECK_FALSE(one.has_interval);
  in.now_ms = utc_ms(2024, 7, 3, 12);
  auto two = forecast(in);
  CHECK(two.rate_days == 2);
  CHECK(two.daily_rate_micro == 6'500'000);
  CHECK(two.has_interval);
}

TEST_CASE("forecast counts a 23 hour DST day by its local length", "[budget]") {
  // Berlin, 2024-03-31 (the last day of March, 23 h long) at 12:00 CEST =
  // 10:00 UTC: the day began 11 h ago at 23:00 UTC, 12 h are left = 12/23
  // of the day. 23 $ every day (s = 0): 30 * 23 + 11 today = 701 $, plus
  // 23 $ * 12/23 = 12 $ -> 713 $ exactly.
  std::string error;
  auto berlin = time_zone::load("Europe/Berlin", error);
  REQUIRE(berlin);
  forecast_input in;
  in.days.assign(30, 23 * usd);
  in.days.push_back(11 * usd);
  in.budget_micro = 1000 * usd;
  in.now_ms = utc_ms(2024, 3, 31, 10);
  auto f = forecast(in, *berlin);
  CHECK(f.today == civil_date{2024, 3, 31});
  CHECK(f.days_left == Approx(12.0 / 23.0));
  CHECK(f.expected_micro == 713 * usd);
  CHECK(f.has_interval);
  CHECK(f.low_micro == 713 * usd);
  CHECK(f.high_micro == 713 * usd);
  CHECK_FALSE(f.runs_out);
}
