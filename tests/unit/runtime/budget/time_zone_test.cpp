#include "runtime/budget/time_zone.hpp"

#include "tests/unit/runtime/budget/sim_clock.hpp"

#include <catch2/catch.hpp>

#include <string>

using namespace streamb::budget;
using namespace streamb::budget::test;

namespace {

time_zone posix(const char* rule) {
  std::string error;
  auto z = time_zone::from_posix(rule, error);
  INFO(error);
  REQUIRE(z);
  return *z;
}

// Zones from /usr/share/zoneinfo (Debian's tzdata package).
time_zone zone(const char* name) {
  std::string error;
  auto z = time_zone::load(name, error);
  INFO(error);
  REQUIRE(z);
  return *z;
}

// Epoch seconds of a UTC date and time.
int64_t utc_s(int32_t y, uint32_t mo, uint32_t d, int64_t h = 0,
              int64_t mi = 0) {
  return utc_ms(y, mo, d, h, mi) / 1000;
}

} // namespace

TEST_CASE("calendar arithmetic matches known dates", "[budget]") {
  CHECK(days_from_civil(1970, 1, 1) == 0);
  CHECK(days_from_civil(2024, 3, 31) == 19813);
  CHECK(days_from_civil(2000, 2, 29) == 11016);
  CHECK(civil_from_days(-1) == civil_date{1969, 12, 31});
  CHECK(civil_from_days(19813) == civil_date{2024, 3, 31});
  CHECK(days_in_month(2024, 2) == 29);
  CHECK(days_in_month(2100, 2) == 28);
  CHECK(days_in_month(2000, 2) == 29);
  for (int64_t z = -800'000; z < 800'000; z += 997)
    CHECK(days_from_civil(civil_from_days(z)) == z);
}

TEST_CASE("a POSIX rule gives Central European summer time", "[budget]") {
  auto z = posix("CET-1CEST,M3.5.0,M10.5.0/3");
  // Last Sunday of March 2024 is the 31st: 02:00 CET = 01:00 UTC.
  auto spring = utc_s(2024, 3, 31, 1);
  CHECK(z.offset_s(spring - 1) == 3600);
  CHECK(z.offset_s(spring) == 7200);
  // Last Sunday of October 2024 is the 27th: 03:00 CEST = 01:00 UTC.
  auto fall = utc_s(2024, 10, 27, 1);
  CHECK(z.offset_s(fall - 1) == 7200);
  CHECK(z.offset_s(fall) == 3600);
  CHECK(z.next_transition_s(utc_s(2024, 1, 1)) == spring);
  CHECK(z.next_transition_s(spring) == fall);
  CHECK(z.next_transition_s(fall) == utc_s(2025, 3, 30, 1));
}

TEST_CASE("a POSIX rule works for the southern hemisphere", "[budget]") {
  // Sydney: daylight time from the first Sunday of October to the first
  // Sunday of April (03:00 daylight).
  auto z = posix("AEST-10AEDT,M10.1.0,M4.1.0/3");
  CHECK(z.offset_s(utc_s(2024, 1, 15)) == 11 * 3600);
  CHECK(z.offset_s(utc_s(2024, 7, 15)) == 10 * 3600);
  CHECK(z.next_transition_s(utc_s(2024, 1, 1)) == 1712419200); // 04-06 16:00Z
  CHECK(z.next_transition_s(1712419200) == 1728144000);        // 10-05 16:00Z
}

TEST_CASE("POSIX rule dates: Jn skips Feb 29, n counts it", "[budget]") {
  // J60 is March 1 in every year; zero-based 59 is Feb 29 in a leap year.
  auto j = posix("AAA0BBB-1,J60/0,J300/0");
  CHECK(j.next_transition_s(utc_s(2024, 1, 1)) == utc_s(2024, 3, 1));
  CHECK(j.next_transition_s(utc_s(2023, 1, 1)) == utc_s(2023, 3, 1));
  auto n = posix("AAA0BBB-1,59/0,300/0");
  CHECK(n.next_transition_s(utc_s(2024, 1, 1)) == utc_s(2024, 2, 29));
  CHECK(n.next_transition_s(utc_s(2023, 1, 1)) == utc_s(2023, 3, 1));
}

