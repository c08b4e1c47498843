#include "runtime/advice/alert_escalation.hpp"

#include <algorithm>
#include <utility>

namespace streamb::advice {

const char* to_string(alert_priority x) noexcept {
  switch (x) {
    case alert_priority::normal: return "normal";
    case alert_priority::high: return "high";
    case alert_priority::critical: return "critical";
  }
  return "unknown";
}

alert_escalation::alert_escalation(escalation_settings settings)
  : settings_(std::move(settings)) {
  // nop
}

std::optional<alert_priority> alert_escalation::open(const std::string& key,
                                                     int64_t now_ms,
                                                     alert_priority initial) {
  if (auto i = open_.find(key); i != open_.end())
    return i->second.priority;
  if (open_.size() >= max_open)
    return std::nullopt;
  open_.emplace(key, entry{now_ms, initial});
  return initial;
}

std::optional<int64_t> alert_escalation::due_after_ms(alert_priority p) const {
  auto step = static_cast<std::size_t>(p);
  auto& after = settings_.after_s;
  if (step >= 2 || step >= after.size())
    return std::nullopt;
  // A step is never due before the one below it, so priorities rise in
  // order however the steps are configured.
  uint32_t s = 0;
  for (std::size_t i = 0; i <= step; ++i)
    s = std::max(s, after[i]);
  return static_cast<int64_t>(s) * 1000;
}

std::vector<alert_escalation::escalation>
alert_escalation::tick(int64_t now_ms) {
  struct due {
    int64_t at_ms;
    escalation x;
  };
  std::vector<due> steps;
  for (auto& [key, e] : open_) {
    // A clock that went back yields a negative time: nothing is due.
    auto open_for = now_ms - e.opened_ms;
    for (auto after = due_after_ms(e.priority); after && open_for >= *after;
         after = due_after_ms(e.priority)) {
      auto from = e.priority;
      e.priority = static_cast<alert_priority>(static_cast<uint8_t>(from) + 1);
      steps.push_back(
        due{e.opened_ms + *after, escalation{key, from, e.priority, open_for}});
    }
  }
  // The map gave key order and each key's steps lowest first; a stable
  // sort by due time keeps both among steps due at the same time.
  std::stable_sort(steps.begin(), steps.end(), [](const due& x, const due& y) {
    return x.at_ms < y.at_ms;
  });
  std::vector<escalation> result;
  result.reserve(steps.size());
  for (auto& s : steps)
    result.push_back(std::move(s.x));
  return result;
}

std::optional<alert_escalation::resolution>
alert_escalation::close(const std::string& key, int64_t now_ms) {
  auto i = open_.find(key);
  if (i == open_.end())
    return std::nullopt;
  resolution result{key, i->second.priority,
                    std::max<int64_t>(0, now_ms - i->second.opened_ms)};
  open_.erase(i);
  return result;
}

std::optional<alert_priority>
alert_escalation::priority_of(const std::string& key) const {
  if (auto i = open_.find(key); i != open_.end())
    return i->second.priority;
  return std::nullopt;
}

void alert_escalation::reconfigure(escalation_settings settings) {
  settings_ = std::move(settings);
}

} // namespace streamb::advice
