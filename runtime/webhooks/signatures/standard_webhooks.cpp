// Standard Webhooks 1.0 (Svix and others): `webhook-signature` is a
// space-separated list of `<version>,<base64>`; the v1 entries are
// HMAC-SHA256 over "<webhook-id>.<webhook-timestamp>.<body>", keyed with the
// base64 decoding of the secret after an optional `whsec_` prefix. Several
// v1 entries appear while the sender rotates its secret.

#include "runtime/core/crypto.hpp"
#include "runtime/webhooks/signatures/checks.hpp"
#include "runtime/webhooks/signatures/sign.hpp"
#include "runtime/webhooks/signatures/verify.hpp"

#include <vector>

namespace streamb::signatures {

namespace {

/// The base64 v1 MAC of one message, or nullopt when `secret` (after an
/// optional whsec_ prefix) is not base64.
std::optional<std::string> v1_mac(std::string_view secret, std::string_view id,
                                  std::string_view timestamp,
                                  std::string_view body) {
  if (secret.substr(0, 6) == "whsec_")
    secret.remove_prefix(6);
  auto key = base64_decode(secret);
  if (!key)
    return std::nullopt;
  auto mac = hmac_sha256(*key, {id, ".", timestamp, ".", body});
  if (!mac)
    return std::nullopt;
  return base64_encode(*mac);
}

} // namespace

std::optional<standard_webhooks_headers>
sign_standard_webhooks(std::string_view secret, std::string_view id,
                       int64_t timestamp_s, std::string_view body) {
  auto ts = std::to_string(timestamp_s);
  auto mac = v1_mac(secret, id, ts, body);
  if (!mac)
    return std::nullopt;
  return standard_webhooks_headers{std::string{id}, ts, "v1," + *mac};
}

verdict verify_standard_webhooks(const webhook_request& req,
                                 const verify_options& opts) {
  auto id = req.header("webhook-id");
  auto ts = req.header("webhook-timestamp");
  auto sig = req.header("webhook-signature");
  for (auto [value, name] :
       {std::pair{id, "webhook-id"}, std::pair{ts, "webhook-timestamp"},
        std::pair{sig, "webhook-signature"}})
    if (absent_or_empty(value))
      return reject(reason::missing_header,
                    std::string{name} + " header absent or empty");
  auto seconds = parse_unix_seconds(*ts);
  if (!seconds)
    return reject(reason::malformed, "webhook-timestamp is not unix seconds");
  if (opts.tolerance_s > 0)
    if (auto stale = check_window("webhook-timestamp", *ts, req.now_s,
                                  opts.tolerance_s))
      return *stale;
  // The v1 values, compared as base64 text like the JavaScript library.
  std::vector<std::string_view> v1;
  std::string_view rest = *sig;
  while (!rest.empty()) {
    auto space = rest.find(' ');
    auto entry = rest.substr(0, space);
    rest = space == std::string_view::npos ? std::string_view{}
                                           : rest.substr(space + 1);
    auto comma = entry.find(',');
    if (comma != std::string_view::npos && entry.substr(0, comma) == "v1")
      v1.push_back(entry.substr(comma + 1));
  }
  // The libraries sign the parsed integer, so "0042" signs "42".
  auto signed_ts = std::to_string(*seconds);
  size_t usable = 0;
  for (size_t i = 0; i < opts.secrets.size(); ++i) {
    auto expected = v1_mac(opts.secrets[i], *id, signed_ts, req.body);
    if (!expected)
      continue;
    ++usable;
    for (auto given : v1)
      if (equal_constant_time(*expected, given))
        return accept("v1 signature matches "
                      + which_secret(i, opts.secrets.size()));
  }
  if (usable == 0 && !opts.secrets.empty())
    return reject(reason::bad_signature,
                  "no usable secret: none of "
                    + std::to_string(opts.secrets.size())
                    + " is base64 after an optional whsec_ prefix");
  return reject(reason::bad_signature,
                "no v1 signature (of " + std::to_string(v1.size())
                  + ") matches " + secrets_phrase(opts.secrets.size()));
}

} // namespace streamb::signatures
