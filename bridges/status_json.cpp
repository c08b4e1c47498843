#include "bridges/status_json.hpp"

#include "runtime/coordination/agent_roster.hpp"

#include "bridges/json_text.hpp"
#include "runtime/core/wall_time.hpp"

#include <boost/json/array.hpp>

namespace streamb {

namespace json = boost::json;

json::object to_json(const budget_status& s) {
  json::object denied;
  for (auto& [reason, n] : s.denied)
    denied[budget::to_string(reason)] = n;
  json::array levels;
  for (auto bp : s.reached_levels_bp)
    levels.emplace_back(bp / 100.0);
  return {
    {"spendUsd", usd(s.spend_micros)},
    {"budgetUsd", usd(s.budget_micros)},
    {"utilizationPercent",
     s.budget_micros > 0 ? 100.0 * static_cast<double>(s.spend_micros)
         / static_cast<double>(s.budget_micros)
                         : 0.0},
    {"reservedUsd", usd(s.reserved_micros)},
    {"state", budget::to_string(s.mode)},
    {"override", budget::to_string(s.override_mode)},
    {"breaker", budget::to_string(s.breaker)},
    {"alertLevelsReachedPercent", std::move(levels)},
    {"forecast",
     {{"monthEndUsd", usd(s.forecast_micros)},
      {"lowUsd", usd(s.forecast_low_micros)},
      {"highUsd", usd(s.forecast_high_micros)},
      {"dailyRateUsd", usd(s.daily_rate_micros)},
      {"hourlySpendUsd", round_usd(usd(s.daily_rate_micros) / 24.0)},
      {"budgetRunsOut",
       s.runs_out.empty() ? json::value(nullptr) : json::value(s.runs_out)},
      {"stale", s.forecast_stale}}},
    {"granted", s.granted},
    {"deniedByReason", std::move(denied)},
    {"queued", s.queued},
  };
}

json::object to_json(const recommendation& r) {
  json::object action{{"type", advice::to_string(r.action_type)},
                      {"description", r.action}};
  if (r.action_type == advice::action_type::set_limit) {
    action["limit"] = budget::to_string(r.limit);
    action["value"] = r.limit_value;
    action["before"] = r.limit_before;
  }
  if (r.limit_floor > 0)
    action["floor"] = r.limit_floor;
  json::object evidence;
  for (auto& [name, value] : r.evidence)
    evidence[name] = value;
  json::object out{{"id", r.id},
                   {"service", r.service},
                   {"evidence", std::move(evidence)},
                   {"kind", advice::to_string(r.kind)},
                   {"rationale", r.rationale},
                   {"estimatedMonthlySavingUsd",
                    round_usd(r.monthly_saving_usd)},
                   {"estimatedMonthlyCallReduction", r.monthly_call_reduction},
                   {"confidence", r.confidence},
                   {"action", std::move(action)}};
  // What agents found says who found it; the node's own rules do not.
  out["source"] = r.source.empty() ? json::value("node")
                                   : json::value(r.source);
  if (!r.category.empty())
    out["category"] = r.category;
  if (r.found_ms > 0)
    out["foundAt"] = iso8601_utc(r.found_ms);
  return out;
}

json::value ratio_or_null(uint64_t part, uint64_t whole) {
  return whole == 0
    ? json::value(nullptr)
    : json::value(static_cast<double>(part) / static_cast<double>(whole));
}

json::value time_or_null(int64_t ms) {
  return ms > 0 ? json::value(iso8601_utc(ms)) : json::value(nullptr);
}

json::object to_json(const agent_status& a, int64_t now) {
  json::array subs;
  for (auto& s : a.subscriptions)
    subs.emplace_back(s);
  auto answers = a.counts.answered + a.counts.failed + a.counts.timed_out;
  return {
    {"id", a.id},
    {"name", a.name},
    {"role", a.role},
    {"subscriptions", std::move(subs)},
    {"state", to_string(a.state)},
    {"registeredAt", time_or_null(a.registered_ms)},
    {"lastHeartbeat", time_or_null(a.last_heartbeat_ms)},
    {"lastHeartbeatAgoMs",
     a.last_heartbeat_ms > 0 ? json::value(now - a.last_heartbeat_ms)
                             : json::value(nullptr)},
    {"lastSeen", time_or_null(a.last_seen_ms)},
    {"inFlight", a.in_flight},
    {"maxInFlight", a.max_in_flight},
    {"delivered", a.counts.delivered},
    {"answered", a.counts.answered},
    {"failed", a.counts.failed},
    {"timedOut", a.counts.timed_out},
    {"successRate", ratio_or_null(a.counts.answered, answers)},
    {"responseTimeMs", json::object{{"p50", a.p50_ms}, {"p95", a.p95_ms}}},
    {"samplesReported", a.counts.samples_reported},
    {"samplesRejected", a.counts.samples_rejected},
  };
}

json::object to_json(const webhook_stats& x) {
  boost::json::object rejected;
  uint64_t total = 0;
  for (auto& [reason, n] : x.counts.rejected) {
    rejected[to_string(reason)] = n;
    total += n;
  }
  return {{"received", x.counts.received},
          {"verified", x.counts.verified},
          {"rejected", total},
          {"rejectedByReason", std::move(rejected)},
          {"duplicates", x.counts.duplicates},
          {"critical", x.counts.critical},
          {"delivered", x.counts.delivered},
          {"retried", x.counts.retried},
          {"deadLettered", x.counts.dead_lettered},
          {"pending", x.pending},
          {"awaitingConsumer", x.awaiting_consumer},
          {"deliveryLatencyMs",
           {{"p50", x.delivery_p50_ms}, {"p99", x.delivery_p99_ms}}}};
}

json::object webhooks_by_service(const config& cfg,
                                 const webhook_stats_list& stats) {
  json::object out;
  for (auto& svc : cfg.services)
    if (svc.webhook)
      out[svc.name] = to_json(webhook_stats{});
  for (auto& x : stats)
    out[x.service] = to_json(x);
  return out;
}

json::object agents_by_state(const std::vector<agent_status>& agents) {
  json::object out{{"active", 0}, {"stale", 0}, {"disconnected", 0}};
  for (auto& a : agents) {
    auto& n = out[to_string(a.state)];
    n = n.as_int64() + 1;
  }
  return out;
}

json::object roster_json(const config& cfg,
                         const std::vector<agent_status>& agents) {
  auto report = check_roster(cfg.agents.expected, agents);
  json::array entries;
  json::array missing;
  for (auto& e : report.entries) {
    json::array names;
    for (auto& n : e.agents)
      names.emplace_back(n);
    if (e.state == "missing")
      missing.emplace_back(e.expected);
    entries.push_back(json::object{{"expected", e.expected},
                                   {"state", e.state},
                                   {"agents", std::move(names)}});
  }
  return {{"expected", std::move(entries)},
          {"missing", std::move(missing)},
          {"staleCount", report.stale}};
}

json::object coordination_block(const recommendations& recs,
                                const std::string& service) {
  json::array database, performance, innovation;
  for (auto& r : recs) {
    if (r.kind != advice::recommendation_kind::agent_finding
        || r.service != service)
      continue;
    json::object x{{"title", r.action},
                   {"detail", r.rationale},
                   {"source", r.source},
                   {"foundAt", time_or_null(r.found_ms)}};
    auto& list = r.category == "database" ? database
      : r.category == "innovation"        ? innovation
                                          : performance;
    list.emplace_back(std::move(x));
  }
  return {{"databaseOptimizations", std::move(database)},
          {"performanceRecommendations", std::move(performance)},
          {"innovationOpportunities", std::move(innovation)}};
}

} // namespace streamb
