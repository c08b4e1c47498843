#include "runtime/advice/replay.hpp"

#include "runtime/advice/advisor_rules.hpp"
#include "runtime/advice/alert_escalation.hpp"
#include "runtime/advice/anomaly_defaults.hpp"
#include "runtime/advice/seasonal_baseline.hpp"
#include "runtime/advice/usage_history.hpp"
#include "runtime/budget/budget_state.hpp"
#include "runtime/budget/calendar.hpp"
#include "runtime/budget/forecast.hpp"
#include "runtime/metrics/threshold_alert.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <random>
#include <stdexcept>
#include <unordered_set>

namespace streamb::advice {

namespace {

constexpr int64_t minute_ms = 60'000;
constexpr int64_t hour_ms = 60 * minute_ms;
constexpr int days_in_month = 30;       // November 2026
constexpr int64_t cost_micros = 10'000; // 0.01 USD a call
constexpr uint64_t sustained_limit = 1000;
constexpr uint32_t sustained_window_s = 60;
constexpr uint64_t daily_limit = 100'000;
constexpr double reserved_share = 0.2;
constexpr int burst_day = 9; // 1-based
constexpr uint64_t burst_size = 300;

/// What one scenario does to the steady traffic.
struct model {
  double base_per_minute = 10;
  bool weekly = false;
  double leak_from = 0; // calls a minute on day 1 ... leak_to on day 30
  double leak_to = 0;
  double rate_limited = 0; // share of calls refused with 429
  bool burst = false;
  bool outage = false;
  double budget_usd = 5000;
};

model model_of(const std::string& name) {
  model m;
  if (name == "steady") {
    // defaults
  } else if (name == "weekly") {
    m.weekly = true;
  } else if (name == "burst") {
    m.rate_limited = 0.02;
    m.burst = true;
  } else if (name == "leak") {
    m.leak_from = 4;
    m.leak_to = 20;
    m.budget_usd = 4000;
  } else if (name == "outage") {
    m.outage = true;
  } else {
    throw std::invalid_argument("unknown scenario " + name
                                + " (steady, weekly, burst, leak, outage)");
  }
  return m;
}

/// Expected calls in one minute (day 0-based).
double rate(const model& m, int day, int minute_of_day, int weekday) {
  if (m.leak_to > 0)
    return m.leak_from
      + (m.leak_to - m.leak_from) * (day + minute_of_day / 1440.0)
      / days_in_month;
  double r = m.base_per_minute;
  if (m.weekly) {
    // Busy afternoons, quiet nights, a third of the traffic at weekends.
    auto hour = minute_of_day / 60.0;
    r *= 0.5 + std::sin((hour - 6) / 24.0 * 2 * M_PI) * 0.4 + 0.5;
    if (weekday >= 5)
      r /= 3;
  }
  return r;
}

bool in_outage(const model& m, int day, int minute_of_day) {
  return m.outage && day == 19 && minute_of_day >= 10 * 60
    && minute_of_day < 12 * 60;
}

std::string clock_text(int64_t start_ms, int64_t at_ms) {
  auto rel = at_ms - start_ms;
  char buf[32];
  std::snprintf(buf, sizeof(buf), "day %2d %02d:%02d",
                static_cast<int>(rel / ms_per_day) + 1,
                static_cast<int>(rel % ms_per_day / hour_ms),
                static_cast<int>(rel % hour_ms / minute_ms));
  return buf;
}

/// Exact per-day counts, for what a change would have saved.
struct day_truth {
  uint64_t calls = 0;
  uint64_t repeats = 0; // keyed calls whose key was asked earlier that day
  uint64_t batchable = 0;
  uint64_t bursts = 0;
};

} // namespace

std::vector<std::string> replay_scenarios() {
  return {"steady", "weekly", "burst", "leak", "outage"};
}

replay_result replay(const std::string& scenario, const replay_settings& s) {
  auto m = model_of(scenario);
  replay_result out;
  out.scenario = scenario;
  out.budget_usd = m.budget_usd;
  auto first_day = budget::days_from_civil(2026, 11, 1);
  out.start_ms = first_day * ms_per_day;
  std::mt19937_64 rng{s.seed};
  std::uniform_real_distribution<double> unit{0, 1};
  usage_history history{
    s.observation_days, {"/v3/mail/send"}, 1000, out.start_ms};
  budget::budget_state budget{std::llround(m.budget_usd * 1e6), false};
  threshold_alert p95_threshold{1000, 0.8};
  threshold_alert errors_threshold{0.05, 0.8};
  // The defaults of alerts.anomaly_sigmas and anomaly_min_observations.
  anomaly_alert p95_anomaly{anomaly_baseline(3, 40, false)};
  anomaly_alert errors_anomaly{anomaly_baseline(3, 40, true)};
  alert_escalation escalation{escalation_settings{}};
  std::vector<day_truth> truth(days_in_month);
  std::vector<int64_t> spend_by_day(days_in_month, 0);
  int64_t spend = 0;
  bool forecast_alerted = false;
  std::vector<recommendation> claimed;
  advisor_thresholds th;
  th.headroom = s.headroom;
  auto alert = [&](int64_t at, std::string what) {
    out.alerts.push_back({at, std::move(what)});
  };
  auto on = [&](alert_transition t, int64_t at, const char* kind,
                const char* metric, double value, const std::string& range) {
    if (t == alert_transition::none)
      return;
    auto key = std::string{kind} + ":" + metric;
    char v[64];
    std::snprintf(v, sizeof(v), "%.3g", value);
    if (t == alert_transition::raised) {
      escalation.open(key, at);
      alert(at, std::string{kind} + " " + metric + " raised at " + v + range);
    } else if (auto r = escalation.close(key, at)) {
      alert(at,
            std::string{kind} + " " + metric + " resolved after "
              + std::to_string(r->open_for_ms / minute_ms)
              + " min, last priority " + to_string(r->last));
    }
  };
  auto range_text = [](const std::optional<expected_range>& r) {
    if (!r)
      return std::string{};
    char buf[96];
    std::snprintf(buf, sizeof(buf), ", expected %.3g..%.3g", r->low, r->high);
    return std::string{buf};
  };
  std::unordered_set<uint64_t> keys_today;
  for (int day = 0; day < days_in_month; ++day) {
    keys_today.clear();
    auto weekday = static_cast<int>((first_day + day + 3) % 7); // 0 = Monday
    for (int minute = 0; minute < 1440; ++minute) {
      auto t0 = out.start_ms + day * ms_per_day + minute * minute_ms;
      auto now = t0 + minute_ms;
      auto r = rate(m, day, minute, weekday);
      auto n = static_cast<uint64_t>(r + unit(rng));
      if (m.burst && day == burst_day - 1 && minute == 14 * 60) {
        n += burst_size;
        out.burst_calls = n;
      }
      call_sample x;
      for (uint64_t i = 0; i < n; ++i) {
        x.endpoint = "/v1/charges";
        x.timestamp_ms = t0 + static_cast<int64_t>(unit(rng) * 59'999);
        x.outcome = unit(rng) < m.rate_limited ? status_class::rate_limited
                                               : status_class::ok;
        x.request_key = 0;
        if (unit(rng) < 0.4) {
          // Requests repeat within a day: 2000 different ones a day.
          auto k = static_cast<uint64_t>(unit(rng) * 2000);
          x.request_key = (static_cast<uint64_t>(day) << 32) + k + 1;
          if (!keys_today.insert(x.request_key).second)
            ++truth[day].repeats;
        }
        history.record(x, cost_micros, now);
        ++truth[day].calls;
      }
      // A burst of 5 sends every 10 minutes: one batch would do.
      if (minute % 10 == 0) {
        ++truth[day].bursts;
        for (int i = 0; i < 5; ++i) {
          call_sample y;
          y.endpoint = "/v3/mail/send";
          y.timestamp_ms = t0 + i * 200;
          history.record(y, cost_micros, now);
          ++truth[day].batchable;
          ++truth[day].calls;
        }
        n += 5;
      }
      auto minute_cost = static_cast<int64_t>(n) * cost_micros;
      spend += minute_cost;
      spend_by_day[day] += minute_cost;
      if (out.budget_crossed_ms < 0 && spend >= budget.budget_micro())
        out.budget_crossed_ms = now;
      for (auto& e : budget.observe(spend)) {
        if (e.what == budget::budget_event::kind::level_reached)
          alert(now,
                "budget level " + std::to_string(e.level_bp / 100)
                  + " % reached");
        else
          alert(now, std::string{"budget mode "} + budget::to_string(e.to));
      }
      // Snapshots every 5 minutes: p95 and error rate of the service.
      if (minute % 5 == 4) {
        auto hour = minute / 60.0;
        auto p95 = 200 + 100 * std::sin((hour - 6) / 24.0 * 2 * M_PI);
        p95 *= 1 + (unit(rng) - 0.5) * 0.1;
        auto err = 0.01 + (unit(rng) - 0.5) * 0.01;
        if (in_outage(m, day, minute)) {
          p95 *= 4;
          err = 0.3;
        }
        on(p95_threshold.observe(p95, true), now, "threshold", "p95_ms", p95,
           "");
        on(errors_threshold.observe(err, true), now, "threshold", "error_rate",
           err, "");
        auto t = p95_anomaly.observe(p95, now, true);
        on(t, now, "anomaly", "p95_ms", p95,
           range_text(p95_anomaly.last_range()));
        t = errors_anomaly.observe(err, now, true);
        on(t, now, "anomaly", "error_rate", err,
           range_text(errors_anomaly.last_range()));
        for (auto& e : escalation.tick(now))
          alert(now, e.key + " escalated to " + to_string(e.to));
      }
      // The forecast, checked hourly as the budget controller does.
      if (minute % 60 == 59) {
        budget::forecast_input in;
        in.budget_micro = budget.budget_micro();
        in.now_ms = now - 1;
        in.days.assign(spend_by_day.begin(), spend_by_day.begin() + day + 1);
        auto f = budget::forecast(in);
        if (!forecast_alerted
            && budget::forecast_crosses_budget(f, budget.budget_micro(),
                                               spend)) {
          forecast_alerted = true;
          out.forecast_alert_ms = now;
          char buf[160];
          std::snprintf(buf, sizeof(buf),
                        "cost_alert forecast %.0f USD (%.0f..%.0f) over the "
                        "budget of %.0f USD, spend %.0f USD",
                        f.expected_micro / 1e6, f.low_micro / 1e6,
                        f.high_micro / 1e6, m.budget_usd, spend / 1e6);
          alert(now, buf);
        }
      }
    }
    // The advisor at the end of every day from the first full window on.
    if (day + 1 < static_cast<int>(s.observation_days))
      continue;
    auto now = out.start_ms + (day + 1) * ms_per_day - 1;
    advisor_inputs in;
    in.usage = history.profile(scenario, sustained_window_s, now);
    in.sustained_limit = sustained_limit;
    in.sustained_window_s = sustained_window_s;
    in.daily_limit = daily_limit;
    in.reserved_share = reserved_share;
    in.days_left = days_in_month - day - 1;
    budget::forecast_input fi;
    fi.budget_micro = budget.budget_micro();
    fi.now_ms = now;
    fi.days.assign(spend_by_day.begin(), spend_by_day.begin() + day + 1);
    auto f = budget::forecast(fi);
    in.budget.budget_micros = budget.budget_micro();
    in.budget.spend_micros = spend;
    in.budget.forecast_micros = f.expected_micro;
    in.budget.forecast_low_micros = f.low_micro;
    in.budget.forecast_high_micros = f.high_micro;
    auto recs = recommend(in, th);
    for (auto& rec : recs) {
      if (rec.action_type == action_type::set_limit
          && rec.limit == budget::limit_tier::sustained) {
        if (out.lowest_sustained == 0 || rec.limit_value < out.lowest_sustained)
          out.lowest_sustained = rec.limit_value;
        auto burst_seen = m.burst && day + 1 >= burst_day
          && day + 1 < burst_day + static_cast<int>(s.observation_days);
        if (burst_seen
            && (out.lowest_sustained_after_burst == 0
                || rec.limit_value < out.lowest_sustained_after_burst))
          out.lowest_sustained_after_burst = rec.limit_value;
      }
    }
    if (day + 1 == s.claim_day)
      claimed = recs;
  }
  out.month_spend_usd = spend / 1e6;
  // What each claimed change would have saved on the rest of the month,
  // scaled to 30 days as the claims are.
  auto rest_days = days_in_month - s.claim_day;
  for (auto& rec : claimed) {
    replay_claim c;
    c.advice = rec;
    double saved_calls = 0;
    for (int d = s.claim_day; d < days_in_month; ++d) {
      auto& t = truth[d];
      if (rec.kind == recommendation_kind::cache)
        saved_calls += static_cast<double>(t.repeats);
      else if (rec.kind == recommendation_kind::batch)
        saved_calls += static_cast<double>(t.batchable - t.bursts);
      else if (rec.kind == recommendation_kind::budget_daily_limit
               && rec.action_type == action_type::set_limit)
        saved_calls += static_cast<double>(
          t.calls > rec.limit_value ? t.calls - rec.limit_value : 0);
    }
    auto usd = saved_calls * static_cast<double>(cost_micros) / 1e6;
    // Cache and batch claims are monthly rates; a daily limit's claim is
    // the overspend of this month, which the rest of the month avoids.
    c.replayed_saving_usd = rec.kind == recommendation_kind::budget_daily_limit
      ? usd
      : usd * days_in_month / rest_days;
    out.claims.push_back(std::move(c));
  }
  return out;
}

std::string format_report(const replay_result& r) {
  std::string out = "== " + r.scenario + " ==\n";
  char buf[256];
  std::snprintf(buf, sizeof(buf),
                "spend %.0f USD of a %.0f USD budget; budget crossed: %s; "
                "forecast alert: %s\n",
                r.month_spend_usd, r.budget_usd,
                r.budget_crossed_ms < 0
                  ? "no"
                  : clock_text(r.start_ms, r.budget_crossed_ms).c_str(),
                r.forecast_alert_ms < 0
                  ? "no"
                  : clock_text(r.start_ms, r.forecast_alert_ms).c_str());
  out += buf;
  out += "alerts:\n";
  for (auto& a : r.alerts)
    out += "  " + clock_text(r.start_ms, a.at_ms) + "  " + a.what + "\n";
  if (r.alerts.empty())
    out += "  none\n";
  if (r.lowest_sustained > 0) {
    std::snprintf(
      buf, sizeof(buf),
      "lowest sustained limit recommended: %llu (burst of %llu "
      "calls; lowest while it was in the window: %llu)\n",
      static_cast<unsigned long long>(r.lowest_sustained),
      static_cast<unsigned long long>(r.burst_calls),
      static_cast<unsigned long long>(r.lowest_sustained_after_burst));
    out += buf;
  }
  out += "advice at the end of the claim day, claimed vs replayed saving:\n";
  for (auto& c : r.claims) {
    std::snprintf(buf, sizeof(buf),
                  "  %-22s %-9s conf %.2f  claimed %9.2f USD/month  replayed "
                  "%9.2f  %s\n",
                  to_string(c.advice.kind), to_string(c.advice.action_type),
                  c.advice.confidence, c.advice.monthly_saving_usd,
                  c.replayed_saving_usd, c.advice.action.c_str());
    out += buf;
  }
  if (r.claims.empty())
    out += "  none\n";
  return out;
}

} // namespace streamb::advice
