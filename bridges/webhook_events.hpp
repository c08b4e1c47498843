#pragma once

// What a verified webhook request carries: the provider's events, each with
// the provider's own id (for de-duplication) and type (the webhook
// processor classifies by it).
// Pure functions over the request; the route calls them after verification.

#include "runtime/webhooks/signatures/verify.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace streamb {

struct provider_event {
  /// The provider's id: Stripe `id`, Twilio `MessageSid:status`, SendGrid
  /// `sg_event_id`, Samsara `eventId`, Airtable `webhook.id:timestamp`,
  /// Standard Webhooks `webhook-id`; else `sha256:<hex of the body>`.
  std::string id;
  /// The provider's event type, or empty when it names none.
  std::string type;
  /// The event as delivered: the body, or one event of a SendGrid batch.
  std::string payload;
};

/// The events of one verified request of `scheme`. Usually one; a SendGrid
/// batch gives one per array element. Never empty: a body we cannot parse is
/// one event identified by its hash.
std::vector<provider_event>
extract_events(std::string_view scheme, const signatures::webhook_request& req);

} // namespace streamb
