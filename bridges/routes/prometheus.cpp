// GET /metrics: the node's counters and gauges in Prometheus' text format,
// for the Prometheus, Grafana and Alertmanager operators already run.
// Counters count since the node started (Prometheus' rate() and increase()
// handle restarts); the JSON routes keep the rolling windows.

#include "bridges/ask.hpp"
#include "bridges/http/stream_hub.hpp"
#include "bridges/http_context.hpp"
#include "bridges/json_response.hpp"
#include "bridges/routes/routes.hpp"
#include "runtime/metrics/prometheus_text.hpp"

#include <string>

namespace streamb {

namespace {

constexpr double micros_per_dollar = 1e6;

/// The answers one scrape collects.
struct scrape_answers {
  std::vector<caf::expected<call_totals>> totals;
  std::vector<caf::expected<budget_status>> budgets;
  caf::expected<webhook_stats_list> webhooks = unanswered<webhook_stats_list>();
  caf::expected<coordination_status> agents = unanswered<coordination_status>();
  caf::expected<bool> store = unanswered<bool>();
  std::vector<caf::expected<endpoint_stats>> endpoints;
};

void write_endpoints(prometheus_text& p,
                     const std::vector<endpoint_stats>& xs) {
  auto counter = [&](const char* name, const char* help, auto value) {
    p.family(name, "counter", help);
    for (auto& e : xs)
      p.sample(name, {{"endpoint", e.name}}, static_cast<double>(value(e)));
  };
  counter("streamb_endpoint_accepted_total",
          "Events and webhooks queued for the HTTP delivery endpoint.",
          [](const endpoint_stats& e) { return e.accepted; });
  counter("streamb_endpoint_delivered_total",
          "Deliveries the endpoint answered with 2xx.",
          [](const endpoint_stats& e) { return e.delivered; });
  counter("streamb_endpoint_failed_attempts_total",
          "Tries that got no 2xx (an error status, a timeout, no connection).",
          [](const endpoint_stats& e) { return e.failed_attempts; });
  counter("streamb_endpoint_dead_lettered_total",
          "Deliveries given up after the endpoint's retry schedule.",
          [](const endpoint_stats& e) { return e.dead_lettered; });
  counter("streamb_endpoint_refused_total",
          "Deliveries not queued: the endpoint's queue was full or the store "
          "did not take them.",
          [](const endpoint_stats& e) { return e.refused; });
  p.family("streamb_endpoint_queued", "gauge",
           "Deliveries waiting for a 2xx from the endpoint.");
  for (auto& e : xs)
    p.sample("streamb_endpoint_queued", {{"endpoint", e.name}},
             static_cast<double>(e.queued));
}

void write_agent_sockets(prometheus_text& p, const agent_socket_stats& s) {
  p.single("streamb_agent_websockets_open", "gauge",
           "Agents connected over WebSocket.", static_cast<double>(s.open));
  p.single("streamb_agent_websocket_frames_total", "counter",
           "Frames WebSocket agents sent.", static_cast<double>(s.frames_in));
  p.single("streamb_agent_websocket_frames_refused_total", "counter",
           "Frames of WebSocket agents answered with an error frame.",
           static_cast<double>(s.frames_refused));
  p.single("streamb_agent_websockets_refused_total", "counter",
           "WebSocket agent connections turned away at a cap (node or key).",
           static_cast<double>(s.refused + s.refused_per_key));
}

void write_calls(prometheus_text& p, const std::vector<call_totals>& xs) {
  p.family("streamb_provider_calls_total", "counter",
           "Outbound calls to the provider's API reported to the node, by "
           "outcome.");
  for (auto& t : xs)
    for (std::size_t i = 0; i < t.by_outcome.size(); ++i)
      p.sample("streamb_provider_calls_total",
               {{"service", t.service},
                {"outcome", to_string(static_cast<status_class>(i))}},
               static_cast<double>(t.by_outcome[i]));
  p.family("streamb_provider_call_duration_seconds", "histogram",
           "Latency of the outbound calls to the provider's API.");
  for (auto& t : xs) {
    uint64_t cumulative = 0;
    for (std::size_t i = 0; i < t.latency_buckets.size(); ++i) {
      cumulative += t.latency_buckets[i];
      auto le = i < latency_bucket_bounds_s.size()
        ? prometheus_number(latency_bucket_bounds_s[i])
        : std::string{"+Inf"};
      p.sample("streamb_provider_call_duration_seconds_bucket",
               {{"service", t.service}}, {"le", le},
               static_cast<double>(cumulative));
    }
    p.sample("streamb_provider_call_duration_seconds_sum",
             {{"service", t.service}},
             static_cast<double>(t.latency_sum_us) / 1e6);
    p.sample("streamb_provider_call_duration_seconds_count",
             {{"service", t.service}}, static_cast<double>(cumulative));
  }
  p.family("streamb_provider_spend_dollars_total", "counter",
           "Spend of the calls reported to the node (reported cost, or the "
           "service's cost model), in US dollars.");
  for (auto& t : xs)
    p.sample("streamb_provider_spend_dollars_total", {{"service", t.service}},
             static_cast<double>(t.spend_micros) / micros_per_dollar);
  p.family("streamb_provider_cache_hits_total", "counter",
           "Calls the client answered from its cache.");
  for (auto& t : xs)
    p.sample("streamb_provider_cache_hits_total", {{"service", t.service}},
             static_cast<double>(t.cache_hits));
}

void write_budgets(prometheus_text& p, const std::vector<budget_status>& xs) {
  auto gauge = [&](const char* name, const char* help, auto value) {
    p.family(name, "gauge", help);
    for (auto& b : xs)
      p.sample(name, {{"service", b.service}}, value(b));
  };
  gauge("streamb_budget_spend_dollars", "Spend this budget month.",
        [](const budget_status& b) {
          return static_cast<double>(b.spend_micros) / micros_per_dollar;
        });
  gauge("streamb_budget_limit_dollars", "The monthly budget (0: none).",
        [](const budget_status& b) {
          return static_cast<double>(b.budget_micros) / micros_per_dollar;
        });
  gauge("streamb_budget_utilization_ratio",
        "Spend this month over the monthly budget (0 without a budget).",
        [](const budget_status& b) {
          return b.budget_micros > 0 ? static_cast<double>(b.spend_micros)
              / static_cast<double>(b.budget_micros)
                                     : 0.0;
        });
  gauge("streamb_budget_forecast_dollars",
        "Projected spend at the end of the budget month.",
        [](const budget_status& b) {
          return static_cast<double>(b.forecast_micros) / micros_per_dollar;
        });
  gauge("streamb_admission_queued",
        "Admission requests waiting in the priority queue.",
        [](const budget_status& b) { return static_cast<double>(b.queued); });
  p.family("streamb_budget_state", "gauge",
           "1 for the budget's current state (normal, throttled at the "
           "throttle level, capped), 0 for the others.");
  for (auto& b : xs)
    for (auto mode :
         {budget::budget_mode::normal, budget::budget_mode::throttled,
          budget::budget_mode::capped})
      p.sample("streamb_budget_state",
               {{"service", b.service}, {"state", budget::to_string(mode)}},
               b.mode == mode ? 1 : 0);
  p.family("streamb_circuit_breaker_state", "gauge",
           "1 for the provider circuit breaker's current state, 0 for the "
           "others.");
  for (auto& b : xs)
    for (auto state :
         {budget::breaker_state::closed, budget::breaker_state::open,
          budget::breaker_state::half_open})
      p.sample("streamb_circuit_breaker_state",
               {{"service", b.service}, {"state", budget::to_string(state)}},
               b.breaker == state ? 1 : 0);
  p.family("streamb_admission_decisions_total", "counter",
           "Admission decisions, granted or denied with the reason.");
  for (auto& b : xs) {
    p.sample("streamb_admission_decisions_total",
             {{"service", b.service}, {"decision", "granted"}},
             static_cast<double>(b.granted));
    for (auto& [reason, n] : b.denied)
      p.sample("streamb_admission_decisions_total",
               {{"service", b.service},
                {"decision", "denied"},
                {"reason", budget::to_string(reason)}},
               static_cast<double>(n));
  }
}

void write_webhooks(prometheus_text& p, const webhook_stats_list& xs) {
  auto counter = [&](const char* name, const char* help, auto value) {
    p.family(name, "counter", help);
    for (auto& w : xs)
      p.sample(name, {{"service", w.service}},
               static_cast<double>(value(w.counts)));
  };
  counter("streamb_webhooks_received_total",
          "Webhook requests received from the provider.",
          [](const webhook_counts& c) { return c.received; });
  counter("streamb_webhooks_verified_total",
          "Webhooks whose signature verified.",
          [](const webhook_counts& c) { return c.verified; });
  counter("streamb_webhooks_duplicates_total",
          "Verified webhooks already seen (acknowledged, not stored again).",
          [](const webhook_counts& c) { return c.duplicates; });
  counter("streamb_webhooks_critical_total",
          "Webhooks of the service's critical types (delivered first).",
          [](const webhook_counts& c) { return c.critical; });
  counter("streamb_webhooks_delivered_total",
          "Webhooks delivered to an agent or the fallback subscriber.",
          [](const webhook_counts& c) { return c.delivered; });
  counter("streamb_webhooks_retried_total", "Delivery attempts retried.",
          [](const webhook_counts& c) { return c.retried; });
  counter("streamb_webhooks_dead_lettered_total",
          "Webhooks moved to the dead letters after their last retry.",
          [](const webhook_counts& c) { return c.dead_lettered; });
  p.family("streamb_webhooks_rejected_total", "counter",
           "Webhook requests refused, by reason.");
  for (auto& w : xs)
    for (auto& [reason, n] : w.counts.rejected)
      p.sample("streamb_webhooks_rejected_total",
               {{"service", w.service}, {"reason", to_string(reason)}},
               static_cast<double>(n));
  p.family("streamb_webhook_delivery_p99_seconds", "gauge",
           "99th percentile from a webhook's receipt to its delivery, over "
           "the recent deliveries.");
  for (auto& w : xs)
    p.sample("streamb_webhook_delivery_p99_seconds", {{"service", w.service}},
             w.delivery_p99_ms / 1000.0);
  p.family("streamb_webhooks_pending", "gauge",
           "Webhooks stored and not yet delivered or dead-lettered.");
  for (auto& w : xs)
    p.sample("streamb_webhooks_pending", {{"service", w.service}},
             static_cast<double>(w.pending));
}

void write_agents(prometheus_text& p, const coordination_status& c) {
  p.family("streamb_agents", "gauge",
           "Agents the hub knows, by state (active, stale: no heartbeat "
           "lately, disconnected).");
  for (auto state :
       {agent_state::active, agent_state::stale, agent_state::disconnected}) {
    std::size_t n = 0;
    for (auto& a : c.agents)
      n += a.state == state ? 1 : 0;
    p.sample("streamb_agents", {{"state", to_string(state)}},
             static_cast<double>(n));
  }
  p.single("streamb_coordination_events_queued", "gauge",
           "Coordination events waiting for an agent.",
           static_cast<double>(c.queued));
  p.single("streamb_coordination_events_in_flight", "gauge",
           "Coordination events delivered and waiting for an answer.",
           static_cast<double>(c.in_flight));
}

/// Per event type: how events ended and how long completed ones took.
void write_event_types(prometheus_text& p, const coordination_status& c) {
  p.family("streamb_coordination_events_total", "counter",
           "Coordination events by type and outcome (sent: delivered to an "
           "agent at least once; unrouted: no agent serves the type).");
  for (auto& t : c.types) {
    std::pair<const char*, uint64_t> outcomes[] = {
      {"sent", t.counts.sent},
      {"completed", t.counts.completed},
      {"failed", t.counts.failed},
      {"unrouted", t.counts.unrouted}};
    for (auto& [outcome, n] : outcomes)
      p.sample("streamb_coordination_events_total",
               {{"type", t.type}, {"outcome", outcome}},
               static_cast<double>(n));
  }
  p.family("streamb_coordination_event_duration_seconds", "summary",
           "From an event's creation to its outcome, of completed events "
           "(recent ones; the hub keeps quantiles, not buckets).");
  for (auto& t : c.types) {
    p.sample("streamb_coordination_event_duration_seconds",
             {{"type", t.type}, {"quantile", "0.5"}}, t.p50_ms / 1000.0);
    p.sample("streamb_coordination_event_duration_seconds",
             {{"type", t.type}, {"quantile", "0.95"}}, t.p95_ms / 1000.0);
  }
}

void write_edge(prometheus_text& p, const edge_metrics& edge) {
  p.family("streamb_http_requests_total", "counter",
           "HTTP requests answered, by route (the route table's pattern) and "
           "status (0: a status not listed one by one).");
  for (auto& x : edge.requests())
    p.sample("streamb_http_requests_total",
             {{"route", x.route}, {"status", std::to_string(x.status)}},
             static_cast<double>(x.n));
  auto server = edge.server();
  if (!server)
    return;
  p.single("streamb_http_connections_open", "gauge",
           "Open HTTP connections (streams included).",
           static_cast<double>(server->open_connections));
  p.single("streamb_http_connections_accepted_total", "counter",
           "HTTP connections accepted.", static_cast<double>(server->accepted));
  p.single("streamb_http_connections_refused_total", "counter",
           "HTTP connections refused with 503 past node.http.max_connections.",
           static_cast<double>(server->refused_over_cap));
  p.single("streamb_http_connections_timed_out_total", "counter",
           "HTTP connections cut at a deadline (head, body, idle, write, "
           "shutdown).",
           static_cast<double>(server->timed_out));
}

void write_streams(prometheus_text& p, const stream_hub_stats& s) {
  p.single("streamb_stream_subscribers", "gauge",
           "Open SSE and WebSocket subscriptions.",
           static_cast<double>(s.subscribers));
  p.single("streamb_stream_events_published_total", "counter",
           "Events published to the live streams.",
           static_cast<double>(s.published));
  p.single("streamb_stream_subscribers_dropped_total", "counter",
           "Subscribers dropped because they did not read fast enough.",
           static_cast<double>(s.dropped_slow));
  p.single("streamb_stream_subscriptions_refused_total", "counter",
           "Subscriptions refused past the subscriber cap.",
           static_cast<double>(s.refused));
}

/// Every family, or the first error of an actor that did not answer: a
/// scrape with holes would read as counters that reset.
void reply_scrape(const http_context& ctx, scrape_answers& a,
                  http_response& res) {
  std::vector<call_totals> totals;
  for (auto& x : a.totals) {
    if (!x)
      return reply_error(res, x.error());
    totals.push_back(std::move(*x));
  }
  std::vector<budget_status> budgets;
  for (auto& x : a.budgets) {
    if (!x)
      return reply_error(res, x.error());
    budgets.push_back(std::move(*x));
  }
  if (!a.webhooks)
    return reply_error(res, a.webhooks.error());
  if (!a.agents)
    return reply_error(res, a.agents.error());
  std::vector<endpoint_stats> endpoints;
  for (auto& x : a.endpoints) {
    if (!x)
      return reply_error(res, x.error());
    endpoints.push_back(std::move(*x));
  }
  prometheus_text p;
  p.family("streamb_build_info", "gauge", "The running streamb version.");
  p.sample("streamb_build_info", {{"version", STREAMB_VERSION}}, 1);
  write_calls(p, totals);
  write_budgets(p, budgets);
  write_webhooks(p, *a.webhooks);
  write_agents(p, *a.agents);
  write_event_types(p, *a.agents);
  p.single("streamb_store_up", "gauge",
           "1 while the node's store (memory or Redis) answers its ping, 0 "
           "while it is unreachable or does not answer in time.",
           a.store && *a.store ? 1 : 0);
  write_endpoints(p, endpoints);
  write_agent_sockets(p, *ctx.agent_sockets);
  write_edge(p, *ctx.edge);
  if (ctx.streams)
    write_streams(p, ctx.streams->stats());
  res.status = 200;
  res.set_content(std::move(p).take(), std::string{prometheus_content_type});
}

} // namespace

void add_prometheus_routes(router& r, http_context_ptr ctx) {
  r.add_async("GET", "/metrics", [ctx](const http_request&, http_reply reply) {
    constexpr auto high = caf::message_priority::high;
    auto a = std::make_shared<scrape_answers>();
    a->totals.assign(ctx->monitors.size(), unanswered<call_totals>());
    a->budgets.assign(ctx->budgets.size(), unanswered<budget_status>());
    a->endpoints.assign(ctx->endpoints.size(), unanswered<endpoint_stats>());
    async_batch batch{ctx->ask_timeout};
    for (std::size_t i = 0; i < a->totals.size(); ++i)
      batch.add<high>(a->totals[i], ctx->monitors[i], totals_atom_v);
    for (std::size_t i = 0; i < a->budgets.size(); ++i)
      batch.add<high>(a->budgets[i], ctx->budgets[i], budget_atom_v);
    batch.add<high>(a->webhooks, ctx->webhooks, wh_stats_atom_v);
    for (std::size_t i = 0; i < a->endpoints.size(); ++i)
      batch.add<high>(a->endpoints[i], ctx->endpoints[i], wh_stats_atom_v);
    batch.add<high>(a->agents, ctx->hub, agents_atom_v);
    batch.add<high>(a->store, ctx->store, ping_atom_v);
    std::move(batch).run(*ctx, [ctx, a, reply] {
      http_response res;
      reply_scrape(*ctx, *a, res);
      reply(std::move(res));
    });
  });
}

} // namespace streamb
