#include "bridges/metrics_json.hpp"

#include "bridges/json_text.hpp"
#include "runtime/core/wall_time.hpp"
#include "runtime/metrics/alert_json.hpp"

#include <boost/json/array.hpp>

#include <algorithm>

namespace streamb {

boost::json::object to_json(const service_alert& x) {
  return alert_to_json(x);
}

boost::json::object to_json(const metric_rollup& x) {
  boost::json::object counts;
  for (std::size_t i = 0; i < status_class_count; ++i)
    counts[to_string(static_cast<status_class>(i))] = x.stats.by_outcome[i];
  auto calls = x.stats.calls;
  return {
    {"start", iso8601_utc(x.start_ms)},
    {"end", iso8601_utc(x.end_ms)},
    {"startMs", x.start_ms},
    {"endMs", x.end_ms},
    {"node", x.node},
    {"calls", calls},
    {"callsByOutcome", std::move(counts)},
    {"errors", x.stats.errors()},
    {"errorRate",
     calls == 0
       ? 0.0
       : static_cast<double>(x.stats.errors()) / static_cast<double>(calls)},
    {"criticalErrors", x.stats.critical_errors()},
    {"cacheHits", x.stats.cache_hits},
    {"spendMicros", x.stats.cost_micros},
    {"spendUsd", usd(x.stats.cost_micros)},
    {"latencyMs",
     {{"average", x.average_ms},
      {"p50", x.p50_ms},
      {"p95", x.p95_ms},
      {"p99", x.p99_ms},
      {"max", x.max_ms}}},
  };
}

boost::json::object to_json(const service_metrics& x) {
  boost::json::object by_type;
  boost::json::object counts;
  for (std::size_t i = 0; i < x.calls_by_outcome.size(); ++i) {
    auto name = to_string(static_cast<status_class>(i));
    auto n = x.calls_by_outcome[i];
    counts[name] = n;
    if (static_cast<status_class>(i) != status_class::ok)
      by_type[name] = x.calls == 0
        ? 0.0
        : static_cast<double>(n) / static_cast<double>(x.calls);
  }
  boost::json::array actions;
  for (auto& a : x.recommended_actions)
    actions.emplace_back(a);
  boost::json::array alerts;
  for (auto& a : x.active_alerts)
    alerts.emplace_back(to_json(a));
  return {
    {"service", x.service},
    {"window", to_string(x.window)},
    {"windowSeconds", x.span_s},
    {"calls", x.calls},
    {"responseTime",
     {{"average", x.average_ms},
      {"p50", x.p50_ms},
      {"p95", x.p95_ms},
      {"p99", x.p99_ms},
      {"trend", x.trend},
      {"trendChangePercent", x.trend_change_pct}}},
    {"throughput",
     {{"requestsPerSecond", x.requests_per_second},
      {"utilizationPercentage", x.utilization_pct}}},
    {"errorRates",
     {{"overall", x.error_rate},
      {"byType", std::move(by_type)},
      {"countsByType", std::move(counts)},
      {"criticalErrors", x.critical_errors}}},
    {"costMetrics",
     {{"windowSpend", usd(x.spend_micros)},
      {"hourlySpend", round_usd(x.hourly_spend_usd)},
      {"budgetUtilization", x.budget_utilization_pct},
      {"projectedCost", round_usd(x.projected_cost_usd)}}},
    {"optimization",
     {{"cacheHitRatio", x.cache_hit_ratio},
      {"batchingOpportunities", x.batching_opportunities},
      {"recommendedActions", std::move(actions)}}},
    {"alerts", std::move(alerts)},
  };
}

} // namespace streamb
