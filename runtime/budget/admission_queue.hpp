#pragma once

// Admission requests that did not fit when they arrived and wait, each up to
// its own deadline, for capacity to return.
//
// Order: by priority (critical, high, normal, low), then by arrival. One
// FIFO line per priority; ids are handed out in push order, so "arrival"
// means push order even within one millisecond.
//
// Service is strict priority, head of line per priority: pop_next looks at
// the head of the most urgent non-empty line only. If that head does not fit
// yet, nothing is popped -- a lower line does not slip past it, because a
// stream of small normal requests would otherwise starve a large critical
// one forever (each would take the capacity it is waiting to accumulate).
// Within a line the head also blocks the requests behind it, for the same
// reason. A lower line never blocks a higher one: a big low request waits at
// the back. Callers must not queue a request that can never fit (its wait is
// never_ms): answer it at once instead, or it would block its line.
//
// Expiry: expire(now) removes every request whose deadline has come. Call
// pop_next first, so a request that can be granted at its deadline still is.
// For the 429 it gets, units_ahead() tells how many units were waiting in
// front of it; the tiers' wait_ms(units_ahead + units) is then an honest
// Retry-After (the capacity it needs after those ahead have been served).

#include "runtime/budget/priority.hpp"

#include <array>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <vector>

namespace streamb::budget {

/// One waiting admission request.
struct waiting_request {
  uint64_t id = 0; // assigned by the queue, increasing in push order
  priority prio = priority::normal;
  uint64_t units = 1;
  int64_t arrival_ms = 0;
  int64_t deadline_ms = 0; // it gets a 429 once now_ms >= deadline_ms
};

/// Waiting admission requests, by priority then arrival.
class admission_queue {
public:
  /// Queues a request; returns its id.
  uint64_t push(priority p, uint64_t units, int64_t deadline_ms,
                int64_t now_ms);

  /// Pops the head of the most urgent non-empty line if `fits(request)`
  /// says it fits now; nothing otherwise (see the ordering note above).
  /// `fits` is a predicate on `const waiting_request&`, so it can apply the
  /// reserved share by priority.
  template <class Fits>
  std::optional<waiting_request> pop_next(Fits&& fits) {
    for (auto& line : lines_) {
      if (line.empty())
        continue;
      if (!fits(static_cast<const waiting_request&>(line.front())))
        return std::nullopt;
      auto r = line.front();
      line.pop_front();
      return r;
    }
    return std::nullopt;
  }

  /// The request pop_next would consider, if any.
  const waiting_request* peek() const;

  /// Removes and returns every request with deadline_ms <= now_ms, in
  /// service order (priority, then arrival).
  std::vector<waiting_request> expire(int64_t now_ms);

  /// Removes one request (the client went away). False if it is not here.
  bool remove(uint64_t id);

  /// The earliest deadline among waiting requests, to arm the next timer.
  std::optional<int64_t> next_deadline_ms() const;

  /// Units of the waiting requests that would be served before `r`: every
  /// more urgent one, and those of its own priority that arrived earlier.
  uint64_t units_ahead(const waiting_request& r) const;

  size_t size() const;

  size_t size(priority p) const {
    return lines_[static_cast<size_t>(p)].size();
  }

  bool empty() const {
    return size() == 0;
  }

private:
  std::array<std::deque<waiting_request>, priority_count> lines_;
  uint64_t next_id_ = 1;
};

} // namespace streamb::budget
