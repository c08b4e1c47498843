#include "runtime/metrics/histogram.hpp"

#include <algorithm>
#include <cmath>

namespace streamb {

std::size_t sparse_histogram::memory_bytes() const {
  return sizeof(*this) + index.capacity() * sizeof(uint16_t)
    + counts.capacity() * sizeof(uint64_t);
}

bool sparse_histogram::empty() const {
  return count == 0;
}

void histogram::merge(const histogram& other) noexcept {
  // A plain loop over fixed-size arrays; the compiler vectorizes it.
  for (std::size_t i = 0; i < bucket_count; ++i)
    counts_[i] += other.counts_[i];
  count_ += other.count_;
  sum_ += other.sum_;
  // The empty sentinels (min_ = UINT64_MAX, max_ = 0) are neutral here.
  min_ = std::min(min_, other.min_);
  max_ = std::max(max_, other.max_);
}

void histogram::merge(const sparse_histogram& other) noexcept {
  // A sparse histogram may have travelled or been built by hand, so an index
  // out of range is skipped instead of written past the array, and count_ is
  // the sum of what was actually added: quantile() relies on count_ being
  // the sum of counts_.
  auto n = std::min(other.index.size(), other.counts.size());
  uint64_t added = 0;
  for (std::size_t i = 0; i < n; ++i) {
    auto idx = other.index[i];
    if (idx >= bucket_count)
      continue;
    counts_[idx] += other.counts[i];
    added += other.counts[i];
  }
  // An empty slot carries min = max = 0, which must not become our min.
  if (added == 0)
    return;
  count_ += added;
  sum_ += other.sum;
  min_ = std::min(min_, other.min);
  max_ = std::max(max_, other.max);
}

sparse_histogram histogram::compact() const {
  sparse_histogram result;
  if (count_ == 0)
    return result;
  // Two passes so that both vectors are allocated once, at their final size:
  // slots are kept for a long time and memory_bytes() should be honest.
  auto used = static_cast<std::size_t>(std::count_if(
    counts_.begin(), counts_.end(), [](uint64_t c) { return c != 0; }));
  result.index.reserve(used);
  result.counts.reserve(used);
  for (std::size_t i = 0; i < bucket_count; ++i) {
    if (counts_[i] != 0) {
      result.index.push_back(static_cast<uint16_t>(i));
      result.counts.push_back(counts_[i]);
    }
  }
  result.count = count_;
  result.sum = sum_;
  result.min = min_;
  result.max = max_;
  return result;
}

void histogram::reset() noexcept {
  counts_.fill(0);
  count_ = 0;
  sum_ = 0;
  min_ = UINT64_MAX;
  max_ = 0;
}

double histogram::quantile(double q) const noexcept {
  if (count_ == 0)
    return 0.0;
  // `!(q > 0)` also sends NaN here rather than into a float-to-int cast.
  if (!(q > 0.0))
    return static_cast<double>(min_);
  if (q >= 1.0)
    return static_cast<double>(max_);
  auto rank = static_cast<uint64_t>(std::ceil(q * static_cast<double>(count_)));
  rank = std::clamp<uint64_t>(rank, 1, count_);
  uint64_t seen = 0;
  for (std::size_t i = 0; i < bucket_count; ++i) {
    seen += counts_[i];
    if (seen >= rank) {
      // The midpoint is within half a bucket (<= 1/128 relative) of every
      // value in the bucket; clamping makes the extreme buckets exact-ish
      // and keeps clamped out-of-range values from reporting 71 min.
      auto mid = static_cast<double>(bucket_lower(i) + bucket_upper(i)) / 2.0;
      return std::clamp(mid, static_cast<double>(min_),
                        static_cast<double>(max_));
    }
  }
  // Unreachable while count_ == sum of counts_.
  return static_cast<double>(max_);
}

uint64_t histogram::count_at_or_below(uint64_t value_us) const noexcept {
  if (count_ == 0 || value_us < min_)
    return 0;
  if (value_us >= max_)
    return count_;
  auto last = bucket_index(value_us);
  uint64_t result = 0;
  for (std::size_t i = 0; i <= last; ++i)
    result += counts_[i];
  return result;
}

} // namespace streamb
