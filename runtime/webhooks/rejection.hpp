#pragma once

// Why a webhook request was refused. The text is what providers see in the
// error body and what `rejectedByReason` counts by.

#include "runtime/webhooks/signatures/verify.hpp"

#include <cstdint>

namespace streamb {

enum class webhook_rejection : uint8_t {
  missing_header,
  malformed,
  bad_signature,
  expired,
  future,
  too_large,
  store_unavailable,
};

constexpr const char* to_string(webhook_rejection x) noexcept {
  switch (x) {
    case webhook_rejection::missing_header: return "missing_header";
    case webhook_rejection::malformed: return "malformed";
    case webhook_rejection::bad_signature: return "bad_signature";
    case webhook_rejection::expired: return "expired";
    case webhook_rejection::future: return "future";
    case webhook_rejection::too_large: return "too_large";
    case webhook_rejection::store_unavailable: return "store_unavailable";
  }
  return "unknown";
}

/// The rejection of a failed verdict (`why` is never `none` here).
constexpr webhook_rejection rejection_of(signatures::reason why) noexcept {
  switch (why) {
    case signatures::reason::missing_header:
      return webhook_rejection::missing_header;
    case signatures::reason::malformed: return webhook_rejection::malformed;
    case signatures::reason::expired: return webhook_rejection::expired;
    case signatures::reason::future: return webhook_rejection::future;
    case signatures::reason::none:
    case signatures::reason::bad_signature: break;
  }
  return webhook_rejection::bad_signature;
}

} // namespace streamb
