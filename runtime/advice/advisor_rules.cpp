#include "runtime/advice/advisor_rules.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace streamb {

namespace {

using advice::action_type;
using advice::recommendation_kind;

constexpr double month_s = 30.0 * 24 * 3600;

std::string percent(double x) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.1f %%", x * 100);
  return buf;
}

std::string usd(double x) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.2f USD", x);
  return buf;
}

std::string whole(double x) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.0f", x);
  return buf;
}

/// Confidence from the evidence: grows with the sample, 0.5 at `half`.
double evidence(double n, double half) {
  return n <= 0 ? 0 : n / (n + half);
}

recommendation make(const usage_profile& u, recommendation_kind kind) {
  recommendation r;
  r.service = u.service;
  r.kind = kind;
  r.id = u.service + ":" + to_string(kind);
  r.evidence = {{"observedDays", u.span_s / 86400.0},
                {"windowDays", u.window_s / 86400.0},
                {"calls", static_cast<double>(u.calls)}};
  return r;
}

void add_peaks(recommendation& r, const usage_profile& u) {
  r.evidence.emplace_back("peakMinuteCalls",
                          static_cast<double>(u.peak_minute));
  r.evidence.emplace_back("peakHourCalls", static_cast<double>(u.peak_hour));
  r.evidence.emplace_back("peakDayCalls", static_cast<double>(u.peak_day));
  r.evidence.emplace_back("peakWindowCalls",
                          static_cast<double>(u.peak_window));
  r.evidence.emplace_back("windowSeconds",
                          static_cast<double>(u.peak_window_s));
}

} // namespace

uint64_t limit_floor(uint64_t peak, double headroom, double reserved_share) {
  auto usable = 1.0 - std::clamp(reserved_share, 0.0, 0.99);
  return static_cast<uint64_t>(
    std::ceil(static_cast<double>(peak) * std::max(headroom, 1.0) / usable));
}

double traffic_trend(const std::vector<uint64_t>& daily, double days_left) {
  auto n = daily.size();
  if (n < 4 || days_left <= 0)
    return 1;
  // Day i is centred at i + 0.5; today (partial) starts at n.
  double sx = 0, sy = 0;
  for (std::size_t i = 0; i < n; ++i) {
    sx += static_cast<double>(i) + 0.5;
    sy += static_cast<double>(daily[i]);
  }
  auto mx = sx / static_cast<double>(n);
  auto my = sy / static_cast<double>(n);
  if (my <= 0)
    return 1;
  double sxx = 0, sxy = 0, syy = 0;
  for (std::size_t i = 0; i < n; ++i) {
    auto dx = static_cast<double>(i) + 0.5 - mx;
    auto dy = static_cast<double>(daily[i]) - my;
    sxx += dx * dx;
    sxy += dx * dy;
    syy += dy * dy;
  }
  if (syy <= 0)
    return 1; // perfectly flat
  auto slope = sxy / sxx;
  auto r2 = sxy * sxy / (sxx * syy);
  if (r2 < 0.8)
    return 1;
  auto mid = static_cast<double>(n) + days_left / 2;
  auto projected = my + slope * (mid - mx);
  return std::clamp(projected / my, 0.25, 4.0);
}

double coverage(const usage_profile& u) {
  if (u.window_s <= 0)
    return 1;
  return std::clamp(u.span_s / u.window_s, 0.0, 1.0);
}

