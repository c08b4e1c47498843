#pragma once

// What a budget controller has reserved and not yet settled. A grant
// reserves its estimated cost in the store at once (every node sees it); a
// call reported later settles the oldest open grant, its estimate out and
// its actual cost in; a grant no call settled expires and its estimate is
// given back. The difference between estimates and actual costs is the
// delta the controller still owes the store.

#include <cstddef>
#include <cstdint>
#include <deque>

namespace streamb::budget {

class spend_ledger {
public:
  /// A granted reservation of `cost_micros`, open until `expires_ms`.
  void open(int64_t cost_micros, int64_t expires_ms);

  /// `calls` reported calls that cost `actual_micros` together settle the
  /// oldest open grants (calls beyond the open grants settle nothing but
  /// their cost still counts).
  void settle(std::size_t calls, int64_t actual_micros);

  /// Gives back the estimates of grants expired at `now_ms`.
  void expire(int64_t now_ms);

  /// Forgets everything (a new month: the old month's reservations and
  /// deltas stay in the old month's counters).
  void clear();

  /// The correction the store has not been told yet; zero after.
  int64_t take_delta() noexcept;

  /// Estimates of the open grants.
  int64_t reserved_micros() const noexcept {
    return reserved_;
  }

  std::size_t open_grants() const noexcept {
    return grants_.size();
  }

private:
  struct grant {
    int64_t cost = 0;
    int64_t expires_ms = 0;
  };
  std::deque<grant> grants_; // oldest first
  int64_t reserved_ = 0;
  int64_t delta_ = 0;
};

} // namespace streamb::budget
