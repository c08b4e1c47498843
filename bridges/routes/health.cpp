#include "bridges/ask.hpp"
#include "bridges/http_context.hpp"
#include "bridges/json_response.hpp"
#include "bridges/metrics_json.hpp"
#include "bridges/routes/routes.hpp"
#include "bridges/status_json.hpp"
#include "runtime/core/wall_time.hpp"

#include <boost/json/array.hpp>

namespace streamb {

namespace {

const char* status_of(const readiness_report& report) {
  if (!report.ready)
    return "not_ready";
  return report.degraded ? "degraded" : "ready";
}

boost::json::object to_json(const readiness_report& report,
                            const http_context& ctx) {
  boost::json::array components;
  for (auto& c : report.components)
    components.emplace_back(boost::json::object{
      {"name", c.name}, {"status", to_string(c.status)}, {"detail", c.detail}});
  return {{"status", status_of(report)},
          {"node", ctx.cfg.node.name},
          {"generatedAt", iso8601_utc(epoch_ms_now())},
          {"components", std::move(components)}};
}

/// GET /healthz: liveness, the process answers HTTP. Nothing else is
/// asked, so a slow actor never gets the node killed by an orchestrator.
void healthz(const http_context&, const http_request&, http_response& res) {
  reply_json(res, 200, boost::json::object{{"status", "ok"}});
}

/// GET /readyz: every component answered in time. Degraded still answers
/// 200: the node serves ingest and metrics, and taking it out of a load
/// balancer would only lose those too.
void readyz(const http_context& ctx, const http_request&, http_response& res) {
  auto report = ctx.readiness ? ctx.readiness() : readiness_report{};
  reply_json(res, report.ready ? 200 : 503, to_json(report, ctx));
}

/// GET .../health/comprehensive: the operator's view, the same probes,
/// always 200, since the answer is the report itself rather than a routing
/// decision.
void comprehensive(const http_context& ctx, const http_request&,
                   http_response& res) {
  auto report = ctx.readiness ? ctx.readiness() : readiness_report{};
  auto doc = to_json(report, ctx);
  // What needs the operator besides the components: missing agents, work
  // waiting, alerts open. A part whose actor did not answer is null.
  auto coord = unanswered<coordination_status>();
  auto hooks = unanswered<webhook_stats_list>();
  std::vector<caf::expected<service_metrics>> metrics(
    ctx.monitors.size(), unanswered<service_metrics>());
  {
    ask_batch batch{ctx, ctx.ask_timeout};
    batch.add(coord, ctx.hub, agents_atom_v);
    batch.add(hooks, ctx.webhooks, wh_stats_atom_v);
    for (std::size_t i = 0; i < metrics.size(); ++i)
      batch.add(metrics[i], ctx.monitors[i], metrics_atom_v,
                metrics_window::five_minutes);
    batch.wait();
  }
  if (coord) {
    doc["agents"] = {{"roster", roster_json(ctx.cfg, coord->agents)},
                     {"byState", agents_by_state(coord->agents)},
                     {"eventsQueued", coord->queued},
                     {"eventsInFlight", coord->in_flight}};
  } else {
    doc["agents"] = nullptr;
  }
  if (hooks) {
    uint64_t pending = 0;
    for (auto& x : *hooks)
      pending += x.pending;
    doc["webhooks"] = {{"pending", pending}};
  } else {
    doc["webhooks"] = nullptr;
  }
  boost::json::array alerts;
  boost::json::array silent;
  for (std::size_t i = 0; i < metrics.size(); ++i) {
    if (!metrics[i]) {
      silent.emplace_back(ctx.service_names[i]);
      continue;
    }
    for (auto& a : metrics[i]->active_alerts)
      alerts.emplace_back(to_json(a));
  }
  doc["openAlerts"] = {{"count", alerts.size()},
                       {"alerts", std::move(alerts)},
                       {"unanswered", std::move(silent)}};
  auto streams = ctx.streams->stats();
  doc["streams"] = {{"subscribers", streams.subscribers},
                    {"published", streams.published},
                    {"droppedSlow", streams.dropped_slow},
                    {"refused", streams.refused}};
  reply_json(res, 200, doc);
}

} // namespace

void add_health_routes(router& r, http_context_ptr ctx) {
  r.get("/healthz", with_context(ctx, healthz), route_thread::io);
  r.get("/readyz", with_context(ctx, readyz));
  r.get("/api/v1/stream-b-coordination/health/comprehensive",
        with_context(ctx, comprehensive));
}

} // namespace streamb
