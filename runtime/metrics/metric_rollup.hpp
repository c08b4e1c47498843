#pragma once

// Metric history: every service_monitor sums its calls over a roll-up period
// (1 minute by default) and appends the sum to the service's history stream
// in the store, where it is kept for metrics.retention_h. This file is the
// pure part: the accumulator, the record, and its stream-entry encoding.

#include "runtime/metrics/call_windows.hpp"
#include "runtime/metrics/histogram.hpp"
#include "runtime/store/store_backend.hpp"

#include <caf/expected.hpp>

#include <cstdint>
#include <string>

namespace streamb {

/// One service's calls over one period, as one node saw them.
struct metric_rollup {
  std::string service;
  std::string node;
  int64_t start_ms = 0; // period start, aligned to the period length
  int64_t end_ms = 0;   // period end (earlier for a flush at shutdown)
  call_stats stats;
  double average_ms = 0;
  double p50_ms = 0;
  double p95_ms = 0;
  double p99_ms = 0;
  double max_ms = 0;
};

/// Sums calls until `take` hands them over and starts again.
class rollup_accumulator {
public:
  void record(const call_sample& x, int64_t cost_micros) noexcept {
    stats_.add(x, cost_micros);
    latency_us_.record(x.latency_us);
  }

  bool empty() const noexcept {
    return stats_.calls == 0;
  }

  /// The sums since the last take, labelled with the period; resets.
  metric_rollup take(const std::string& service, const std::string& node,
                     int64_t start_ms, int64_t end_ms);

private:
  call_stats stats_;
  histogram latency_us_;
};

/// The start of the period of length `period_ms` that holds `now_ms`.
inline int64_t period_start(int64_t now_ms, int64_t period_ms) noexcept {
  return now_ms - now_ms % period_ms;
}

/// The service's history stream, without the store prefix.
std::string history_stream(const std::string& service);

/// The service's month-to-date usage hash ("calls", "spend_micros", "errors"),
/// for `month` as "YYYY-MM" (UTC).
std::string usage_key(const std::string& service, const std::string& month);

/// "YYYY-MM" of epoch milliseconds, UTC.
std::string utc_month(int64_t epoch_ms);

/// The stream entry of a roll-up, and back. Integers stay integers (spend in
/// micro-dollars), so sums over the history are exact.
store::field_list to_fields(const metric_rollup& x);
caf::expected<metric_rollup> rollup_from_fields(const store::field_list& xs);

/// The writes of one roll-up, in one batch: the history entry (entries older
/// than `retention_ms` before `now_ms` trimmed away) and the month's usage
/// counters, which expire 62 days after their last write.
std::vector<store::write_op>
rollup_writes(const metric_rollup& x, int64_t retention_ms, int64_t now_ms);

} // namespace streamb
