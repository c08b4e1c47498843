#pragma once

// The sustained tier: at most `limit` units in any `window` of time.
//
// A true sliding window within a granularity: time is cut into granules
// (default window / 60, so 1 s for a 60 s window) and units are counted per
// granule in a ring. A unit taken at t counts until the end of the granule
// that contains t + window, i.e. for at least `window` and at most
// `window + granule` (when the granule divides the window; otherwise the
// window is rounded up to whole granules, adding at most one more).
//
// Why err long, not short: the limit usually mirrors a provider's limit
// ("1000 per minute"). Counting a unit for a little longer than the window
// means no exact window of length `window` ever holds more than `limit`
// units, so the provider never sees us exceed it; the price is being at
// most one granule (1/60 of the window) late in admitting again.
//
// Memory is fixed (window / granule + 1 counters); reads are O(granules).

#include "runtime/budget/budget_time.hpp"

#include <cstddef>
#include <cstdint>
#include <vector>

namespace streamb::budget {

/// Sustained limit: `limit` units per sliding window.
class sliding_window {
public:
  /// `limit` 0 disables the tier. `granule_ms` 0 picks window / 60; the
  /// granule is raised so the ring never has more than 3600 counters.
  sliding_window(uint64_t limit, int64_t window_ms, int64_t granule_ms = 0);

  /// False when disabled: every request fits and waits 0.
  bool limited() const noexcept {
    return limit_ > 0;
  }

  /// Units counted in the window at `now_ms`.
  uint64_t count(int64_t now_ms) const;

  /// Units that still fit at `now_ms` (the largest uint64_t when disabled).
  uint64_t available(int64_t now_ms) const;

  bool can_take(uint64_t units, int64_t now_ms) const;

  /// Counts `units` at `now_ms` if they fit; counts nothing otherwise.
  bool try_take(uint64_t units, int64_t now_ms);

  /// Milliseconds until enough old units have left the window for `units`
  /// to fit: 0 when they fit now, never_ms when units exceed the limit.
  int64_t wait_ms(uint64_t units, int64_t now_ms) const;

  uint64_t capacity() const noexcept {
    return limit_;
  }

  /// A new limit over the same window (a config reload): the units in the
  /// window stay counted against it. 0 disables the tier.
  void set_limit(uint64_t limit) noexcept {
    limit_ = limit;
  }

  int64_t granule_ms() const noexcept {
    return granule_ms_;
  }

private:
  struct slot {
    int64_t granule = 0; // which granule the count belongs to
    uint64_t units = 0;
  };

  // The current granule: that of now_ms, or of the latest take if the clock
  // went back, so a late caller cannot resurrect expired units.
  int64_t current(int64_t now_ms) const;

  // The ring slot of a granule.
  size_t index_of(int64_t granule) const;

  uint64_t limit_;
  int64_t granule_ms_;
  int64_t span_; // window in whole granules (rounded up)
  std::vector<slot> ring_;
  int64_t latest_ = 0; // granule of the latest take
};

} // namespace streamb::budget
