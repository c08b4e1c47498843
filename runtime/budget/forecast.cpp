#include "runtime/budget/forecast.hpp"

#include <algorithm>
#include <cmath>

namespace streamb::budget {

namespace {

// Today counts as a day to extrapolate from once this much of it has passed.
constexpr int64_t min_partial_ms = 3600 * 1000;

using i128 = __int128;

// a / b rounded half up, for a >= 0, b > 0.
int64_t div_round(i128 a, i128 b) {
  return static_cast<int64_t>((2 * a + b) / (2 * b));
}

} // namespace

const char* to_string(forecast_basis x) {
  switch (x) {
    case forecast_basis::full_days: return "full_days";
    case forecast_basis::partial_today: return "partial_today";
    case forecast_basis::none: return "none";
  }
  return "unknown";
}

forecast_result forecast(const forecast_input& in, const time_zone& zone) {
  forecast_result out;
  auto today_num = zone.local_day(in.now_ms);
  auto today = civil_from_days(today_num);
  out.today = today;
  auto d = today.day;
  auto dim = days_in_month(today.year, today.month);
  auto day_of = [&](uint32_t i) { // spend on day i (1-based) of this month
    return i <= in.days.size() ? std::max<int64_t>(in.days[i - 1], 0) : 0;
  };
  for (uint32_t i = 1; i <= d; ++i)
    out.spent_micro += day_of(i);

  // The last up-to-7 full days: the previous month's tail, then this
  // month's days before today.
  std::vector<int64_t> history;
  for (auto x : in.previous_days)
    history.push_back(std::max<int64_t>(x, 0));
  for (uint32_t i = 1; i < d; ++i)
    history.push_back(day_of(i));
  if (history.size() > 7)
    history.erase(history.begin(), history.end() - 7);
  auto k = static_cast<uint32_t>(history.size());

  // Today's length and what is left of it, in local time.
  auto day_start = zone.day_start_ms(today_num);
  auto day_end = zone.next_day_start_ms(in.now_ms);
  auto day_len = day_end - day_start;
  auto rest_ms = day_end - in.now_ms;
  auto elapsed_ms = in.now_ms - day_start;
  auto whole_after = static_cast<int64_t>(dim - d);
  out.days_left = static_cast<double>(whole_after)
    + static_cast<double>(rest_ms) / static_cast<double>(day_len);

  // The rate as a fraction num / den micro-dollars per day.
  i128 num = 0;
  i128 den = 1;
  if (k > 0) {
    out.basis = forecast_basis::full_days;
    for (auto x : history)
      num += x;
    den = k;
  } else if (elapsed_ms >= min_partial_ms) {
    out.basis = forecast_basis::partial_today;
    num = i128{day_of(d)} * day_len;
    den = elapsed_ms;
  } else {
    out.basis = forecast_basis::none;
  }
  out.rate_days = k;
  out.daily_rate_micro = div_round(num, den);

  // expected = spent + rate * (whole_after + rest_ms / day_len)
  auto left_ms = i128{whole_after} * day_len + rest_ms;
  out.expected_micro = out.spent_micro
    + div_round(num * left_ms, den * day_len);
  out.low_micro = out.expected_micro;
  out.high_micro = out.expected_micro;

  if (k >= 2) {
    auto mean = static_cast<double>(num) / static_cast<double>(den);
    double ss = 0;
    for (auto x : history)
      ss += (static_cast<double>(x) - mean) * (static_cast<double>(x) - mean);
    auto s = std::sqrt(ss / (k - 1));
    auto dl = out.days_left;
    auto half = 1.96 * s * std::sqrt(dl + dl * dl / k);
    out.has_interval = true;
    out.low_micro = std::max(
      out.spent_micro,
      static_cast<int64_t>(std::llround(out.expected_micro - half)));
    out.high_micro = static_cast<int64_t>(
      std::llround(out.expected_micro + half));
  }

  // When the budget runs out.
  if (in.budget_micro > 0) {
    if (out.spent_micro >= in.budget_micro) {
      int64_t sum = 0;
      for (uint32_t i = 1; i <= d; ++i) {
        sum += day_of(i);
        if (sum >= in.budget_micro) {
          out.runs_out = civil_date{today.year, today.month, i};
          break;
        }
      }
    } else if (num > 0) {
      i128 remaining = in.budget_micro - out.spent_micro;
      // What the rest of today adds, then whole days: remaining <= today's
      // rest + n * rate, smallest n.
      auto today_rest = num * rest_ms; // scaled by den * day_len
      auto scaled = remaining * den * day_len;
      uint32_t n = 0;
      if (scaled > today_rest) {
        auto per_day = num * day_len;
        n = static_cast<uint32_t>(std::min<i128>(
          (scaled - today_rest + per_day - 1) / per_day, dim + 1));
      }
      if (d + n <= dim)
        out.runs_out = civil_date{today.year, today.month, d + n};
    }
  }
  return out;
}

bool forecast_crosses_budget(const forecast_result& f, int64_t budget_micro,
                             int64_t spend_micro) {
  return budget_micro > 0 && f.expected_micro > budget_micro
         && spend_micro < budget_micro;
}

} // namespace streamb::budget
