// Stripe: `Stripe-Signature: t=<unix s>,v1=<hex>[,v1=<hex>…][,v0=…]`, the v1
// values being HMAC-SHA256 of "<t>.<body>" keyed with the `whsec_…` string
// itself. Stripe lists several v1 values while the sender rotates its secret.

#include "runtime/core/crypto.hpp"
#include "runtime/core/hex.hpp"
#include "runtime/webhooks/signatures/checks.hpp"
#include "runtime/webhooks/signatures/verify.hpp"

#include <vector>

namespace streamb::signatures {

verdict verify_stripe(const webhook_request& req, const verify_options& opts) {
  auto header = req.header("Stripe-Signature");
  if (absent_or_empty(header))
    return reject(reason::missing_header,
                  "Stripe-Signature header absent or empty");
  // stripe-node refuses an empty payload before looking at the signature.
  if (req.body.empty())
    return reject(reason::malformed, "empty body");
  // Items split on ',' then '='; keys compared exactly, as the SDKs do (so
  // " v1" after ", " is not "v1"). The value ends at a further '=', which
  // is what both SDKs' split() keep as the second field. The first t wins.
  std::optional<std::string_view> t;
  std::vector<std::string_view> v1;
  std::string_view rest = *header;
  while (!rest.empty()) {
    auto comma = rest.find(',');
    auto item = rest.substr(0, comma);
    rest = comma == std::string_view::npos ? std::string_view{}
                                           : rest.substr(comma + 1);
    auto eq = item.find('=');
    if (eq == std::string_view::npos)
      continue;
    auto key = item.substr(0, eq);
    auto value = item.substr(eq + 1);
    value = value.substr(0, value.find('='));
    if (key == "t" && !t)
      t = value;
    else if (key == "v1")
      v1.push_back(value);
  }
  if (!t)
    return reject(reason::malformed, "Stripe-Signature has no t= item");
  auto ts = parse_unix_seconds(*t);
  if (!ts)
    return reject(reason::malformed, "Stripe-Signature t= is not unix seconds");
  if (v1.empty())
    return reject(reason::malformed, "Stripe-Signature has no v1= signature");
  // The SDKs sign the parsed integer, so "t=0042" signs "42.".
  auto prefix = std::to_string(*ts) + ".";
  std::optional<size_t> matched;
  for (size_t i = 0; i < opts.secrets.size() && !matched; ++i) {
    auto mac = hmac_sha256(opts.secrets[i], {prefix, req.body});
    if (!mac)
      continue;
    auto expected = to_hex(*mac);
    for (auto sig : v1)
      if (equal_constant_time(expected, sig))
        matched = i;
  }
  if (!matched)
    return reject(reason::bad_signature,
                  "no v1 signature (of " + std::to_string(v1.size())
                    + ") matches " + secrets_phrase(opts.secrets.size()));
  // Stripe rejects only old timestamps: none of its SDKs refuses a future t.
  auto age = req.now_s - *ts;
  if (opts.tolerance_s > 0 && age > int64_t{opts.tolerance_s})
    return reject(reason::expired,
                  "t= is " + std::to_string(age) + " s old (tolerance "
                    + std::to_string(opts.tolerance_s) + " s)");
  return accept("v1 signature matches "
                + which_secret(*matched, opts.secrets.size()));
}

} // namespace streamb::signatures
