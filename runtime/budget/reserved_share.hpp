#pragma once

// A share of every tier that only critical and high requests may use, so
// that normal and low traffic can never take the last of a tier's capacity.
//
// How it is expressed: not as a separate pool, but as headroom a request
// must leave behind. A critical or high request needs `units` free; a normal
// or low request needs `units + held_back(capacity)` free, where held_back
// is ceil(share * capacity). This works for every tier alike (token bucket,
// sliding window, daily limit) from two numbers each tier already has, its
// capacity and what is available now, and it keeps waits honest: a normal
// request's wait is the tier's wait_ms(units + held_back), and when that
// exceeds the capacity it is never_ms -- the request could never be admitted
// without dipping into the reserve.
//
// The share is kept in parts per million so the admission check is integer
// arithmetic.

#include "runtime/budget/priority.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>

namespace streamb::budget {

/// The fraction of each tier reserved for critical and high requests.
class reserved_share {
public:
  /// `fraction` in [0, 1); values outside are clamped (1 would shut normal
  /// and low out entirely, which is what the emergency throttle is for).
  explicit reserved_share(double fraction = 0.0)
    : ppm_(static_cast<uint32_t>(
      std::llround(std::clamp(fraction, 0.0, 0.999999) * 1e6))) {
    // nop
  }

  /// Units of a tier of `capacity` that a request of priority `p` must leave
  /// free: 0 for critical and high, ceil(share * capacity) for the others.
  uint64_t held_back(priority p, uint64_t capacity) const noexcept {
    if (p == priority::critical || p == priority::high || ppm_ == 0)
      return 0;
    // ceil(capacity * ppm / 1e6) without overflowing for large capacities.
    auto whole = capacity / 1'000'000 * ppm_;
    auto rest = capacity % 1'000'000 * ppm_;
    return whole + (rest + 999'999) / 1'000'000;
  }

  /// Whether `units` of priority `p` fit a tier with `available` of
  /// `capacity` free. A disabled tier (capacity 0) admits everything.
  bool admits(priority p, uint64_t units, uint64_t available,
              uint64_t capacity) const noexcept {
    if (capacity == 0)
      return true;
    auto need = units + held_back(p, capacity);
    return need >= units && available >= need; // need < units: overflow
  }

  uint32_t ppm() const noexcept {
    return ppm_;
  }

private:
  uint32_t ppm_;
};

} // namespace streamb::budget
