#pragma once

// The hub's observer: turns what the hub hears into live-stream events
// (topics alert, cost_alert, budget, frontend_update, coordination, agent,
// finding) and hands agents' findings to the advisor.

#include "bridges/routes/routes.hpp"
#include "runtime/messages.hpp"

#include <boost/json/value.hpp>

#include <string>

namespace streamb {

/// The stream topic of an event the hub took: alert (from a monitor),
/// budget (a budget mode change), cost_alert, frontend_update, or
/// coordination for every other type.
std::string topic_of(const coordination_event& ev,
                     const boost::json::value& payload);

hub_observer_actor::behavior_type live_events(hub_observer_actor::pointer self,
                                              http_context_ptr ctx);

} // namespace streamb
