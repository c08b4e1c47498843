#pragma once

// What the advisor needs to know about one service's traffic, counted by its
// service_monitor: repeats of identical requests (by the clients' optional
// requestKey), calls to batchable endpoints close together, 429s and spend.
// Counters cover the time since `since_ms` and restart daily, so that the
// advice follows the traffic of the last day, not of the node's lifetime.

#include "runtime/messages.hpp"

#include <cstdint>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace streamb {

/// Counts a service's traffic into a usage_profile.
class usage_counters {
public:
  /// Keys remembered at most; past that, repeats of new keys are not seen
  /// and the cache estimate errs low.
  static constexpr std::size_t max_keys = 200'000;

  usage_counters(std::vector<std::string> batchable_prefixes,
                 int64_t batch_window_ms, int64_t now_ms)
    : prefixes_(std::move(batchable_prefixes)), window_ms_(batch_window_ms),
      since_ms_(now_ms) {}

  /// `cost_micros` as the monitor computed it.
  void record(const call_sample& x, int64_t cost_micros);

  usage_profile profile(const std::string& service, int64_t now_ms) const;

  /// Starts counting afresh (the monitor calls this daily).
  void reset(int64_t now_ms);

  /// New batchable endpoints and window (a config reload); the counts so
  /// far stay.
  void set_batching(std::vector<std::string> batchable_prefixes,
                    int64_t batch_window_ms) {
    prefixes_ = std::move(batchable_prefixes);
    window_ms_ = batch_window_ms;
  }

  int64_t since_ms() const noexcept {
    return since_ms_;
  }

private:
  bool batchable(const std::string& endpoint) const;

  std::vector<std::string> prefixes_;
  int64_t window_ms_;
  int64_t since_ms_;
  usage_profile counts_;
  std::unordered_set<uint64_t> keys_;
  /// Last batchable call per endpoint: a call within the window joins its
  /// group.
  std::unordered_map<std::string, int64_t> last_call_ms_;
};

} // namespace streamb
