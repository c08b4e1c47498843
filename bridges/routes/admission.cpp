#include "bridges/ask.hpp"
#include "bridges/http_auth.hpp"
#include "bridges/http_context.hpp"
#include "bridges/json_body.hpp"
#include "bridges/json_response.hpp"
#include "bridges/json_text.hpp"
#include "bridges/routes/routes.hpp"
#include "bridges/status_json.hpp"

#include "runtime/advice/limit_change_json.hpp"
#include "runtime/budget/priority.hpp"
#include "runtime/core/wall_time.hpp"

#include <boost/json/array.hpp>
#include <boost/json/parse.hpp>

#include <cmath>

namespace streamb {

namespace {

namespace json = boost::json;

/// The budget controller of `service`, or null.
const budget_controller_actor* budget_of(const http_context& ctx,
                                         const std::string& service) {
  for (std::size_t i = 0; i < ctx.service_names.size(); ++i)
    if (ctx.service_names[i] == service)
      return &ctx.budgets[i];
  return nullptr;
}

/// The budget controller of the service named in the path, or null after
/// answering 404.
const budget_controller_actor* find_budget(const http_context& ctx,
                                           const http_request& req,
                                           http_response& res) {
  auto service = req.matches[1];
  auto result = budget_of(ctx, service);
  if (result == nullptr)
    reply_error(res, 404, "unknown_service",
                "no service '" + service + "' in the config");
  return result;
}

/// The advisor's current list, or the error. The advisor computes it over
/// every service's windows: it gets twice the usual time.
caf::expected<recommendations> advise(const http_context& ctx) {
  return ask_within<recommendations>(ctx, ctx.ask_timeout * 2, ctx.advisor,
                                     advise_atom_v);
}

/// Reads the admission body; false (and the response set) when it is bad.
bool read_request(const http_request& req, http_response& res,
                  admission_request& out) {
  auto doc = read_json_object(req, res, true);
  if (!doc)
    return false;
  auto& obj = *doc;
  for (auto& [key, value] : obj) {
    if (key == "priority") {
      auto text = value.if_string();
      auto p = text ? budget::parse_priority(*text) : std::nullopt;
      if (!p) {
        reply_error(res, 400, "invalid_argument",
                    "priority must be critical, high, normal or low",
                    "$.priority");
        return false;
      }
      out.priority = *p;
    } else if (key == "units" || key == "waitMs") {
      auto n = value.is_int64() ? value.get_int64()
        : value.is_uint64()     ? static_cast<int64_t>(
            std::min<uint64_t>(value.get_uint64(), INT64_MAX))
                            : -1;
      auto max = key == "units" ? int64_t{1'000'000} : int64_t{60'000};
      auto min = key == "units" ? 1 : 0;
      if (n < min || n > max) {
        reply_error(res, 400, "invalid_argument",
                    std::string{key} + " must be a whole number from "
                      + std::to_string(min) + " to " + std::to_string(max),
                    "$." + std::string{key});
        return false;
      }
      if (key == "units")
        out.units = static_cast<uint64_t>(n);
      else
        out.wait_ms = n;
    } else if (key == "estimatedCostUsd") {
      double x = value.is_double() ? value.get_double()
        : value.is_int64()         ? static_cast<double>(value.get_int64())
                                   : -1;
      if (!(x >= 0 && x <= 1e6)) {
        reply_error(res, 400, "invalid_argument",
                    "estimatedCostUsd must be a number from 0 to 1000000",
                    "$.estimatedCostUsd");
        return false;
      }
      out.cost_micros = std::llround(x * 1e6);
    }
    // Unknown fields are ignored, as for call samples.
  }
  return true;
}

void reply_decision(http_response& res, const admission_decision& d) {
  json::object remaining{{"burst", d.burst_left},
                         {"sustained", d.sustained_left},
                         {"daily", d.daily_left},
                         {"budgetUsd",
                          d.budget_left_micros < 0
                            ? json::value(nullptr)
                            : json::value(usd(d.budget_left_micros))}};
  if (d.granted)
    return reply_json(res, 200,
                      json::object{{"granted", true},
                                   {"grantId", d.grant_id},
                                   {"waitedMs", d.waited_ms},
                                   {"reservedUsd", usd(d.reserved_micros)},
                                   {"remaining", std::move(remaining)}});
  auto status = d.reason == budget::denial_reason::store_unavailable ? 503
                                                                     : 429;
  res.set_header("Retry-After",
                 std::to_string((d.retry_after_ms + 999) / 1000));
  reply_json(res, status,
             json::object{{"granted", false},
                          {"reason", budget::to_string(d.reason)},
                          {"retryAfterMs", d.retry_after_ms}});
}

/// POST /api/v1/admission/{service}: answered from the controller's
/// callback; a request the controller queues for its waitMs holds no
/// thread meanwhile.
void admit(const http_context_ptr& ctx, const http_request& req,
           http_reply reply) {
  http_response res;
  auto budget = find_budget(*ctx, req, res);
  if (budget == nullptr)
    return reply(std::move(res));
  admission_request ar;
  if (!read_request(req, res, ar))
    return reply(std::move(res));
  auto timeout = ctx->ask_timeout + std::chrono::milliseconds{ar.wait_ms};
  ask_then<admission_decision>(
    *ctx, timeout, *budget,
    [reply](caf::expected<admission_decision> d) {
      http_response res;
      if (!d)
        reply_error(res, d.error());
      else
        reply_decision(res, *d);
      reply(std::move(res));
    },
    admit_atom_v, ar);
}

/// POST /api/v1/budgets/{service}/override
void override_budget(const http_context& ctx, const http_request& req,
                     http_response& res) {
  auto budget = find_budget(ctx, req, res);
  if (budget == nullptr)
    return;
  auto obj = read_json_object(req, res);
  if (!obj)
    return;
  auto text = obj->contains("mode") ? obj->at("mode").if_string() : nullptr;
  auto mode = text != nullptr ? budget::parse_budget_override(*text)
                              : std::nullopt;
  if (!mode)
    return reply_error(res, 400, "invalid_argument",
                       "the body must be {\"mode\": \"lift\" | \"force\" | "
                       "\"none\"}",
                       "$.mode");
  auto s = ask<budget_status>(ctx, *budget, override_atom_v, *mode,
                              who_of(ctx, req));
  if (!s)
    return reply_error(res, s.error());
  auto body = to_json(*s);
  body["service"] = req.matches[1];
  reply_json(res, 200, body);
}

/// GET .../cost/analysis
void cost_analysis(const http_context& ctx, const http_request&,
                   http_response& res) {
  std::vector<caf::expected<budget_status>> statuses(
    ctx.budgets.size(), unanswered<budget_status>());
  ask_batch batch{ctx};
  for (std::size_t i = 0; i < ctx.budgets.size(); ++i)
    batch.add(statuses[i], ctx.budgets[i], budget_atom_v);
  batch.wait();
  json::object services;
  for (std::size_t i = 0; i < statuses.size(); ++i) {
    if (!statuses[i])
      return reply_error(res, statuses[i].error());
    services[ctx.service_names[i]] = to_json(*statuses[i]);
  }
  auto recs = advise(ctx);
  if (!recs)
    return reply_error(res, recs.error());
  for (auto& [name, value] : services) {
    json::array mine;
    for (auto& r : *recs)
      if (r.service == name)
        mine.emplace_back(to_json(r));
    value.as_object()["recommendations"] = std::move(mine);
  }
  reply_json(res, 200,
             json::object{{"generatedAt", iso8601_utc(epoch_ms_now())},
                          {"services", std::move(services)}});
}

/// GET .../optimization/recommendations
void list_recommendations(const http_context& ctx, const http_request&,
                          http_response& res) {
  auto recs = advise(ctx);
  if (!recs)
    return reply_error(res, recs.error());
  json::array items;
  for (auto& r : *recs)
    items.emplace_back(to_json(r));
  reply_json(res, 200,
             json::object{{"generatedAt", iso8601_utc(epoch_ms_now())},
                          {"recommendations", std::move(items)}});
}

/// Reads an optimize body (may be empty); false (and the response set) when
/// it is bad.
bool read_optimize(const http_request& req, http_response& res,
                   optimize_request& out) {
  if (req.body.empty())
    return true;
  auto obj = read_json_object(req, res);
  if (!obj)
    return false;
  for (auto& [key, value] : *obj) {
    if (key == "apply") {
      if (!value.is_bool()) {
        reply_error(res, 400, "invalid_argument", "apply must be true or false",
                    "$.apply");
        return false;
      }
      out.apply = value.get_bool();
    } else if (key == "minConfidence") {
      auto x = value.is_number() ? value.to_number<double>() : -1.0;
      if (!(x >= 0 && x <= 1)) {
        reply_error(res, 400, "invalid_argument",
                    "minConfidence must be a number from 0 to 1",
                    "$.minConfidence");
        return false;
      }
      out.min_confidence = x;
    } else if (key == "ids") {
      auto arr = value.if_array();
      bool ok = arr != nullptr && !arr->empty() && arr->size() <= 100;
      for (std::size_t i = 0; ok && i < arr->size(); ++i) {
        auto id = (*arr)[i].if_string();
        ok = id != nullptr && !id->empty() && id->size() <= 200;
        if (ok)
          out.ids.emplace_back(*id);
      }
      if (!ok) {
        reply_error(res, 400, "invalid_argument",
                    "ids must be 1 to 100 recommendation ids", "$.ids");
        return false;
      }
    } else {
      reply_error(res, 400, "invalid_argument",
                  "unknown field " + std::string{key}
                    + " (apply, minConfidence, ids)",
                  "$." + std::string{key});
      return false;
    }
  }
  return true;
}

/// POST .../cost/optimize: a dry run unless the body says {"apply": true}.
/// The advisor decides which limit changes the recommendations call for and
/// applies those at or above the confidence threshold; this route only
/// renders them, beside the recommendations that are advice only.
void optimize(const http_context& ctx, const http_request& req,
              http_response& res) {
  optimize_request ask_for;
  ask_for.who = who_of(ctx, req);
  if (!read_optimize(req, res, ask_for))
    return;
  // The recommendations as they were before anything was applied.
  auto recs = advise(ctx);
  if (!recs)
    return reply_error(res, recs.error());
  // Applying writes each change to the store and the budget controllers.
  auto changes = ask_within<limit_changes>(
    ctx, ctx.ask_timeout * 4, ctx.advisor, optimize_atom_v, ask_for);
  if (!changes)
    return reply_error(res, changes.error());
  json::array items;
  for (auto& c : *changes)
    items.emplace_back(advice::to_json(c));
  json::array advice_only;
  for (auto& r : *recs)
    if (r.action_type != advice::action_type::set_limit)
      advice_only.emplace_back(to_json(r));
  reply_json(res, 200,
             json::object{{"dryRun", !ask_for.apply},
                          {"changes", std::move(items)},
                          {"advice", std::move(advice_only)}});
}

/// POST .../cost/optimize/undo
void undo_optimize(const http_context& ctx, const http_request& req,
                   http_response& res) {
  auto obj = read_json_object(req, res);
  if (!obj)
    return;
  auto id = obj->contains("changeId") ? obj->at("changeId").if_string()
                                      : nullptr;
  if (id == nullptr || id->empty() || id->size() > 64)
    return reply_error(res, 400, "invalid_argument",
                       "the body must be {\"changeId\": \"chg-...\"}",
                       "$.changeId");
  auto undone = ask_within<limit_change>(ctx, ctx.ask_timeout * 2, ctx.advisor,
                                         undo_atom_v, std::string{*id},
                                         who_of(ctx, req));
  if (!undone)
    return reply_error(res, undone.error());
  reply_json(res, 200, advice::to_json(*undone));
}

/// GET .../cost/optimize/changes
void list_changes(const http_context& ctx, const http_request&,
                  http_response& res) {
  auto xs = ask<limit_changes>(ctx, ctx.advisor, changes_atom_v);
  if (!xs)
    return reply_error(res, xs.error());
  json::array items;
  for (auto& c : *xs)
    items.emplace_back(advice::to_json(c));
  reply_json(res, 200, json::object{{"changes", std::move(items)}});
}

} // namespace

void add_admission_routes(router& r, http_context_ptr ctx) {
  constexpr auto cost = "/api/v1/stream-b-coordination/cost";
  r.add_async("POST", "/api/v1/admission/{service}",
              [ctx](const http_request& req, http_reply reply) {
                admit(ctx, req, std::move(reply));
              });
  r.post("/api/v1/budgets/{service}/override",
         with_context(ctx, override_budget));
  r.get(std::string{cost} + "/analysis", with_context(ctx, cost_analysis));
  r.get("/api/v1/stream-b-coordination/optimization/recommendations",
        with_context(ctx, list_recommendations));
  r.post(std::string{cost} + "/optimize", with_context(ctx, optimize));
  r.post(std::string{cost} + "/optimize/undo",
         with_context(ctx, undo_optimize));
  r.get(std::string{cost} + "/optimize/changes",
        with_context(ctx, list_changes));
}

} // namespace streamb
