#pragma once

// What HTTP delivery endpoints receive: the JSON body of a coordination
// event or of a verified provider webhook (docs/deliveries.md).

#include "runtime/messages.hpp"

namespace streamb {

/// {"kind":"event","event":{id,type,priority,source,createdAt,target,
/// payload}}; the webhook-id is the event's id.
outbound_message outbound_event(const coordination_event& ev);

/// {"kind":"webhook","webhook":{id,service,type,critical,receivedAt,
/// payload}}; the webhook-id is "<service>:<provider's event id>".
outbound_message outbound_webhook(const webhook_event& wh);

} // namespace streamb
