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

/// GET .../metrics/realtime[?window=1m|5m|1h]
void get_realtime(const http_context& ctx, const http_request& req,
                  http_response& res) {
  auto window = metrics_window::five_minutes;
  if (req.has_param("window")) {
    auto text = req.get_param_value("window");
    if (!parse_metrics_window(text, window))
      return reply_error(res, 400, "invalid_argument",
                         "window must be 1m, 5m or 1h", "?window");
  }
  // Ask every monitor, every budget and the advisor at once, then collect:
  // they compute in parallel and this worker waits for the CPU once, not
  // once per actor. High priority: a query does not wait behind the record
  // batches queued in a monitor's mailbox.
  constexpr auto high = caf::message_priority::high;
  auto n = ctx.monitors.size();
  std::vector<caf::expected<service_metrics>> metrics(
    n, unanswered<service_metrics>());
  std::vector<caf::expected<budget_status>> budgets(
    ctx.budgets.size(), unanswered<budget_status>());
  auto advice = unanswered<recommendations>();
  ask_batch batch{ctx};
  for (std::size_t i = 0; i < n; ++i)
    batch.add<high>(metrics[i], ctx.monitors[i], metrics_atom_v, window);
  for (std::size_t i = 0; i < budgets.size(); ++i)
    batch.add<high>(budgets[i], ctx.budgets[i], budget_atom_v);
  batch.add<high>(advice, ctx.advisor, advise_atom_v);
  batch.wait();
  boost::json::object services;
  for (std::size_t i = 0; i < n; ++i) {
    if (!metrics[i])
      return reply_error(res, metrics[i].error());
    // Best effort: a budget that does not answer leaves its fields 0 (and
    // the advisor's silence leaves no actions) rather than failing the
    // metrics; /readyz is where an actor that does not answer shows.
    if (i < budgets.size() && budgets[i])
      add_budget(*metrics[i], *budgets[i]);
    services[ctx.service_names[i]] = to_json(*metrics[i]);
  }
  if (advice)
    add_actions(services, *advice);
  reply_json(res, 200,
             boost::json::object{{"generatedAt", iso8601_utc(epoch_ms_now())},
                                 {"window", to_string(window)},
                                 {"services", std::move(services)}});
}

} // namespace

void add_metrics_routes(router& r, http_context_ptr ctx) {
  r.get("/api/v1/stream-b-coordination/metrics/realtime",
        with_context(ctx, get_realtime));
}

} // namespace streamb
