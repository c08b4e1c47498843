#include "runtime/advisor_rules.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace streamb {

namespace {

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

/// Confidence from the evidence: grows with the sample, 0.5 at `half`.
double evidence(double n, double half) {
  return n <= 0 ? 0 : n / (n + half);
}

} // namespace

recommendations recommend(const advisor_inputs& in,
                          const advisor_thresholds& t) {
  recommendations out;
  auto& u = in.usage;
  if (u.calls < t.min_calls || u.span_s < t.min_span_s || u.span_s <= 0)
    return out;
  auto monthly = month_s / u.span_s; // scale from the span to a month
  auto cost_per_call = static_cast<double>(u.spend_micros)
    / static_cast<double>(u.calls) / 1e6;
  // Repeated identical requests: every call after the first of its key
  // could have come from a cache.
  if (u.keyed_calls > 0 && u.distinct_keys > 0) {
    auto repeats = static_cast<double>(u.keyed_calls - u.distinct_keys);
    auto hit_ratio = repeats / static_cast<double>(u.keyed_calls);
    if (hit_ratio >= t.min_cache_hit_ratio) {
      recommendation r;
      r.service = u.service;
      r.kind = "cache";
      r.monthly_call_reduction = repeats * monthly;
      r.monthly_saving_usd = r.monthly_call_reduction * cost_per_call;
      r.confidence = evidence(static_cast<double>(u.keyed_calls), 500)
        * static_cast<double>(u.keyed_calls) / static_cast<double>(u.calls);
      r.rationale = std::to_string(u.keyed_calls - u.distinct_keys) + " of "
        + std::to_string(u.keyed_calls)
        + " keyed calls repeated an earlier request: estimated "
          "cache hit ratio "
        + percent(hit_ratio);
      r.action = "cache responses by requestKey (expected hit ratio "
        + percent(hit_ratio) + ")";
      out.push_back(std::move(r));
    }
  }
  // Small sends close together to a batchable endpoint: one call per group.
  if (u.batchable_calls > 0 && u.batch_groups > 0
      && u.batch_groups <= u.batchable_calls) {
    auto saved = static_cast<double>(u.batchable_calls - u.batch_groups);
    auto share = saved / static_cast<double>(u.batchable_calls);
    if (share >= t.min_batch_reduction) {
      recommendation r;
      r.service = u.service;
      r.kind = "batch";
      r.monthly_call_reduction = saved * monthly;
      r.monthly_saving_usd = r.monthly_call_reduction * cost_per_call;
      r.confidence = evidence(static_cast<double>(u.batchable_calls), 500);
      char avg[32];
      std::snprintf(avg, sizeof(avg), "%.1f",
                    static_cast<double>(u.batchable_calls)
                      / static_cast<double>(u.batch_groups));
      r.rationale = std::to_string(u.batchable_calls)
        + " calls to batchable endpoints came in "
        + std::to_string(u.batch_groups) + " bursts (" + avg + " calls each)";
      r.action = "send each burst as one batch request";
      out.push_back(std::move(r));
    }
  }
  // Sustained 429s: the provider allows less than our limit says.
  auto limited_ratio = static_cast<double>(u.rate_limited)
    / static_cast<double>(u.calls);
  if (limited_ratio >= t.min_rate_limited_ratio && in.sustained_limit > 0) {
    auto accepted_per_s = static_cast<double>(u.calls - u.rate_limited)
      / u.span_s;
    auto allowed = static_cast<uint64_t>(
      std::floor(accepted_per_s * in.sustained_window_s));
    allowed = std::max<uint64_t>(allowed, 1);
    if (allowed < in.sustained_limit) {
      recommendation r;
      r.service = u.service;
      r.kind = "lower_sustained_limit";
      r.monthly_call_reduction = static_cast<double>(u.rate_limited) * monthly;
      r.monthly_saving_usd = 0; // 429s are not billed
      r.confidence = evidence(static_cast<double>(u.rate_limited), 50);
      r.rationale = percent(limited_ratio)
        + " of calls got 429; the provider "
          "accepted "
        + std::to_string(allowed) + " per "
        + std::to_string(in.sustained_window_s) + " s";
      r.action_type = "set_limit";
      r.limit = "sustained";
      r.limit_value = allowed;
      r.action = "lower limits.sustained.limit from "
        + std::to_string(in.sustained_limit) + " to " + std::to_string(allowed);
      out.push_back(std::move(r));
    }
  }
  // Forecast over budget: the daily limit that lands the month on budget.
  auto& b = in.budget;
  if (b.budget_micros > 0 && b.forecast_micros > b.budget_micros
      && in.days_left > 0 && cost_per_call > 0) {
    auto remaining = static_cast<double>(
                       std::max<int64_t>(b.budget_micros - b.spend_micros, 0))
      / 1e6;
    auto calls_per_day = remaining / in.days_left / cost_per_call;
    auto limit = static_cast<uint64_t>(std::floor(calls_per_day));
    recommendation r;
    r.service = u.service;
    r.kind = "budget_daily_limit";
    r.monthly_saving_usd = static_cast<double>(b.forecast_micros
                                               - b.budget_micros)
      / 1e6;
    r.monthly_call_reduction = r.monthly_saving_usd / cost_per_call;
    r.confidence = b.forecast_high_micros > b.forecast_low_micros
      ? std::clamp(
        1.0
          - static_cast<double>(b.forecast_high_micros - b.forecast_low_micros)
            / static_cast<double>(2 * b.forecast_micros),
        0.1, 0.95)
      : 0.5;
    r.rationale = "month-end forecast "
      + usd(static_cast<double>(b.forecast_micros) / 1e6)
      + " exceeds the budget of "
      + usd(static_cast<double>(b.budget_micros) / 1e6);
    r.action_type = "set_limit";
    r.limit = "daily";
    r.limit_value = std::max<uint64_t>(limit, 1);
    r.action = "set limits.daily.limit to " + std::to_string(r.limit_value)
      + " calls/day for the rest of the month";
    out.push_back(std::move(r));
  }
  return out;
}

} // namespace streamb