recommendations recommend(const advisor_inputs& in,
                          const advisor_thresholds& t) {
  recommendations out;
  auto& u = in.usage;
  if (u.calls < t.min_calls || u.span_s < t.min_span_s || u.span_s <= 0)
    return out;
  auto covered = coverage(u);
  // Scale from the span to a month; savings also at the traffic their trend
  // projects for the rest of this month.
  auto monthly = month_s / u.span_s;
  auto cost_per_call = static_cast<double>(u.spend_micros)
    / static_cast<double>(u.calls) / 1e6;
  // Repeated identical requests: every call after the first of its key
  // could have come from a cache. Distinct keys are an estimate; only
  // repeats beyond three standard errors of it count as evidence.
  if (u.keyed_calls > 0) {
    auto keyed = static_cast<double>(u.keyed_calls);
    auto repeats = std::max(0.0, keyed - u.distinct_keys);
    auto margin = 3 * u.distinct_keys_error * u.distinct_keys;
    auto hit_ratio = repeats / keyed;
    if (hit_ratio >= t.min_cache_hit_ratio && repeats > margin) {
      auto r = make(u, recommendation_kind::cache);
      auto trend = traffic_trend(u.daily_keyed, in.days_left);
      r.monthly_call_reduction = repeats * monthly * trend;
      r.monthly_saving_usd = r.monthly_call_reduction * cost_per_call;
      r.confidence = evidence(keyed, 500) * keyed / static_cast<double>(u.calls)
        * covered;
      r.rationale = whole(repeats) + " (+-" + whole(margin) + ") of "
        + std::to_string(u.keyed_calls)
        + " keyed calls repeated an earlier request: estimated cache hit "
          "ratio "
        + percent(hit_ratio) + " (distinct keys estimated within "
        + percent(u.distinct_keys_error) + ", one standard error)";
      r.action = "cache responses by requestKey (expected hit ratio "
        + percent(hit_ratio) + ")";
      r.evidence.emplace_back("keyedCalls", keyed);
      r.evidence.emplace_back("distinctKeys", u.distinct_keys);
      r.evidence.emplace_back("distinctKeysRelativeError",
                              u.distinct_keys_error);
      r.evidence.emplace_back("trafficTrendFactor", trend);
      out.push_back(std::move(r));
    }
  }
  // Small sends close together to a batchable endpoint: one call per group.
  if (u.batchable_calls > 0 && u.batch_groups > 0
      && u.batch_groups <= u.batchable_calls) {
    auto saved = static_cast<double>(u.batchable_calls - u.batch_groups);
    auto share = saved / static_cast<double>(u.batchable_calls);
    if (share >= t.min_batch_reduction) {
      auto r = make(u, recommendation_kind::batch);
      auto trend = traffic_trend(u.daily_batch_saved, in.days_left);
      r.monthly_call_reduction = saved * monthly * trend;
      r.monthly_saving_usd = r.monthly_call_reduction * cost_per_call;
      r.confidence = evidence(static_cast<double>(u.batchable_calls), 500)
        * covered;
      char avg[32];
      std::snprintf(avg, sizeof(avg), "%.1f",
                    static_cast<double>(u.batchable_calls)
                      / static_cast<double>(u.batch_groups));
      r.rationale = std::to_string(u.batchable_calls)
        + " calls to batchable endpoints came in "
        + std::to_string(u.batch_groups) + " bursts (" + avg + " calls each)";
      r.action = "send each burst as one batch request";
      r.evidence.emplace_back("batchableCalls",
                              static_cast<double>(u.batchable_calls));
      r.evidence.emplace_back("bursts", static_cast<double>(u.batch_groups));
      r.evidence.emplace_back("trafficTrendFactor", trend);
      out.push_back(std::move(r));
    }
  }
  // Sustained 429s: the provider allows less than our limit says. Our limit
  // may come down, but never below the peak demand of its window.
  auto limited_ratio = static_cast<double>(u.rate_limited)
    / static_cast<double>(u.calls);
  if (limited_ratio >= t.min_rate_limited_ratio && in.sustained_limit > 0) {
    auto floor = limit_floor(u.peak_window, t.headroom, in.reserved_share);
    auto r = make(u, recommendation_kind::lower_sustained_limit);
    add_peaks(r, u);
    r.evidence.emplace_back("rateLimitedCalls",
                            static_cast<double>(u.rate_limited));
    r.evidence.emplace_back("headroom", t.headroom);
    r.evidence.emplace_back("reservedShare", in.reserved_share);
    r.limit_before = in.sustained_limit;
    r.limit_floor = floor;
    r.confidence = evidence(static_cast<double>(u.rate_limited), 50) * covered;
    r.rationale = percent(limited_ratio)
      + " of calls got 429; demand peaked at " + std::to_string(u.peak_window)
      + " calls per " + std::to_string(u.peak_window_s) + " s";
    if (floor < in.sustained_limit) {
      r.action_type = action_type::set_limit;
      r.limit = budget::limit_tier::sustained;
      r.limit_value = floor;
      r.monthly_call_reduction = 0; // demand below the floor still passes
      r.action = "lower limits.sustained.limit from "
        + std::to_string(in.sustained_limit) + " to " + std::to_string(floor)
        + " (peak demand x " + whole(t.headroom * 100)
        + " % headroom, reserved share kept)";
    } else {
      r.kind = recommendation_kind::provider_rate_limit;
      r.id = u.service + ":provider_rate_limit";
      r.action = "ask the provider for a higher rate limit or spread the "
                 "calls: peak demand needs "
        + std::to_string(floor) + " per window, our limit is "
        + std::to_string(in.sustained_limit);
    }
    out.push_back(std::move(r));
  }
  // Forecast over budget: the daily limit that lands the month on budget --
  // a limit only if it still lets the observed peak day through.
  auto& b = in.budget;
  if (b.budget_micros > 0 && b.forecast_micros > b.budget_micros
      && in.days_left > 0 && cost_per_call > 0) {
    auto remaining = static_cast<double>(
                       std::max<int64_t>(b.budget_micros - b.spend_micros, 0))
      / 1e6;
    auto calls_per_day = remaining / in.days_left / cost_per_call;
    auto target = std::max<uint64_t>(
      static_cast<uint64_t>(std::floor(calls_per_day)), 1);
    auto floor = limit_floor(u.peak_day, t.headroom, in.reserved_share);
    auto r = make(u, recommendation_kind::budget_daily_limit);
    add_peaks(r, u);
    r.evidence.emplace_back("forecastUsd",
                            static_cast<double>(b.forecast_micros) / 1e6);
    r.evidence.emplace_back("forecastLowUsd",
                            static_cast<double>(b.forecast_low_micros) / 1e6);
    r.evidence.emplace_back("forecastHighUsd",
                            static_cast<double>(b.forecast_high_micros) / 1e6);
    r.evidence.emplace_back("budgetUsd",
                            static_cast<double>(b.budget_micros) / 1e6);
    r.evidence.emplace_back("headroom", t.headroom);
    r.evidence.emplace_back("reservedShare", in.reserved_share);
    r.monthly_saving_usd = static_cast<double>(b.forecast_micros
                                               - b.budget_micros)
      / 1e6;
    r.monthly_call_reduction = r.monthly_saving_usd / cost_per_call;
    auto forecast_confidence = b.forecast_high_micros > b.forecast_low_micros
      ? std::clamp(
        1.0
          - static_cast<double>(b.forecast_high_micros - b.forecast_low_micros)
            / static_cast<double>(2 * b.forecast_micros),
        0.1, 0.95)
      : 0.5;
    r.confidence = forecast_confidence * covered;
    r.rationale = "month-end forecast "
      + usd(static_cast<double>(b.forecast_micros) / 1e6)
      + " exceeds the budget of "
      + usd(static_cast<double>(b.budget_micros) / 1e6);
    r.limit_before = in.daily_limit;
    r.limit_floor = floor;
    if (in.daily_limit > 0 && target >= in.daily_limit) {
      // The current limit already keeps the month on budget.
    } else if (target >= floor) {
      r.action_type = action_type::set_limit;
      r.limit = budget::limit_tier::daily;
      r.limit_value = target;
      r.action = "set limits.daily.limit to " + std::to_string(target)
        + " calls/day for the rest of the month";
      out.push_back(std::move(r));
    } else {
      r.rationale += "; a daily limit that keeps the budget ("
        + std::to_string(target) + " calls) would refuse observed demand ("
        + std::to_string(u.peak_day) + " calls on the peak day)";
      r.action = "raise the budget or reduce demand: no safe limit keeps "
                 "this month on budget";
      out.push_back(std::move(r));
    }
  }
  return out;
}

} // namespace streamb
