#include "runtime/budget/admission_limits.hpp"

#include <algorithm>

namespace streamb::budget {

namespace {

template <class Tier>
bool tier_fits(const Tier& tier, const reserved_share& reserved, priority p,
               uint64_t units, int64_t now) {
  return !tier.limited()
    || reserved.admits(p, units, tier.available(now), tier.capacity());
}

template <class Tier>
admission_limits::fit misfit(denial_reason why, const Tier& tier,
                             const reserved_share& reserved, priority p,
                             uint64_t units, int64_t now) {
  return {why,
          tier.wait_ms(units + reserved.held_back(p, tier.capacity()), now)};
}

template <class Tier>
int64_t left_in(const Tier& tier, int64_t now) {
  return tier.limited() ? static_cast<int64_t>(tier.available(now)) : -1;
}

} // namespace

admission_limits::fit admission_limits::check(priority p, uint64_t units,
                                              int64_t now_ms) const {
  if (!tier_fits(burst, reserved, p, units, now_ms))
    return misfit(denial_reason::burst, burst, reserved, p, units, now_ms);
  if (!tier_fits(sustained, reserved, p, units, now_ms))
    return misfit(denial_reason::sustained, sustained, reserved, p, units,
                  now_ms);
  if (!tier_fits(daily, reserved, p, units, now_ms))
    return misfit(denial_reason::daily, daily, reserved, p, units, now_ms);
  return {};
}

void admission_limits::take(uint64_t units, int64_t now_ms) {
  if (burst.limited())
    burst.try_take(units, now_ms);
  if (sustained.limited())
    sustained.try_take(units, now_ms);
  if (daily.limited())
    daily.try_take(units, now_ms);
}

void admission_limits::give_back(uint64_t units, int64_t now_ms) {
  if (burst.limited())
    burst.put_back(units, now_ms);
}

admission_limits::remaining admission_limits::left(int64_t now_ms) const {
  return {left_in(burst, now_ms), left_in(sustained, now_ms),
          left_in(daily, now_ms)};
}

void admission_limits::resize_sustained(uint64_t limit, int64_t window_ms,
                                        int64_t now_ms) {
  auto counted = sustained.limited() ? sustained.count(now_ms) : 0;
  sustained = sliding_window{limit, window_ms};
  sustained.try_take(std::min(counted, limit), now_ms);
}

void admission_limits::replace_daily(uint64_t limit, time_zone zone,
                                     int64_t now_ms) {
  auto used = daily.used(now_ms);
  daily = daily_limit{limit, std::move(zone)};
  daily.try_take(std::min(used, limit), now_ms);
}

denial_reason spend_denial(const budget_state& budget, bool hard_cap,
                           priority p, int64_t spend_micros) {
  auto limit = budget.budget_micro();
  auto ov = budget.override_mode();
  if (limit <= 0 || ov == budget_override::lift)
    return denial_reason::none;
  auto over_cap = hard_cap && spend_micros > limit;
  if (p == priority::critical)
    return over_cap ? denial_reason::hard_cap : denial_reason::none;
  if (ov == budget_override::force)
    return denial_reason::budget_throttle;
  if (!budget.within_throttle(spend_micros))
    return over_cap ? denial_reason::hard_cap : denial_reason::budget_throttle;
  return denial_reason::none;
}

} // namespace streamb::budget
