#pragma once

// Month-end spend forecast for one service.
//
//   expected = spent so far + rate * days_left
//
// rate       the mean daily spend of the last up-to-7 full days. Today is
//            partial and left out of the rate (it is in "spent so far").
//            Early in the month the 7 days reach back into the previous
//            month when the caller passes its last days (`previous_days`);
//            without them the rate uses this month's full days alone.
//            With no full day at all (the 1st, nothing before), today's
//            spend is extrapolated to a full day once at least an hour of it
//            has passed; before that there is no rate (basis `none`) and the
//            forecast is just the spend so far.
// days_left  the rest of today (as a fraction of today's local length, so a
//            23 h DST day counts right) plus the whole days left in the
//            month.
// interval   a 95 % prediction interval from the day-to-day variation of the
//            same days: +- 1.96 * s * sqrt(d + d^2 / k), with s the sample
//            standard deviation (n - 1) of the k days and d = days_left.
//            d * s^2 is the variance of d more days of spend; d^2 * s^2 / k
//            is the uncertainty of the rate itself, estimated from only k
//            days -- the larger term for most of the month, and the reason
//            this is wider than the often-quoted 1.96 * s * sqrt(d). Needs
//            k >= 2; otherwise there is no interval. The low end never goes
//            below the spend so far. (1.96 is the normal quantile; with
//            k <= 7 a Student-t would be wider still -- documented, not
//            applied, to keep the band comparable across services.)
// runs out   the local date on which spend reaches the budget at this rate:
//            a past date if it already has (from the daily series), nothing
//            if it does not within this month or there is no rate.
//
// Money is integer micro-dollars; the expected value is computed in integers
// (rounded half up), only the interval uses floating point (a square root).
// Months and days are those of the given time zone.

#include "runtime/budget/calendar.hpp"
#include "runtime/budget/time_zone.hpp"

#include <cstdint>
#include <optional>
#include <vector>

namespace streamb::budget {

/// What the forecast is based on.
enum class forecast_basis : uint8_t {
  full_days,     // mean of 1-7 full days
  partial_today, // today alone, extrapolated (no full day yet)
  none,          // not enough data: expected = spent
};

const char* to_string(forecast_basis x);

/// Input: spend per local day and the time.
struct forecast_input {
  /// This month's spend per local day: [0] is the 1st; the entry for today
  /// is today so far. Missing days count as 0, entries after today are
  /// ignored.
  std::vector<int64_t> days;
  /// Optional: the previous month's last full days, oldest first.
  std::vector<int64_t> previous_days;
  int64_t budget_micro = 0;
  int64_t now_ms = 0;
};

/// A month-end projection.
struct forecast_result {
  civil_date today;
  int64_t spent_micro = 0;      // month to date
  int64_t daily_rate_micro = 0; // rounded; the projection uses it unrounded
  uint32_t rate_days = 0;       // full days behind the rate (k)
  forecast_basis basis = forecast_basis::none;
  double days_left = 0;       // rest of today + whole days after it
  int64_t expected_micro = 0; // month-end spend
  bool has_interval = false;  // k >= 2
  int64_t low_micro = 0;      // 95 % interval; = expected without one
  int64_t high_micro = 0;
  std::optional<civil_date> runs_out; // budget reached on this local date
};

/// Projects month-end spend from daily spend so far.
forecast_result forecast(const forecast_input& in,
                         const time_zone& zone = time_zone::utc());

/// Whether the forecast calls for a predictive alert: the month-end
/// projection is over the budget while the spend so far is not.
bool forecast_crosses_budget(const forecast_result& f, int64_t budget_micro,
                             int64_t spend_micro);

} // namespace streamb::budget
