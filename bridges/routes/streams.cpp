#include "bridges/http_auth.hpp"
#include "bridges/http_context.hpp"
#include "bridges/json_response.hpp"
#include "bridges/routes/routes.hpp"
#include "runtime/core/wall_time.hpp"

#include <boost/json/object.hpp>

#include <algorithm>
#include <set>
#include <string_view>

namespace streamb {

namespace {

/// "a,b,c" as a set; empty entries are skipped.
std::set<std::string> comma_list(const std::string& text) {
  std::set<std::string> out;
  std::string_view rest = text;
  while (!rest.empty()) {
    auto comma = rest.find(',');
    auto item = rest.substr(0, comma);
    if (!item.empty())
      out.emplace(item);
    rest = comma == std::string_view::npos ? std::string_view{}
                                           : rest.substr(comma + 1);
  }
  return out;
}

/// ?topics=webhook,...&services=stripe,...: which events the subscriber
/// wants (all when absent). Unknown services are an error, so that a typo
/// does not look like a quiet stream.
bool read_filter(const http_context& ctx, const http_request& req,
                 http_response& res, stream_filter& out) {
  out.topics = comma_list(req.get_param_value("topics"));
  out.services = comma_list(req.get_param_value("services"));
  for (auto& s : out.services) {
    if (std::find(ctx.service_names.begin(), ctx.service_names.end(), s)
        == ctx.service_names.end()) {
      reply_error(res, 404, "unknown_service",
                  "no service '" + s + "' in the config", "?services");
      return false;
    }
  }
  return true;
}

void subscribe(const http_context& ctx, const http_request& req,
               http_response& res, stream_kind kind) {
  stream_filter filter;
  if (!read_filter(ctx, req, res, filter))
    return;
  auto hub = ctx.streams;
  if (hub->stats().subscribers >= ctx.cfg.node.http.max_subscribers) {
    res.set_header("Retry-After", "5");
    return reply_error(res, 503, "unavailable",
                       "the node holds as many stream subscribers as it is "
                       "configured to (node.http.max_subscribers)");
  }
  res.stream = kind;
  res.attach = [hub, filter](std::shared_ptr<stream_sink> sink) {
    return hub->subscribe(std::move(sink), filter);
  };
}

/// GET .../stream: events as server-sent events.
void sse_stream(const http_context& ctx, const http_request& req,
                http_response& res) {
  subscribe(ctx, req, res, stream_kind::sse);
}

/// GET .../ws: events as WebSocket text frames.
void ws_stream(const http_context& ctx, const http_request& req,
               http_response& res) {
  subscribe(ctx, req, res, stream_kind::websocket);
}

/// POST .../stream/ticket: a one-time ticket for the caller's key, to open
/// GET .../stream?ticket=T or .../ws?ticket=T where no header can be sent.
void issue_ticket(const http_context& ctx, const http_request& req,
                  http_response& res) {
  // Without a key (an open node) the ticket stands for an anonymous viewer:
  // it opens nothing the node does not already show without one.
  auto who = identity_of(ctx, req).value_or(
    auth::identity{"anonymous", "anonymous", auth::role::viewer, false});
  auto now = epoch_ms_now();
  auto ticket = ctx.stream_tickets->issue(std::move(who), now);
  if (!ticket) {
    res.set_header("Retry-After", "5");
    return reply_error(res, 429, "too_many_tickets",
                       "too many unused stream tickets; retry in a few "
                       "seconds");
  }
  auto expires = now + ctx.stream_tickets->ttl_ms();
  reply_json(res, 201,
             boost::json::object{{"ticket", *ticket},
                                 {"expiresAt", iso8601_utc(expires)},
                                 {"uses", 1}});
}

} // namespace

void add_stream_routes(router& r, http_context_ptr ctx) {
  constexpr auto prefix = "/api/v1/stream-b-coordination";
  // Neither waits for an actor: they run on the io thread.
  r.get(std::string{prefix} + "/stream", with_context(ctx, sse_stream),
        route_thread::io);
  r.get(std::string{prefix} + "/ws", with_context(ctx, ws_stream),
        route_thread::io);
  r.add("POST", std::string{prefix} + "/stream/ticket",
        with_context(ctx, issue_ticket), route_thread::io);
}

} // namespace streamb
