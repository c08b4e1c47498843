#pragma once

// The daily tier: at most `limit` units per local calendar day, the count
// starting again at local midnight of the configured zone (UTC by default).
// "Day" is the zone's civil day, so the day the clocks go forward is 23 h
// long and the day they go back 25 h; where a zone skips midnight itself,
// the day begins at the transition (the first instant of that date).
//
// The count only ever moves to a later day: if a zone's clocks fall back
// across midnight (a few historical zones did), the repeated hour does not
// bring back the previous day's count.

#include "runtime/budget/time_zone.hpp"

#include <cstdint>

namespace streamb::budget {

/// Daily limit: `limit` units per local day.
class daily_limit {
public:
  /// `limit` 0 disables the tier.
  daily_limit(uint64_t limit, time_zone zone);

  /// False when disabled: every request fits and waits 0.
  bool limited() const noexcept {
    return limit_ > 0;
  }

  /// Units counted today (the local day containing now_ms).
  uint64_t used(int64_t now_ms) const;

  /// Units that still fit today (the largest uint64_t when disabled).
  uint64_t available(int64_t now_ms) const;

  bool can_take(uint64_t units, int64_t now_ms) const;

  /// Counts `units` today if they fit; counts nothing otherwise.
  bool try_take(uint64_t units, int64_t now_ms);

  /// 0 when `units` fit now; never_ms when they exceed the limit; otherwise
  /// the time until the next local midnight, when the count starts again.
  int64_t wait_ms(uint64_t units, int64_t now_ms) const;

  /// The instant (epoch ms) the next local day begins.
  int64_t resets_at_ms(int64_t now_ms) const {
    return zone_.next_day_start_ms(now_ms);
  }

  uint64_t capacity() const noexcept {
    return limit_;
  }

  const time_zone& zone() const noexcept {
    return zone_;
  }

private:
  // The local day a count at now_ms belongs to: never earlier than day_.
  int64_t day_of(int64_t now_ms) const;

  uint64_t limit_;
  time_zone zone_;
  int64_t day_; // local day of used_
  uint64_t used_ = 0;
};

} // namespace streamb::budget
