#include "bridges/http_context.hpp"
#include "bridges/json_response.hpp"
#include "bridges/metrics_json.hpp"
#include "bridges/routes/routes.hpp"
#include "runtime/core/wall_time.hpp"

#include <caf/scoped_actor.hpp>
#include <httplib.h>

namespace streamb {

void add_metrics_routes(httplib::Server& srv, http_context_ptr ctx) {
  srv.Get(
    "/api/v1/stream-b-coordination/metrics/realtime",
    [ctx](const httplib::Request& req, httplib::Response& res) {
      auto window = metrics_window::five_minutes;
      if (req.has_param("window")) {
        auto text = req.get_param_value("window");
        if (!parse_metrics_window(text, window))
          return reply_error(res, 400, "invalid_argument",
                             "window must be 1m, 5m or 1h", "?window");
      }
      caf::scoped_actor self{*ctx->system};
      boost::json::object services;
      // Ask every monitor at once, then collect: the monitors compute
      // in parallel and this worker waits for the CPU once, not six
      // times in a row. High priority: a query does not wait behind
      // the record batches queued in a monitor's mailbox.
      using handle_type = decltype(self->request<caf::message_priority::high>(
        ctx->monitors[0], ctx->ask_timeout, metrics_atom_v, window));
      std::vector<handle_type> pending;
      pending.reserve(ctx->monitors.size());
      for (auto& monitor : ctx->monitors)
        pending.push_back(self->request<caf::message_priority::high>(
          monitor, ctx->ask_timeout, metrics_atom_v, window));
      // The budgets' side of costMetrics: utilization and the month-end
      // projection (asked at once too; a budget that does not answer leaves
      // them 0 rather than failing the metrics).
      using budget_handle = decltype(self->request<caf::message_priority::high>(
        ctx->budgets[0], ctx->ask_timeout, budget_atom_v));
      std::vector<budget_handle> budgets;
      budgets.reserve(ctx->budgets.size());
      for (auto& b : ctx->budgets)
        budgets.push_back(self->request<caf::message_priority::high>(
          b, ctx->ask_timeout, budget_atom_v));
      // The advisor's actions per service fill optimization (best effort).
      auto advice = self->request<caf::message_priority::high>(
        ctx->advisor, ctx->ask_timeout, advise_atom_v);
      caf::error failure;
      for (std::size_t i = 0; i < pending.size(); ++i)
        pending[i].receive(
          [&](service_metrics& m) {
            if (i < budgets.size())
              budgets[i].receive(
                [&](budget_status& b) {
                  if (b.budget_micros > 0)
                    m.budget_utilization_pct = 100.0
                      * static_cast<double>(b.spend_micros)
                      / static_cast<double>(b.budget_micros);
                  m.projected_cost_usd = static_cast<double>(b.forecast_micros)
                    / 1e6;
                },
                [](caf::error&) {});
            services[ctx->service_names[i]] = to_json(m);
          },
          [&](caf::error& err) {
            if (!failure)
              failure = std::move(err);
          });
      if (failure)
        return reply_error(res, failure);
      advice.receive(
        [&](recommendations& recs) {
          for (auto& r : recs) {
            auto i = services.find(r.service);
            if (i == services.end())
              continue;
            auto& opt = i->value().as_object()["optimization"].as_object();
            opt["recommendedActions"].as_array().emplace_back(r.action);
          }
        },
        [](caf::error&) {});
      reply_json(
        res, 200,
        boost::json::object{{"generatedAt", iso8601_utc(epoch_ms_now())},
                            {"window", to_string(window)},
                            {"services", std::move(services)}});
    });
}

} // namespace streamb
