#include "bridges/ask.hpp"
#include "bridges/http_auth.hpp"
#include "bridges/http_context.hpp"
#include "bridges/json_response.hpp"
#include "bridges/json_text.hpp"
#include "bridges/routes/routes.hpp"
#include "bridges/status_json.hpp"
#include "bridges/webhook_events.hpp"
#include "runtime/core/log.hpp"
#include "runtime/core/wall_time.hpp"
#include "runtime/webhooks/signatures/verify.hpp"
#include "runtime/webhooks/webhook_queue.hpp"

#include <boost/json/array.hpp>
#include <caf/send.hpp>

#include <algorithm>
#include <charconv>
#include <map>
#include <optional>

namespace streamb {

namespace {

namespace sig = signatures;

/// What one service's webhook route needs, prepared once.
struct webhook_route {
  const service_config* service = nullptr;
  sig::verifier verify = nullptr;
  sig::verify_options options;
};

/// By service name; every configured service, with a webhook block or not.
using webhook_routes = std::map<std::string, webhook_route>;

webhook_routes prepare_routes(const config& cfg) {
  webhook_routes result;
  for (auto& svc : cfg.services) {
    webhook_route r;
    r.service = &svc;
    if (svc.webhook) {
      r.verify = sig::find_verifier(svc.webhook->scheme);
      r.options.secrets = svc.webhook->secrets;
      r.options.tolerance_s = svc.webhook->tolerance_s;
    }
    result.emplace(svc.name, std::move(r));
  }
  return result;
}

int status_of(sig::reason why) {
  switch (why) {
    case sig::reason::missing_header:
    case sig::reason::malformed: return 400;
    default: return 401;
  }
}

/// Hands a rejection to the processor (which counts, logs and audits it)
/// without waiting, and answers the provider.
void reject(const http_context& ctx, const http_request& req,
            http_response& res, const std::string& service, int status,
            webhook_rejection reason, const std::string& detail,
            const std::string& message) {
  caf::anon_send(ctx.webhooks, wh_reject_atom_v, service, reason, detail,
                 req.remote_addr);
  reply_error(res, status, to_string(reason), message);
}

/// The request as the signature schemes see it. Twilio signs the URL it
/// called, hence the public URL when configured.
sig::webhook_request signed_request(const http_context& ctx,
                                    const http_request& req, int64_t now_ms) {
  sig::webhook_request wr;
  wr.method = req.method;
  auto base = ctx.cfg.node.http.public_url;
  if (base.empty())
    base = "http://" + req.get_header_value("Host");
  while (!base.empty() && base.back() == '/')
    base.pop_back();
  wr.url = base + req.target;
  wr.headers.assign(req.headers.begin(), req.headers.end());
  wr.body = req.body;
  wr.now_s = now_ms / 1000;
  return wr;
}

/// The verified request's events; the processor classifies them.
webhook_events to_events(const std::string& service, std::string_view scheme,
                         const sig::webhook_request& wr, int64_t now_ms) {
  webhook_events events;
  for (auto& e : extract_events(scheme, wr)) {
    webhook_event ev;
    ev.id = service + ":" + e.id;
    ev.service = service;
    ev.type = std::move(e.type);
    ev.payload = std::move(e.payload);
    ev.received_ms = now_ms;
    events.push_back(std::move(ev));
  }
  return events;
}

/// The processor could not store the events: the provider retries a 5xx,
/// so nothing is lost. The store being down, the log line is the only record.
void reply_not_stored(const std::string& remote_addr, http_response& res,
                      const std::string& service, const caf::error& failure) {
  log_warning("webhook",
              "not stored service=" + service + " from=" + remote_addr + ": "
                + caf::to_string(failure));
  res.set_header("Retry-After", "5");
  if (failure == caf::make_error(error_code::store_unavailable))
    return reply_error(res, 503, "store_unavailable",
                       "the webhook cannot be stored now; retry later");
  reply_error(res, failure);
}

void reply_accepted(http_response& res, const webhook_events& events,
                    const accept_outcomes& outcomes) {
  boost::json::array ids;
  std::size_t stored = 0;
  std::size_t duplicates = 0;
  bool in_progress = false;
  for (std::size_t i = 0; i < outcomes.size() && i < events.size(); ++i) {
    ids.emplace_back(events[i].id);
    stored += outcomes[i] == accept_outcome::stored ? 1 : 0;
    duplicates += outcomes[i] == accept_outcome::duplicate ? 1 : 0;
    in_progress |= outcomes[i] == accept_outcome::in_progress;
  }
  if (in_progress) {
    res.set_header("Retry-After", "5");
    return reply_error(res, 503, "in_progress",
                       "another request is storing this event right now; "
                       "retry later");
  }
  reply_json(res, 200,
             boost::json::object{{"eventIds", std::move(ids)},
                                 {"stored", stored},
                                 {"duplicate", stored == 0 && duplicates > 0},
                                 {"duplicates", duplicates}});
}

/// Tells the stream subscribers about each newly stored event (duplicates
/// were announced the first time), critical ones flagged.
void publish_received(const http_context& ctx,
                      const std::vector<std::string>& critical_types,
                      const webhook_events& events,
                      const accept_outcomes& outcomes) {
  for (std::size_t i = 0; i < outcomes.size() && i < events.size(); ++i) {
    if (outcomes[i] != accept_outcome::stored)
      continue;
    auto& ev = events[i];
    bool critical = !ev.type.empty()
      && std::find(critical_types.begin(), critical_types.end(), ev.type)
        != critical_types.end();
    ctx.streams->publish("webhook", ev.service, [&] {
      return to_json_text(
        boost::json::object{{"topic", "webhook"},
                            {"id", ev.id},
                            {"service", ev.service},
                            {"type", ev.type},
                            {"critical", critical},
                            {"receivedAt", iso8601_utc(ev.received_ms)}});
    });
  }
}

/// What a verified request became: its events, for the processor.
struct verified_webhook {
  const webhook_config* hook = nullptr;
  webhook_events events;
};

/// Checks, verifies and extracts; on failure `res` holds the answer.
std::optional<verified_webhook> verify_webhook(const http_context& ctx,
                                               const webhook_routes& routes,
                                               const http_request& req,
                                               http_response& res) {
  auto service = req.matches[1];
  auto found = routes.find(service);
  if (found == routes.end()) {
    reply_error(res, 404, "unknown_service",
                "no service '" + service + "' in the config");
    return std::nullopt;
  }
  auto& route = found->second;
  auto& hook = route.service->webhook;
  if (!hook || route.verify == nullptr) {
    reply_error(res, 404, "not_found",
                "webhooks are not configured for service '" + service + "'");
    return std::nullopt;
  }
  if (req.body.size() > hook->max_body_bytes) {
    auto limit = std::to_string(hook->max_body_bytes);
    reject(ctx, req, res, service, 413, webhook_rejection::too_large,
           std::to_string(req.body.size()) + " bytes, limit " + limit,
           "webhook bodies are limited to " + limit + " bytes");
    return std::nullopt;
  }
  auto now_ms = epoch_ms_now();
  auto wr = signed_request(ctx, req, now_ms);
  // Config secrets plus the managed ones active now (rotation at run
  // time: a retired secret stops verifying at the next credential poll).
  auto options = route.options;
  options.secrets = *ctx.credentials->current()->webhook_secrets(service);
  auto verdict = route.verify(wr, options);
  if (!verdict.valid) {
    reject(ctx, req, res, service, status_of(verdict.why),
           rejection_of(verdict.why), verdict.detail, verdict.detail);
    return std::nullopt;
  }
  return verified_webhook{&*hook, to_events(service, hook->scheme, wr, now_ms)};
}

/// The events without their payloads: what the answer and the stream
/// announcement need once the payloads went to the processor.
webhook_events without_payloads(const webhook_events& events) {
  webhook_events out;
  out.reserve(events.size());
  for (auto& e : events) {
    webhook_event x;
    x.id = e.id;
    x.service = e.service;
    x.type = e.type;
    x.received_ms = e.received_ms;
    out.push_back(std::move(x));
  }
  return out;
}

/// POST /webhooks/{service}: check, verify and extract on the io thread,
/// then hand the events to the processor with the answer to run once it
/// stored them (on the processor's thread; `reply` posts to the io thread).
void receive_webhook(const http_context_ptr& ctx, const webhook_routes& routes,
                     const http_request& req, http_reply reply) {
  http_response res;
  auto verified = verify_webhook(*ctx, routes, req, res);
  if (!verified)
    return reply(std::move(res));
  auto summary = without_payloads(verified->events);
  auto on_stored = [ctx, hook = verified->hook, summary = std::move(summary),
                    service = req.matches[1], remote = req.remote_addr,
                    reply](caf::expected<accept_outcomes> outcomes) {
    http_response res;
    if (!outcomes) {
      reply_not_stored(remote, res, service, outcomes.error());
      return reply(std::move(res));
    }
    reply_accepted(res, summary, *outcomes);
    auto ok = res.status == 200;
    reply(std::move(res));
    if (ok)
      publish_received(*ctx, hook->critical_types, summary, *outcomes);
  };
  caf::anon_send(ctx->webhooks, wh_accept_atom_v, std::move(verified->events),
                 accept_reply{std::move(on_stored)});
}

boost::json::object endpoint_to_json(const endpoint_stats& e) {
  return {{"name", e.name},
          {"url", e.url},
          {"accepted", e.accepted},
          {"delivered", e.delivered},
          {"failedAttempts", e.failed_attempts},
          {"retried", e.retried},
          {"deadLettered", e.dead_lettered},
          {"refused", e.refused},
          {"queued", e.queued},
          {"inFlight", e.in_flight},
          {"lastStatus", e.last_status},
          {"lastError", e.last_error},
          {"latencyMs", {{"p50", e.p50_ms}, {"p95", e.p95_ms}}}};
}

/// GET .../webhooks/stats
void get_stats(const http_context& ctx, const http_request&,
               http_response& res) {
  auto stats = ask<webhook_stats_list>(ctx, ctx.webhooks, wh_stats_atom_v);
  if (!stats)
    return reply_error(res, stats.error());
  boost::json::array endpoints;
  for (auto& e : ctx.endpoints) {
    auto x = ask<endpoint_stats>(ctx, e, wh_stats_atom_v);
    if (!x)
      return reply_error(res, x.error());
    endpoints.push_back(endpoint_to_json(*x));
  }
  reply_json(
    res, 200,
    boost::json::object{{"generatedAt", iso8601_utc(epoch_ms_now())},
                        {"since", "node start"},
                        {"services", webhooks_by_service(ctx.cfg, *stats)},
                        {"endpoints", std::move(endpoints)}});
}

/// A count the store keeps as text, as a JSON integer; text that is no
/// count stays text rather than becoming a made-up number.
boost::json::value count_to_json(const std::string& text) {
  uint64_t n = 0;
  auto end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, n);
  if (text.empty() || ec != std::errc{} || ptr != end)
    return boost::json::value(text);
  return boost::json::value(n);
}

boost::json::object dead_letter_to_json(const store::stream_entry& e) {
  auto field = [&](const char* name) {
    return store::find_field(e.fields, name);
  };
  return {{"id", e.id},
          {"eventId", field("id")},
          {"service", field("service")},
          {"type", field("type")},
          {"critical", field("critical") == "1"},
          {"attempts", count_to_json(field("attempts"))},
          {"lastError", field("last_error")},
          {"deadAt", field("dead_at")},
          {"payload", field("payload")}};
}

/// GET /api/v1/webhooks/dead-letters[?service=S]
void list_dead_letters(const http_context& ctx, const http_request& req,
                       http_response& res) {
  auto service = req.get_param_value("service");
  if (!service.empty() && ctx.cfg.find_service(service) == nullptr)
    return reply_error(res, 404, "unknown_service",
                       "no service '" + service + "' in the config",
                       "?service");
  auto dead = ask<stream_entries>(ctx, ctx.webhooks, wh_dead_atom_v, service);
  if (!dead)
    return reply_error(res, dead.error());
  boost::json::array items;
  for (auto& e : *dead)
    items.emplace_back(dead_letter_to_json(e));
  reply_json(res, 200, boost::json::object{{"deadLetters", std::move(items)}});
}

/// POST /api/v1/webhooks/dead-letters/{id}/replay
void replay_dead_letter(const http_context& ctx, const http_request& req,
                        http_response& res) {
  auto id = req.matches[1];
  auto event_id = ask<std::string>(ctx, ctx.webhooks, wh_replay_atom_v, id,
                                   who_of(ctx, req));
  if (!event_id)
    return reply_error(res, event_id.error());
  reply_json(res, 202,
             boost::json::object{{"deadLetterId", id},
                                 {"eventId", *event_id},
                                 {"status", "queued"}});
}

/// GET /api/v1/webhooks/events/{service}:{id}: the event's history as the
/// processor recorded it.
void get_event(const http_context& ctx, const http_request& req,
               http_response& res) {
  auto id = req.matches[1];
  auto fields = ask<store::field_list>(ctx, ctx.store, hgetall_atom_v,
                                       webhook_keys::event(id));
  if (!fields)
    return reply_error(res, fields.error());
  if (fields->empty())
    return reply_error(res, 404, "not_found",
                       "no webhook event '" + id
                         + "' (ids are <service>:<provider id>; history is "
                           "kept for webhooks.queue_retention_h)");
  // The store keeps every field as text; the answer types them.
  boost::json::object doc{{"id", id}};
  boost::json::array attempts;
  for (auto& [k, v] : *fields) {
    if (k.rfind("attempt_", 0) == 0)
      attempts.emplace_back(v);
    else if (k == "critical")
      doc[k] = v == "true";
    else if (k == "attempts")
      doc[k] = count_to_json(v);
    else
      doc[k] = v;
  }
  doc["history"] = std::move(attempts);
  reply_json(res, 200, doc);
}

} // namespace

void add_webhook_routes(router& r, http_context_ptr ctx) {
  auto routes = std::make_shared<const webhook_routes>(
    prepare_routes(ctx->cfg));
  r.add_async("POST", "/webhooks/{service}",
              [ctx, routes](const http_request& req, http_reply reply) {
                receive_webhook(ctx, *routes, req, std::move(reply));
              });
  r.get("/api/v1/stream-b-coordination/webhooks/stats",
        with_context(ctx, get_stats));
  r.get("/api/v1/webhooks/dead-letters", with_context(ctx, list_dead_letters));
  r.post("/api/v1/webhooks/dead-letters/{id}/replay",
         with_context(ctx, replay_dead_letter));
  r.get("/api/v1/webhooks/events/{id...}", with_context(ctx, get_event));
}

} // namespace streamb
