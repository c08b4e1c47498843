#pragma once

// The webhook processor's events in memory, between the durable queues and
// the subscriber: critical before normal, first in first out within each,
// at most `max_in_flight` handed out at a time, and every queue entry held
// once (a claim or a poll that reads an entry again does not take it twice
// while it is here).

#include "runtime/messages.hpp"

#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <set>
#include <string>

namespace streamb {

class delivery_queue {
public:
  explicit delivery_queue(uint32_t max_in_flight = 1)
    : max_in_flight_(max_in_flight) {
    // nop
  }

  /// Takes an event read from a queue entry; false if that entry is held
  /// already. `maybe_seen` (a recovered or claimed entry) marks an event
  /// never tried here as tried once, so that its history is checked before
  /// it goes out; it costs one try of the schedule at most.
  bool take(webhook_event ev, bool maybe_seen);

  /// Puts back an event that is still held (a retry that came due).
  void requeue(webhook_event ev);

  /// The next event to hand out, critical first, if fewer than
  /// `max_in_flight` are out; it counts as in flight until `finished`.
  std::optional<webhook_event> next();

  /// One handed-out event came back (any outcome).
  void finished() noexcept;

  /// The event's entry is settled (acknowledged): a later read of it may be
  /// taken again.
  void release(const webhook_event& ev);

  std::size_t held() const noexcept {
    return held_.size();
  }

  uint32_t in_flight() const noexcept {
    return in_flight_;
  }

  std::size_t waiting() const noexcept {
    return critical_.size() + normal_.size();
  }

  /// Events waiting to go out, per service.
  std::map<std::string, uint64_t> waiting_by_service() const;

private:
  /// Entry ids are unique per stream only.
  static std::string key(const webhook_event& ev);

  uint32_t max_in_flight_;
  uint32_t in_flight_ = 0;
  std::deque<webhook_event> critical_;
  std::deque<webhook_event> normal_;
  std::set<std::string> held_;
};

} // namespace streamb
