#pragma once

// JSON shapes of metrics, in DESIGN.md's APIPerformanceMetrics field names.

#include "runtime/messages.hpp"
#include "runtime/metrics/metric_rollup.hpp"

#include <boost/json/object.hpp>

namespace streamb {

boost::json::object to_json(const service_metrics& x);

boost::json::object to_json(const service_alert& x);

/// One entry of a service's metric history.
boost::json::object to_json(const metric_rollup& x);

} // namespace streamb
