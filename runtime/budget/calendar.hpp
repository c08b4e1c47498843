#pragma once

// Proleptic Gregorian calendar arithmetic on day numbers counted from
// 1970-01-01 (day 0). Integer only and branch-light: local midnights and
// month boundaries reduce to these (DST rules are date/tz's business, see
// time_zone.hpp).
// The algorithms are the well-known era-based conversions (400-year eras of
// 146097 days), valid for any year an int32_t holds.

#include "runtime/budget/budget_time.hpp"

#include <cstdint>

namespace streamb::budget {

/// A calendar date: year, month 1-12, day 1-31.
struct civil_date {
  int32_t year = 1970;
  uint32_t month = 1;
  uint32_t day = 1;

  friend constexpr bool operator==(const civil_date& x, const civil_date& y) {
    return x.year == y.year && x.month == y.month && x.day == y.day;
  }
  friend constexpr bool operator!=(const civil_date& x, const civil_date& y) {
    return !(x == y);
  }
};

constexpr bool is_leap_year(int32_t y) noexcept {
  return y % 4 == 0 && (y % 100 != 0 || y % 400 == 0);
}

constexpr uint32_t days_in_month(int32_t y, uint32_t m) noexcept {
  constexpr uint32_t days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && is_leap_year(y) ? 29 : days[m - 1];
}

/// Day number of a date (1970-01-01 is 0).
constexpr int64_t days_from_civil(int32_t y, uint32_t m, uint32_t d) noexcept {
  // Years start in March so the leap day is the last day of the year.
  int64_t yy = static_cast<int64_t>(y) - (m <= 2 ? 1 : 0);
  int64_t era = floor_div(yy, 400);
  int64_t yoe = yy - era * 400;                                   // 0-399
  int64_t mp = m > 2 ? m - 3 : m + 9;                             // 0-11
  int64_t doy = (153 * mp + 2) / 5 + static_cast<int64_t>(d) - 1; // 0-365
  int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;            // 0-146096
  return era * 146097 + doe - 719468;
}

constexpr int64_t days_from_civil(const civil_date& x) noexcept {
  return days_from_civil(x.year, x.month, x.day);
}

/// Date of a day number.
constexpr civil_date civil_from_days(int64_t z) noexcept {
  z += 719468;
  int64_t era = floor_div(z, 146097);
  int64_t doe = z - era * 146097;
  int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  int64_t mp = (5 * doy + 2) / 153;
  auto d = static_cast<uint32_t>(doy - (153 * mp + 2) / 5 + 1);
  auto m = static_cast<uint32_t>(mp < 10 ? mp + 3 : mp - 9);
  auto y = static_cast<int32_t>(yoe + era * 400 + (m <= 2 ? 1 : 0));
  return {y, m, d};
}

} // namespace streamb::budget
