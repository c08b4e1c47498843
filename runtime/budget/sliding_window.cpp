#include "runtime/budget/sliding_window.hpp"

#include <algorithm>
#include <limits>

namespace streamb::budget {

namespace {

constexpr int64_t max_granules = 3600;

} // namespace

sliding_window::sliding_window(uint64_t limit, int64_t window_ms,
                               int64_t granule_ms)
  : limit_(limit) {
  window_ms = std::max<int64_t>(window_ms, 1);
  if (granule_ms <= 0)
    granule_ms = window_ms / 60;
  granule_ms = std::clamp<int64_t>(granule_ms, 1, window_ms);
  granule_ms = std::max(granule_ms, ceil_div(window_ms, max_granules));
  granule_ms_ = granule_ms;
  span_ = ceil_div(window_ms, granule_ms);
  // The current granule plus `span_` before it: a unit of granule g counts
  // while the current granule is at most g + span_.
  ring_.resize(static_cast<size_t>(span_ + 1));
  latest_ = std::numeric_limits<int64_t>::min();
}

int64_t sliding_window::current(int64_t now_ms) const {
  return std::max(floor_div(now_ms, granule_ms_), latest_);
}

size_t sliding_window::index_of(int64_t granule) const {
  auto n = span_ + 1;
  return static_cast<size_t>(((granule % n) + n) % n);
}

uint64_t sliding_window::count(int64_t now_ms) const {
  auto g = current(now_ms);
  uint64_t n = 0;
  for (const auto& s : ring_)
    if (s.units > 0 && s.granule >= g - span_ && s.granule <= g)
      n += s.units;
  return n;
}

uint64_t sliding_window::available(int64_t now_ms) const {
  if (!limited())
    return std::numeric_limits<uint64_t>::max();
  auto n = count(now_ms);
  return n >= limit_ ? 0 : limit_ - n;
}

bool sliding_window::can_take(uint64_t units, int64_t now_ms) const {
  return !limited() || units <= available(now_ms);
}

bool sliding_window::try_take(uint64_t units, int64_t now_ms) {
  if (!limited())
    return true;
  if (!can_take(units, now_ms))
    return false;
  auto g = current(now_ms);
  auto& s = ring_[index_of(g)];
  if (s.granule != g)
    s = slot{g, 0}; // the slot held a granule that has left the window
  s.units += units;
  latest_ = g;
  return true;
}

int64_t sliding_window::wait_ms(uint64_t units, int64_t now_ms) const {
  if (!limited())
    return 0;
  if (units > limit_)
    return never_ms;
  auto n = count(now_ms);
  if (n + units <= limit_)
    return 0;
  // Oldest granules leave first; find the one whose leaving frees enough.
  auto excess = n + units - limit_;
  auto g = current(now_ms);
  uint64_t freed = 0;
  for (auto k = g - span_; k <= g; ++k) {
    const auto& s = ring_[index_of(k)];
    if (s.granule != k)
      continue;
    freed += s.units;
    if (freed >= excess) {
      auto leaves_at = (k + span_ + 1) * granule_ms_;
      return std::max<int64_t>(leaves_at - now_ms, 0);
    }
  }
  return never_ms; // not reached: all counted units leave eventually
}

} // namespace streamb::budget
