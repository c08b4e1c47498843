#include "runtime/advice/seasonal_baseline.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>

namespace streamb::advice {

namespace {

constexpr int64_t ms_per_hour = 3600 * 1000;

// Reads one field up to `sep` (or the end), advancing `pos` past it.
template <class T>
bool read_field(std::string_view str, std::size_t& pos, char sep, T& out) {
  auto first = str.data() + pos;
  auto last = str.data() + str.size();
  auto [ptr, ec] = std::from_chars(first, last, out);
  if (ec != std::errc{} || ptr == first)
    return false;
  pos = static_cast<std::size_t>(ptr - str.data());
  if (pos == str.size())
    return sep == '\n'; // the last line may lack its newline
  if (str[pos] != sep)
    return false;
  ++pos;
  return true;
}

void append(std::string& out, double x) {
  // to_chars writes the shortest text that reads back to the same double,
  // so a save and restore does not drift the profile.
  char buf[32];
  auto res = std::to_chars(buf, buf + sizeof(buf), x);
  out.append(buf, res.ptr);
}

} // namespace

seasonal_baseline::seasonal_baseline(baseline_settings settings)
  : settings_(settings) {
  // nop
}

int seasonal_baseline::slot_of(int64_t now_ms) noexcept {
  auto hour = now_ms / ms_per_hour;
  if (now_ms % ms_per_hour < 0)
    --hour;
  auto slot = hour % slot_count;
  return static_cast<int>(slot < 0 ? slot + slot_count : slot);
}

void seasonal_baseline::learn(double value, int64_t now_ms) {
  learn(value, now_ms, 1.0);
}

void seasonal_baseline::learn(double value, int64_t now_ms, double weight) {
  if (!std::isfinite(value))
    return; // one NaN would poison the hour for good
  auto& s = slots_[static_cast<std::size_t>(slot_of(now_ms))];
  if (s.n < UINT32_MAX)
    ++s.n;
  // Until an hour has 1/alpha observations, 1/n is larger than alpha and
  // this is the plain running mean and (population) variance: starting at
  // the first value with weight alpha would let that one value dominate
  // the first days.
  auto rate = std::max(settings_.alpha, 1.0 / static_cast<double>(s.n))
    * weight;
  rate = std::clamp(rate, 0.0, 1.0);
  // Incremental exponentially weighted mean and variance (Finch, 2009).
  auto diff = value - s.mean;
  auto incr = rate * diff;
  s.mean += incr;
  s.var = (1 - rate) * (s.var + diff * incr);
}

std::optional<expected_range>
seasonal_baseline::expected(int64_t now_ms) const {
  auto& s = slots_[static_cast<std::size_t>(slot_of(now_ms))];
  if (s.n == 0 || s.n < settings_.min_observations)
    return std::nullopt;
  auto half = std::max({settings_.sigmas * std::sqrt(s.var),
                        settings_.min_spread * std::abs(s.mean),
                        settings_.min_absolute_spread});
  // Latency and error rates are never negative.
  return expected_range{s.mean, std::max(0.0, s.mean - half), s.mean + half,
                        s.n};
}

std::string seasonal_baseline::to_string() const {
  std::string out;
  for (int i = 0; i < slot_count; ++i) {
    auto& s = slots_[static_cast<std::size_t>(i)];
    out += std::to_string(i);
    out += ' ';
    out += std::to_string(s.n);
    out += ' ';
    append(out, s.mean);
    out += ' ';
    append(out, s.var);
    out += '\n';
  }
  return out;
}

std::optional<seasonal_baseline>
seasonal_baseline::from_string(std::string_view str,
                               baseline_settings settings) {
  seasonal_baseline result{settings};
  std::size_t pos = 0;
  for (int i = 0; i < slot_count; ++i) {
    int slot = -1;
    auto& s = result.slots_[static_cast<std::size_t>(i)];
    // Slots must come in order: a stored text is always complete, so a gap
    // or a repeat means it is not ours.
    if (pos >= str.size() || !read_field(str, pos, ' ', slot) || slot != i
        || !read_field(str, pos, ' ', s.n) || !read_field(str, pos, ' ', s.mean)
        || !read_field(str, pos, '\n', s.var))
      return std::nullopt;
    if (!std::isfinite(s.mean) || !std::isfinite(s.var) || s.var < 0)
      return std::nullopt;
  }
  if (pos != str.size())
    return std::nullopt;
  return result;
}

anomaly_alert::anomaly_alert(baseline_settings settings, double clear_ratio)
  : baseline_(settings), clear_ratio_(clear_ratio) {
  // nop
}

alert_transition anomaly_alert::observe(double value, int64_t now_ms,
                                        bool enough_data) {
  if (!enough_data || !std::isfinite(value))
    return alert_transition::none;
  // Judge before learning, so the value is compared with what was normal
  // before it arrived.
  last_range_ = baseline_.expected(now_ms);
  auto result = alert_transition::none;
  auto above = false;
  if (last_range_) {
    auto& r = *last_range_;
    above = value > r.high;
    if (!active_ && above) {
      active_ = true;
      result = alert_transition::raised;
    } else if (active_ && value < r.mean + clear_ratio_ * (r.high - r.mean)) {
      active_ = false;
      result = alert_transition::cleared;
    }
  }
  // A value above the range is learned as the range's high end, at a tenth
  // of the rate. Learning the value itself, even slowly, inflates the
  // variance by its squared distance: a 3x outage then widened the range
  // past itself and cleared in ~30 observations. Clipped, the range still
  // grows geometrically (by at least sigmas or min_spread per step), so a
  // lasting shift is learned, in ~150 observations for 3x.
  if (above)
    baseline_.learn(last_range_->high, now_ms, 0.1);
  else
    baseline_.learn(value, now_ms);
  return result;
}

void anomaly_alert::restore(seasonal_baseline baseline) {
  auto settings = baseline_.settings();
  baseline_ = std::move(baseline);
  baseline_.reconfigure(settings);
}

void anomaly_alert::reconfigure(baseline_settings settings,
                                double clear_ratio) noexcept {
  baseline_.reconfigure(settings);
  clear_ratio_ = clear_ratio;
}

} // namespace streamb::advice
