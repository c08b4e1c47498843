#pragma once

// What the advisor knows about one service's traffic, by UTC day, over the
// observation window (default 7 days): calls, keyed calls and a
// HyperLogLog of their keys (distinct keys stay estimated, with a stated
// error, past any number of keys), 429s, spend, batchable calls and their
// bursts, and calls per minute (for the peak demand a limit must keep).
//
// The days are kept in the store (see `unsaved` and `merge_stored`), so a
// restart keeps the observation window: counters as hash fields the node
// adds to with HINCRBY, the key sketch as one string per day.

#include "runtime/advice/hyperloglog.hpp"
#include "runtime/messages.hpp"

#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <unordered_map>
#include <vector>

namespace streamb::advice {

constexpr int64_t ms_per_day = 24 * 3600 * 1000;
constexpr int minutes_per_day = 1440;

/// Counters of one UTC day; also the shape of what is not yet stored.
struct day_counts {
  uint64_t calls = 0;
  uint64_t keyed_calls = 0;
  uint64_t rate_limited = 0;
  uint64_t batchable_calls = 0;
  uint64_t batch_groups = 0;
  int64_t spend_micros = 0;
  std::array<uint32_t, minutes_per_day> minutes{};

  void add(const day_counts& other);
  bool empty() const;
};

/// One day's counters not yet in the store, and whether its key sketch
/// changed since it was last written.
struct unsaved_day {
  int64_t day = 0; // days since the epoch (UTC)
  day_counts counts;
  bool keys_changed = false;
  std::string keys; // the day's whole sketch, when keys_changed
};

class usage_history {
public:
  usage_history(uint32_t window_days, std::vector<std::string> batchable,
                int64_t batch_window_ms, int64_t now_ms);

  /// Counts one call at its own time (clamped to now; calls older than the
  /// window are left out).
  void record(const call_sample& x, int64_t cost_micros, int64_t now_ms);

  /// The window's totals and peaks; `window_s` is the sustained limit's.
  usage_profile profile(const std::string& service, uint32_t window_s,
                        int64_t now_ms) const;

  /// Calls batching would have saved over the window (batchable calls
  /// minus their bursts): the batch rule's input, cheap to ask.
  uint64_t batch_savings(int64_t now_ms) const;

  /// Takes what changed since the last call (the caller writes it and
  /// gives it back with `restore_unsaved` if the store refused).
  std::vector<unsaved_day> take_unsaved();
  void restore_unsaved(const std::vector<unsaved_day>& xs);

  /// Adds what the store holds for `day` (read at start) to what this node
  /// counted since; `keys` may be empty. Observation began no later than
  /// the day's first minute with calls.
  void merge_stored(int64_t day, const day_counts& counts,
                    const std::string& keys);

  /// The earliest time traffic was observed.
  void observed_since(int64_t ms);
  int64_t since_ms() const noexcept {
    return since_ms_;
  }

  void set_batching(std::vector<std::string> batchable,
                    int64_t batch_window_ms);

  /// Days the caller should read back at start: the window, oldest first.
  std::vector<int64_t> window_days(int64_t now_ms) const;

  uint32_t window_days_count() const noexcept {
    return window_days_;
  }

private:
  struct day {
    day_counts counts;
    hyperloglog keys;
    day_counts unsaved;
    bool keys_changed = false;
  };

  bool batchable(const std::string& endpoint) const;
  void prune(int64_t now_ms);

  uint32_t window_days_;
  std::vector<std::string> prefixes_;
  int64_t batch_window_ms_;
  int64_t since_ms_;
  std::map<int64_t, day> days_;
  /// Last batchable call per endpoint: a call within the window joins its
  /// burst.
  std::unordered_map<std::string, int64_t> last_call_ms_;
};

/// Day number (UTC) of an epoch time, and "YYYYMMDD" for store keys.
int64_t day_of(int64_t ms);
std::string day_label(int64_t day);

/// Field names of a stored day; minute fields are "m<minute of day>".
std::vector<std::pair<std::string, int64_t>>
to_fields(const day_counts& counts);
day_counts from_fields(const std::vector<std::pair<std::string, std::string>>&
                         fields);

/// The most calls in any `k` consecutive minutes of `minutes`.
uint64_t peak_sum(const std::vector<uint32_t>& minutes, std::size_t k);

} // namespace streamb::advice
