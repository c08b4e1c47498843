#pragma once

// Time in the budget logic is epoch milliseconds passed in by the caller
// (`now_ms`), never read from a clock here: the actor passes its clock, tests
// pass a simulated one. Waits are milliseconds; `never_ms` is the answer to
// "when will this fit?" for a request that cannot fit at all (more units than
// the tier holds), so the caller can answer "no" instead of "later". It is
// the largest int64_t, so the longest wait over several tiers is their max.

#include <cstdint>
#include <limits>

namespace streamb::budget {

/// A wait that never ends: the request can never fit.
constexpr int64_t never_ms = std::numeric_limits<int64_t>::max();

constexpr int64_t ms_per_second = 1000;
constexpr int64_t seconds_per_day = 86400;
constexpr int64_t ms_per_day = seconds_per_day * ms_per_second;

/// Division rounding toward negative infinity (C++ rounds toward zero), for
/// times before 1970 and for bucketing negative offsets.
constexpr int64_t floor_div(int64_t a, int64_t b) noexcept {
  int64_t q = a / b;
  return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

/// Division rounding toward positive infinity, for "how long until".
constexpr int64_t ceil_div(int64_t a, int64_t b) noexcept {
  return -floor_div(-a, b);
}

} // namespace streamb::budget
