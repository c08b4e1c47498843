#include "runtime/budget/token_bucket.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace streamb::budget {

namespace {

constexpr double max_capacity = 1e9;

int64_t to_micro(double x, double max) {
  if (!(x > 0)) // also NaN
    return 0;
  return static_cast<int64_t>(std::llround(std::min(x, max) * 1e6));
}

} // namespace

token_bucket::token_bucket(double capacity, double refill_per_s)
  : limited_(capacity > 0 || refill_per_s > 0),
    capacity_(to_micro(capacity, max_capacity)),
    // A rate above one full bucket per millisecond refills instantly anyway.
    rate_(to_micro(refill_per_s, max_capacity * 1000)), level_(capacity_) {
  // nop
}

token_bucket::level token_bucket::at(int64_t now_ms) const {
  if (level_ >= capacity_ || now_ms <= last_ms_ || rate_ == 0)
    return {level_, level_ >= capacity_ ? 0 : carry_};
  auto dt = now_ms - last_ms_;
  // Time to fill up from here; past it the bucket is simply full. Checking
  // first also keeps rate_ * dt below ~1e18 (no overflow after long idle).
  auto deficit = capacity_ - level_;
  auto fill_ms = ceil_div(deficit * 1000 - carry_, rate_);
  if (dt >= fill_ms)
    return {capacity_, 0};
  auto credit = rate_ * dt + carry_;
  return {level_ + credit / 1000, credit % 1000};
}

void token_bucket::advance(int64_t now_ms) {
  auto x = at(now_ms);
  level_ = x.micro_tokens;
  carry_ = x.carry;
  last_ms_ = std::max(last_ms_, now_ms);
}

bool token_bucket::can_take(uint64_t units, int64_t now_ms) const {
  if (!limited_)
    return true;
  if (units > capacity())
    return false;
  return at(now_ms).micro_tokens >= static_cast<int64_t>(units) * micro;
}

bool token_bucket::try_take(uint64_t units, int64_t now_ms) {
  if (!limited_)
    return true;
  if (!can_take(units, now_ms))
    return false;
  advance(now_ms);
  level_ -= static_cast<int64_t>(units) * micro;
  return true;
}

void token_bucket::put_back(uint64_t units, int64_t now_ms) {
  if (!limited_)
    return;
  advance(now_ms);
  auto room = capacity_ - level_;
  auto back = units > capacity() ? capacity_
                                 : static_cast<int64_t>(units) * micro;
  level_ += std::min(room, back);
  if (level_ >= capacity_)
    carry_ = 0;
}

void token_bucket::reconfigure(double capacity, double refill_per_s,
                               int64_t now_ms) {
  int64_t deficit = 0;
  if (limited_) {
    advance(now_ms); // refill at the old rate up to now
    deficit = capacity_ - level_;
  }
  limited_ = capacity > 0 || refill_per_s > 0;
  capacity_ = to_micro(capacity, max_capacity);
  rate_ = to_micro(refill_per_s, max_capacity * 1000);
  level_ = std::max<int64_t>(capacity_ - deficit, 0);
  carry_ = 0;
  last_ms_ = std::max(last_ms_, now_ms);
}

int64_t token_bucket::wait_ms(uint64_t units, int64_t now_ms) const {
  if (!limited_)
    return 0;
  if (units > capacity())
    return never_ms;
  auto need = static_cast<int64_t>(units) * micro;
  auto x = at(now_ms);
  if (x.micro_tokens >= need)
    return 0;
  if (rate_ == 0)
    return never_ms;
  // Smallest w with (rate * w + carry) / 1000 >= missing, as at() credits.
  auto missing = need - x.micro_tokens;
  return ceil_div(missing * 1000 - x.carry, rate_);
}

uint64_t token_bucket::available(int64_t now_ms) const {
  if (!limited_)
    return std::numeric_limits<uint64_t>::max();
  return static_cast<uint64_t>(at(now_ms).micro_tokens / micro);
}

} // namespace streamb::budget
