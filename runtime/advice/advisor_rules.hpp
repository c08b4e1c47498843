#pragma once

// The advisor's rules: from one service's usage profile and budget status to
// recommendations with a rationale, an estimated monthly saving, the calls
// they would save, a confidence and a concrete action. Pure: unit tests feed
// constructed profiles. A month is 30 days for every projection.

#include "runtime/messages.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace streamb {

/// What the rules need besides the traffic.
struct advisor_inputs {
  usage_profile usage;
  budget_status budget;
  uint64_t sustained_limit = 0; // current, 0 = none
  uint32_t sustained_window_s = 60;
  uint64_t daily_limit = 0;
  /// Share of each tier kept for critical and high priority.
  double reserved_share = 0;
  /// Days left in the month (fractional), for the budget rule.
  double days_left = 0;
};

/// Thresholds below which a rule stays silent.
struct advisor_thresholds {
  /// Less traffic history than this would make a month's projection a
  /// guess: no advice yet.
  double min_span_s = 600;
  uint64_t min_calls = 100;
  double min_cache_hit_ratio = 0.1;
  double min_batch_reduction = 0.2; // share of batchable calls saved
  double min_rate_limited_ratio = 0.01;
  /// A limit never goes below the observed peak of its period times this.
  double headroom = 1.5;
};

/// The lowest value a limit may be given: the observed peak demand of its
/// period times the headroom, over the share normal and low priority may
/// use, so that their peak still fits and the reserved share stays whole
/// for critical and high.
uint64_t limit_floor(uint64_t peak, double headroom, double reserved_share);

/// How much busier (or quieter) the rest of the month is projected to be
/// than the mean of `daily_calls`: a least-squares line through the full
/// days, evaluated at the middle of the `days_left`. 1 unless there are at
/// least 4 days and the line explains at least 80 % of their variance (a
/// weekly pattern is not a trend); clamped to 0.25..4.
double traffic_trend(const std::vector<uint64_t>& daily_calls,
                     double days_left);

/// How far the evidence covers the observation window, 0..1.
double coverage(const usage_profile& u);

recommendations recommend(const advisor_inputs& in,
                          const advisor_thresholds& t = {});

} // namespace streamb
