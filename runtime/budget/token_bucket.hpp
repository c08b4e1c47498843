#pragma once

// The burst tier: a token bucket of `capacity` tokens refilled at
// `refill_per_s`, one token per unit of a request.
//
// Exactness: the level is kept in micro-tokens (int64) and the rate in
// micro-tokens per second, so rates with up to six decimals (0.7/s, 2.5/s)
// are represented exactly. Refill over `dt` ms adds (rate * dt + carry) /
// 1000 micro-tokens and keeps the remainder in `carry`, so refilling in many
// small steps adds exactly what one big step would: no drift, however often
// the bucket is asked. A full bucket drops the carry (nothing to add to).
//
// Time that goes backwards (a caller passing an older now_ms) refills
// nothing and does not move the bucket's clock back.

#include "runtime/budget/budget_time.hpp"

#include <cstdint>

namespace streamb::budget {

/// Burst limit: capacity tokens, refilled continuously.
class token_bucket {
public:
  /// Capacity in tokens and refill in tokens per second; both 0 disables the
  /// bucket (every request fits), as in the config. Starts full. Capacity
  /// is clamped to 1e9 tokens so the micro-token arithmetic cannot overflow.
  token_bucket(double capacity, double refill_per_s);

  /// False when disabled: every request fits and waits 0.
  bool limited() const noexcept {
    return limited_;
  }

  /// Whether `units` tokens are there at `now_ms`.
  bool can_take(uint64_t units, int64_t now_ms) const;

  /// Takes `units` tokens if they are there; takes nothing otherwise.
  bool try_take(uint64_t units, int64_t now_ms);

  /// Returns `units` tokens (a grant that was not used), up to capacity.
  void put_back(uint64_t units, int64_t now_ms);

  /// New capacity and rate (a config reload). The tokens taken and not yet
  /// refilled stay taken: the level becomes the new capacity minus that
  /// deficit (at least 0), so a lowered capacity does not hand out a fresh
  /// burst and a raised one adds its extra tokens at once. From disabled,
  /// the bucket starts full.
  void reconfigure(double capacity, double refill_per_s, int64_t now_ms);

  /// Milliseconds until `units` tokens are there: 0 when they are now,
  /// never_ms when units exceed the capacity (or nothing refills).
  int64_t wait_ms(uint64_t units, int64_t now_ms) const;

  /// Whole tokens available at `now_ms` (the largest uint64_t when
  /// disabled).
  uint64_t available(int64_t now_ms) const;

  /// Capacity in whole tokens (0 when disabled).
  uint64_t capacity() const noexcept {
    return static_cast<uint64_t>(capacity_ / micro);
  }

private:
  static constexpr int64_t micro = 1'000'000;

  struct level {
    int64_t micro_tokens;
    int64_t carry; // micro-tokens * ms / 1000 not yet credited, [0, 1000)
  };

  // The level the bucket would have at `now_ms`.
  level at(int64_t now_ms) const;

  // Moves the bucket's clock to `now_ms`, crediting the refill.
  void advance(int64_t now_ms);

  bool limited_;
  int64_t capacity_; // micro-tokens
  int64_t rate_;     // micro-tokens per second
  int64_t level_;    // micro-tokens
  int64_t carry_ = 0;
  int64_t last_ms_ = 0; // refill is credited from here
};

} // namespace streamb::budget
