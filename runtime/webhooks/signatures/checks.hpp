#pragma once

// Building blocks the scheme verifiers share: verdicts, timestamps and the
// freshness window. Internal to bridges/signatures/.

#include "runtime/webhooks/signatures/verify.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace streamb::signatures {

inline verdict accept(std::string detail) {
  return {true, reason::none, std::move(detail)};
}

inline verdict reject(reason why, std::string detail) {
  return {false, why, std::move(detail)};
}

/// A header value that is absent or empty: both are `missing_header` in
/// every scheme that has the check.
inline bool absent_or_empty(const std::string* value) {
  return value == nullptr || value->empty();
}

/// ASCII case-insensitive equality (header names, URL schemes, methods).
bool iequals(std::string_view a, std::string_view b);

/// Unix seconds written as 1 to 18 decimal digits (no sign, no spaces);
/// nullopt otherwise. 18 digits keep every difference with `now` in range.
std::optional<int64_t> parse_unix_seconds(std::string_view text);

/// The two-sided freshness check of SendGrid, Samsara and Standard Webhooks:
/// `malformed` when the timestamp is not decimal seconds, `expired` when
/// older than `tolerance_s`, `future` when further ahead; exactly
/// `tolerance_s` away passes. nullopt when fresh. `what` names the header.
std::optional<verdict> check_window(std::string_view what,
                                    std::string_view timestamp, int64_t now_s,
                                    uint32_t tolerance_s);

/// "the secret" or "any of the 3 secrets", for details.
std::string secrets_phrase(size_t count);

/// "secret 2 of 3" (1-based), for the detail of a valid verdict: tells the
/// operator which secret is still in use during a rotation.
std::string which_secret(size_t index, size_t count);

} // namespace streamb::signatures
