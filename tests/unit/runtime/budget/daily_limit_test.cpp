#include "runtime/budget/daily_limit.hpp"

#include "tests/unit/runtime/budget/sim_clock.hpp"

#include <catch2/catch.hpp>

#include <string>

using namespace streamb::budget;
using namespace streamb::budget::test;

namespace {

time_zone zone(const char* name) {
  std::string error;
  auto z = time_zone::load(name, error);
  INFO(error);
  REQUIRE(z);
  return *z;
}

} // namespace

TEST_CASE("a daily limit resets at UTC midnight", "[budget]") {
  daily_limit d{3, time_zone::utc()};
  sim_clock clock{utc_ms(2024, 6, 10, 23)};
  CHECK(d.try_take(3, clock.now));
  CHECK_FALSE(d.try_take(1, clock.now));
  CHECK(d.used(clock.now) == 3);
  CHECK(d.wait_ms(1, clock.now) == hours(1));
  clock.advance(hours(1) - 1); // 23:59:59.999
  CHECK_FALSE(d.can_take(1, clock.now));
  CHECK(d.wait_ms(1, clock.now) == 1);
  clock.advance(1); // midnight
  CHECK(d.used(clock.now) == 0);
  CHECK(d.available(clock.now) == 3);
  CHECK(d.try_take(3, clock.now));
  CHECK(d.wait_ms(1, clock.now) == hours(24));
}

TEST_CASE("a daily limit resets across a month and a year roll-over",
          "[budget]") {
  daily_limit d{2, time_zone::utc()};
  CHECK(d.try_take(2, utc_ms(2024, 1, 31, 23, 30)));
  CHECK(d.resets_at_ms(utc_ms(2024, 1, 31, 23, 30)) == utc_ms(2024, 2, 1));
  CHECK(d.wait_ms(1, utc_ms(2024, 1, 31, 23, 30)) == minutes(30));
  CHECK(d.try_take(2, utc_ms(2024, 2, 1)));
  // February 2024 has 29 days.
  CHECK(d.try_take(2, utc_ms(2024, 2, 29, 12)));
  CHECK(d.resets_at_ms(utc_ms(2024, 2, 29, 12)) == utc_ms(2024, 3, 1));
  CHECK(d.try_take(2, utc_ms(2024, 12, 31, 23, 59)));
  CHECK(d.wait_ms(1, utc_ms(2024, 12, 31, 23, 59)) == minutes(1));
  CHECK(d.try_take(2, utc_ms(2025, 1, 1)));
}

TEST_CASE("a daily limit in a zone resets at that zone's midnight",
          "[budget]") {
  daily_limit d{1, zone("America/New_York")};
  // 2024-06-10 22:00 in New York is 02:00 UTC on the 11th.
  auto late = utc_ms(2024, 6, 11, 2);
  CHECK(d.try_take(1, late));
  CHECK(d.wait_ms(1, late) == hours(2)); // New York midnight = 04:00 UTC
  CHECK(d.try_take(1, utc_ms(2024, 6, 11, 4)));
  // UTC midnight is not a reset here.
  CHECK_FALSE(d.can_take(1, utc_ms(2024, 6, 12, 0)));
}

TEST_CASE("a daily limit across the spring DST change: a 23 hour day",
          "[budget]") {
  daily_limit d{5, zone("Europe/Berlin")};
  // 2024-03-30 23:00 CET = 22:00 UTC; midnight is an hour away.
  CHECK(d.try_take(5, utc_ms(2024, 3, 30, 22)));
  CHECK(d.wait_ms(1, utc_ms(2024, 3, 30, 22)) == hours(1));
  // 2024-03-31 00:00 CET = 23:00 UTC on the 30th: a new day.
  auto day_start = utc_ms(2024, 3, 30, 23);
  CHECK(d.used(day_start) == 0);
  CHECK(d.try_take(5, day_start));
  // That day has 23 hours: the clocks skip 02:00-03:00.
  CHECK(d.wait_ms(1, day_start) == hours(23));
  CHECK(d.resets_at_ms(day_start) == utc_ms(2024, 3, 31, 22));
  CHECK_FALSE(d.can_take(1, utc_ms(2024, 3, 31, 22) - 1));
  CHECK(d.can_take(1, utc_ms(2024, 3, 31, 22)));
}

TEST_CASE("a daily limit across the autumn DST change: a 25 hour day",
          "[budget]") {
  daily_limit d{5, zone("Europe/Berlin")};
  // 2024-10-27 00:00 CEST = 22:00 UTC on the 26th.
  auto day_start = utc_ms(2024, 10, 26, 22);
  CHECK(d.try_take(5, day_start));
  CHECK(d.wait_ms(1, day_start) == hours(25));
  // Half an hour into the repeated hour (02:30 CET the second time), the
  // count is still today's.
  CHECK_FALSE(d.can_take(1, utc_ms(2024, 10, 27, 1, 30)));
  CHECK(d.can_take(1, utc_ms(2024, 10, 27, 23)));
}

TEST_CASE("a daily limit where DST skips midnight", "[budget]") {
  // Sao Paulo 2018-11-04: 00:00 became 01:00 (03:00 UTC).
  daily_limit d{1, zone("America/Sao_Paulo")};
  auto late = utc_ms(2018, 11, 4, 2, 30); // 23:30 on the 3rd
  CHECK(d.try_take(1, late));
  CHECK(d.wait_ms(1, late) == minutes(30));
  CHECK(d.try_take(1, utc_ms(2018, 11, 4, 3)));
}

TEST_CASE("a request above the daily limit never fits and limit 0 disables",
          "[budget]") {
  daily_limit d{3, time_zone::utc()};
  CHECK(d.wait_ms(4, utc_ms(2024, 6, 1)) == never_ms);
  CHECK_FALSE(d.try_take(4, utc_ms(2024, 6, 1)));
  daily_limit off{0, time_zone::utc()};
  CHECK_FALSE(off.limited());
  CHECK(off.try_take(1'000'000, utc_ms(2024, 6, 1)));
  CHECK(off.wait_ms(1'000'000, utc_ms(2024, 6, 1)) == 0);
}
