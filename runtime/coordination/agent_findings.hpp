#pragma once

// What an agent's answer says for the operator: an answer's JSON payload
// may carry `findings` or `recommendations`, each a title or an object
// {service, category, title, detail}. They join the node's recommendations
// and the dashboard's coordination block with the agent and event as
// their source.

#include "runtime/messages.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace streamb {

/// At most this many findings per answer; the rest are dropped.
constexpr std::size_t max_findings_per_answer = 20;

/// The findings of one answer of `agent` to `ev`, at `at_ms`. A finding
/// without a service takes the event payload's `service`; one naming a
/// service not in `services` is dropped, as is one without a title. A
/// category other than database, performance or innovation (or none)
/// follows the event type. Titles and details are cut at 200 and 2000
/// bytes. Not JSON, or no such keys: none.
agent_findings findings_in_answer(std::string_view payload,
                                  const coordination_event& ev,
                                  const std::string& agent,
                                  const std::vector<std::string>& services,
                                  int64_t at_ms);

} // namespace streamb
