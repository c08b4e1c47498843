#pragma once

// Wall-clock time as streamb shows it: epoch milliseconds in messages,
// ISO-8601 UTC with milliseconds in JSON and logs. Durations and windows use
// the actor clock instead (steady, and simulated in tests).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace streamb {

/// Milliseconds since the Unix epoch, now.
int64_t epoch_ms_now();

/// `2026-11-27T02:54:52.659Z` for epoch milliseconds `ms`.
std::string iso8601_utc(int64_t ms);

/// Milliseconds from `ms` until the next UTC month begins (budgets are kept
/// per UTC month).
int64_t ms_until_next_utc_month(int64_t ms);

/// Reads a time as a client may give one: epoch milliseconds ("1795000000000")
/// or ISO-8601 UTC ("2026-11-27T05:00:00Z", optional ".mmm"). Nothing else:
/// no offsets other than Z, no dates alone.
std::optional<int64_t> parse_time(std::string_view text);

} // namespace streamb
