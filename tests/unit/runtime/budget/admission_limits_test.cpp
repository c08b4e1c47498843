#include "runtime/budget/admission_limits.hpp"

#include "tests/unit/runtime/budget/sim_clock.hpp"

#include <catch2/catch.hpp>

using namespace streamb::budget;
using namespace streamb::budget::test;

namespace {

const int64_t t0 = utc_ms(2024, 6, 1, 12);

/// Burst 10 (1/s), sustained 20 per minute, daily 30, nothing reserved
/// unless a test says so.
admission_limits limits(double reserved = 0.0) {
  return {token_bucket{10, 1}, sliding_window{20, 60'000},
          daily_limit{30, time_zone::utc()}, reserved_share{reserved}};
}

} // namespace

TEST_CASE("admission tiers are checked burst, sustained, daily, each "
          "with how long until the request fits",
          "[budget]") {
  auto x = limits();
  CHECK(x.check(priority::normal, 10, t0).fits());
  auto f = x.check(priority::normal, 11, t0);
  CHECK(f.tier == denial_reason::burst);
  CHECK(f.wait_ms == never_ms); // more than the bucket ever holds
  x.take(10, t0);
  f = x.check(priority::normal, 2, t0);
  CHECK(f.tier == denial_reason::burst);
  CHECK(f.wait_ms == 2000);
  // 10 s later the bucket is full again, the window has 10 of 20 left.
  x.take(10, t0 + 10'000);
  f = x.check(priority::normal, 1, t0 + 20'000);
  CHECK(f.tier == denial_reason::sustained);
  CHECK(f.wait_ms > 0);
  // After the minute the window is empty; the day has 10 of 30 left.
  x.take(10, t0 + 70'000);
  f = x.check(priority::normal, 1, t0 + 130'000);
  CHECK(f.tier == denial_reason::daily);
  CHECK(f.wait_ms == utc_ms(2024, 6, 2, 0) - (t0 + 130'000));
}

TEST_CASE("normal and low must leave the reserved share that critical and "
          "high may use",
          "[budget]") {
  auto x = limits(0.2); // 2 of the burst's 10, 4 of 20, 6 of 30
  x.take(8, t0);
  CHECK(x.check(priority::normal, 1, t0).tier == denial_reason::burst);
  CHECK(x.check(priority::low, 1, t0).tier == denial_reason::burst);
  CHECK(x.check(priority::high, 2, t0).fits());
  CHECK(x.check(priority::critical, 2, t0).fits());
  CHECK(x.check(priority::critical, 3, t0).tier == denial_reason::burst);
}

TEST_CASE("what is left per tier, -1 for a tier that is off", "[budget]") {
  admission_limits x{token_bucket{0, 0}, sliding_window{0, 60'000},
                     daily_limit{5, time_zone::utc()}, reserved_share{}};
  CHECK(x.check(priority::low, 1'000'000, t0).tier == denial_reason::daily);
  x.take(2, t0);
  auto left = x.left(t0);
  CHECK(left.burst == -1);
  CHECK(left.sustained == -1);
  CHECK(left.daily == 3);
}

TEST_CASE("units given back refill the burst only: the other tiers count "
          "attempts",
          "[budget]") {
  auto x = limits();
  x.take(6, t0);
  x.give_back(6, t0);
  auto left = x.left(t0);
  CHECK(left.burst == 10);
  CHECK(left.sustained == 14);
  CHECK(left.daily == 24);
}

TEST_CASE("a new window or daily limit keeps what was already counted",
          "[budget]") {
  auto x = limits();
  x.take(8, t0);
  x.resize_sustained(50, 120'000, t0 + 1000);
  CHECK(x.left(t0 + 1000).sustained == 42);
  CHECK(x.sustained.capacity() == 50);
  x.replace_daily(10, time_zone::utc(), t0 + 1000);
  CHECK(x.left(t0 + 1000).daily == 2);
  // A smaller limit than what was counted is full, not negative.
  x.replace_daily(5, time_zone::utc(), t0 + 1000);
  CHECK(x.left(t0 + 1000).daily == 0);
}

TEST_CASE("spend over the throttle is refused below critical; critical only "
          "at a hard cap",
          "[budget]") {
  const int64_t usd100 = 100'000'000;
  budget_state soft{usd100, false};
  budget_state hard{usd100, true};
  // 95 % is the throttle level.
  CHECK(spend_denial(soft, false, priority::normal, usd100 * 95 / 100)
        == denial_reason::none);
  CHECK(spend_denial(soft, false, priority::high, usd100 * 96 / 100)
        == denial_reason::budget_throttle);
  CHECK(spend_denial(soft, false, priority::critical, usd100 * 2)
        == denial_reason::none);
  CHECK(spend_denial(hard, true, priority::normal, usd100 + 1)
        == denial_reason::hard_cap);
  CHECK(spend_denial(hard, true, priority::critical, usd100 + 1)
        == denial_reason::hard_cap);
  CHECK(spend_denial(hard, true, priority::critical, usd100)
        == denial_reason::none);
}

TEST_CASE("a forced override throttles below critical at any spend; a lifted "
          "one or no budget lets everything through",
          "[budget]") {
  budget_state b{100'000'000, true};
  b.set_override(budget_override::force);
  CHECK(spend_denial(b, true, priority::high, 1)
        == denial_reason::budget_throttle);
  CHECK(spend_denial(b, true, priority::critical, 1) == denial_reason::none);
  b.set_override(budget_override::lift);
  CHECK(spend_denial(b, true, priority::low, 500'000'000)
        == denial_reason::none);
  budget_state none{0, true};
  CHECK(spend_denial(none, true, priority::low, 500'000'000)
        == denial_reason::none);
}
