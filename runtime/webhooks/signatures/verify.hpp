#pragma once

// Webhook signature verification: one pure function per provider scheme.
// The rules, and the vectors every verifier must pass, are in
// shared/webhook-vectors/ (README.md, vectors.json). Each verifier accepts
// several active secrets (rotation: valid when any verifies), enforces the
// timestamp tolerance where the scheme has one, compares in constant time,
// and on rejection returns the reason of the first failing check. Verdicts
// and their details never contain a secret or a signature.

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace streamb::signatures {

enum class reason : uint8_t {
  none = 0, // valid
  missing_header,
  malformed,
  bad_signature,
  expired,
  future,
};

/// "missing_header", "malformed", ...; "none" for a valid verdict.
const char* to_string(reason x);

struct verdict {
  bool valid = false;
  signatures::reason why = reason::none;
  /// One line for logs and the operator (which check failed, on what);
  /// never a secret, a signature or the body.
  std::string detail;
};

/// A request as the node received it.
struct webhook_request {
  std::string method = "POST";
  /// The full URL as the provider called it (scheme, host, optional port,
  /// path, query); Twilio signs it.
  std::string url;
  /// Names as received; lookups are case-insensitive.
  std::vector<std::pair<std::string, std::string>> headers;
  std::string_view body;
  /// Unix seconds the verifier treats as now.
  int64_t now_s = 0;

  /// The first header named `name` (any case), or nullptr.
  const std::string* header(std::string_view name) const;
};

struct verify_options {
  /// Active secrets as the provider hands them out (`whsec_…`, an auth
  /// token, base64 for Samsara and Airtable); for SendGrid the verification
  /// keys (base64 of the DER SubjectPublicKeyInfo).
  std::vector<std::string> secrets;
  /// Freshness window in seconds where the scheme has a timestamp; 0 turns
  /// the check off.
  uint32_t tolerance_s = 300;
};

verdict verify_stripe(const webhook_request& req, const verify_options& opts);
verdict verify_twilio(const webhook_request& req, const verify_options& opts);
verdict verify_sendgrid(const webhook_request& req, const verify_options& opts);
verdict verify_samsara(const webhook_request& req, const verify_options& opts);
verdict verify_airtable(const webhook_request& req, const verify_options& opts);
verdict verify_standard_webhooks(const webhook_request& req,
                                 const verify_options& opts);

/// The verifier of a scheme by name: "stripe", "twilio", "sendgrid",
/// "samsara", "airtable", "standard" (alias "standard_webhooks"); nullptr
/// for anything else.
using verifier = verdict (*)(const webhook_request&, const verify_options&);
verifier find_verifier(std::string_view scheme);

} // namespace streamb::signatures
