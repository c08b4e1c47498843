#pragma once

// The JSON of the actors' status answers, shared by the routes that show
// them on their own (cost/analysis, agents/status, webhooks/stats, ...) and
// GET .../dashboard, which shows them together.

#include "runtime/messages.hpp"

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <cstdint>
#include <vector>

namespace streamb {

/// part / whole, or null while whole is 0 (a rate of nothing so far).
boost::json::value ratio_or_null(uint64_t part, uint64_t whole);

/// An ISO 8601 UTC time, or null for 0 ("never").
boost::json::value time_or_null(int64_t ms);

/// Spend, budget, state, forecast and admission counts of one budget.
boost::json::object to_json(const budget_status& s);

/// One of the advisor's recommendations with its evidence and action.
boost::json::object to_json(const recommendation& r);

/// One agent as the hub sees it; `now` gives lastHeartbeatAgoMs.
boost::json::object to_json(const agent_status& a, int64_t now);

/// One service's webhook counters since the node started.
boost::json::object to_json(const webhook_stats& x);

/// Every service with a webhook block (zeros before its first webhook),
/// with its counters.
boost::json::object webhooks_by_service(const config& cfg,
                                        const webhook_stats_list& stats);

/// The expected agents (agents.expected) and which are missing.
boost::json::object roster_json(const config& cfg,
                                const std::vector<agent_status>& agents);

/// The agents' findings among `recs`, for one service, in the seed's
/// coordination block: databaseOptimizations, performanceRecommendations,
/// innovationOpportunities.
boost::json::object coordination_block(const recommendations& recs,
                                       const std::string& service);

/// How many agents are active, stale and disconnected.
boost::json::object agents_by_state(const std::vector<agent_status>& agents);

} // namespace streamb
