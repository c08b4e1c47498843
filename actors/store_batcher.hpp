#pragma once

// One store batch in flight per owner: what arrives while a batch is written
// waits and goes out as the next batch, so a slow store yields fewer, larger
// writes instead of a queue of small ones in the store actor's mailbox.
//
// The owner says what a batch writes (`make_ops`) and what its results mean
// (`stored`); the batcher sends it, checks that the store answered one result
// per op (an answer of another size is treated as a refusal: indexing it
// would read past the end), and applies the owner's policy when the store
// refuses the whole batch:
//
// - `keep`: the items go back to the front of the queue, oldest first, and
//   are sent with the next flush (roll-ups, usage history, spend deltas,
//   webhook outcomes: facts that must reach the store);
// - `drop`: the items are handed to `refused` and forgotten (requests whose
//   callers are answered with the error: reservations, accepts);
// - `keep_if`: the owner's `keep` predicate says which items go back (the
//   hub keeps outcome records but answers an event's sender with the error).
//
// Past `max_queued` the oldest queued items (never the batch in flight) are
// dropped, counted and handed to `dropped`, so a store that stays away costs
// bounded memory and nobody waits for an item that is gone.

#include "actors/request_deadlines.hpp"
#include "runtime/core/error_code.hpp"
#include "runtime/core/log.hpp"
#include "runtime/messages.hpp"

#include <caf/error.hpp>

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace streamb {

enum class on_refusal { keep, drop, keep_if };

template <class Item>
class store_batcher {
public:
  using batch = std::vector<Item>;

  struct handlers {
    /// The writes of a batch, in the order `stored` reads their results.
    std::function<write_ops(const batch&)> make_ops;
    /// The store answered one result per op (some may carry an error).
    /// Returns false if the owner keeps the batch busy with more work of its
    /// own (a second round trip) and calls `finished` when done.
    std::function<bool(batch&, write_results&)> stored;
    /// The store refused the whole batch (unreachable, timeout, malformed
    /// answer). Under `keep` the items are already queued again. `first` is
    /// true for the first refusal after a success: owners say it once per
    /// outage, not once per batch.
    std::function<void(batch&, const caf::error&, bool first)> refused;
    /// Under `keep_if`: whether a refused item is queued again (unset:
    /// every item is).
    std::function<bool(const Item&)> keep;
    /// Optional: an item dropped for space, for owners that owe someone an
    /// answer about it.
    std::function<void(Item&)> dropped;
  };

  store_batcher(std::string owner, on_refusal policy, std::size_t max_queued,
                handlers h)
    : owner_(std::move(owner)), policy_(policy), max_queued_(max_queued),
      h_(std::move(h)) {
    // nop
  }

  /// Queues `x` for the next batch. Returns how many old items were dropped
  /// to make room (0 almost always).
  std::size_t push(Item x) {
    queue_.push_back(std::move(x));
    return trim();
  }

  /// The last item queued, to merge into (spend deltas of one day); null if
  /// nothing waits.
  Item* back() {
    return queue_.empty() ? nullptr : &queue_.back();
  }

  /// Sends the queue as one batch unless one is in flight or nothing waits.
  template <class Self>
  void flush(Self* self, const store_actor& store,
             std::chrono::milliseconds timeout) {
    if (busy_ || queue_.empty() || !store)
      return;
    busy_ = true;
    // One batch shared by both continuations: each holding a copy cost two
    // copies of every write per batch (docs/BENCHMARKS.md, deliveries).
    auto b = std::make_shared<batch>(std::make_move_iterator(queue_.begin()),
                                     std::make_move_iterator(queue_.end()));
    queue_.clear();
    auto ops = h_.make_ops(*b);
    auto expected = ops.size();
    auto on_stored = [this, self, store, timeout, b,
                      expected](write_results& rs) {
      if (rs.size() != expected) {
        refuse(*b,
               caf::make_error(error_code::store_error,
                               "the store answered " + std::to_string(rs.size())
                                 + " results for " + std::to_string(expected)
                                 + " writes"));
        return;
      }
      // `stored` may read failing() to say the store is back.
      auto done = h_.stored(*b, rs);
      failing_ = false;
      if (done)
        finished(self, store, timeout);
    };
    auto on_refused = [this, b](caf::error& err) { refuse(*b, err); };
    if (deadlines_)
      request_watched(self, *deadlines_, timeout, store, write_atom_v,
                      std::move(ops))
        .then(std::move(on_stored), std::move(on_refused));
    else
      self->request(store, timeout, write_atom_v, std::move(ops))
        .then(std::move(on_stored), std::move(on_refused));
  }

  /// Ends a batch whose `stored` returned false, and sends what waits.
  template <class Self>
  void finished(Self* self, const store_actor& store,
                std::chrono::milliseconds timeout) {
    busy_ = false;
    ++batches_;
    flush(self, store, timeout);
  }

  /// Times the batches out through `deadlines` (which the owner expires
  /// from a timer of its own) instead of CAF's clock thread; for owners
  /// that write at the rate of requests.
  void watch_with(request_deadlines& deadlines) noexcept {
    deadlines_ = &deadlines;
  }

  bool busy() const noexcept {
    return busy_;
  }

  /// Nothing queued and nothing in flight.
  bool idle() const noexcept {
    return !busy_ && queue_.empty();
  }

  std::size_t queued() const noexcept {
    return queue_.size();
  }

  /// The last batch was refused and none has been stored since.
  bool failing() const noexcept {
    return failing_;
  }

  /// Items dropped for space since the start.
  uint64_t dropped() const noexcept {
    return dropped_;
  }

  /// Batches the store answered since the start.
  uint64_t batches() const noexcept {
    return batches_;
  }

  /// Forgets everything queued (not the batch in flight); for owners whose
  /// queued writes lost their meaning (a new budget month).
  void clear() {
    queue_.clear();
  }

private:
  void refuse(batch& b, const caf::error& err) {
    busy_ = false;
    auto first = !failing_;
    failing_ = true;
    if (policy_ == on_refusal::keep) {
      queue_.insert(queue_.begin(), b.begin(), b.end());
      trim();
    } else if (policy_ == on_refusal::keep_if) {
      batch kept;
      for (auto& x : b)
        if (!h_.keep || h_.keep(x))
          kept.push_back(x);
      queue_.insert(queue_.begin(), kept.begin(), kept.end());
      trim();
    }
    h_.refused(b, err, first);
  }

  std::size_t trim() {
    std::size_t n = 0;
    for (; queue_.size() > max_queued_; ++n) {
      auto x = std::move(queue_.front());
      queue_.pop_front();
      if (h_.dropped)
        h_.dropped(x);
      if (++dropped_ % 60 == 1)
        log_error(owner_.c_str(),
                  std::to_string(dropped_)
                    + " queued store writes dropped: the store has "
                      "been unreachable longer than the queue holds");
    }
    return n;
  }

  std::string owner_;
  on_refusal policy_;
  std::size_t max_queued_;
  handlers h_;
  std::deque<Item> queue_;
  bool busy_ = false;
  bool failing_ = false;
  uint64_t dropped_ = 0;
  uint64_t batches_ = 0;
  request_deadlines* deadlines_ = nullptr;
};

} // namespace streamb
