#include "bridges/call_sample_parser.hpp"
#include "bridges/http_context.hpp"
#include "bridges/json_response.hpp"
#include "bridges/routes/routes.hpp"
#include "runtime/core/wall_time.hpp"

#include <caf/send.hpp>

#include <chrono>

namespace streamb {

namespace {

bool has_media_type(const std::string& header, std::string_view type) {
  // "application/json; charset=utf-8" matches "application/json".
  return header.compare(0, type.size(), type) == 0
    && (header.size() == type.size() || header[type.size()] == ';'
        || header[type.size()] == ' ');
}

/// POST /api/v1/calls
void report_calls(const http_context& ctx, const http_request& req,
                  http_response& res) {
  auto type = req.get_header_value("Content-Type");
  batch_format format;
  if (has_media_type(type, "application/json"))
    format = batch_format::json_array;
  else if (has_media_type(type, "application/x-ndjson"))
    format = batch_format::ndjson;
  else
    return reply_error(res, 415, "unsupported_media_type",
                       "Content-Type must be application/json (an array of "
                       "samples) or application/x-ndjson",
                       "");
  parsed_batch batch;
  if (auto err = parse_call_batch(req.body, format, ctx.service_names,
                                  epoch_ms_now(), batch))
    return reply_error(res, err->status, err->code, err->message, err->path);
  // Reserve room at every monitor the batch touches (waiting while a
  // monitor catches up), or take none: a batch is accepted whole or not
  // at all.
  auto& parts = batch.by_service;
  // In a cluster a batch for a service whose owner cannot be reached is
  // refused whole, before anything is reserved: 202 means it is on its way.
  if (ctx.cluster)
    for (std::size_t i = 0; i < parts.size(); ++i)
      if (!parts[i].empty() && !ctx.cluster->reachable(i)) {
        auto owner = ctx.cluster->owner(i);
        res.set_header("Retry-After", "1");
        return reply_error(
          res, 503, "unavailable",
          "no node that owns '" + ctx.service_names[i] + "' is reachable"
            + (owner.node.empty() ? std::string{}
                                  : " (owner '" + owner.node + "')")
            + "; retry later",
          "");
      }
  auto deadline = std::chrono::steady_clock::now() + ctx.ask_timeout;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    if (parts[i].empty() || ctx.backlogs[i]->reserve(parts[i].size(), deadline))
      continue;
    for (std::size_t j = 0; j < i; ++j)
      if (!parts[j].empty())
        ctx.backlogs[j]->release(parts[j].size());
    res.set_header("Retry-After", "1");
    return reply_error(
      res, 503, "overloaded",
      "the monitor of '" + ctx.service_names[i] + "' is behind by "
        + std::to_string(ctx.backlogs[i]->queued()) + " samples; retry later",
      "");
  }
  // Fire-and-forget into the monitors' mailboxes: 202 means "accepted for
  // processing", and a monitor never rejects a validated sample.
  for (std::size_t i = 0; i < parts.size(); ++i)
    if (!parts[i].empty())
      caf::anon_send(ctx.monitors[i], record_atom_v, std::move(parts[i]));
  reply_json(res, 202, boost::json::object{{"accepted", batch.total}});
}

} // namespace

void add_call_routes(router& r, http_context_ptr ctx) {
  r.post("/api/v1/calls", with_context(ctx, report_calls));
}

} // namespace streamb
