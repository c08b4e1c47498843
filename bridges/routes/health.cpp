#include "bridges/http_context.hpp"
#include "bridges/json_response.hpp"
#include "bridges/routes/routes.hpp"

#include <boost/json/array.hpp>
#include <httplib.h>

namespace streamb {

void add_health_routes(httplib::Server& srv, http_context_ptr ctx) {
  // Liveness: the process answers HTTP. Nothing else is asked, so a slow
  // actor never gets the node killed by an orchestrator.
  srv.Get("/healthz", [](const httplib::Request&, httplib::Response& res) {
    reply_json(res, 200, boost::json::object{{"status", "ok"}});
  });
  // Readiness: every component answered in time.
  srv.Get("/readyz", [ctx](const httplib::Request&, httplib::Response& res) {
    auto report = ctx->readiness ? ctx->readiness() : readiness_report{};
    boost::json::array components;
    for (auto& c : report.components)
      components.emplace_back(boost::json::object{
        {"name", c.name}, {"status", c.status}, {"detail", c.detail}});
    // Degraded still answers 200: the node serves ingest and metrics, and
    // taking it out of a load balancer would only lose those too.
    auto status = !report.ready ? "not_ready"
      : report.degraded         ? "degraded"
                                : "ready";
    reply_json(res, report.ready ? 200 : 503,
               boost::json::object{{"status", status},
                                   {"node", ctx->cfg.node.name},
                                   {"components", std::move(components)}});
  });
}

} // namespace streamb
