#include "runtime/metrics/call_windows.hpp"

#include <algorithm>
#include <cmath>

namespace streamb {

namespace {

constexpr auto fine_width = std::chrono::seconds{10};
constexpr auto coarse_width = std::chrono::seconds{60};

// Each ring keeps two windows' worth of closed slots: the window and the one
// before it, for the trend.
constexpr std::size_t fine_closed = 60;    // 10 min of 10 s slots
constexpr std::size_t coarse_closed = 120; // 2 h of 1 min slots

struct window_shape {
  const slot_ring* ring;
  std::size_t closed; // closed slots in the window besides the current one
};

double to_seconds(steady_duration d) {
  return std::chrono::duration<double>(d).count();
}

} // namespace

// -- call_stats -------------------------------------------------------------

void call_stats::merge(const call_stats& other) noexcept {
  calls += other.calls;
  for (std::size_t i = 0; i < status_class_count; ++i)
    by_outcome[i] += other.by_outcome[i];
  cache_hits += other.cache_hits;
  cost_micros += other.cost_micros;
}

uint64_t call_stats::critical_errors() const noexcept {
  auto at = [this](status_class c) {
    return by_outcome[static_cast<std::size_t>(c)];
  };
  return at(status_class::server_error) + at(status_class::timeout)
    + at(status_class::network);
}

// -- slot_ring --------------------------------------------------------------

slot_ring::slot_ring(steady_duration width, std::size_t closed_slots,
                     steady_time origin)
  : width_(width), origin_(origin), ring_(closed_slots) {
  // nop
}

int64_t slot_ring::slot_number(steady_time t) const noexcept {
  if (t <= origin_)
    return 0;
  return static_cast<int64_t>((t - origin_) / width_);
}

void slot_ring::advance(steady_time now) {
  auto n = slot_number(now);
  if (n <= current_)
    return; // a clock never runs backwards here; stay in the current slot
  auto& slot = ring_[static_cast<std::size_t>(current_) % ring_.size()];
  slot.number = current_;
  slot.stats = current_stats_;
  slot.latency_us = current_latency_.compact();
  current_stats_ = call_stats{};
  current_latency_.reset();
  // Slots skipped while idle stay stale in the ring; `collect` checks numbers.
  current_ = n;
}

void slot_ring::collect(std::size_t skip, std::size_t count, bool with_current,
                        window_view& out) const {
  if (with_current) {
    out.stats.merge(current_stats_);
    out.latency_us.merge(current_latency_);
  }
  for (std::size_t i = 0; i < count; ++i) {
    auto number = current_ - 1 - static_cast<int64_t>(skip + i);
    if (number < 0)
      break;
    auto& slot = ring_[static_cast<std::size_t>(number) % ring_.size()];
    if (slot.number != number)
      continue; // nothing was recorded in that slot
    out.stats.merge(slot.stats);
    out.latency_us.merge(slot.latency_us);
  }
}

steady_duration slot_ring::current_elapsed(steady_time now) const noexcept {
  auto begin = origin_ + width_ * current_;
  return now > begin ? now - begin : steady_duration::zero();
}

std::size_t slot_ring::closed_memory_bytes() const noexcept {
  std::size_t total = 0;
  for (auto& slot : ring_)
    total += sizeof(slot) + slot.latency_us.memory_bytes();
  return total;
}

// -- call_windows -----------------------------------------------------------

call_windows::call_windows(steady_time start)
  : start_(start), fine_(fine_width, fine_closed, start),
    coarse_(coarse_width, coarse_closed, start) {
  // nop
}

void call_windows::advance(steady_time now) {
  fine_.advance(now);
  coarse_.advance(now);
}

double call_windows::nominal_seconds(metrics_window w) noexcept {
  switch (w) {
    case metrics_window::one_minute: return 60;
    case metrics_window::five_minutes: return 300;
    case metrics_window::one_hour: return 3600;
  }
  return 0;
}

window_view call_windows::view(metrics_window w, steady_time now,
                               bool previous) const {
  window_shape shape{&fine_, 6};
  if (w == metrics_window::five_minutes)
    shape = {&fine_, 30};
  else if (w == metrics_window::one_hour)
    shape = {&coarse_, 60};
  window_view out;
  auto uptime = now > start_ ? to_seconds(now - start_) : 0.0;
  auto full = to_seconds(shape.ring->width())
    * static_cast<double>(shape.closed);
  auto current_span = full + to_seconds(shape.ring->current_elapsed(now));
  if (!previous) {
    shape.ring->collect(0, shape.closed, true, out);
    out.span_s = std::min(current_span, uptime);
  } else {
    shape.ring->collect(shape.closed, shape.closed, false, out);
    out.span_s = std::clamp(uptime - current_span, 0.0, full);
  }
  return out;
}

// -- metrics ----------------------------------------------------------------

latency_trend compute_trend(double p95_now_ms, double p95_previous_ms,
                            uint64_t previous_calls) noexcept {
  latency_trend result;
  if (previous_calls == 0 || p95_previous_ms <= 0)
    return result;
  result.change_pct = (p95_now_ms - p95_previous_ms) / p95_previous_ms * 100;
  if (result.change_pct > 20)
    result.label = "degrading";
  else if (result.change_pct < -20)
    result.label = "improving";
  return result;
}

int64_t call_cost_micros(const call_sample& x, const cost_config& model) {
  if (x.cost_micros >= 0)
    return x.cost_micros;
  // Without a unit count on the sample, a call counts as one unit.
  auto usd = model.per_call_usd + model.per_unit_usd;
  return static_cast<int64_t>(std::llround(usd * 1e6));
}

service_metrics make_service_metrics(const service_config& svc,
                                     metrics_window w, const window_view& now,
                                     const window_view& previous) {
  constexpr double us_per_ms = 1000.0;
  service_metrics m;
  m.service = svc.name;
  m.window = w;
  m.span_s = now.span_s;
  auto& s = now.stats;
  m.calls = s.calls;
  m.average_ms = now.latency_us.mean() / us_per_ms;
  m.p50_ms = now.latency_us.quantile(0.50) / us_per_ms;
  m.p95_ms = now.latency_us.quantile(0.95) / us_per_ms;
  m.p99_ms = now.latency_us.quantile(0.99) / us_per_ms;
  auto trend = compute_trend(m.p95_ms,
                             previous.latency_us.quantile(0.95) / us_per_ms,
                             previous.stats.calls);
  m.trend = trend.label;
  m.trend_change_pct = trend.change_pct;
  if (now.span_s > 0)
    m.requests_per_second = static_cast<double>(s.calls) / now.span_s;
  auto& sustained = svc.limits.sustained;
  if (sustained.limit > 0 && sustained.window_s > 0) {
    auto allowed_per_s = static_cast<double>(sustained.limit)
      / static_cast<double>(sustained.window_s);
    m.utilization_pct = m.requests_per_second / allowed_per_s * 100;
  }
  m.calls_by_outcome.assign(std::begin(s.by_outcome), std::end(s.by_outcome));
  m.critical_errors = s.critical_errors();
  m.spend_micros = s.cost_micros;
  if (s.calls > 0) {
    auto calls = static_cast<double>(s.calls);
    m.error_rate = static_cast<double>(s.errors()) / calls;
    m.cache_hit_ratio = static_cast<double>(s.cache_hits) / calls;
  }
  if (now.span_s > 0)
    m.hourly_spend_usd = static_cast<double>(s.cost_micros) / 1e6
      / (now.span_s / 3600.0);
  return m;
}

} // namespace streamb
