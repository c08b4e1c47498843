#include "runtime/webhooks/delivery_queue.hpp"

namespace streamb {

std::string delivery_queue::key(const webhook_event& ev) {
  return (ev.critical ? "c:" : "n:") + ev.entry_id;
}

bool delivery_queue::take(webhook_event ev, bool maybe_seen) {
  if (!held_.insert(key(ev)).second)
    return false;
  if (maybe_seen && ev.attempts == 0)
    ev.attempts = 1;
  requeue(std::move(ev));
  return true;
}

void delivery_queue::requeue(webhook_event ev) {
  (ev.critical ? critical_ : normal_).push_back(std::move(ev));
}

std::optional<webhook_event> delivery_queue::next() {
  if (in_flight_ >= max_in_flight_ || (critical_.empty() && normal_.empty()))
    return std::nullopt;
  auto& q = critical_.empty() ? normal_ : critical_;
  auto ev = std::move(q.front());
  q.pop_front();
  ++in_flight_;
  return ev;
}

void delivery_queue::finished() noexcept {
  if (in_flight_ > 0)
    --in_flight_;
}

void delivery_queue::release(const webhook_event& ev) {
  held_.erase(key(ev));
}

std::map<std::string, uint64_t> delivery_queue::waiting_by_service() const {
  std::map<std::string, uint64_t> result;
  for (auto* q : {&critical_, &normal_})
    for (auto& ev : *q)
      ++result[ev.service];
  return result;
}

} // namespace streamb
