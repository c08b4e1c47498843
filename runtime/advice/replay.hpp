#pragma once

// The advisor judged on a month of traffic under a simulated clock: one
// service's call samples, generated per scenario, go through the same
// classes the actors use (usage history, advisor rules, budget state and
// forecast, threshold and anomaly alerts, escalation). What it recommends
// and alerts is recorded, and every recommendation that claims a saving is
// checked against the saving its change would have produced on the rest of
// the month's traffic.
//
// Scenarios (Stripe-like, 0.01 USD a call, sustained limit 1000 / 60 s):
//   steady   10 calls a minute, 40 % of them keyed (cache opportunity), a
//            batchable burst of 5 sends every 10 minutes
//   weekly   the same with a daily profile and quiet weekends
//   burst    steady with 2 % 429s, plus 300 calls in one minute on day 9
//   leak     calls grow steadily from 4 to 20 a minute: the budget is crossed
//            late in the month
//   outage   steady, with two hours at 4x latency and 30 % errors on day 20

#include "runtime/messages.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace streamb::advice {

struct replay_settings {
  uint32_t observation_days = 7;
  double headroom = 1.5;
  double min_confidence = 0.8;
  /// The day (1-based, at its end) whose advice is judged against the rest
  /// of the month.
  int claim_day = 14;
  uint64_t seed = 1;
};

struct replay_alert {
  int64_t at_ms = 0;
  std::string what; // one line
};

struct replay_claim {
  recommendation advice;
  double replayed_saving_usd = 0; // per 30-day month, as claimed
};

struct replay_result {
  std::string scenario;
  int64_t start_ms = 0; // 00:00 UTC of the month's first day
  std::vector<replay_alert> alerts;
  /// The advice at the end of claim_day, with the savings replayed.
  std::vector<replay_claim> claims;
  /// Lowest sustained limit recommended (set_limit) at any daily
  /// evaluation, and while the burst was in the observation window; 0 if
  /// none.
  uint64_t lowest_sustained = 0;
  uint64_t lowest_sustained_after_burst = 0;
  uint64_t burst_calls = 0; // calls in the burst's minute (burst scenario)
  int64_t forecast_alert_ms = -1;
  int64_t budget_crossed_ms = -1;
  double budget_usd = 0;
  double month_spend_usd = 0;
};

std::vector<std::string> replay_scenarios();

/// Runs one scenario; throws std::invalid_argument for an unknown name.
replay_result replay(const std::string& scenario,
                     const replay_settings& settings = {});

/// A plain-text report: alerts, advice, claimed vs replayed savings.
std::string format_report(const replay_result& r);

} // namespace streamb::advice
