#include "runtime/webhooks/signatures/verify.hpp"

#include "runtime/webhooks/signatures/checks.hpp"

namespace streamb::signatures {

const char* to_string(reason x) {
  switch (x) {
    case reason::none: return "none";
    case reason::missing_header: return "missing_header";
    case reason::malformed: return "malformed";
    case reason::bad_signature: return "bad_signature";
    case reason::expired: return "expired";
    case reason::future: return "future";
  }
  return "???";
}

const std::string* webhook_request::header(std::string_view name) const {
  for (auto& [key, value] : headers)
    if (iequals(key, name))
      return &value;
  return nullptr;
}

verifier find_verifier(std::string_view scheme) {
  if (scheme == "stripe")
    return verify_stripe;
  if (scheme == "twilio")
    return verify_twilio;
  if (scheme == "sendgrid")
    return verify_sendgrid;
  if (scheme == "samsara")
    return verify_samsara;
  if (scheme == "airtable")
    return verify_airtable;
  if (scheme == "standard" || scheme == "standard_webhooks")
    return verify_standard_webhooks;
  return nullptr;
}

bool iequals(std::string_view a, std::string_view b) {
  auto lower = [](char c) {
    return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
  };
  if (a.size() != b.size())
    return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (lower(a[i]) != lower(b[i]))
      return false;
  return true;
}

std::optional<int64_t> parse_unix_seconds(std::string_view text) {
  if (text.empty() || text.size() > 18)
    return std::nullopt;
  int64_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9')
      return std::nullopt;
    value = value * 10 + (c - '0');
  }
  return value;
}

std::optional<verdict> check_window(std::string_view what,
                                    std::string_view timestamp, int64_t now_s,
                                    uint32_t tolerance_s) {
  auto ts = parse_unix_seconds(timestamp);
  if (!ts)
    return reject(reason::malformed,
                  std::string{what} + " is not unix seconds");
  auto age = now_s - *ts;
  auto tolerance = std::to_string(tolerance_s);
  if (age > int64_t{tolerance_s})
    return reject(reason::expired,
                  std::string{what} + " is " + std::to_string(age)
                    + " s old (tolerance " + tolerance + " s)");
  if (-age > int64_t{tolerance_s})
    return reject(reason::future,
                  std::string{what} + " is " + std::to_string(-age)
                    + " s ahead (tolerance " + tolerance + " s)");
  return std::nullopt;
}

std::string secrets_phrase(size_t count) {
  if (count == 0)
    return "any secret (none configured)";
  if (count == 1)
    return "the secret";
  return "any of the " + std::to_string(count) + " secrets";
}

std::string which_secret(size_t index, size_t count) {
  return "secret " + std::to_string(index + 1) + " of " + std::to_string(count);
}

} // namespace streamb::signatures
