#pragma once

// Route groups; each adds its handlers to the router under their rows of
// the route table. Handlers parse, validate, ask an actor and render: they
// never hold state of their own.

#include "bridges/http/http_message.hpp"
#include "bridges/http/router.hpp"

#include <functional>
#include <memory>

namespace streamb {

struct http_context;

using http_context_ptr = std::shared_ptr<const http_context>;

/// One route's handler: parses `req`, asks actors (bridges/ask.hpp) and
/// answers in `res`.
using route_handler = void (*)(const http_context& ctx, const http_request& req,
                               http_response& res);

/// `f` bound to the node's context, in the form the router takes handlers;
/// so that each route group reads as a table of paths and named handlers.
inline route_fn with_context(http_context_ptr ctx, route_handler f) {
  return [ctx = std::move(ctx), f](const http_request& req,
                                   http_response& res) { f(*ctx, req, res); };
}

/// Every route group: one handler per row of the route table.
std::shared_ptr<const router> make_routes(http_context_ptr ctx);

/// POST /api/v1/calls
void add_call_routes(router& r, http_context_ptr ctx);

/// GET /api/v1/stream-b-coordination/metrics/realtime
void add_metrics_routes(router& r, http_context_ptr ctx);

/// GET .../dashboard: every part of the operator's view in one document.
void add_dashboard_routes(router& r, http_context_ptr ctx);

/// GET /metrics (Prometheus text format).
void add_prometheus_routes(router& r, http_context_ptr ctx);

/// GET /healthz, GET /readyz, GET .../health/comprehensive
void add_health_routes(router& r, http_context_ptr ctx);

/// GET /api/v1/stream-b-coordination/metrics/history
void add_history_routes(router& r, http_context_ptr ctx);

/// POST /webhooks/{service}, webhooks/stats, dead letters, replay, events
void add_webhook_routes(router& r, http_context_ptr ctx);

/// Dead letters of the HTTP delivery endpoints, and their replay.
void add_delivery_routes(router& r, http_context_ptr ctx);

/// POST /api/v1/admission/{service}, budget overrides, cost/analysis
void add_admission_routes(router& r, http_context_ptr ctx);

/// agents/status, coordination/send-event, coordination/events/{id}
void add_coordination_routes(router& r, http_context_ptr ctx);

/// /api/v1/admin/keys..., /api/v1/admin/webhooks/{service}/secrets...
void add_admin_routes(router& r, http_context_ptr ctx);

/// GET /api/v1/audit
void add_audit_routes(router& r, http_context_ptr ctx);

/// GET / and GET /ui/{file}: the web dashboard.
void add_web_routes(router& r);

/// GET .../stream (server-sent events), GET .../ws (WebSocket)
void add_stream_routes(router& r, http_context_ptr ctx);

} // namespace streamb
