#include "runtime/advice/limit_change_json.hpp"

#include "runtime/core/wall_time.hpp"

#include <boost/json.hpp>

namespace streamb::advice {

namespace json = boost::json;

json::object to_json(const limit_change& x) {
  json::object evidence;
  for (auto& [name, value] : x.evidence)
    evidence[name] = value;
  json::object out{
    {"service", x.service},       {"limit", budget::to_string(x.limit)},
    {"before", x.before},         {"after", x.after},
    {"confidence", x.confidence}, {"recommendationId", x.recommendation_id},
    {"rationale", x.rationale},   {"evidence", std::move(evidence)},
    {"status", to_string(x.status)}};
  if (!x.id.empty())
    out["changeId"] = x.id;
  if (!x.reason.empty())
    out["reason"] = x.reason;
  if (x.at_ms > 0) {
    out["at"] = iso8601_utc(x.at_ms);
    out["atMs"] = x.at_ms;
  }
  if (!x.who.empty())
    out["who"] = x.who;
  return out;
}

std::optional<limit_change> limit_change_from_json(std::string_view text) {
  boost::system::error_code ec;
  auto v = json::parse(text, ec);
  if (ec || !v.is_object())
    return std::nullopt;
  auto& o = v.as_object();
  auto str = [&](const char* key) -> std::string {
    auto p = o.if_contains(key);
    return p && p->is_string() ? std::string{p->as_string()} : std::string{};
  };
  auto num = [&](const char* key) -> double {
    auto p = o.if_contains(key);
    if (p == nullptr)
      return 0;
    if (p->is_double())
      return p->get_double();
    if (p->is_int64())
      return static_cast<double>(p->get_int64());
    if (p->is_uint64())
      return static_cast<double>(p->get_uint64());
    return 0;
  };
  limit_change x;
  x.id = str("changeId");
  x.service = str("service");
  auto limit = budget::parse_limit_tier(str("limit"));
  auto status = parse_change_status(str("status"));
  x.before = static_cast<uint64_t>(num("before"));
  x.after = static_cast<uint64_t>(num("after"));
  x.confidence = num("confidence");
  x.recommendation_id = str("recommendationId");
  x.rationale = str("rationale");
  x.reason = str("reason");
  x.at_ms = static_cast<int64_t>(num("atMs"));
  x.who = str("who");
  if (auto e = o.if_contains("evidence"); e && e->is_object())
    for (auto& kv : e->as_object())
      if (kv.value().is_number())
        x.evidence.emplace_back(std::string{kv.key()},
                                kv.value().to_number<double>());
  if (x.id.empty() || x.service.empty() || !status || !limit
      || *limit == budget::limit_tier::burst)
    return std::nullopt;
  x.limit = *limit;
  x.status = *status;
  return x;
}

} // namespace streamb::advice
