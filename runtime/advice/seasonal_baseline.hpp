#pragma once

// The expected range of a metric (p95 latency in ms, or an error rate) by
// hour of day, so an alert can say "slow for this hour" instead of using
// one fixed threshold that is either too tight at the nightly batch peak or
// too loose at quiet hours.
//
// Each UTC hour has its own exponentially weighted mean and variance:
// recent days count most, so the profile follows slow drifts, and the state
// per hour is three numbers, whatever the history's length.

#include "runtime/metrics/threshold_alert.hpp"

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace streamb::advice {

struct baseline_settings {
  /// Weight of a new observation; 0.05 remembers roughly the last 20.
  double alpha = 0.05;
  /// Half-width of the expected range, in standard deviations.
  double sigmas = 3;
  /// Observations an hour needs before it has a range (and can alert).
  uint32_t min_observations = 30;
  /// The half-width is at least this fraction of the mean and at least
  /// `min_absolute_spread`, so a perfectly flat metric does not alert on a
  /// tiny wobble.
  double min_spread = 0.1;
  double min_absolute_spread = 0;
};

struct expected_range {
  double mean;
  double low;
  double high;
  uint32_t observations;
};

class seasonal_baseline {
public:
  static constexpr int slot_count = 24;

  explicit seasonal_baseline(baseline_settings settings);

  /// Learns one observation made at `now_ms` (epoch ms, UTC).
  void learn(double value, int64_t now_ms);

  /// Learns with `alpha * weight` instead of `alpha`, for values the caller
  /// trusts less (see `anomaly_alert`).
  void learn(double value, int64_t now_ms, double weight);

  /// The range for the hour of `now_ms`; nullopt until that hour has
  /// `min_observations`.
  std::optional<expected_range> expected(int64_t now_ms) const;

  /// 24 lines "<slot> <observations> <mean> <variance>", for the store.
  std::string to_string() const;

  /// Reads `to_string` output; nullopt for anything else. The settings are
  /// not part of the text: they come from the current config.
  static std::optional<seasonal_baseline>
  from_string(std::string_view str, baseline_settings settings);

  const baseline_settings& settings() const noexcept {
    return settings_;
  }

  /// A config reload; the learned profile stays.
  void reconfigure(baseline_settings settings) noexcept {
    settings_ = settings;
  }

  /// UTC hour of an epoch time (also right for times before 1970).
  static int slot_of(int64_t now_ms) noexcept;

private:
  struct slot {
    double mean = 0;
    double var = 0;
    uint32_t n = 0;
  };

  baseline_settings settings_;
  std::array<slot, slot_count> slots_;
};

/// An alert on a metric leaving its expected range for the hour. Raised
/// once when a value exceeds the range's high end, cleared with hysteresis
/// once a value falls below mean + clear_ratio * (high - mean).
///
/// Only the high side alerts: for latency and error rates, lower than usual
/// is good news.
class anomaly_alert {
public:
  explicit anomaly_alert(baseline_settings settings, double clear_ratio = 0.5);

  /// Judges `value` against the range of its hour, then learns it. With
  /// `enough_data` false (e.g. a p95 of three calls) the value is neither
  /// judged nor learned.
  ///
  /// A value above the range is learned as the range's high end and at a
  /// tenth of the usual rate: an outage should not become the new normal
  /// within the hour, but a permanent level shift still is learned (the
  /// range widens step by step until it holds the new level), and the alert
  /// then clears.
  ///
  /// An active alert in an hour that has no range yet stays active (there
  /// is nothing to judge the value against).
  alert_transition observe(double value, int64_t now_ms, bool enough_data);

  /// The range the last judgement used, for the alert text; nullopt if the
  /// last observed hour had no range yet.
  const std::optional<expected_range>& last_range() const noexcept {
    return last_range_;
  }

  bool active() const noexcept {
    return active_;
  }

  /// For persistence: save `baseline().to_string()`, read it back with
  /// `seasonal_baseline::from_string` and `restore`.
  const seasonal_baseline& baseline() const noexcept {
    return baseline_;
  }

  /// Replaces the learned profile (after a restart). Keeps `active` and the
  /// alert's settings: they are the current config, the profile is data.
  void restore(seasonal_baseline baseline);

  /// A config reload: the profile and the alert's state stay.
  void reconfigure(baseline_settings settings, double clear_ratio) noexcept;

private:
  seasonal_baseline baseline_;
  double clear_ratio_;
  bool active_ = false;
  std::optional<expected_range> last_range_;
};

} // namespace streamb::advice
