#pragma once

// The one JSON shape of a service alert: in metrics answers and as the
// payload of its performance_optimization event.

#include "runtime/messages.hpp"

#include <boost/json/object.hpp>

namespace streamb {

boost::json::object alert_to_json(const service_alert& x);

} // namespace streamb
