#pragma once

// Rolling windows over call samples: the pure logic behind service_monitor.
//
// Time is cut into fixed slots. The current slot records into a dense
// histogram; when time passes its end it is compacted into a ring of closed
// slots (counters + sparse histogram), which bounds memory by the number of
// distinct latency buckets actually seen rather than by the bucket count.
// A window is the current slot plus the N closed slots before it, so a sample
// leaves the 1 m window between 60 s and 70 s after it arrived. Samples are
// placed by arrival at the monitor, not by their reported timestamp, so the
// hot path only ever appends to the current slot.

#include "runtime/config/config.hpp"
#include "runtime/messages.hpp"
#include "runtime/metrics/histogram.hpp"

#include <chrono>
#include <cstdint>
#include <vector>

namespace streamb {

using steady_time = std::chrono::steady_clock::time_point;
using steady_duration = std::chrono::steady_clock::duration;

/// Counters of the calls in one span of time.
struct call_stats {
  uint64_t calls = 0;
  uint64_t by_outcome[status_class_count] = {};
  uint64_t cache_hits = 0;
  int64_t cost_micros = 0;

  void add(const call_sample& x, int64_t cost_micros) noexcept {
    ++calls;
    ++by_outcome[static_cast<std::size_t>(x.outcome)];
    cache_hits += x.cache_hit ? 1 : 0;
    this->cost_micros += cost_micros;
  }

  void merge(const call_stats& other) noexcept;

  uint64_t errors() const noexcept {
    return calls - by_outcome[static_cast<std::size_t>(status_class::ok)];
  }

  /// Server errors, timeouts and network failures: the caller cannot fix
  /// these by changing its request.
  uint64_t critical_errors() const noexcept;
};

/// Calls of one window, ready to be turned into metrics.
struct window_view {
  call_stats stats;
  histogram latency_us;
  double span_s = 0; // seconds the window covers (less while starting up)
};

/// A ring of fixed-width slots; see the file comment.
class slot_ring {
public:
  slot_ring(steady_duration width, std::size_t closed_slots,
            steady_time origin);

  /// Closes the current slot if `now` lies past it.
  void advance(steady_time now);

  /// Records into the current slot; call `advance` first.
  void record(const call_sample& x, int64_t cost_micros) noexcept {
    current_stats_.add(x, cost_micros);
    current_latency_.record(x.latency_us);
  }

  /// Adds `count` closed slots, starting `skip` slots before the current
  /// one, and the current slot itself when `with_current`, into `out`.
  void collect(std::size_t skip, std::size_t count, bool with_current,
               window_view& out) const;

  steady_duration width() const noexcept {
    return width_;
  }

  /// Time since the current slot began.
  steady_duration current_elapsed(steady_time now) const noexcept;

  /// Memory held by the closed slots' histograms, in bytes.
  std::size_t closed_memory_bytes() const noexcept;

private:
  struct closed_slot {
    int64_t number = -1; // slot number since origin; -1: never used
    call_stats stats;
    sparse_histogram latency_us;
  };

  int64_t slot_number(steady_time t) const noexcept;

  steady_duration width_;
  steady_time origin_;
  int64_t current_ = 0;
  call_stats current_stats_;
  histogram current_latency_;
  std::vector<closed_slot> ring_;
};

/// The 1 m, 5 m and 1 h windows of one service, plus the window before each
/// (for trends).
class call_windows {
public:
  explicit call_windows(steady_time start);

  void advance(steady_time now);

  void record(const call_sample& x, int64_t cost_micros) noexcept {
    fine_.record(x, cost_micros);
    coarse_.record(x, cost_micros);
  }

  /// The window `w` ending now, or the one before it when `previous`.
  window_view view(metrics_window w, steady_time now,
                   bool previous = false) const;

  /// Nominal length of a window in seconds.
  static double nominal_seconds(metrics_window w) noexcept;

private:
  steady_time start_;
  slot_ring fine_;   // 10 s slots: 1 m and 5 m windows
  slot_ring coarse_; // 60 s slots: the 1 h window
};

/// Direction of p95 latency between two windows.
struct latency_trend {
  const char* label = "stable"; // improving | stable | degrading
  double change_pct = 0;
};

/// `degrading` above +20 %, `improving` below -20 %; `stable` when the
/// previous window had no calls.
latency_trend compute_trend(double p95_now_ms, double p95_previous_ms,
                            uint64_t previous_calls) noexcept;

/// Turns a window (and the one before it) into the service's metrics.
service_metrics make_service_metrics(const service_config& svc,
                                     metrics_window w, const window_view& now,
                                     const window_view& previous);

/// The cost of one call: as reported, or from the service's cost model.
int64_t call_cost_micros(const call_sample& x, const cost_config& model);

} // namespace streamb
