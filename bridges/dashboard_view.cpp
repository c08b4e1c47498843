// The operator's one document (GET .../dashboard, and the "dashboard" topic
// of the live streams every metrics.dashboard_interval_s). Every service's
// metrics (5 m window) with its budget, the webhook
// pipeline, the agents, the open alerts and the advisor's recommendations,
// asked from every actor at once. A part whose actor does not answer in
// time is null and named under health.unavailable: one slow actor must not
// blank the whole page.

#include "bridges/dashboard_view.hpp"

#include "bridges/ask.hpp"
#include "bridges/http/stream_hub.hpp"
#include "bridges/json_response.hpp"
#include "bridges/json_text.hpp"
#include "bridges/metrics_json.hpp"
#include "bridges/routes/routes.hpp"
#include "bridges/status_json.hpp"
#include "runtime/core/wall_time.hpp"

#include <caf/event_based_actor.hpp>
#include <caf/type_id.hpp>

#include <boost/json.hpp>

namespace streamb {

namespace json = boost::json;

namespace {

struct dashboard_answers {
  std::vector<caf::expected<service_metrics>> metrics;
  std::vector<caf::expected<budget_status>> budgets;
  caf::expected<recommendations> advice = unanswered<recommendations>();
  caf::expected<webhook_stats_list> webhooks = unanswered<webhook_stats_list>();
  caf::expected<coordination_status> agents = unanswered<coordination_status>();
};

json::object services_part(const http_context& ctx, dashboard_answers& a,
                           json::array& alerts, json::array& unavailable) {
  json::object services;
  for (std::size_t i = 0; i < ctx.service_names.size(); ++i) {
    auto& name = ctx.service_names[i];
    json::object svc;
    if (a.metrics[i]) {
      auto m = to_json(*a.metrics[i]);
      // What agents found about the service (the seed's coordination part).
      m["coordination"] = a.advice
        ? json::value(coordination_block(*a.advice, name))
        : json::value(nullptr);
      svc["metrics"] = std::move(m);
      for (auto& x : a.metrics[i]->active_alerts)
        alerts.emplace_back(to_json(x));
    } else {
      svc["metrics"] = nullptr;
      unavailable.emplace_back("monitor:" + name);
    }
    if (i < a.budgets.size() && a.budgets[i]) {
      svc["budget"] = to_json(*a.budgets[i]);
    } else {
      svc["budget"] = nullptr;
      unavailable.emplace_back("budget:" + name);
    }
    services[name] = std::move(svc);
  }
  return services;
}

json::value agents_part(const http_context& ctx, const dashboard_answers& a,
                        json::array& unavailable) {
  if (!a.agents) {
    unavailable.emplace_back("hub");
    return nullptr;
  }
  auto now = epoch_ms_now();
  json::array list;
  for (auto& x : a.agents->agents)
    list.push_back(to_json(x, now));
  return json::object{{"agents", std::move(list)},
                      {"byState", agents_by_state(a.agents->agents)},
                      {"roster", roster_json(ctx.cfg, a.agents->agents)},
                      {"queued", a.agents->queued},
                      {"inFlight", a.agents->in_flight}};
}

json::object make_dashboard(const http_context& ctx, dashboard_answers& a) {
  json::array alerts;
  json::array unavailable;
  auto services = services_part(ctx, a, alerts, unavailable);
  json::value webhooks = nullptr;
  if (a.webhooks) {
    webhooks = webhooks_by_service(ctx.cfg, *a.webhooks);
  } else {
    unavailable.emplace_back("webhooks");
  }
  json::value recs = nullptr;
  if (a.advice) {
    json::array items;
    for (auto& r : *a.advice)
      items.emplace_back(to_json(r));
    recs = std::move(items);
  } else {
    unavailable.emplace_back("advisor");
  }
  auto agents = agents_part(ctx, a, unavailable);
  auto status = unavailable.empty() ? "ok" : "degraded";
  return json::object{
    {"generatedAt", iso8601_utc(epoch_ms_now())},
    {"node", ctx.cfg.node.name},
    {"window", "5m"},
    {"services", std::move(services)},
    {"webhooks", std::move(webhooks)},
    {"agents", std::move(agents)},
    {"alerts", std::move(alerts)},
    {"recommendations", std::move(recs)},
    {"health", {{"status", status}, {"unavailable", std::move(unavailable)}}}};
}

} // namespace

void build_dashboard(const http_context_ptr& ctx,
                     std::function<void(boost::json::object)> done) {
  // High priority: the page must not wait behind the record batches queued
  // in a monitor's mailbox under full ingest.
  constexpr auto high = caf::message_priority::high;
  auto a = std::make_shared<dashboard_answers>();
  a->metrics.assign(ctx->monitors.size(), unanswered<service_metrics>());
  a->budgets.assign(ctx->budgets.size(), unanswered<budget_status>());
  async_batch batch{ctx->ask_timeout};
  for (std::size_t i = 0; i < a->metrics.size(); ++i)
    batch.add<high>(a->metrics[i], ctx->monitors[i], metrics_atom_v,
                    metrics_window::five_minutes);
  for (std::size_t i = 0; i < a->budgets.size(); ++i)
    batch.add<high>(a->budgets[i], ctx->budgets[i], budget_atom_v);
  batch.add<high>(a->advice, ctx->advisor, advise_atom_v);
  batch.add<high>(a->webhooks, ctx->webhooks, wh_stats_atom_v);
  batch.add<high>(a->agents, ctx->hub, agents_atom_v);
  std::move(batch).run(*ctx, [ctx, a, done = std::move(done)] {
    done(make_dashboard(*ctx, *a));
  });
}

void add_dashboard_routes(router& r, http_context_ptr ctx) {
  r.add_async("GET", "/api/v1/stream-b-coordination/dashboard",
              [ctx](const http_request&, http_reply reply) {
                ctx->dashboard_cache->get(
                  [ctx](std::function<void(std::string)> done) {
                    build_dashboard(ctx, [done](boost::json::object doc) {
                      done(to_json_text(doc));
                    });
                  },
                  [reply](snapshot_cache::text_ptr text) {
                    http_response res;
                    if (!text) {
                      reply_error(res, 503, "unavailable",
                                  "the dashboard could not be computed; retry");
                    } else {
                      res.status = 200;
                      res.set_content(*text, "application/json");
                    }
                    reply(std::move(res));
                  });
              });
}

caf::behavior dashboard_publisher(caf::event_based_actor* self,
                                  http_context_ptr ctx,
                                  std::chrono::seconds interval) {
  self->delayed_send(self, interval, caf::tick_atom_v);
  return {
    [=](caf::tick_atom) {
      // Nobody listens: nothing to compute.
      if (ctx->streams->stats().subscribers > 0)
        build_dashboard(ctx, [ctx](boost::json::object doc) {
          // Fresh: GET .../dashboard serves it too for the next second.
          ctx->dashboard_cache->put(to_json_text(doc));
          doc["topic"] = "dashboard";
          ctx->streams->publish("dashboard", "", to_json_text(doc));
        });
      self->delayed_send(self, interval, caf::tick_atom_v);
    },
  };
}

} // namespace streamb
