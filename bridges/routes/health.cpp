#include "bridges/http_context.hpp"
#include "bridges/json_response.hpp"
#include "bridges/routes/routes.hpp"
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
