// Samsara: `X-Samsara-Signature: v1=<hex>` is HMAC-SHA256, keyed with the
// base64-decoded secret from the dashboard, over "v1:<timestamp>:<body>",
// the timestamp being the `X-Samsara-Timestamp` header as sent.

#include "runtime/core/crypto.hpp"
#include "runtime/core/hex.hpp"
#include "runtime/webhooks/signatures/checks.hpp"
#include "runtime/webhooks/signatures/verify.hpp"

#include <vector>

namespace streamb::signatures {

verdict verify_samsara(const webhook_request& req, const verify_options& opts) {
  auto sig = req.header("X-Samsara-Signature");
  if (absent_or_empty(sig))
    return reject(reason::missing_header,
                  "X-Samsara-Signature header absent or empty");
  auto ts = req.header("X-Samsara-Timestamp");
  if (absent_or_empty(ts))
    return reject(reason::missing_header,
                  "X-Samsara-Timestamp header absent or empty");
  if (sig->compare(0, 3, "v1=") != 0)
    return reject(reason::malformed,
                  "X-Samsara-Signature does not start with v1=");
  // A secret that is not base64 is a configuration error; the SDK answers
  // "not verified", and so do we, before looking at the clock.
  std::vector<std::pair<size_t, std::string>> keys;
  for (size_t i = 0; i < opts.secrets.size(); ++i)
    if (auto key = base64_decode(opts.secrets[i]))
      keys.emplace_back(i, std::move(*key));
  if (keys.empty() && !opts.secrets.empty())
    return reject(reason::bad_signature,
                  "no usable secret: none of "
                    + std::to_string(opts.secrets.size()) + " is base64");
  if (opts.tolerance_s > 0)
    if (auto stale = check_window("X-Samsara-Timestamp", *ts, req.now_s,
                                  opts.tolerance_s))
      return *stale;
  auto given = std::string_view{*sig}.substr(3);
  for (auto& [index, key] : keys) {
    auto mac = hmac_sha256(key, {"v1:", *ts, ":", req.body});
    if (mac && equal_constant_time(to_hex(*mac), given))
      return accept("v1 signature matches "
                    + which_secret(index, opts.secrets.size()));
  }
  return reject(reason::bad_signature,
                "v1 signature does not match "
                  + secrets_phrase(opts.secrets.size()));
}

} // namespace streamb::signatures
