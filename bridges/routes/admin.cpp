#include "bridges/http_auth.hpp"
#include "bridges/http_context.hpp"
#include "bridges/json_body.hpp"
#include "bridges/json_response.hpp"
#include "bridges/routes/routes.hpp"
#include "runtime/core/wall_time.hpp"

#include <boost/json/array.hpp>
#include <caf/scoped_actor.hpp>
#include <httplib.h>

namespace streamb {

namespace {

namespace json = boost::json;

/// Bodies of management routes: small, strict JSON objects.
std::optional<json::object> read_body(const httplib::Request& req,
                                      httplib::Response& res,
                                      bool empty_ok = false) {
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

/// Asks the keeper; on an error answers it and returns nullopt.
template <class T, class... Ts>
std::optional<T> ask(const http_context& ctx, httplib::Response& res,
                     Ts&&... xs) {
  caf::scoped_actor self{*ctx.system};
  std::optional<T> out;
  self->request(ctx.keeper, ctx.ask_timeout * 3, std::forward<Ts>(xs)...)
    .receive([&](T& x) { out = std::move(x); },
             [&](caf::error& err) { reply_error(res, err); });
  return out;
}

std::optional<int64_t> read_seconds(const json::object& body, const char* key,
                                    httplib::Response& res) {
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

} // namespace

void add_admin_routes(httplib::Server& srv, http_context_ptr ctx) {
  srv.Get("/api/v1/admin/keys",
          [ctx](const httplib::Request&, httplib::Response& res) {
            auto keys = ask<std::vector<key_view>>(*ctx, res, key_list_atom_v);
            if (!keys)
              return;
            json::array items;
            for (auto& k : *keys)
              items.emplace_back(
                to_json(k.record, k.last_used_ms, k.from_config));
            reply_json(res, 200, json::object{{"keys", std::move(items)}});
          });

  srv.Post("/api/v1/admin/keys",
           [ctx](const httplib::Request& req, httplib::Response& res) {
             auto body = read_body(req, res);
             if (!body)
               return;
             for (auto& kv : *body)
               if (kv.key() != "role" && kv.key() != "name"
                   && kv.key() != "expiresInS")
                 return reply_error(res, 400, "invalid_argument",
                                    "unknown field",
                                    "$." + std::string{kv.key()});
             auto role_text = body->if_contains("role");
             auto r = role_text && role_text->is_string()
               ? auth::parse_role(role_text->get_string())
               : std::nullopt;
             if (!r)
               return reply_error(res, 400, "invalid_argument",
                                  "role must be viewer, reporter, operator, "
                                  "admin or agent",
                                  "$.role");
             auto name = body->if_contains("name");
             if (!name || !name->is_string())
               return reply_error(res, 400, "invalid_argument",
                                  "name must be a string", "$.name");
             auto expires = read_seconds(*body, "expiresInS", res);
             if (!expires)
               return;
             key_request kr{std::string{name->get_string()}, *r, *expires,
                            who_of(*ctx, req)};
             auto made = ask<key_created>(*ctx, res, key_new_atom_v, kr);
             if (!made)
               return;
             auto out = to_json(made->record, 0, false);
             out["key"] = made->key;
             reply_json(res, 201, out);
           });

  srv.Post(R"(/api/v1/admin/keys/([^/]+)/rotate)",
           [ctx](const httplib::Request& req, httplib::Response& res) {
             auto body = read_body(req, res, true);
             if (!body)
               return;
             auto overlap = read_seconds(*body, "overlapS", res);
             if (!overlap)
               return;
             auto made = ask<key_created>(*ctx, res, key_rotate_atom_v,
                                          req.matches[1].str(), *overlap,
                                          who_of(*ctx, req));
             if (!made)
               return;
             auto out = to_json(made->record, 0, false);
             out["key"] = made->key;
             reply_json(res, 200, out);
           });

  srv.Delete(R"(/api/v1/admin/keys/([^/]+))",
             [ctx](const httplib::Request& req, httplib::Response& res) {
               auto revoked = ask<auth::key_record>(*ctx, res,
                                                    key_revoke_atom_v,
                                                    req.matches[1].str(),
                                                    who_of(*ctx, req));
               if (revoked)
                 reply_json(res, 200, to_json(*revoked, 0, false));
             });

  srv.Get(R"(/api/v1/admin/webhooks/([^/]+)/secrets)",
          [ctx](const httplib::Request& req, httplib::Response& res) {
            auto xs = ask<std::vector<auth::secret_record>>(
              *ctx, res, secret_list_atom_v, req.matches[1].str());
            if (!xs)
              return;
            json::array items;
            for (auto& x : *xs)
              items.emplace_back(to_json(x));
            reply_json(res, 200, json::object{{"secrets", std::move(items)}});
          });

  srv.Post(R"(/api/v1/admin/webhooks/([^/]+)/secrets)",
           [ctx](const httplib::Request& req, httplib::Response& res) {
             auto body = read_body(req, res);
             if (!body)
               return;
             auto secret = body->if_contains("secret");
             if (!secret || !secret->is_string() || body->size() != 1)
               return reply_error(res, 400, "invalid_argument",
                                  "the body must be {\"secret\": \"...\"}",
                                  "$.secret");
             auto x = ask<auth::secret_record>(
               *ctx, res, secret_add_atom_v, req.matches[1].str(),
               std::string{secret->get_string()}, who_of(*ctx, req));
             if (x)
               reply_json(res, 201, to_json(*x));
           });

  srv.Delete(R"(/api/v1/admin/webhooks/([^/]+)/secrets/([^/]+))",
             [ctx](const httplib::Request& req, httplib::Response& res) {
               auto x = ask<auth::secret_record>(*ctx, res, secret_del_atom_v,
                                                 req.matches[1].str(),
                                                 req.matches[2].str(),
                                                 who_of(*ctx, req));
               if (x)
                 reply_json(res, 200, to_json(*x));
             });
}

} // namespace streamb
