#include "runtime/budget/daily_limit.hpp"

#include <algorithm>
#include <limits>
#include <utility>

namespace streamb::budget {

daily_limit::daily_limit(uint64_t limit, time_zone zone)
  : limit_(limit), zone_(std::move(zone)),
    day_(std::numeric_limits<int64_t>::min()) {
  // nop
}

int64_t daily_limit::day_of(int64_t now_ms) const {
  return std::max(zone_.local_day(now_ms), day_);
}

uint64_t daily_limit::used(int64_t now_ms) const {
  return day_of(now_ms) == day_ ? used_ : 0;
}

uint64_t daily_limit::available(int64_t now_ms) const {
  if (!limited())
    return std::numeric_limits<uint64_t>::max();
  auto n = used(now_ms);
  return n >= limit_ ? 0 : limit_ - n;
}

bool daily_limit::can_take(uint64_t units, int64_t now_ms) const {
  return !limited() || units <= available(now_ms);
}

bool daily_limit::try_take(uint64_t units, int64_t now_ms) {
  if (!limited())
    return true;
  if (!can_take(units, now_ms))
    return false;
  auto d = day_of(now_ms);
  if (d != day_) {
    day_ = d;
    used_ = 0;
  }
  used_ += units;
  return true;
}

int64_t daily_limit::wait_ms(uint64_t units, int64_t now_ms) const {
  if (!limited())
    return 0;
  if (units > limit_)
    return never_ms;
  if (can_take(units, now_ms))
    return 0;
  return resets_at_ms(now_ms) - now_ms;
}

} // namespace streamb::budget