TEST_CASE("POSIX rules without daylight time and with odd names", "[budget]") {
  auto tehran = posix("<+0330>-3:30");
  CHECK(tehran.offset_s(utc_s(2024, 6, 1)) == 3 * 3600 + 1800);
  CHECK_FALSE(tehran.next_transition_s(0));
  auto all_year = posix("EST5EDT,0/0,J365/25"); // daylight time all year
  CHECK(all_year.offset_s(utc_s(2024, 6, 1)) == -4 * 3600);
  CHECK(all_year.offset_s(utc_s(2024, 1, 1, 12)) == -4 * 3600);
  // Around New Year, where ptz.h 3.0.1 picks the wrong year's rule.
  CHECK(all_year.offset_s(utc_s(2024, 1, 1, 2)) == -4 * 3600);
  CHECK(all_year.offset_s(utc_s(2023, 12, 31, 23)) == -4 * 3600);
  auto t = utc_s(2023, 12, 30);
  for (int i = 0; i < 4; ++i) {
    auto next = all_year.next_transition_s(t);
    REQUIRE(next);
    CHECK(*next > t);
    t = *next;
  }
}

TEST_CASE("malformed POSIX rules are refused with a reason", "[budget]") {
  for (auto bad :
       {"", "CE-1", "CET", "CET-1CEST", "CET-1CEST,M13.1.0,M1.1.0",
        "CET-1CEST,M3.5.0", "CET-1CEST,M3.5.0,M10.5.0/3x", "CET-99",
        "CET-1CEST,M3.0.0,M10.5.0", "CET-1CEST,M3.5.7,M10.5.0",
        "CET-1CEST,J0,J300", "CET-1CEST,0,366", "CET-1 CEST,M3.5.0,M10.5.0"}) {
    std::string error;
    CHECK_FALSE(time_zone::from_posix(bad, error));
    INFO(error);
    CHECK(error.find(std::string{"\""} + bad + "\"") != std::string::npos);
  }
}

TEST_CASE("tz database zones give the known DST transitions", "[budget]") {
  auto berlin = zone("Europe/Berlin");
  CHECK(berlin.offset_s(utc_s(2024, 3, 31, 1) - 1) == 3600);
  CHECK(berlin.offset_s(utc_s(2024, 3, 31, 1)) == 7200);
  CHECK(berlin.offset_s(utc_s(2024, 10, 27, 1)) == 3600);
  // 2050 lies past the table in Debian's files: the footer rule answers.
  CHECK(berlin.next_transition_s(utc_s(2050, 1, 1)) == 2531955600);
  CHECK(berlin.next_transition_s(2531955600) == 2550704400);
  auto ny = zone("America/New_York");
  CHECK(ny.offset_s(utc_s(2024, 3, 10, 7) - 1) == -5 * 3600);
  CHECK(ny.offset_s(utc_s(2024, 3, 10, 7)) == -4 * 3600);
  CHECK(ny.offset_s(utc_s(1960, 1, 1)) == -5 * 3600);
  auto utc = zone("UTC");
  CHECK(utc.offset_s(utc_s(2024, 6, 1)) == 0);
  CHECK(zone("Etc/UTC").offset_s(utc_s(2024, 6, 1)) == 0);
}

TEST_CASE("a zone's table and its footer rule agree for 2025-2036",
          "[budget]") {
  // Debian's files list transitions until 2037; the footer must continue
  // them. Compare every hour of twelve years with the bare rule.
  struct pair {
    const char* name;
    const char* rule;
  };
  for (auto p : {pair{"Europe/Berlin", "CET-1CEST,M3.5.0,M10.5.0/3"},
                 pair{"America/New_York", "EST5EDT,M3.2.0,M11.1.0"},
                 pair{"Australia/Sydney", "AEST-10AEDT,M10.1.0,M4.1.0/3"}}) {
    auto table = zone(p.name);
    auto rule = posix(p.rule);
    int mismatches = 0;
    for (auto t = utc_s(2025, 1, 1); t < utc_s(2037, 1, 1); t += 3600)
      if (table.offset_s(t) != rule.offset_s(t))
        ++mismatches;
    INFO(p.name);
    CHECK(mismatches == 0);
  }
}

