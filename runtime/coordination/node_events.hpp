#pragma once

// The coordination events the node makes itself, from a verified webhook
// and from a service monitor's alert.

#include "runtime/messages.hpp"

#include <cstdint>
#include <string_view>

namespace streamb {

/// The type of the events webhook_as_event makes.
inline constexpr std::string_view webhook_event_type = "webhook";

/// Event "webhook:<id>" of type webhook: critical when the webhook is,
/// else normal; the payload wraps the provider's body (as JSON when it
/// parses) with the webhook's id, service, type and attempt.
coordination_event webhook_as_event(const webhook_event& wh, int64_t now_ms);

/// A performance_optimization event at the alert's priority (raised at
/// normal, escalated while open); anomalies carry their expected range.
coordination_event alert_as_event(const service_alert& x);

} // namespace streamb
