// SendGrid Event Webhook (signed): ECDSA P-256 with SHA-256 over the
// timestamp header followed by the raw body. The signature header is base64
// of a DER `SEQUENCE { INTEGER r, INTEGER s }`; the verification key is
// base64 of a DER SubjectPublicKeyInfo.

#include "runtime/core/crypto.hpp"
#include "runtime/webhooks/signatures/checks.hpp"
#include "runtime/webhooks/signatures/verify.hpp"

#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include <cstring>
#include <memory>

namespace streamb::signatures {

namespace {

constexpr std::string_view signature_header = "X-Twilio-Email-Event-Webhook-"
                                              "Signature";
constexpr std::string_view timestamp_header = "X-Twilio-Email-Event-Webhook-"
                                              "Timestamp";

using pkey_ptr = std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)>;

const unsigned char* bytes_of(const std::string& s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

// A DER ECDSA-Sig-Value and nothing after it. A raw 64-byte r||s is not one.
bool is_der_signature(const std::string& der) {
  auto* p = bytes_of(der);
  ECDSA_SIG* sig = d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der.size()));
  bool ok = sig != nullptr && p == bytes_of(der) + der.size();
  ECDSA_SIG_free(sig);
  if (!ok)
    ERR_clear_error();
  return ok;
}

// The key when `base64` holds a P-256 SubjectPublicKeyInfo, else null.
pkey_ptr load_p256_key(const std::string& base64) {
  pkey_ptr none{nullptr, EVP_PKEY_free};
  auto der = base64_decode(base64);
  if (!der || der->empty())
    return none;
  auto* p = bytes_of(*der);
  pkey_ptr key{d2i_PUBKEY(nullptr, &p, static_cast<long>(der->size())),
               EVP_PKEY_free};
  if (!key || p != bytes_of(*der) + der->size()
      || EVP_PKEY_is_a(key.get(), "EC") != 1)
    return none;
  char group[64];
  size_t len = 0;
  if (EVP_PKEY_get_group_name(key.get(), group, sizeof(group), &len) != 1
      || (std::strcmp(group, "prime256v1") != 0
          && std::strcmp(group, "P-256") != 0))
    return none;
  return key;
}

bool verifies(EVP_PKEY* key, const std::string& der, std::string_view ts,
              std::string_view body) {
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx{EVP_MD_CTX_new(),
                                                              EVP_MD_CTX_free};
  static const unsigned char empty = 0;
  auto data = [](std::string_view s) {
    return s.empty() ? &empty
                     : reinterpret_cast<const unsigned char*>(s.data());
  };
  return ctx
    && EVP_DigestVerifyInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key) == 1
    && EVP_DigestVerifyUpdate(ctx.get(), data(ts), ts.size()) == 1
    && EVP_DigestVerifyUpdate(ctx.get(), data(body), body.size()) == 1
    && EVP_DigestVerifyFinal(ctx.get(), bytes_of(der), der.size()) == 1;
}

} // namespace

verdict verify_sendgrid(const webhook_request& req,
                        const verify_options& opts) {
  auto sig = req.header(signature_header);
  if (absent_or_empty(sig))
    return reject(reason::missing_header,
                  std::string{signature_header} + " header absent or empty");
  auto ts = req.header(timestamp_header);
  if (absent_or_empty(ts))
    return reject(reason::missing_header,
                  std::string{timestamp_header} + " header absent or empty");
  // The SDKs do not look at the timestamp beyond signing it; a window is
  // our policy, and only when configured.
  if (opts.tolerance_s > 0)
    if (auto stale = check_window(timestamp_header, *ts, req.now_s,
                                  opts.tolerance_s))
      return *stale;
  auto der = base64_decode(*sig);
  if (!der)
    return reject(reason::malformed,
                  std::string{signature_header} + " is not base64");
  if (!is_der_signature(*der))
    return reject(reason::malformed,
                  std::string{signature_header}
                    + " is not a DER ECDSA signature");
  size_t usable = 0;
  std::optional<size_t> matched;
  for (size_t i = 0; i < opts.secrets.size() && !matched; ++i) {
    auto key = load_p256_key(opts.secrets[i]);
    if (!key)
      continue;
    ++usable;
    if (verifies(key.get(), *der, *ts, req.body))
      matched = i;
  }
  // OpenSSL queues an error for each failed parse or verification; they
  // are verdicts here, not errors, and must not leak into later callers.
  ERR_clear_error();
  if (!matched && usable == 0 && !opts.secrets.empty())
    return reject(reason::bad_signature,
                  "no usable verification key: none of "
                    + std::to_string(opts.secrets.size())
                    + " is base64 of a P-256 public key");
  auto keys = std::to_string(opts.secrets.size());
  if (!matched)
    return reject(reason::bad_signature,
                  "the ECDSA signature verifies under none of the " + keys
                    + " verification key(s)");
  return accept("the ECDSA signature verifies under key "
                + std::to_string(*matched + 1) + " of " + keys);
}

} // namespace streamb::signatures
