#pragma once

// Signing for the node as a sender (deliveries to HTTP endpoints, issue 16):
// Standard Webhooks 1.0, so that receivers verify with the official
// libraries. The same MAC as verify_standard_webhooks computes.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace streamb::signatures {

/// The headers of one signed delivery.
struct standard_webhooks_headers {
  std::string id;        // webhook-id
  std::string timestamp; // webhook-timestamp (unix seconds)
  std::string signature; // webhook-signature: "v1,<base64 HMAC-SHA256>"
};

/// Signs `body` sent as `id` at `timestamp_s` with `secret` ("whsec_" and
/// base64, or base64 alone); nullopt when the secret is not base64.
std::optional<standard_webhooks_headers>
sign_standard_webhooks(std::string_view secret, std::string_view id,
                       int64_t timestamp_s, std::string_view body);

} // namespace streamb::signatures
