#include "bridges/ask.hpp"
#include "bridges/http_auth.hpp"
#include "bridges/http_context.hpp"
#include "bridges/json_body.hpp"
#include "bridges/json_response.hpp"
#include "bridges/routes/routes.hpp"
#include "bridges/status_json.hpp"
#include "runtime/auth/api_key.hpp"
#include "runtime/auth/credential_registry.hpp"
#include "runtime/budget/priority.hpp"
#include "runtime/coordination/coordination_codec.hpp"
#include "runtime/coordination/delivery_target.hpp"
#include "runtime/core/wall_time.hpp"

#include <boost/json.hpp>

namespace streamb {

namespace json = boost::json;

namespace {

constexpr const char* prefix = "/api/v1/stream-b-coordination";

// Event payloads are JSON documents for agents, not bulk data.
constexpr std::size_t max_payload_bytes = 256 * 1024;

json::object to_json(const event_type_stats& t) {
  auto done = t.counts.completed + t.counts.failed;
  return {{"type", t.type},
          {"sent", t.counts.sent},
          {"completed", t.counts.completed},
          {"failed", t.counts.failed},
          {"unrouted", t.counts.unrouted},
          {"successRate", ratio_or_null(t.counts.completed, done)},
          {"latencyMs", json::object{{"p50", t.p50_ms}, {"p95", t.p95_ms}}}};
}

/// An event record as this API writes times: ISO-8601, null until they
/// happen. (The store keeps the record as record_to_json writes it, with
/// epoch milliseconds.)
json::object record_answer(const event_record& x) {
  auto obj = record_to_json(x);
  obj["createdAt"] = time_or_null(x.event.created_ms);
  obj["finishedAt"] = time_or_null(x.finished_ms);
  if (auto ds = obj.if_contains("deliveries"); ds && ds->is_array()) {
    auto& items = ds->get_array();
    for (std::size_t i = 0; i < items.size() && i < x.deliveries.size(); ++i)
      if (auto o = items[i].if_object()) {
        (*o)["sentAt"] = time_or_null(x.deliveries[i].sent_ms);
        (*o)["answeredAt"] = time_or_null(x.deliveries[i].answered_ms);
      }
  }
  return obj;
}

/// Reads a send-event body; false (and the response set) when it is bad.
bool read_event(const http_request& req, http_response& res,
                coordination_event& ev) {
  auto doc = read_json_object(req, res);
  if (!doc)
    return false;
  auto& obj = *doc;
  auto type = obj.if_contains("type");
  if (type == nullptr || !type->is_string()) {
    reply_error(res, 400, "invalid_argument", "type is required", "$.type");
    return false;
  }
  ev.type = std::string{type->get_string()};
  if (!is_coordination_event_type(ev.type)) {
    std::string known;
    for (auto& t : coordination_event_types)
      known += (known.empty() ? "" : ", ") + t;
    reply_error(res, 400, "invalid_argument",
                "unknown event type '" + ev.type + "'; known: " + known,
                "$.type");
    return false;
  }
  ev.priority = budget::priority::normal;
  if (auto p = obj.if_contains("priority")) {
    auto text = p->if_string();
    auto parsed = text ? budget::parse_priority(*text) : std::nullopt;
    if (!parsed) {
      reply_error(res, 400, "invalid_argument",
                  "priority must be critical, high, normal or low",
                  "$.priority");
      return false;
    }
    ev.priority = *parsed;
  }
  if (auto p = obj.if_contains("payload"); p && !p->is_null())
    ev.payload = json::serialize(*p);
  if (auto t = obj.if_contains("target"); t && !t->is_null()) {
    // "agent:NAME", "role:ROLE", or {"agent": NAME} / {"role": ROLE}.
    std::string target;
    if (auto s = t->if_string()) {
      target = std::string{*s};
    } else if (auto o = t->if_object(); o && o->size() == 1) {
      auto& [key, value] = *o->begin();
      if ((key == "agent" || key == "role") && value.is_string())
        target = std::string{key} + ":" + std::string{value.get_string()};
    }
    auto parsed = delivery_target::parse(target);
    if (!parsed || parsed->kind == delivery_target::kind_t::any
        || parsed->name.empty()) {
      reply_error(res, 400, "invalid_argument",
                  "target must be \"agent:NAME\", \"role:ROLE\", "
                  "{\"agent\": NAME} or {\"role\": ROLE}",
                  "$.target");
      return false;
    }
    ev.target = parsed->to_string();
  }
  ev.source = "api";
  return true;
}

/// GET .../agents/status
json::object websocket_json(const agent_socket_stats& s) {
  return {{"open", s.open.load()},
          {"opened", s.opened.load()},
          {"refused", s.refused.load()},
          {"refusedPerKey", s.refused_per_key.load()},
          {"framesIn", s.frames_in.load()},
          {"framesRefused", s.frames_refused.load()},
          {"eventsOut", s.events_out.load()}};
}

void agents_status(const http_context& ctx, const http_request&,
                   http_response& res) {
  auto x = ask<coordination_status>(ctx, ctx.hub, agents_atom_v);
  if (!x)
    return reply_error(res, x.error());
  auto now = epoch_ms_now();
  json::array agents;
  for (auto& a : x->agents)
    agents.push_back(to_json(a, now));
  json::array types;
  for (auto& t : x->types)
    types.push_back(to_json(t));
  reply_json(res, 200,
             json::object{
               {"actorEndpoint",
                ctx.cfg.node.actor.host + ":" + std::to_string(ctx.actor_port)},
               {"agents", std::move(agents)},
               {"byState", agents_by_state(x->agents)},
               {"roster", roster_json(ctx.cfg, x->agents)},
               {"eventTypes", std::move(types)},
               {"queued", x->queued},
               {"inFlight", x->in_flight},
               {"refusedRegistrations", x->refused_registrations},
               {"websocket", websocket_json(*ctx.agent_sockets)}});
}

/// An upgrade turned away at a cap: uncounted from the open ones, counted
/// in `refusals`, told when to try again.
void refuse_at_cap(agent_socket_stats& stats, std::atomic<uint64_t>& refusals,
                   http_response& res, int status, const char* code,
                   const char* message) {
  --stats.open;
  ++refusals;
  res.set_header("Retry-After", "5");
  reply_error(res, status, code, message);
}

/// GET /api/v1/agents/ws: an agent over WebSocket (docs/agent-protocol.md).
void agent_websocket(const http_context& ctx, const http_request& req,
                     http_response& res) {
  auto& stats = *ctx.agent_sockets;
  // Counted here, before the actor exists, so that a burst of upgrades
  // cannot pass the cap; the actor's end uncounts it.
  if (stats.open.fetch_add(1) >= ctx.cfg.agents.max_websocket_agents)
    return refuse_at_cap(stats, stats.refused, res, 503, "unavailable",
                         "the node holds as many WebSocket agents as it is "
                         "configured to (agents.max_websocket_agents)");
  agent_socket_settings settings{ctx.hub,
                                 ctx.service_names,
                                 ctx.cfg.agents,
                                 ctx.agent_sockets,
                                 ctx.backlogs,
                                 {},
                                 {},
                                 {}};
  // The gate admitted this key as an agent credential, or an agent ticket
  // asked for with one (or the node is open): the registration must use
  // the same key.
  auto header = req.get_header_value("Authorization");
  if (header.rfind("Bearer ", 0) == 0) {
    settings.connection_key = header.substr(7);
    settings.counted_key = auth::key_hash(settings.connection_key);
  } else {
    settings.connection_key_hash = req.ticket_key_hash;
    settings.counted_key = req.ticket_key_hash;
  }
  if (!stats.take_key(settings.counted_key,
                      ctx.cfg.agents.max_websocket_agents_per_key))
    return refuse_at_cap(stats, stats.refused_per_key, res, 429,
                         "too_many_connections",
                         "this key holds as many WebSocket agents as one key "
                         "may (agents.max_websocket_agents_per_key)");
  auto link = open_agent_socket(*ctx.system, std::move(settings));
  res.stream = stream_kind::websocket;
  res.listener = std::move(link.listener);
  res.attach = std::move(link.attach);
}

/// POST /api/v1/agents/ws/ticket: a one-time ticket for a browser agent
/// (its WebSocket cannot send a header), bound to the key that asked.
void agent_ticket(const http_context& ctx, const http_request& req,
                  http_response& res) {
  auto now = epoch_ms_now();
  auto who = auth::identity{"anonymous", "anonymous", auth::role::agent, false};
  std::string key_hash;
  auto header = req.get_header_value("Authorization");
  if (header.rfind("Bearer ", 0) == 0) {
    // The gate checked it as an agent key already.
    auto token = header.substr(7);
    auto result = ctx.credentials->current()->authenticate_agent_key(token,
                                                                     now);
    if (!result)
      return reply_error(res, 401, "unauthenticated", "the key is not valid");
    who = *result.who;
    key_hash = auth::key_hash(token);
  }
  auto ticket = ctx.stream_tickets->issue(
    std::move(who), now, auth::ticket_scope::agent_socket, std::move(key_hash));
  if (!ticket) {
    res.set_header("Retry-After", "5");
    return reply_error(res, 429, "too_many_tickets",
                       "too many unused tickets; retry in a few seconds");
  }
  reply_json(
    res, 201,
    json::object{{"ticket", *ticket},
                 {"expiresAt", iso8601_utc(now + ctx.stream_tickets->ttl_ms())},
                 {"uses", 1}});
}

/// POST .../coordination/send-event: 202 once the hub has stored the event.
void send_event(const http_context& ctx, const http_request& req,
                http_response& res) {
  if (req.body.size() > max_payload_bytes)
    return reply_error(res, 413, "too_large",
                       "an event is at most "
                         + std::to_string(max_payload_bytes) + " bytes",
                       "$");
  coordination_event ev;
  if (!read_event(req, res, ev))
    return;
  // Agents see who sent it: the key's id and name, never the key.
  ev.source = "api:" + who_of(ctx, req);
  // Longer than the hub's worst case (its store write may wait behind
  // one in flight, 10 s each): an answer never comes after the client
  // gave up on an event that was stored.
  auto id = ask_within<std::string>(ctx, std::chrono::seconds{30}, ctx.hub,
                                    assign_atom_v, std::move(ev));
  if (!id)
    return reply_error(res, id.error());
  reply_json(res, 202,
             json::object{{"id", *id},
                          {"status", "/api/v1/coordination/events/" + *id}});
}

/// GET [.../]coordination/events/{id}
void get_event(const http_context& ctx, const http_request& req,
               http_response& res) {
  // A finished event is read back from the store: the hub may wait for it.
  auto x = ask_within<event_record>(ctx,
                                    ctx.ask_timeout + std::chrono::seconds{5},
                                    ctx.hub, event_atom_v, req.matches[1]);
  if (!x)
    return reply_error(res, x.error());
  reply_json(res, 200, record_answer(*x));
}

} // namespace

void add_coordination_routes(router& r, http_context_ptr ctx) {
  r.get(std::string{prefix} + "/agents/status",
        with_context(ctx, agents_status));
  // Spawns the connection's actor and never waits: on the io thread.
  r.get("/api/v1/agents/ws", with_context(ctx, agent_websocket),
        route_thread::io);
  r.add("POST", "/api/v1/agents/ws/ticket", with_context(ctx, agent_ticket),
        route_thread::io);
  r.post(std::string{prefix} + "/coordination/send-event",
         with_context(ctx, send_event));
  r.get("/api/v1/coordination/events/{id}", with_context(ctx, get_event));
  r.get(std::string{prefix} + "/coordination/events/{id}",
        with_context(ctx, get_event));
}

} // namespace streamb
