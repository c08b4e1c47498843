#include "bridges/ask.hpp"
#include "bridges/http_auth.hpp"
#include "bridges/http_context.hpp"
#include "bridges/json_body.hpp"
#include "bridges/json_response.hpp"
#include "bridges/routes/routes.hpp"
#include "runtime/core/wall_time.hpp"

#include <boost/json/array.hpp>

namespace streamb {

namespace {

namespace json = boost::json;

/// Bodies of management routes: small, strict JSON objects.
std::optional<json::object>
read_body(const http_request& req, http_response& res, bool empty_ok = false) {
  if (req.body.size() > 64 * 1024) {
    reply_error(res, 413, "too_large",
                "management bodies are limited to 64 KiB");
    return std::nullopt;
  }
  return read_json_object(req, res, empty_ok);
}

json::value time_or_null(int64_t ms) {
  return ms > 0 ? json::value(iso8601_utc(ms)) : json::value(nullptr);
}

json::object to_json(const auth::key_record& k, int64_t last_used_ms,
                     bool from_config) {
  auto now = epoch_ms_now();
  json::object o{
    {"id", k.id},
    {"name", k.name},
    {"role", auth::to_string(k.r)},
    {"source", from_config ? "config" : "managed"},
    {"state", from_config ? "active" : auth::to_string(auth::state_of(k, now))},
    {"createdAt", time_or_null(k.created_ms)},
    {"expiresAt", time_or_null(k.expires_ms)},
    {"revokedAt", time_or_null(k.revoked_ms)},
    {"lastUsedAt", time_or_null(last_used_ms)}};
  if (k.previous_until_ms > now)
    o["previousKeyValidUntil"] = iso8601_utc(k.previous_until_ms);
  return o;
}

json::object to_json(const auth::secret_record& x) {
  return {{"id", x.id},
          {"service", x.service},
          {"state", x.retired_ms != 0 ? "retired" : "active"},
          {"createdAt", time_or_null(x.created_ms)},
          {"retiredAt", time_or_null(x.retired_ms)},
          {"createdBy", x.created_by}};
}

/// The keeper writes to the store before it answers, and a rotation
/// re-encrypts: it gets three times the usual wait.
std::chrono::milliseconds keeper_timeout(const http_context& ctx) {
  return ctx.ask_timeout * 3;
}

std::optional<int64_t> read_seconds(const json::object& body, const char* key,
                                    http_response& res) {
  auto v = body.if_contains(key);
  if (v == nullptr)
    return int64_t{0};
  if (auto i = v->if_int64(); i && *i > 0)
    return *i;
  if (auto u = v->if_uint64(); u && *u > 0 && *u < (uint64_t{1} << 40))
    return static_cast<int64_t>(*u);
  reply_error(res, 400, "invalid_argument",
              std::string{key} + " must be a positive number of seconds",
              std::string{"$."} + key);
  return std::nullopt;
}

/// Answers 201 (created) or 200 with the record and the new key, which is
/// shown this once.
void reply_key(http_response& res, int status, const key_created& made) {
  auto out = to_json(made.record, 0, false);
  out["key"] = made.key;
  reply_json(res, status, out);
}

/// GET /api/v1/admin/keys
void list_keys(const http_context& ctx, const http_request&,
               http_response& res) {
  auto keys = ask_within<std::vector<key_view>>(ctx, keeper_timeout(ctx),
                                                ctx.keeper, key_list_atom_v);
  if (!keys)
    return reply_error(res, keys.error());
  json::array items;
  for (auto& k : *keys)
    items.emplace_back(to_json(k.record, k.last_used_ms, k.from_config));
  reply_json(res, 200, json::object{{"keys", std::move(items)}});
}

/// POST /api/v1/admin/keys
void create_key(const http_context& ctx, const http_request& req,
                http_response& res) {
  auto body = read_body(req, res);
  if (!body)
    return;
  for (auto& kv : *body)
    if (kv.key() != "role" && kv.key() != "name" && kv.key() != "expiresInS")
      return reply_error(res, 400, "invalid_argument", "unknown field",
                         "$." + std::string{kv.key()});
  auto role_text = body->if_contains("role");
  auto r = role_text && role_text->is_string()
    ? auth::parse_role(role_text->get_string())
    : std::nullopt;
  if (!r)
    return reply_error(res, 400, "invalid_argument",
                       "role must be viewer, reporter, operator, admin or "
                       "agent",
                       "$.role");
  auto name = body->if_contains("name");
  if (!name || !name->is_string())
    return reply_error(res, 400, "invalid_argument", "name must be a string",
                       "$.name");
  auto expires = read_seconds(*body, "expiresInS", res);
  if (!expires)
    return;
  key_request kr{std::string{name->get_string()}, *r, *expires,
                 who_of(ctx, req)};
  auto made = ask_within<key_created>(ctx, keeper_timeout(ctx), ctx.keeper,
                                      key_new_atom_v, kr);
  if (!made)
    return reply_error(res, made.error());
  reply_key(res, 201, *made);
}

/// POST /api/v1/admin/keys/{id}/rotate
void rotate_key(const http_context& ctx, const http_request& req,
                http_response& res) {
  auto body = read_body(req, res, true);
  if (!body)
    return;
  auto overlap = read_seconds(*body, "overlapS", res);
  if (!overlap)
    return;
  auto made = ask_within<key_created>(ctx, keeper_timeout(ctx), ctx.keeper,
                                      key_rotate_atom_v, req.matches[1],
                                      *overlap, who_of(ctx, req));
  if (!made)
    return reply_error(res, made.error());
  reply_key(res, 200, *made);
}

/// DELETE /api/v1/admin/keys/{id}
void revoke_key(const http_context& ctx, const http_request& req,
                http_response& res) {
  auto revoked = ask_within<auth::key_record>(ctx, keeper_timeout(ctx),
                                              ctx.keeper, key_revoke_atom_v,
                                              req.matches[1], who_of(ctx, req));
  if (!revoked)
    return reply_error(res, revoked.error());
  reply_json(res, 200, to_json(*revoked, 0, false));
}

/// GET /api/v1/admin/webhooks/{service}/secrets
void list_secrets(const http_context& ctx, const http_request& req,
                  http_response& res) {
  auto xs = ask_within<std::vector<auth::secret_record>>(
    ctx, keeper_timeout(ctx), ctx.keeper, secrets_atom_v, req.matches[1]);
  if (!xs)
    return reply_error(res, xs.error());
  json::array items;
  for (auto& x : *xs)
    items.emplace_back(to_json(x));
  reply_json(res, 200, json::object{{"secrets", std::move(items)}});
}

/// POST /api/v1/admin/webhooks/{service}/secrets
void add_secret(const http_context& ctx, const http_request& req,
                http_response& res) {
  auto body = read_body(req, res);
  if (!body)
    return;
  auto secret = body->if_contains("secret");
  if (!secret || !secret->is_string() || body->size() != 1)
    return reply_error(res, 400, "invalid_argument",
                       "the body must be {\"secret\": \"...\"}", "$.secret");
  auto x = ask_within<auth::secret_record>(ctx, keeper_timeout(ctx), ctx.keeper,
                                           secret_add_atom_v, req.matches[1],
                                           std::string{secret->get_string()},
                                           who_of(ctx, req));
  if (!x)
    return reply_error(res, x.error());
  reply_json(res, 201, to_json(*x));
}

/// DELETE /api/v1/admin/webhooks/{service}/secrets/{id}
void retire_secret(const http_context& ctx, const http_request& req,
                   http_response& res) {
  auto x = ask_within<auth::secret_record>(ctx, keeper_timeout(ctx), ctx.keeper,
                                           retire_atom_v, req.matches[1],
                                           req.matches[2], who_of(ctx, req));
  if (!x)
    return reply_error(res, x.error());
  reply_json(res, 200, to_json(*x));
}

} // namespace

void add_admin_routes(router& r, http_context_ptr ctx) {
  constexpr auto keys = "/api/v1/admin/keys";
  constexpr auto secrets = "/api/v1/admin/webhooks/{service}/secrets";
  r.get(keys, with_context(ctx, list_keys));
  r.post(keys, with_context(ctx, create_key));
  r.post(std::string{keys} + "/{id}/rotate", with_context(ctx, rotate_key));
  r.del(std::string{keys} + "/{id}", with_context(ctx, revoke_key));
  r.get(secrets, with_context(ctx, list_secrets));
  r.post(secrets, with_context(ctx, add_secret));
  r.del(std::string{secrets} + "/{id}", with_context(ctx, retire_secret));
}

} // namespace streamb
