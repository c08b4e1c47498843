#include "bridges/ask.hpp"
#include "bridges/http_context.hpp"
#include "bridges/json_response.hpp"
#include "bridges/json_text.hpp"
#include "bridges/metrics_json.hpp"
#include "bridges/routes/routes.hpp"
#include "runtime/core/wall_time.hpp"
#include "runtime/metrics/metric_rollup.hpp"

#include <boost/json/array.hpp>

#include <charconv>

namespace streamb {

namespace {

/// At most this many roll-ups in one answer; a client pages with ?from=.
constexpr uint64_t max_rollups = 10000;

int64_t field_integer(const store::field_list& xs, const char* name) {
  auto value = store::find_field(xs, name);
  int64_t result = 0;
  std::from_chars(value.data(), value.data() + value.size(), result);
  return result;
}

/// A time parameter, or `fallback` when absent; nullopt (and the response
/// set) when malformed.
std::optional<int64_t> time_param(const http_request& req, http_response& res,
                                  const char* name, int64_t fallback) {
  if (!req.has_param(name))
    return fallback;
  auto t = parse_time(req.get_param_value(name));
  if (!t)
    reply_error(res, 400, "invalid_argument",
                std::string{name}
                  + " must be epoch milliseconds or YYYY-MM-DDTHH:MM:SS[.mmm]Z",
                std::string{"?"} + name);
  return t;
}

/// The roll-ups whose period starts in [from, to], at most max_rollups;
/// `truncated` says whether there were more.
boost::json::array rollups_to_json(const stream_entries& entries, int64_t from,
                                   int64_t to, bool& truncated) {
  boost::json::array rollups;
  truncated = false;
  for (auto& e : entries) {
    auto x = rollup_from_fields(e.fields);
    if (!x || x->start_ms < from || x->start_ms > to)
      continue;
    if (rollups.size() == max_rollups) {
      truncated = true;
      break;
    }
    rollups.emplace_back(to_json(*x));
  }
  return rollups;
}

boost::json::object month_to_json(const std::string& month,
                                  const store::field_list& fields) {
  auto spend = field_integer(fields, "spend_micros");
  return {{"month", month},
          {"calls", field_integer(fields, "calls")},
          {"errors", field_integer(fields, "errors")},
          {"spendMicros", spend},
          {"spendUsd", usd(spend)}};
}

/// GET .../metrics/history?service=S[&from=T][&to=T]
void get_history(const http_context& ctx, const http_request& req,
                 http_response& res) {
  if (!req.has_param("service"))
    return reply_error(res, 400, "invalid_argument", "service is required",
                       "?service");
  auto service = req.get_param_value("service");
  if (ctx.cfg.find_service(service) == nullptr)
    return reply_error(res, 404, "unknown_service",
                       "no service '" + service + "' in the config",
                       "?service");
  auto now = epoch_ms_now();
  auto retention_ms = int64_t{ctx.cfg.metrics.retention_h} * 3600 * 1000;
  auto to = time_param(req, res, "to", now);
  if (!to)
    return;
  auto from = time_param(req, res, "from", *to - retention_ms);
  if (!from)
    return;
  if (*from > *to)
    return reply_error(res, 400, "invalid_argument",
                       "from must not be after to", "?from");
  *from = std::max<int64_t>(*from, 0);
  // Entries get their ID when written, at the end of their period (or
  // later, after a store outage): search from `from` to a period and a
  // margin past `to`, then keep the periods that start in [from, to].
  auto period_ms = int64_t{ctx.cfg.metrics.rollup_interval_s} * 1000;
  auto margin_ms = period_ms + 5 * 60 * 1000;
  auto end_id = *to > INT64_MAX - margin_ms ? std::string{"+"}
                                            : std::to_string(*to + margin_ms);
  auto month = utc_month(now);
  auto entries = unanswered<stream_entries>();
  auto usage = unanswered<store::field_list>();
  ask_batch batch{ctx};
  batch.add(entries, ctx.store, xrange_atom_v, history_stream(service),
            std::to_string(*from), end_id, uint64_t{0});
  batch.add(usage, ctx.store, hgetall_atom_v, usage_key(service, month));
  batch.wait();
  if (!entries)
    return reply_error(res, entries.error());
  if (!usage)
    return reply_error(res, usage.error());
  bool truncated = false;
  auto rollups = rollups_to_json(*entries, *from, *to, truncated);
  reply_json(
    res, 200,
    boost::json::object{{"service", service},
                        {"from", iso8601_utc(*from)},
                        {"to", iso8601_utc(*to)},
                        {"periodSeconds", ctx.cfg.metrics.rollup_interval_s},
                        {"retentionHours", ctx.cfg.metrics.retention_h},
                        {"rollups", std::move(rollups)},
                        {"truncated", truncated},
                        {"monthToDate", month_to_json(month, *usage)}});
}

} // namespace

void add_history_routes(router& r, http_context_ptr ctx) {
  r.get("/api/v1/stream-b-coordination/metrics/history",
        with_context(ctx, get_history));
}

} // namespace streamb
