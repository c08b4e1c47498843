#include "bridges/http_auth.hpp"

#include "bridges/http/http_message.hpp"
#include "bridges/http_context.hpp"
#include "bridges/json_response.hpp"
#include "bridges/route_table.hpp"
#include "runtime/auth/credential_registry.hpp"
#include "runtime/core/wall_time.hpp"

#include <boost/json/object.hpp>

#include <string_view>

namespace streamb {

namespace {

namespace json = boost::json;
using auth::refusal;

/// The credential of "Authorization: Bearer <key>"; nullopt when the header
/// is there but says something else.
std::optional<std::string_view> bearer_token(std::string_view header) {
  constexpr std::string_view scheme = "bearer ";
  if (header.size() <= scheme.size())
    return std::nullopt;
  for (std::size_t i = 0; i < scheme.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(header[i])) != scheme[i])
      return std::nullopt;
  auto token = header.substr(scheme.size());
  while (!token.empty() && token.front() == ' ')
    token.remove_prefix(1);
  while (!token.empty() && token.back() == ' ')
    token.remove_suffix(1);
  if (token.empty() || token.size() > 512
      || token.find_first_of(" \t") != std::string_view::npos)
    return std::nullopt;
  return token;
}

/// The live-stream routes, which a stream ticket opens (browsers cannot
/// send a header there).
bool is_stream_path(std::string_view path) {
  return path == "/api/v1/stream-b-coordination/stream"
    || path == "/api/v1/stream-b-coordination/ws";
}

/// The agents' WebSocket, which only an agent ticket opens (a browser
/// agent: POST /api/v1/agents/ws/ticket with its agent key).
constexpr std::string_view agent_socket_path = "/api/v1/agents/ws";

std::string_view message_of(refusal why) {
  switch (why) {
    case refusal::missing:
      return "this route needs a key: send Authorization: Bearer <key>";
    case refusal::malformed:
      return "the Authorization header must be \"Bearer <key>\"";
    case refusal::revoked: return "the key was revoked";
    case refusal::expired: return "the key has expired";
    case refusal::unavailable:
      return "managed keys cannot be checked now: the store has not "
             "answered lately; retry, or use a bootstrap key";
    case refusal::wrong_kind:
      return "agent keys register agents; the only HTTP routes they open "
             "are GET /api/v1/agents/ws and POST /api/v1/agents/ws/ticket "
             "(and those take nothing else)";
    default: return "the key is not valid";
  }
}

void refuse(http_response& res, int status, std::string_view code,
            std::string_view reason, std::string_view message) {
  if (status == 401)
    res.set_header("WWW-Authenticate",
                   reason == "missing"
                     ? "Bearer realm=\"streamb\""
                     : "Bearer realm=\"streamb\", error=\"invalid_token\"");
  if (status == 503)
    res.set_header("Retry-After", "1");
  reply_json(res, status,
             json::object{{"error",
                           {{"code", code},
                            {"reason", reason},
                            {"message", message},
                            {"path", "Authorization"}}}});
}

/// A request that carries `?ticket=` where a ticket of `scope` opens it:
/// the ticket is used up, and the request goes on with the role of the key
/// that asked for it (an agent ticket: bound to that key).
bool admit_ticket(const http_context& ctx, http_request& req, auth::role needed,
                  auth::ticket_scope scope, http_response& res) {
  auto grant = ctx.stream_tickets->redeem(req.get_param_value("ticket"),
                                          epoch_ms_now(), scope);
  if (!grant) {
    ctx.credentials->note_refused("", "ticket", req.remote_addr);
    refuse(res, 401, "unauthenticated", "ticket",
           scope == auth::ticket_scope::streams
             ? "the ticket is unknown, used or expired: ask POST "
               ".../stream/ticket for a new one"
             : "the ticket is unknown, used or expired (or not an agent "
               "ticket): ask POST /api/v1/agents/ws/ticket for a new one");
    return false;
  }
  req.ticket_key_hash = std::move(grant->key_hash);
  if (!auth::grants(grant->who.r, needed)) {
    refuse(res, 403, "forbidden", "role", "the ticket's key lacks the role");
    return false;
  }
  return true;
}

} // namespace

