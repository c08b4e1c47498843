#include "runtime/core/audit.hpp"
#include "bridges/ask.hpp"
#include "bridges/http_context.hpp"
#include "bridges/json_response.hpp"
#include "bridges/routes/routes.hpp"
#include "runtime/core/wall_time.hpp"
#include "runtime/store/write_batch.hpp"

#include <boost/json/array.hpp>

#include <algorithm>

namespace streamb {

namespace {

constexpr uint64_t default_limit = 100;
constexpr uint64_t max_limit = 1000;

boost::json::object to_json(const audit_record& x) {
  return {{"id", x.id},           {"at", iso8601_utc(x.at_ms)},
          {"node", x.node},       {"who", x.who},
          {"action", x.action},   {"subject", x.subject},
          {"outcome", x.outcome}, {"detail", x.detail}};
}

/// Reads `limit` from the query; false (and the response set) when bad.
bool read_limit(const http_request& req, http_response& res, uint64_t& limit) {
  limit = default_limit;
  if (!req.has_param("limit"))
    return true;
  auto text = req.get_param_value("limit");
  if (text.empty() || text.size() > 6
      || text.find_first_not_of("0123456789") != std::string::npos
      || std::stoull(text) == 0 || std::stoull(text) > max_limit) {
    reply_error(res, 400, "invalid_argument",
                "limit must be a number from 1 to " + std::to_string(max_limit),
                "?limit");
    return false;
  }
  limit = std::stoull(text);
  return true;
}

/// The records to answer, in the order they happened.
caf::expected<stream_entries> read_records(const http_context& ctx,
                                           const std::string& since,
                                           uint64_t limit) {
  if (since.empty()) {
    auto newest = ask<stream_entries>(ctx, ctx.store, xrevrange_atom_v,
                                      std::string{audit_stream},
                                      std::string{"+"}, std::string{"-"},
                                      limit);
    if (newest)
      std::reverse(newest->begin(), newest->end());
    return newest;
  }
  // A bare time "ms" means: after every record of that millisecond.
  auto start = "("
    + (since.find('-') == std::string::npos ? since + "-18446744073709551615"
                                            : since);
  return ask<stream_entries>(ctx, ctx.store, xrange_atom_v,
                             std::string{audit_stream}, start, std::string{"+"},
                             limit);
}

/// GET /api/v1/audit[?limit=N][&since=ID]. Without since: the newest `limit`
/// records. With since: the `limit` records after that ID, oldest first, so
/// that a client polls with the `next` it got. Either way the answer is in
/// the order things happened.
void list_audit(const http_context& ctx, const http_request& req,
                http_response& res) {
  uint64_t limit = 0;
  if (!read_limit(req, res, limit))
    return;
  std::string since;
  if (req.has_param("since")) {
    since = req.get_param_value("since");
    if (!store::is_stream_id(since))
      return reply_error(res, 400, "invalid_argument",
                         "since must be a record id such as 1795000000000-0",
                         "?since");
  }
  auto entries = read_records(ctx, since, limit);
  if (!entries)
    return reply_error(res, entries.error());
  boost::json::array records;
  for (auto& e : *entries)
    records.emplace_back(to_json(audit_from_entry(e)));
  auto next = entries->empty() ? since : entries->back().id;
  reply_json(res, 200,
             boost::json::object{{"records", std::move(records)},
                                 {"next", next}});
}

} // namespace

void add_audit_routes(router& r, http_context_ptr ctx) {
  r.get("/api/v1/audit", with_context(ctx, list_audit));
}

} // namespace streamb
