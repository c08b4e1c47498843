#pragma once

// Samples accepted over HTTP but not yet processed by a service's monitor.
// The one piece of state shared across the actor boundary, because the
// length of a CAF mailbox cannot be observed from outside: HTTP workers
// reserve before they send, the monitor releases after it recorded.

#include <atomic>
#include <cstdint>

namespace streamb {

/// A bounded count of queued samples for one service.
class ingest_backlog {
public:
  explicit ingest_backlog(uint64_t limit) : limit_(limit) {
    // nop
  }

  /// Reserves room for `n` samples, or returns false when the monitor is
  /// that far behind. An empty backlog takes any batch, so a batch larger
  /// than the limit is slow, never refused forever.
  bool try_reserve(uint64_t n) noexcept {
    auto before = queued_.fetch_add(n, std::memory_order_relaxed);
    if (before > 0 && before + n > limit_) {
      queued_.fetch_sub(n, std::memory_order_relaxed);
      return false;
    }
    return true;
  }

  void release(uint64_t n) noexcept {
    queued_.fetch_sub(n, std::memory_order_relaxed);
  }

  uint64_t queued() const noexcept {
    return queued_.load(std::memory_order_relaxed);
  }

  uint64_t limit() const noexcept {
    return limit_;
  }

private:
  std::atomic<uint64_t> queued_{0};
  uint64_t limit_;
};

} // namespace streamb