bool admit_request(const http_context& ctx, http_request& req,
                   http_response& res) {
  // HEAD is served by the GET handlers. (Not a ?: expression: its common
  // type with a std::string is a temporary std::string.)
  std::string_view method = req.method;
  if (method == "HEAD")
    method = "GET";
  // The edge's head handler has looked it up already.
  auto route = req.route != nullptr ? static_cast<const route_spec*>(req.route)
                                    : find_route(method, req.path);
  if (route == nullptr) {
    auto allow = allowed_methods(req.path);
    if (!allow.empty()) {
      res.set_header("Allow", allow);
      reply_error(res, 405, "method_not_allowed",
                  "no route " + req.method + " " + req.path);
      return false;
    }
    reply_error(res, 404, "not_found",
                "no route " + req.method + " " + req.path);
    return false;
  }
  if (route->access != route_access::role)
    return true;
  auto creds = ctx.credentials->current();
  auto header = req.get_header_value("Authorization");
  if (header.empty()) {
    if (creds->allow_unauthenticated()
        || (route->role == auth::role::viewer && creds->open_reads()))
      return true;
    // A live stream, or a browser agent's socket, opened with a one-time
    // ticket instead of a header.
    if (req.has_param("ticket")) {
      if (is_stream_path(req.path))
        return admit_ticket(ctx, req, route->role, auth::ticket_scope::streams,
                            res);
      if (req.path == agent_socket_path)
        return admit_ticket(ctx, req, route->role,
                            auth::ticket_scope::agent_socket, res);
    }
    ctx.credentials->note_refused("", "missing", req.remote_addr);
    refuse(res, 401, "unauthenticated", "missing",
           message_of(refusal::missing));
    return false;
  }
  auto token = bearer_token(header);
  if (!token) {
    ctx.credentials->note_refused("", "malformed", req.remote_addr);
    refuse(res, 401, "unauthenticated", "malformed",
           message_of(refusal::malformed));
    return false;
  }
  auto now = epoch_ms_now();
  auto result = route->role == auth::role::agent
    ? creds->authenticate_agent_key(*token, now)
    : creds->authenticate(*token, now);
  if (!result) {
    auto reason = auth::to_string(result.why);
    ctx.credentials->note_refused(result.claimed_id, reason, req.remote_addr);
    auto status = result.why == refusal::unavailable ? 503
      : result.why == refusal::wrong_kind            ? 403
                                                     : 401;
    refuse(res, status,
           status == 401     ? "unauthenticated"
             : status == 403 ? "forbidden"
                             : "unavailable",
           reason, message_of(result.why));
    return false;
  }
  auto& who = *result.who;
  if (!auth::grants(who.r, route->role)) {
    ctx.credentials->note_refused(who.id, "forbidden", req.remote_addr);
    refuse(res, 403, "forbidden", "role",
           "this route needs role " + std::string{auth::to_string(route->role)}
             + "; key '" + who.name + "' has role "
             + std::string{auth::to_string(who.r)});
    return false;
  }
  ctx.credentials->note_used(who.id, now);
  return true;
}

std::optional<auth::identity> identity_of(const http_context& ctx,
                                          const http_request& req) {
  auto header = req.get_header_value("Authorization");
  if (auto token = bearer_token(header)) {
    auto result = ctx.credentials->current()->authenticate(*token,
                                                           epoch_ms_now());
    if (result)
      return *result.who;
  }
  return std::nullopt;
}

std::string who_of(const http_context& ctx, const http_request& req) {
  auto header = req.get_header_value("Authorization");
  if (auto token = bearer_token(header)) {
    auto result = ctx.credentials->current()->authenticate(*token,
                                                           epoch_ms_now());
    if (result)
      return result.who->who();
  }
  return "anonymous@" + req.remote_addr;
}

} // namespace streamb
