#pragma once

// A simulated clock for the budget tests: epoch milliseconds that move only
// when the test moves them, and UTC instants written as dates.

#include "runtime/budget/calendar.hpp"

#include <cstdint>

namespace streamb::budget::test {

/// Epoch milliseconds of a UTC date and time.
constexpr int64_t utc_ms(int32_t y, uint32_t mo, uint32_t d, int64_t h = 0,
                         int64_t mi = 0, int64_t s = 0, int64_t ms = 0) {
  return ((days_from_civil(y, mo, d) * 24 + h) * 60 + mi) * 60000 + s * 1000
    + ms;
}

constexpr int64_t seconds(int64_t n) {
  return n * 1000;
}

constexpr int64_t minutes(int64_t n) {
  return n * 60'000;
}

constexpr int64_t hours(int64_t n) {
  return n * 3'600'000;
}

/// Time under the test's control.
struct sim_clock {
  int64_t now;

  int64_t advance(int64_t ms) {
    now += ms;
    return now;
  }
};

} // namespace streamb::budget::test
