// Measures streamb::histogram: record() against a plain array increment over
// the same values, quantile(), and merging a compacted slot. Prints one
// "name value" pair per line so that scripts can grep it.
//
// Values are generated up front and reused cyclically so the timed loops
// measure the histogram, not the random number generator.

#include "runtime/metrics/histogram.hpp"

#include <array>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <random>
#include <vector>

#include <time.h>

using streamb::histogram;
using streamb::sparse_histogram;

namespace {

constexpr std::size_t value_count = std::size_t{1} << 20;
constexpr std::size_t value_mask = value_count - 1;
constexpr uint64_t record_count = 100'000'000;

// One second of a busy service: 10 000 calls make one closed slot.
constexpr std::size_t slot_calls = 10'000;

std::vector<uint64_t> lognormal_values(std::size_t n, uint64_t seed) {
  std::mt19937_64 rng{seed};
  // Median 20 ms with a realistic tail into seconds.
  std::lognormal_distribution<double> dist{std::log(20'000.0), 1.0};
  std::vector<uint64_t> xs(n);
  for (auto& x : xs) {
    auto v = dist(rng);
    x = v < 1.0 ? 1 : static_cast<uint64_t>(std::llround(v));
  }
  return xs;
}

double thread_cpu_ns() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e9 + static_cast<double>(ts.tv_nsec);
}

// CPU time of this thread rather than wall time: the bench runs on machines
// shared with compilers and tests, and time spent descheduled is not time
// spent in record().
template <class F>
double elapsed_ns(F&& f) {
  auto start = thread_cpu_ns();
  f();
  return thread_cpu_ns() - start;
}

// Keeps a result alive without the cost of a volatile store per iteration.
template <class T>
void keep(const T& x) {
  asm volatile("" : : "g"(&x) : "memory");
}

} // namespace

int main() {
  auto values = lognormal_values(value_count, 1);
  uint64_t checksum = 0;

  // Baseline: the cheapest possible "count it" on the same value stream.
  std::array<uint64_t, 1024> plain{};
  for (auto v : values) // warm-up: page in values and the array
    plain[v & 1023]++;
  plain.fill(0);
  auto baseline_ns = elapsed_ns([&] {
    for (uint64_t i = 0; i < record_count; ++i)
      plain[values[i & value_mask] & 1023]++;
  });
  keep(plain);
  for (auto c : plain)
    checksum += c;

  // Heap-allocated only so main's frame stays small; record() itself never
  // allocates.
  auto h = std::make_unique<histogram>();
  for (auto v : values)
    h->record(v);
  h->reset();
  auto wall_start = std::chrono::steady_clock::now();
  auto record_ns = elapsed_ns([&] {
    for (uint64_t i = 0; i < record_count; ++i)
      h->record(values[i & value_mask]);
  });
  std::chrono::duration<double, std::nano>
    record_wall = std::chrono::steady_clock::now() - wall_start;
  keep(*h);
  checksum += h->count();

  // quantile(): a walk over the buckets, so its cost depends on q; sweep q.
  constexpr int quantile_calls = 100'000;
  double qsum = 0;
  auto quantile_ns = elapsed_ns([&] {
    for (int i = 0; i < quantile_calls; ++i)
      qsum += h->quantile(0.5 + 0.005 * (i % 100));
  });
  keep(qsum);

  // A typical closed slot, compacted, merged into a long-lived aggregate.
  histogram slot;
  for (auto v : lognormal_values(slot_calls, 2))
    slot.record(v);
  constexpr int compact_calls = 20'000;
  sparse_histogram sparse;
  auto compact_ns = elapsed_ns([&] {
    for (int i = 0; i < compact_calls; ++i) {
      sparse = slot.compact();
      keep(sparse);
    }
  });
  constexpr int merge_calls = 200'000;
  histogram aggregate;
  auto merge_sparse_ns = elapsed_ns([&] {
    for (int i = 0; i < merge_calls; ++i) {
      aggregate.merge(sparse);
      keep(aggregate);
    }
  });
  aggregate.reset();
  auto merge_dense_ns = elapsed_ns([&] {
    for (int i = 0; i < merge_calls; ++i) {
      aggregate.merge(slot);
      keep(aggregate);
    }
  });
  checksum += aggregate.count();

  auto per_record = record_ns / record_count;
  auto per_increment = baseline_ns / record_count;
  std::printf("histogram_sizeof_bytes %zu\n", sizeof(histogram));
  std::printf("histogram_bucket_count %zu\n", histogram::bucket_count);
  std::printf("baseline_increment_ns %.2f\n", per_increment);
  std::printf("histogram_record_ns %.2f\n", per_record);
  // Wall time too, so that a run on a busy machine shows as such.
  std::printf("histogram_record_wall_ns %.2f\n",
              record_wall.count() / record_count);
  std::printf("histogram_record_vs_baseline %.2f\n",
              per_record / per_increment);
  std::printf("histogram_quantile_ns %.0f\n", quantile_ns / quantile_calls);
  std::printf("slot_calls %zu\n", slot_calls);
  std::printf("slot_sparse_buckets %zu\n", sparse.index.size());
  std::printf("slot_sparse_bytes %zu\n", sparse.memory_bytes());
  std::printf("histogram_compact_ns %.0f\n", compact_ns / compact_calls);
  std::printf("histogram_merge_sparse_ns %.0f\n",
              merge_sparse_ns / merge_calls);
  std::printf("histogram_merge_dense_ns %.0f\n", merge_dense_ns / merge_calls);
  std::printf("histogram_p50_us %.0f\n", h->quantile(0.5));
  std::printf("histogram_p99_us %.0f\n", h->quantile(0.99));
  std::printf("checksum %llu\n", static_cast<unsigned long long>(checksum));
  return 0;
}