TEST_CASE("local days start at local midnight, 23 h and 25 h on DST days",
          "[budget]") {
  auto berlin = zone("Europe/Berlin");
  auto spring = days_from_civil(2024, 3, 31);
  CHECK(berlin.day_start_ms(spring) == 1711839600'000); // 03-30 23:00Z
  CHECK(berlin.day_start_ms(spring + 1) == 1711922400'000);
  CHECK(berlin.day_start_ms(spring + 1) - berlin.day_start_ms(spring)
        == hours(23));
  auto fall = days_from_civil(2024, 10, 27);
  CHECK(berlin.day_start_ms(fall + 1) - berlin.day_start_ms(fall) == hours(25));
  // From anywhere in the day, the next one starts at the next midnight.
  CHECK(berlin.next_day_start_ms(1711839600'000) == 1711922400'000);
  CHECK(berlin.next_day_start_ms(1711922400'000 - 1) == 1711922400'000);
  CHECK(berlin.local_day(1711922400'000 - 1) == spring);
  CHECK(berlin.local_date(1711922400'000) == civil_date{2024, 4, 1});
  auto ny = zone("America/New_York");
  auto ny_fall = days_from_civil(2024, 11, 3);
  CHECK(ny.day_start_ms(ny_fall) == 1730606400'000);
  CHECK(ny.day_start_ms(ny_fall + 1) - ny.day_start_ms(ny_fall) == hours(25));
}

TEST_CASE("where DST skips midnight, the day begins at the transition",
          "[budget]") {
  // Sao Paulo, 2018-11-04: clocks went from 00:00 to 01:00 (03:00 UTC).
  auto sp = zone("America/Sao_Paulo");
  auto day = days_from_civil(2018, 11, 4);
  CHECK(sp.day_start_ms(day) == 1541300400'000);
  CHECK(sp.next_day_start_ms(utc_ms(2018, 11, 4, 2, 30)) == 1541300400'000);
  CHECK(sp.day_start_ms(day + 1) - sp.day_start_ms(day) == hours(23));
}

TEST_CASE("a footer rule ptz.h cannot parse leaves the table", "[budget]") {
  // Nuuk's rule has negative times ("M3.5.0/-1"); its table covers today.
  auto nuuk = zone("America/Nuuk");
  CHECK(nuuk.offset_s(utc_s(2024, 1, 15)) == -2 * 3600);
  CHECK(nuuk.offset_s(utc_s(2024, 7, 15)) == -1 * 3600);
  CHECK(nuuk.next_transition_s(utc_s(2024, 1, 1)) == utc_s(2024, 3, 31, 1));
}

TEST_CASE("loading refuses bad names, missing and leap-second zones",
          "[budget]") {
  std::string error;
  for (auto bad : {"../../etc/passwd", "/etc/localtime", "Mars/Olympus_Mons",
                   "Europe/../Europe/Berlin", ""}) {
    CHECK_FALSE(time_zone::load(bad, error));
    CHECK(error.find(std::string{"\""} + bad + "\"") != std::string::npos);
  }
  CHECK_FALSE(time_zone::load("right/Europe/Berlin", error));
  CHECK(error.find("right/Europe/Berlin") != std::string::npos);
  CHECK(error.find("leap-second") != std::string::npos);
  // posix/ is the same database; date/tz just does not list it.
  auto posix_berlin = zone("posix/Europe/Berlin");
  CHECK(posix_berlin.name() == "posix/Europe/Berlin");
  CHECK(posix_berlin.offset_s(utc_s(2024, 7, 1)) == 7200);
}
