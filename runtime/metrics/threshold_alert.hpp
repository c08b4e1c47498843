#pragma once

// A threshold with hysteresis: raised once when a value crosses above the
// threshold, cleared only once it falls below threshold * clear_ratio, so a
// value hovering at the threshold does not flap.

namespace streamb {

/// What one observation did to an alert.
enum class alert_transition { none, raised, cleared };

/// State of one alert (e.g. p95 latency of one service).
class threshold_alert {
public:
  threshold_alert(double threshold, double clear_ratio)
    : threshold_(threshold), clear_below_(threshold * clear_ratio) {
    // nop
  }

  /// Feeds one observation. With `enough_data` false the value is ignored,
  /// so a single slow call in an idle minute raises nothing.
  alert_transition observe(double value, bool enough_data) noexcept {
    if (!enough_data || threshold_ <= 0)
      return alert_transition::none;
    if (!active_ && value > threshold_) {
      active_ = true;
      return alert_transition::raised;
    }
    if (active_ && value < clear_below_) {
      active_ = false;
      return alert_transition::cleared;
    }
    return alert_transition::none;
  }

  /// New threshold and clear ratio (a config reload). An active alert stays
  /// active; the next observation judges it against the new values.
  void reconfigure(double threshold, double clear_ratio) noexcept {
    threshold_ = threshold;
    clear_below_ = threshold * clear_ratio;
  }

  bool active() const noexcept {
    return active_;
  }

  double threshold() const noexcept {
    return threshold_;
  }

private:
  double threshold_;
  double clear_below_;
  bool active_ = false;
};

} // namespace streamb
