#pragma once

// Route groups; each adds its handlers to the server. Handlers parse,
// validate, ask an actor and render: they never hold state of their own.

#include <functional>
#include <memory>

namespace httplib {
class Server;
struct Request;
struct Response;
} // namespace httplib

namespace streamb {

struct http_context;

using http_context_ptr = std::shared_ptr<const http_context>;

/// One route's handler: parses `req`, asks actors (bridges/ask.hpp) and
/// answers in `res`.
using route_handler = void (*)(const http_context& ctx,
                               const httplib::Request& req,
                               httplib::Response& res);

/// `f` bound to the node's context, in the form httplib takes handlers; so
/// that each route group reads as a table of paths and named handlers.
inline std::function<void(const httplib::Request&, httplib::Response&)>
with_context(http_context_ptr ctx, route_handler f) {
  return
    [ctx = std::move(ctx), f](const httplib::Request& req,
                              httplib::Response& res) { f(*ctx, req, res); };
}

/// POST /api/v1/calls
void add_call_routes(httplib::Server& srv, http_context_ptr ctx);

/// GET /api/v1/stream-b-coordination/metrics/realtime
void add_metrics_routes(httplib::Server& srv, http_context_ptr ctx);

/// GET /healthz, GET /readyz, GET .../health/comprehensive
void add_health_routes(httplib::Server& srv, http_context_ptr ctx);

/// GET /api/v1/stream-b-coordination/metrics/history
void add_history_routes(httplib::Server& srv, http_context_ptr ctx);

/// POST /webhooks/{service}, webhooks/stats, dead letters, replay, events
void add_webhook_routes(httplib::Server& srv, http_context_ptr ctx);

/// POST /api/v1/admission/{service}, budget overrides, cost/analysis
void add_admission_routes(httplib::Server& srv, http_context_ptr ctx);

/// agents/status, coordination/send-event, coordination/events/{id}
void add_coordination_routes(httplib::Server& srv, http_context_ptr ctx);

/// /api/v1/admin/keys..., /api/v1/admin/webhooks/{service}/secrets...
void add_admin_routes(httplib::Server& srv, http_context_ptr ctx);

/// GET /api/v1/audit
void add_audit_routes(httplib::Server& srv, http_context_ptr ctx);

} // namespace streamb
