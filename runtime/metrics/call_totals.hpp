#pragma once

// Counts of one service's calls since the node started: what Prometheus
// wants (counters and a cumulative histogram it can rate() and aggregate),
// where the rolling windows of call_windows.hpp answer "the last 5 minutes".

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace streamb {

/// Upper bounds of the latency histogram's buckets in seconds (Prometheus'
/// default buckets, plus 30 s for slow provider calls); +Inf is implied.
inline constexpr std::array<double, 12> latency_bucket_bounds_s{
  0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0};

struct call_totals {
  std::string service;
  /// Calls by outcome, indexed by status_class (runtime/messages.hpp).
  std::vector<uint64_t> by_outcome;
  /// Calls per latency bucket, not cumulative; the last is above the last
  /// bound (latency_bucket_bounds_s.size() + 1 entries).
  std::vector<uint64_t> latency_buckets;
  uint64_t latency_sum_us = 0;
  /// Spend of the reported or modelled cost, micro-dollars.
  int64_t spend_micros = 0;
  uint64_t cache_hits = 0;

  /// Counts one call; `outcome` is the status_class as an index.
  void record(uint64_t latency_us, std::size_t outcome, int64_t cost_micros,
              bool cache_hit, std::size_t outcome_count);

  uint64_t calls() const noexcept;
};

} // namespace streamb
