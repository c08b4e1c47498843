#include "runtime/metrics/alert_json.hpp"

#include "runtime/core/wall_time.hpp"

namespace streamb {

boost::json::object alert_to_json(const service_alert& x) {
  boost::json::object out{{"service", x.service},
                          {"metric", to_string(x.metric)},
                          {"kind", to_string(x.kind)},
                          {"state", to_string(x.state)},
                          {"value", x.value},
                          {"threshold", x.threshold},
                          {"active", x.active},
                          {"since", iso8601_utc(x.since_ms)},
                          {"sinceMs", x.since_ms},
                          {"priority", budget::to_string(x.priority)}};
  if (x.kind == alert_kind::anomaly)
    out["expected"] = boost::json::object{{"low", x.expected_low},
                                          {"mean", x.expected_mean},
                                          {"high", x.expected_high}};
  return out;
}

} // namespace streamb
