#pragma once

// A latency histogram over integer microseconds with log-linear buckets, in
// the spirit of HdrHistogram: 64 sub-buckets per power of two.
//
// Layout: values 0..127 get one exact bucket each. From 128 up, each octave
// [2^e, 2^(e+1)) is cut into 64 equal sub-buckets of width 2^(e-6), so a
// bucket is never wider than 1/64 of its lower bound and its midpoint is
// within 1/128 (< 1 %) of every value inside it. Octaves 7..31 cover 128 µs
// to 2^32-1 µs (~71 min): 128 + 25 * 64 = 1728 buckets, ~13.5 KiB, fixed.
//
// The bucket index is part of the wire format of `sparse_histogram`, so the
// scheme must not change without changing every producer and consumer.

#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace streamb {

/// The non-empty buckets of a `histogram`, e.g. one closed time slot.
struct sparse_histogram {
  /// Bucket indexes, strictly increasing; parallel to `counts`.
  std::vector<uint16_t> index;
  /// Count of each bucket in `index`, never 0.
  std::vector<uint64_t> counts;
  uint64_t count = 0, sum = 0, min = 0, max = 0;

  /// Heap plus inline bytes this object holds, for memory accounting.
  std::size_t memory_bytes() const;

  bool empty() const;
};

/// Fixed-size, mergeable log-linear histogram of microsecond latencies.
class histogram {
public:
  /// Values below this get one exact bucket each.
  static constexpr uint64_t exact_limit = 128;

  /// Sub-buckets per power of two (from 128 up).
  static constexpr uint64_t sub_buckets = 64;

  /// Largest value that gets its own bucket; larger ones land in the top
  /// bucket, while min/max/sum still see the real value.
  static constexpr uint64_t max_tracked_us = (uint64_t{1} << 32) - 1;

  /// 128 exact buckets, then octaves 2^7 .. 2^31 with 64 buckets each.
  static constexpr std::size_t bucket_count = exact_limit
    + (32 - 7) * sub_buckets;

  // One formula covers both ranges: OR-ing in 127 makes every small value
  // look like octave 6, whose shift is 0 and whose index is the value itself
  // (64 * 0 + v). For v >= 128 the OR leaves the leading bit alone and
  // 64 * (e - 6) + (v >> (e - 6)) equals 128 + (e - 7) * 64 + (top 7 bits
  // - 64). So the only decision left is the clamp, which compiles to a cmov.
  static constexpr std::size_t bucket_index(uint64_t value_us) noexcept {
    uint64_t v = value_us > max_tracked_us ? max_tracked_us : value_us;
    auto shift = static_cast<unsigned>((63 ^ __builtin_clzll(v | 127)) - 6);
    return static_cast<std::size_t>((uint64_t{shift} << 6) + (v >> shift));
  }

  /// Smallest value that falls into bucket `i` (i < bucket_count).
  static constexpr uint64_t bucket_lower(std::size_t i) noexcept {
    if (i < exact_limit)
      return i;
    // Inverse of bucket_index: i = 64 * shift + m with m in [64, 127].
    auto shift = static_cast<unsigned>((i >> 6) - 1);
    return (uint64_t{i & 63} + 64) << shift;
  }

  /// Largest value that falls into bucket `i` (i < bucket_count).
  static constexpr uint64_t bucket_upper(std::size_t i) noexcept {
    if (i < exact_limit)
      return i;
    auto shift = static_cast<unsigned>((i >> 6) - 1);
    return ((uint64_t{i & 63} + 65) << shift) - 1;
  }

  /// Hot path: one clz, one shift, no division, branch-free min/max.
  void record(uint64_t value_us) noexcept {
    counts_[bucket_index(value_us)] += 1;
    count_ += 1;
    sum_ += value_us;
    min_ = value_us < min_ ? value_us : min_;
    max_ = value_us > max_ ? value_us : max_;
  }

  /// Records `value_us` `n` times; n == 0 is a no-op.
  void record(uint64_t value_us, uint64_t n) noexcept {
    // Without this test a zero count would still move min/max.
    if (n == 0)
      return;
    counts_[bucket_index(value_us)] += n;
    count_ += n;
    sum_ += value_us * n;
    min_ = value_us < min_ ? value_us : min_;
    max_ = value_us > max_ ? value_us : max_;
  }

  void merge(const histogram& other) noexcept;

  /// Adds a compacted slot; cost is linear in its non-empty buckets.
  void merge(const sparse_histogram& other) noexcept;

  /// Only the non-empty buckets, plus count/sum/min/max.
  sparse_histogram compact() const;

  void reset() noexcept;

  uint64_t count() const noexcept {
    return count_;
  }

  /// Exact sum of the recorded values (not of bucket midpoints).
  uint64_t sum() const noexcept {
    return sum_;
  }

  /// Exact smallest recorded value; 0 when empty.
  uint64_t min() const noexcept {
    return count_ == 0 ? 0 : min_;
  }

  /// Exact largest recorded value; 0 when empty.
  uint64_t max() const noexcept {
    return max_;
  }

  /// sum() / count(); 0 when empty.
  double mean() const noexcept {
    return count_ == 0
      ? 0.0
      : static_cast<double>(sum_) / static_cast<double>(count_);
  }

  /// Value of rank max(1, ceil(q * count)) as its bucket's midpoint, clamped
  /// to [min(), max()]; q <= 0 gives min(), q >= 1 max(), empty gives 0.
  /// Within 1/128 relative of the exact value up to max_tracked_us.
  double quantile(double q) const noexcept;

  /// Number of values <= `value_us`, at bucket resolution: the whole bucket
  /// holding `value_us` counts as below it, so the answer is exact when
  /// `value_us` is a bucket_upper(), below min() or at least max() (values
  /// above max_tracked_us share the top bucket and count as inside it).
  uint64_t count_at_or_below(uint64_t value_us) const noexcept;

private:
  // The scalars come first so that record() touches them and the counts in
  // as few cache lines as possible.
  uint64_t count_ = 0;
  uint64_t sum_ = 0;
  // UINT64_MAX while empty so that record() needs no "first value" branch;
  // min() hides it.
  uint64_t min_ = UINT64_MAX;
  uint64_t max_ = 0;
  std::array<uint64_t, bucket_count> counts_{};
};

static_assert(histogram::bucket_count == 1728);
static_assert(histogram::bucket_count <= UINT16_MAX,
              "sparse_histogram::index stores bucket indexes as uint16_t");
static_assert(sizeof(histogram) == 4 * 8 + 1728 * 8, "13856 bytes");
static_assert(sizeof(histogram) <= 32 * 1024);

} // namespace streamb
