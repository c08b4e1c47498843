#include "bridges/http_auth.hpp"
#include "bridges/http_context.hpp"
#include "bridges/json_response.hpp"
#include "bridges/routes/routes.hpp"
#include "runtime/webhooks/signatures/verify.hpp"
#include "bridges/webhook_events.hpp"
#include "runtime/core/audit.hpp"
#include "runtime/core/log.hpp"
#include "runtime/core/wall_time.hpp"
#include "runtime/webhooks/webhook_queue.hpp"

#include <boost/json/array.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/send.hpp>
#include <httplib.h>

#include <map>

namespace streamb {

namespace {

namespace sig = signatures;

/// What one service's webhook route needs, prepared once.
struct webhook_route {
  const service_config* service = nullptr;
  sig::verifier verify = nullptr;
  sig::verify_options options;
};

int status_of(sig::reason why) {
  switch (why) {
    case sig::reason::missing_header:
    case sig::reason::malformed: return 400;
    default: return 401;
  }
}

/// Appends a rejection to the audit trail without waiting: the provider gets
/// its answer now; a store that is down loses the record, which the log
/// line keeps.
void audit_rejection(const http_context& ctx, const std::string& service,
                     const std::string& reason, const std::string& detail,
                     const std::string& remote) {
  log_warning("webhook",
              "rejected service=" + service + " reason=" + reason
                + " from=" + remote + ": " + detail);
  audit_record x;
  x.at_ms = epoch_ms_now();
  x.node = ctx.cfg.node.name;
  x.who = "provider:" + service + "@" + remote;
  x.action = "webhook.reject";
  x.subject = service;
  x.outcome = reason;
  x.detail = detail;
  auto retention = int64_t{ctx.cfg.store.audit_retention_days} * 24 * 3600
    * 1000;
  caf::anon_send(ctx.store, write_atom_v, write_ops{audit_write(x, retention)});
}

boost::json::object to_json(const webhook_stats& x) {
  boost::json::object rejected;
  uint64_t total = 0;
  for (auto& [reason, n] : x.rejected) {
    rejected[reason] = n;
    total += n;
  }
  return {{"received", x.received},
          {"verified", x.verified},
          {"rejected", total},
          {"rejectedByReason", std::move(rejected)},
          {"duplicates", x.duplicates},
          {"critical", x.critical},
          {"delivered", x.delivered},
          {"retried", x.retried},
          {"deadLettered", x.dead_lettered},
          {"pending", x.pending},
          {"deliveryLatencyMs",
           {{"p50", x.delivery_p50_ms}, {"p99", x.delivery_p99_ms}}}};
}

} // namespace

void add_webhook_routes(httplib::Server& srv, http_context_ptr ctx) {
  auto routes = std::make_shared<std::map<std::string, webhook_route>>();
  for (auto& svc : ctx->cfg.services) {
    webhook_route r;
    r.service = &svc;
    if (svc.webhook) {
      r.verify = sig::find_verifier(svc.webhook->scheme);
      r.options.secrets = svc.webhook->secrets;
      r.options.tolerance_s = svc.webhook->tolerance_s;
    }
    routes->emplace(svc.name, std::move(r));
  }
  srv.Post(
    R"(/webhooks/([^/]+))",
    [ctx, routes](const httplib::Request& req, httplib::Response& res) {
      auto service = req.matches[1].str();
      auto found = routes->find(service);
      if (found == routes->end())
        return reply_error(res, 404, "unknown_service",
                           "no service '" + service + "' in the config");
      auto& route = found->second;
      auto& hook = route.service->webhook;
      if (!hook || route.verify == nullptr)
        return reply_error(res, 404, "not_found",
                           "webhooks are not configured for service '" + service
                             + "'");
      auto remote = req.remote_addr;
      if (req.body.size() > hook->max_body_bytes) {
        caf::anon_send(ctx->webhooks, wh_reject_atom_v, service,
                       std::string{"too_large"});
        audit_rejection(*ctx, service, "too_large",
                        std::to_string(req.body.size()) + " bytes, limit "
                          + std::to_string(hook->max_body_bytes),
                        remote);
        return reply_error(res, 413, "too_large",
                           "webhook bodies are limited to "
                             + std::to_string(hook->max_body_bytes) + " bytes");
      }
      sig::webhook_request wr;
      wr.method = req.method;
      auto base = ctx->cfg.node.http.public_url;
      if (base.empty())
        base = "http://" + req.get_header_value("Host");
      while (!base.empty() && base.back() == '/')
        base.pop_back();
      wr.url = base + req.target;
      wr.headers.assign(req.headers.begin(), req.headers.end());
      wr.body = req.body;
      auto now_ms = epoch_ms_now();
      wr.now_s = now_ms / 1000;
      // Config secrets plus the managed ones active now (rotation at run
      // time: a retired secret stops verifying at the next credential poll).
      auto options = route.options;
      options.secrets = *ctx->credentials->current()->webhook_secrets(service);
      auto verdict = route.verify(wr, options);
      if (!verdict.valid) {
        auto reason = std::string{sig::to_string(verdict.why)};
        caf::anon_send(ctx->webhooks, wh_reject_atom_v, service, reason);
        audit_rejection(*ctx, service, reason, verdict.detail, remote);
        return reply_error(res, status_of(verdict.why), reason, verdict.detail);
      }
      webhook_events events;
      for (auto& e : extract_events(hook->scheme, wr)) {
        webhook_event ev;
        ev.id = service + ":" + e.id;
        ev.service = service;
        ev.critical = is_critical(e.type, hook->critical_types);
        ev.type = std::move(e.type);
        ev.payload = std::move(e.payload);
        ev.received_ms = now_ms;
        events.push_back(std::move(ev));
      }
      caf::scoped_actor self{*ctx->system};
      accept_outcomes outcomes;
      caf::error failure;
      self->request(ctx->webhooks, ctx->ask_timeout, wh_accept_atom_v, events)
        .receive([&](accept_outcomes& xs) { outcomes = std::move(xs); },
                 [&](caf::error& err) { failure = std::move(err); });
      if (failure) {
        // The provider retries a 5xx: nothing is lost. The store being
        // down, this line is the rejection's only record.
        log_warning("webhook",
                    "not stored service=" + service + " from=" + remote + ": "
                      + caf::to_string(failure));
        res.set_header("Retry-After", "5");
        if (failure == caf::make_error(error_code::store_unavailable))
          return reply_error(res, 503, "store_unavailable",
                             "the webhook cannot be stored now; retry later");
        return reply_error(res, failure);
      }
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
      reply_json(
        res, 200,
        boost::json::object{{"eventIds", std::move(ids)},
                            {"stored", stored},
                            {"duplicate", stored == 0 && duplicates > 0},
                            {"duplicates", duplicates}});
    });

  srv.Get("/api/v1/stream-b-coordination/webhooks/stats",
          [ctx](const httplib::Request&, httplib::Response& res) {
            caf::scoped_actor self{*ctx->system};
            webhook_stats_list stats;
            caf::error failure;
            self->request(ctx->webhooks, ctx->ask_timeout, wh_stats_atom_v)
              .receive([&](webhook_stats_list& xs) { stats = std::move(xs); },
                       [&](caf::error& err) { failure = std::move(err); });
            if (failure)
              return reply_error(res, failure);
            boost::json::object services;
            // Every service with a webhook block, also before its first one.
            for (auto& svc : ctx->cfg.services)
              if (svc.webhook) {
                webhook_stats empty;
                services[svc.name] = to_json(empty);
              }
            for (auto& x : stats)
              services[x.service] = to_json(x);
            reply_json(
              res, 200,
              boost::json::object{{"generatedAt", iso8601_utc(epoch_ms_now())},
                                  {"since", "node start"},
                                  {"services", std::move(services)}});
          });

  srv.Get(
    "/api/v1/webhooks/dead-letters",
    [ctx](const httplib::Request& req, httplib::Response& res) {
      auto service = req.get_param_value("service");
      if (!service.empty() && ctx->cfg.find_service(service) == nullptr)
        return reply_error(res, 404, "unknown_service",
                           "no service '" + service + "' in the config",
                           "?service");
      caf::scoped_actor self{*ctx->system};
      stream_entries dead;
      caf::error failure;
      self->request(ctx->webhooks, ctx->ask_timeout, wh_dead_atom_v, service)
        .receive([&](stream_entries& xs) { dead = std::move(xs); },
                 [&](caf::error& err) { failure = std::move(err); });
      if (failure)
        return reply_error(res, failure);
      boost::json::array items;
      for (auto& e : dead)
        items.emplace_back(boost::json::object{
          {"id", e.id},
          {"eventId", store::find_field(e.fields, "id")},
          {"service", store::find_field(e.fields, "service")},
          {"type", store::find_field(e.fields, "type")},
          {"critical", store::find_field(e.fields, "critical") == "1"},
          {"attempts", store::find_field(e.fields, "attempts")},
          {"lastError", store::find_field(e.fields, "last_error")},
          {"deadAt", store::find_field(e.fields, "dead_at")},
          {"payload", store::find_field(e.fields, "payload")}});
      reply_json(res, 200,
                 boost::json::object{{"deadLetters", std::move(items)}});
    });

  srv.Post(
    R"(/api/v1/webhooks/dead-letters/([^/]+)/replay)",
    [ctx](const httplib::Request& req, httplib::Response& res) {
      auto id = req.matches[1].str();
      caf::scoped_actor self{*ctx->system};
      std::string event_id;
      caf::error failure;
      self->request(ctx->webhooks, ctx->ask_timeout, wh_replay_atom_v, id)
        .receive([&](std::string& x) { event_id = std::move(x); },
                 [&](caf::error& err) { failure = std::move(err); });
      if (failure)
        return reply_error(res, failure);
      audit_record x;
      x.at_ms = epoch_ms_now();
      x.node = ctx->cfg.node.name;
      x.who = who_of(*ctx, req);
      x.action = "webhook.replay";
      x.subject = event_id;
      x.outcome = "ok";
      x.detail = "dead letter " + id;
      caf::anon_send(
        ctx->store, write_atom_v,
        write_ops{audit_write(
          x, int64_t{ctx->cfg.store.audit_retention_days} * 24 * 3600 * 1000)});
      reply_json(res, 202,
                 boost::json::object{{"deadLetterId", id},
                                     {"eventId", event_id},
                                     {"status", "queued"}});
    });

  srv.Get(R"(/api/v1/webhooks/events/(.+))",
          [ctx](const httplib::Request& req, httplib::Response& res) {
            auto id = req.matches[1].str();
            caf::scoped_actor self{*ctx->system};
            store::field_list fields;
            caf::error failure;
            self
              ->request(ctx->store, ctx->ask_timeout, hgetall_atom_v,
                        webhook_keys::event(id))
              .receive([&](store::field_list& xs) { fields = std::move(xs); },
                       [&](caf::error& err) { failure = std::move(err); });
            if (failure)
              return reply_error(res, failure);
            if (fields.empty())
              return reply_error(
                res, 404, "not_found",
                "no webhook event '" + id
                  + "' (ids are <service>:<provider id>; history is "
                    "kept for webhooks.queue_retention_h)");
            boost::json::object doc{{"id", id}};
            boost::json::array attempts;
            for (auto& [k, v] : fields) {
              if (k.rfind("attempt_", 0) == 0)
                attempts.emplace_back(v);
              else
                doc[k] = v;
            }
            doc["history"] = std::move(attempts);
            reply_json(res, 200, doc);
          });
}

} // namespace streamb
