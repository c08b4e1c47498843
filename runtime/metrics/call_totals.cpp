#include "runtime/metrics/call_totals.hpp"

#include <algorithm>

namespace streamb {

void call_totals::record(uint64_t latency_us, std::size_t outcome,
                         int64_t cost_micros, bool cache_hit,
                         std::size_t outcome_count) {
  if (by_outcome.size() < outcome_count)
    by_outcome.resize(outcome_count);
  if (latency_buckets.empty())
    latency_buckets.resize(latency_bucket_bounds_s.size() + 1);
  if (outcome < by_outcome.size())
    ++by_outcome[outcome];
  auto seconds = static_cast<double>(latency_us) / 1e6;
  // The first bound >= the latency: Prometheus buckets are "le".
  auto bound = std::lower_bound(latency_bucket_bounds_s.begin(),
                                latency_bucket_bounds_s.end(), seconds);
  ++latency_buckets[static_cast<std::size_t>(
    bound - latency_bucket_bounds_s.begin())];
  latency_sum_us += latency_us;
  spend_micros += std::max<int64_t>(cost_micros, 0);
  if (cache_hit)
    ++cache_hits;
}

uint64_t call_totals::calls() const noexcept {
  uint64_t n = 0;
  for (auto x : by_outcome)
    n += x;
  return n;
}

} // namespace streamb
