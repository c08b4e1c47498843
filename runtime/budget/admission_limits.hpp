#pragma once

// The rate tiers of one service (burst, sustained, daily) and the share of
// each kept for critical and high priority: whether a request fits now, how
// long until it would, what taking it costs, and what is left. The budget
// controller owns one; time is always passed in.

#include "runtime/budget/budget_state.hpp"
#include "runtime/budget/daily_limit.hpp"
#include "runtime/budget/denial_reason.hpp"
#include "runtime/budget/priority.hpp"
#include "runtime/budget/reserved_share.hpp"
#include "runtime/budget/sliding_window.hpp"
#include "runtime/budget/token_bucket.hpp"

#include <cstdint>

namespace streamb::budget {

struct admission_limits {
  token_bucket burst;
  sliding_window sustained;
  daily_limit daily;
  reserved_share reserved;

  /// The first tier a request does not fit, with how long until it would;
  /// `tier` none when every tier has room.
  struct fit {
    denial_reason tier = denial_reason::none;
    int64_t wait_ms = 0;

    bool fits() const noexcept {
      return tier == denial_reason::none;
    }
  };

  /// Tiers are checked burst, sustained, daily; normal and low priority must
  /// leave each tier's reserved share free.
  fit check(priority p, uint64_t units, int64_t now_ms) const;

  /// Takes `units` from every limited tier (after `check` said they fit).
  void take(uint64_t units, int64_t now_ms);

  /// Returns units of a grant that never became a call. Only the burst
  /// refills from it: the sustained and daily tiers count attempts.
  void give_back(uint64_t units, int64_t now_ms);

  /// Units left per tier; -1 for an unlimited tier.
  struct remaining {
    int64_t burst = -1;
    int64_t sustained = -1;
    int64_t daily = -1;
  };
  remaining left(int64_t now_ms) const;

  /// Another window: what was counted in the old one counts for a whole new
  /// window, erring long as the tier does (at most one window of late
  /// grants).
  void resize_sustained(uint64_t limit, int64_t window_ms, int64_t now_ms);

  /// Another daily limit or zone: today's calls still count against it.
  void replace_daily(uint64_t limit, time_zone zone, int64_t now_ms);
};

/// Why a reservation that brings the month's spend to `spend` is refused
/// for priority `p`; none when it is allowed. Critical calls pass the
/// throttle and a forced override, never a hard cap; a lifted override or
/// no budget lets everything through.
denial_reason spend_denial(const budget_state& budget, bool hard_cap,
                           priority p, int64_t spend_micros);

} // namespace streamb::budget
