#include "bridges/ask.hpp"
#include "bridges/http_context.hpp"
#include "bridges/json_response.hpp"
#include "bridges/json_text.hpp"
#include "bridges/metrics_json.hpp"
#include "bridges/routes/routes.hpp"
#include "runtime/core/wall_time.hpp"

namespace streamb {

namespace {

/// Fills costMetrics' budget side: utilization and the month-end projection.
void add_budget(service_metrics& m, const budget_status& b) {
  if (b.budget_micros > 0)
    m.budget_utilization_pct = 100.0 * static_cast<double>(b.spend_micros)
      / static_cast<double>(b.budget_micros);
  m.projected_cost_usd = usd(b.forecast_micros);
}

/// Lists each recommendation's action under its service's optimization.
void add_actions(boost::json::object& services, const recommendations& recs) {
  for (auto& r : recs) {
    auto i = services.find(r.service);
    if (i == services.end())
      continue;
    auto& opt = i->value().as_object()["optimization"].as_object();
    opt["recommendedActions"].as_array().emplace_back(r.action);
  }
}

/// The answers one realtime query collects.
struct realtime_answers {
  std::vector<caf::expected<service_metrics>> metrics;
  std::vector<caf::expected<budget_status>> budgets;
  caf::expected<recommendations> advice = unanswered<recommendations>();
};

void reply_realtime(const http_context& ctx, metrics_window window,
                    realtime_answers& a, http_response& res) {
  boost::json::object services;
  for (std::size_t i = 0; i < a.metrics.size(); ++i) {
    if (!a.metrics[i]) {
      // In a cluster a service whose owner is gone says so; the others
      // still show.
      if (ctx.cluster && !ctx.cluster->reachable(i)) {
        services[ctx.service_names[i]] = boost::json::object{
          {"service", ctx.service_names[i]},
          {"unavailable", caf::to_string(a.metrics[i].error().context())}};
        continue;
      }
      return reply_error(res, a.metrics[i].error());
    }
    // Best effort: a budget that does not answer leaves its fields 0 (and
    // the advisor's silence leaves no actions) rather than failing the
    // metrics; /readyz is where an actor that does not answer shows.
    if (i < a.budgets.size() && a.budgets[i])
      add_budget(*a.metrics[i], *a.budgets[i]);
    services[ctx.service_names[i]] = to_json(*a.metrics[i]);
  }
  if (a.advice)
    add_actions(services, *a.advice);
  reply_json(res, 200,
             boost::json::object{{"generatedAt", iso8601_utc(epoch_ms_now())},
                                 {"window", to_string(window)},
                                 {"services", std::move(services)}});
}

/// GET .../metrics/realtime[?window=1m|5m|1h]
void get_realtime(const http_context_ptr& ctx, const http_request& req,
                  http_reply reply) {
  auto window = metrics_window::five_minutes;
  if (req.has_param("window")) {
    auto text = req.get_param_value("window");
    if (!parse_metrics_window(text, window)) {
      http_response res;
      reply_error(res, 400, "invalid_argument", "window must be 1m, 5m or 1h",
                  "?window");
      return reply(std::move(res));
    }
  }
  // Ask every monitor, every budget and the advisor at once: they compute
  // in parallel and the answer is written when the last one is in. High
  // priority: a query does not wait behind the record batches queued in a
  // monitor's mailbox.
  constexpr auto high = caf::message_priority::high;
  auto a = std::make_shared<realtime_answers>();
  a->metrics.assign(ctx->monitors.size(), unanswered<service_metrics>());
  a->budgets.assign(ctx->budgets.size(), unanswered<budget_status>());
  async_batch batch{ctx->ask_timeout};
  for (std::size_t i = 0; i < a->metrics.size(); ++i)
    batch.add<high>(a->metrics[i], ctx->monitors[i], metrics_atom_v, window);
  for (std::size_t i = 0; i < a->budgets.size(); ++i)
    batch.add<high>(a->budgets[i], ctx->budgets[i], budget_atom_v);
  batch.add<high>(a->advice, ctx->advisor, advise_atom_v);
  std::move(batch).run(*ctx, [ctx, window, a, reply] {
    http_response res;
    reply_realtime(*ctx, window, *a, res);
    reply(std::move(res));
  });
}

} // namespace

void add_metrics_routes(router& r, http_context_ptr ctx) {
  r.add_async("GET", "/api/v1/stream-b-coordination/metrics/realtime",
              [ctx](const http_request& req, http_reply reply) {
                get_realtime(ctx, req, std::move(reply));
              });
}

} // namespace streamb
