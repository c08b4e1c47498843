#pragma once

// The operator's view in one JSON document: served by GET .../dashboard and
// pushed to live-stream subscribers (topic "dashboard") every
// metrics.dashboard_interval_s.

#include "bridges/routes/routes.hpp"

#include <boost/json/object.hpp>
#include <caf/behavior.hpp>
#include <caf/fwd.hpp>

#include <chrono>
#include <functional>

namespace streamb {

/// Asks every actor the dashboard shows, at once, and runs `done` (in an
/// asker; it must not block) with the document.
void build_dashboard(const http_context_ptr& ctx,
                     std::function<void(boost::json::object)> done);

/// Publishes the dashboard on the live streams every `interval` while at
/// least one subscriber is connected.
caf::behavior dashboard_publisher(caf::event_based_actor* self,
                                  http_context_ptr ctx,
                                  std::chrono::seconds interval);

} // namespace streamb
