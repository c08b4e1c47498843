// Airtable: `X-Airtable-Content-MAC: hmac-sha256=<hex>`, HMAC-SHA256 of the
// raw body keyed with the base64-decoded `macSecretBase64` of the webhook.
// The whole header value is compared, prefix included.

#include "runtime/core/crypto.hpp"
#include "runtime/core/hex.hpp"
#include "runtime/webhooks/signatures/checks.hpp"
#include "runtime/webhooks/signatures/verify.hpp"

namespace streamb::signatures {

verdict verify_airtable(const webhook_request& req,
                        const verify_options& opts) {
  static constexpr std::string_view prefix = "hmac-sha256=";
  auto mac_header = req.header("X-Airtable-Content-MAC");
  // Only absence is missing_header: an empty value lacks the prefix.
  if (mac_header == nullptr)
    return reject(reason::missing_header,
                  "X-Airtable-Content-MAC header absent");
  if (mac_header->compare(0, prefix.size(), prefix) != 0)
    return reject(reason::malformed,
                  "X-Airtable-Content-MAC does not start with hmac-sha256=");
  size_t usable = 0;
  for (size_t i = 0; i < opts.secrets.size(); ++i) {
    auto key = base64_decode(opts.secrets[i]);
    if (!key)
      continue;
    ++usable;
    auto mac = hmac_sha256(*key, {req.body});
    if (mac
        && equal_constant_time(std::string{prefix} + to_hex(*mac), *mac_header))
      return accept("content MAC matches "
                    + which_secret(i, opts.secrets.size()));
  }
  if (usable == 0 && !opts.secrets.empty())
    return reject(reason::bad_signature,
                  "no usable secret: none of "
                    + std::to_string(opts.secrets.size()) + " is base64");
  return reject(reason::bad_signature,
                "content MAC does not match "
                  + secrets_phrase(opts.secrets.size()));
}

} // namespace streamb::signatures
