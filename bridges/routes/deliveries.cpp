#include "bridges/ask.hpp"
#include "bridges/http_auth.hpp"
#include "bridges/http_context.hpp"
#include "bridges/json_response.hpp"
#include "bridges/routes/routes.hpp"
#include "runtime/core/wall_time.hpp"

#include <boost/json.hpp>

namespace streamb {

namespace {

/// The endpoint named in the path, or nullptr after answering 404.
const delivery_endpoint_actor* endpoint_of(const http_context& ctx,
                                           const http_request& req,
                                           http_response& res) {
  auto& name = req.matches[1];
  auto& eps = ctx.cfg.deliveries.endpoints;
  for (std::size_t i = 0; i < eps.size() && i < ctx.endpoints.size(); ++i)
    if (eps[i].name == name)
      return &ctx.endpoints[i];
  reply_error(res, 404, "not_found",
              "no delivery endpoint named '" + name
                + "' in the config (deliveries.endpoints)",
              "endpoint");
  return nullptr;
}

/// GET /api/v1/deliveries/{endpoint}/dead-letters: oldest first, at most
/// 1000 (the endpoint keeps the last 10 000).
void list_dead(const http_context& ctx, const http_request& req,
               http_response& res) {
  auto ep = endpoint_of(ctx, req, res);
  if (ep == nullptr)
    return;
  auto dead = ask<stream_entries>(ctx, *ep, wh_dead_atom_v);
  if (!dead)
    return reply_error(res, dead.error());
  boost::json::array items;
  for (auto& e : *dead) {
    auto field = [&](const char* name) {
      return store::find_field(e.fields, name);
    };
    items.push_back(boost::json::object{
      {"id", e.id},
      {"eventId", field("id")},
      {"kind", field("kind")},
      {"type", field("type")},
      {"attempts", std::strtoull(field("attempts").c_str(), nullptr, 10)},
      {"lastError", field("last_error")},
      // When it was first queued: how long the endpoint was tried.
      {"queuedAt",
       iso8601_utc(std::strtoll(field("queued_ms").c_str(), nullptr, 10))},
      {"deadAt", field("dead_at")}});
  }
  reply_json(res, 200,
             boost::json::object{{"endpoint", req.matches[1]},
                                 {"deadLetters", std::move(items)}});
}

/// POST /api/v1/deliveries/{endpoint}/dead-letters/{id}/replay: back in
/// the endpoint's queue, with a fresh retry schedule.
void replay_dead(const http_context& ctx, const http_request& req,
                 http_response& res) {
  auto ep = endpoint_of(ctx, req, res);
  if (ep == nullptr)
    return;
  auto id = req.matches[2];
  auto event_id = ask<std::string>(ctx, *ep, wh_replay_atom_v, id,
                                   who_of(ctx, req));
  if (!event_id)
    return reply_error(res, event_id.error());
  reply_json(res, 202,
             boost::json::object{{"endpoint", req.matches[1]},
                                 {"deadLetterId", id},
                                 {"eventId", *event_id},
                                 {"status", "queued"}});
}

} // namespace

void add_delivery_routes(router& r, http_context_ptr ctx) {
  r.get("/api/v1/deliveries/{endpoint}/dead-letters",
        with_context(ctx, list_dead));
  r.post("/api/v1/deliveries/{endpoint}/dead-letters/{id}/replay",
         with_context(ctx, replay_dead));
}

} // namespace streamb
