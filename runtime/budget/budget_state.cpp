#include "runtime/budget/budget_state.hpp"

#include "runtime/core/enum_text.hpp"

#include <algorithm>

namespace streamb::budget {

namespace {

// ceil(budget * bp / 10000) without overflow for any int64 budget.
int64_t amount_at(int64_t budget, uint32_t bp) {
  auto whole = budget / 10000 * bp;
  auto rest = budget % 10000 * bp;
  return whole + (rest + 9999) / 10000;
}

} // namespace

const char* to_string(budget_mode x) {
  switch (x) {
    case budget_mode::normal: return "normal";
    case budget_mode::throttled: return "throttled";
    case budget_mode::capped: return "capped";
  }
  return "unknown";
}

const char* to_string(budget_override x) {
  switch (x) {
    case budget_override::none: return "none";
    case budget_override::lift: return "lift";
    case budget_override::force: return "force";
  }
  return "unknown";
}

std::optional<budget_override> parse_budget_override(std::string_view x) {
  constexpr budget_override all[] = {budget_override::none,
                                     budget_override::lift,
                                     budget_override::force};
  return parse_enum(x, all);
}

budget_state::budget_state(int64_t budget_micro, bool hard_cap,
                           std::vector<uint32_t> thresholds_bp,
                           uint32_t throttle_bp)
  : budget_(std::max<int64_t>(budget_micro, 0)),
    hard_cap_(hard_cap),
    throttle_bp_(std::clamp<uint32_t>(throttle_bp, 1, exhausted_bp)) {
  build_levels(std::move(thresholds_bp));
}

void budget_state::build_levels(std::vector<uint32_t> thresholds_bp) {
  std::vector<level> old;
  old.swap(levels_);
  thresholds_bp.push_back(throttle_bp_);
  thresholds_bp.push_back(exhausted_bp);
  std::sort(thresholds_bp.begin(), thresholds_bp.end());
  thresholds_bp.erase(std::unique(thresholds_bp.begin(), thresholds_bp.end()),
                      thresholds_bp.end());
  for (auto bp : thresholds_bp) {
    if (bp == 0 || bp > exhausted_bp)
      continue;
    auto was = std::find_if(old.begin(), old.end(),
                            [bp](const level& l) { return l.bp == bp; });
    levels_.push_back(
      level{bp, amount_at(budget_, bp), was != old.end() && was->reached});
  }
}

void budget_state::restore(const std::vector<uint32_t>& reached_bp,
                           budget_mode mode) {
  for (auto& l : levels_)
    if (std::find(reached_bp.begin(), reached_bp.end(), l.bp)
        != reached_bp.end())
      l.reached = true;
  mode_ = mode;
}

std::vector<budget_event>
budget_state::set_levels(std::vector<uint32_t> thresholds_bp,
                         uint32_t throttle_bp) {
  throttle_bp_ = std::clamp<uint32_t>(throttle_bp, 1, exhausted_bp);
  build_levels(std::move(thresholds_bp));
  return observe(spend_);
}

bool budget_state::within_throttle(int64_t spend) const noexcept {
  if (budget_ <= 0)
    return true;
  return spend <= amount_at(budget_, throttle_bp_);
}

budget_mode budget_state::wanted_mode() const {
  if (override_ == budget_override::lift)
    return budget_mode::normal;
  auto m = budget_mode::normal;
  if (budget_ > 0) {
    if (hard_cap_ && spend_ >= amount_at(budget_, exhausted_bp))
      m = budget_mode::capped;
    else if (spend_ >= amount_at(budget_, throttle_bp_))
      m = budget_mode::throttled;
  }
  if (override_ == budget_override::force && m == budget_mode::normal)
    m = budget_mode::throttled;
  return m;
}

void budget_state::note_mode(budget_mode before,
                             std::vector<budget_event>& out) {
  mode_ = wanted_mode();
  if (mode_ != before) {
    budget_event e;
    e.what = budget_event::kind::mode_changed;
    e.from = before;
    e.to = mode_;
    e.spend_micro = spend_;
    e.budget_micro = budget_;
    out.push_back(e);
  }
}

std::vector<budget_event> budget_state::observe(int64_t spend_micro) {
  std::vector<budget_event> out;
  spend_ = spend_micro;
  if (budget_ > 0) {
    for (auto& l : levels_) {
      if (l.reached || spend_ < l.amount_micro)
        continue;
      l.reached = true;
      budget_event e;
      e.what = budget_event::kind::level_reached;
      e.level_bp = l.bp;
      e.spend_micro = spend_;
      e.budget_micro = budget_;
      out.push_back(e);
    }
  }
  note_mode(mode_, out);
  return out;
}

std::vector<budget_event> budget_state::roll_month() {
  std::vector<budget_event> out;
  for (auto& l : levels_)
    l.reached = false;
  spend_ = 0;
  override_ = budget_override::none;
  note_mode(mode_, out);
  return out;
}

std::vector<budget_event> budget_state::set_override(budget_override o) {
  std::vector<budget_event> out;
  override_ = o;
  note_mode(mode_, out);
  return out;
}

std::vector<budget_event> budget_state::reconfigure(int64_t budget_micro,
                                                    bool hard_cap) {
  budget_ = std::max<int64_t>(budget_micro, 0);
  hard_cap_ = hard_cap;
  for (auto& l : levels_) {
    l.amount_micro = amount_at(budget_, l.bp);
    if (spend_ < l.amount_micro)
      l.reached = false;
  }
  return observe(spend_);
}

bool budget_state::admits(priority p) const noexcept {
  switch (mode_) {
    case budget_mode::normal: return true;
    case budget_mode::throttled: return p == priority::critical;
    case budget_mode::capped: return false;
  }
  return false;
}

int64_t budget_state::utilization_ppm() const noexcept {
  if (budget_ <= 0 || spend_ <= 0)
    return 0;
  // spend * 1e6 / budget, split so it does not overflow.
  auto q = spend_ / budget_;
  auto r = spend_ % budget_;
  return q * 1'000'000
    + static_cast<int64_t>(static_cast<__int128>(r) * 1'000'000 / budget_);
}

std::vector<uint32_t> budget_state::reached_levels() const {
  std::vector<uint32_t> out;
  for (const auto& l : levels_)
    if (l.reached)
      out.push_back(l.bp);
  return out;
}

} // namespace streamb::budget
