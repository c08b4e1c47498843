#pragma once

// Route groups; each adds its handlers to the server. Handlers parse,
// validate, ask an actor and render: they never hold state of their own.

#include <memory>

namespace httplib {
class Server;
} // namespace httplib

namespace streamb {

struct http_context;

using http_context_ptr = std::shared_ptr<const http_context>;

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
