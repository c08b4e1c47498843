#pragma once

// Month-to-date spend against the monthly budget, and what it means for
// admission. All money is integer micro-dollars; levels are basis points
// (1/100 of a percent) of the budget, compared in integers.
//
// Levels reported: the configured alert thresholds (default 75 % and 90 %)
// plus the two built-in ones, 95 % (emergency throttle) and 100 % (budget
// spent). Each is reported once per month when spend first reaches it --
// latched until the month rolls over, so a spend that wobbles around a level
// (a reservation reconciled to a smaller actual cost) does not re-alert.
// A jump over several levels reports each of them, lowest first.
//
// Mode, by contrast, follows the current spend, so it can come back down
// when spend is corrected downwards; every change of mode is reported:
//   normal     admit every priority
//   throttled  spend >= 95 %: admit critical only
//   capped     spend >= 100 % with hard_cap: admit nothing
// An operator override wins over the spend: `lift` admits everything (also
// past a hard cap -- the operator's explicit decision, which the caller
// audits), `force` throttles now (a cap stays a cap). Overrides and latched
// levels are cleared when the month rolls over: both are decisions about one
// month's money.
//
// A budget of 0 means "no budget": nothing is reported and nothing throttled.

#include "runtime/budget/priority.hpp"

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

namespace streamb::budget {

/// What admission allows, from spend and override.
enum class budget_mode : uint8_t { normal, throttled, capped };

/// An operator's decision about the throttle.
enum class budget_override : uint8_t { none, lift, force };

const char* to_string(budget_mode x);
const char* to_string(budget_override x);

/// "none", "lift" or "force"; nothing for anything else.
std::optional<budget_override> parse_budget_override(std::string_view x);

/// One thing that happened to a budget, for alerts and the audit trail.
struct budget_event {
  enum class kind : uint8_t {
    level_reached, // spend reached `level_bp` for the first time this month
    mode_changed,  // admission mode went from `from` to `to`
  };
  kind what = kind::level_reached;
  uint32_t level_bp = 0;
  budget_mode from = budget_mode::normal;
  budget_mode to = budget_mode::normal;
  int64_t spend_micro = 0;
  int64_t budget_micro = 0;
};

/// Spend versus monthly budget, with alert levels, throttle and override.
class budget_state {
public:
  static constexpr uint32_t default_throttle_bp = 9500;
  static constexpr uint32_t exhausted_bp = 10000;

  /// `thresholds_bp` are the alert levels in basis points (7500 = 75 %);
  /// the throttle level and 10000 are always added.
  budget_state(int64_t budget_micro, bool hard_cap,
               std::vector<uint32_t> thresholds_bp = {7500, 9000},
               uint32_t throttle_bp = default_throttle_bp);

  /// What an earlier run of this month reported (read back from the store
  /// at start): those levels are not reported again, and the mode is taken
  /// as the one already announced. Call before the first `observe`.
  void restore(const std::vector<uint32_t>& reached_bp, budget_mode mode);

  /// New alert levels and throttle level (a config reload). Levels already
  /// reached stay reached; new ones alert when reached (now, if they are).
  std::vector<budget_event> set_levels(std::vector<uint32_t> thresholds_bp,
                                       uint32_t throttle_bp);

  uint32_t throttle_bp() const noexcept {
    return throttle_bp_;
  }

  /// Whether a total spend of `spend_micro` is at most the throttle level.
  bool within_throttle(int64_t spend_micro) const noexcept;

  /// Sets the month-to-date spend (an absolute total, as stored, not a
  /// delta) and returns what that changed.
  std::vector<budget_event> observe(int64_t spend_micro);

  /// Starts a new month: spend 0, latched levels and override cleared.
  std::vector<budget_event> roll_month();

  /// Sets or clears (none) the operator override.
  std::vector<budget_event> set_override(budget_override o);

  /// A new budget or hard cap (a config reload), keeping the month's spend
  /// and the override. A level the spend no longer reaches under the new
  /// budget is armed again (it alerts when reached); a level it now reaches
  /// is reported, as are mode changes.
  std::vector<budget_event> reconfigure(int64_t budget_micro, bool hard_cap);

  budget_mode mode() const noexcept {
    return mode_;
  }

  /// Whether a request of priority `p` may pass in the current mode.
  bool admits(priority p) const noexcept;

  budget_override override_mode() const noexcept {
    return override_;
  }

  int64_t spend_micro() const noexcept {
    return spend_;
  }

  int64_t budget_micro() const noexcept {
    return budget_;
  }

  /// Spend as parts per million of the budget (0 without a budget).
  int64_t utilization_ppm() const noexcept;

  /// Levels reported this month, ascending, in basis points.
  std::vector<uint32_t> reached_levels() const;

private:
  struct level {
    uint32_t bp;
    int64_t amount_micro; // ceil(budget * bp / 10000)
    bool reached;
  };

  // The mode spend and override call for.
  budget_mode wanted_mode() const;

  // Appends a mode_changed event if the mode differs from `before`.
  void note_mode(budget_mode before, std::vector<budget_event>& out);

  void build_levels(std::vector<uint32_t> thresholds_bp);

  int64_t budget_;
  bool hard_cap_;
  uint32_t throttle_bp_;
  std::vector<level> levels_; // ascending by bp
  int64_t spend_ = 0;
  budget_override override_ = budget_override::none;
  budget_mode mode_ = budget_mode::normal;
};

} // namespace streamb::budget
