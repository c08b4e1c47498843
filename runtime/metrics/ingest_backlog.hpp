#pragma once

// Samples accepted over HTTP but not yet processed by a service's monitor.
// The one piece of state shared across the actor boundary, because the
// length of a CAF mailbox cannot be observed from outside: HTTP workers
// reserve before they send, the monitor releases after it recorded.
//
// This is the ingest path's backpressure. A worker whose reservation does
// not fit waits (its thread then leaves the CPU to the monitors) until the
// monitor catches up or the deadline passes. Without it 64 parsing workers
// starve 2 scheduler threads and the mailboxes grow without bound.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>

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
    auto before = queued_.fetch_add(n);
    if (before > 0 && before + n > limit_) {
      // Undo without notifying: callers may hold the mutex, and undoing our
      // own reservation frees nothing a waiter was promised.
      queued_.fetch_sub(n);
      return false;
    }
    return true;
  }

  /// Like `try_reserve`, but waits for the monitor until `deadline`.
  bool reserve(uint64_t n, std::chrono::steady_clock::time_point deadline) {
    if (try_reserve(n))
      return true;
    std::unique_lock<std::mutex> guard{mtx_};
    // Announce the wait before trying again: a release that does not see
    // us has already made its room visible to that try (seq_cst order).
    ++waiters_;
    bool ok = try_reserve(n);
    while (!ok) {
      if (cv_.wait_until(guard, deadline) == std::cv_status::timeout) {
        ok = try_reserve(n);
        break;
      }
      ok = try_reserve(n);
    }
    --waiters_;
    return ok;
  }

  /// Counts `n` samples that arrived on a path without backpressure (an
  /// agent's one-way reports): never refused, but HTTP ingest waits for them.
  void add(uint64_t n) noexcept {
    queued_.fetch_add(n);
  }

  void release(uint64_t n) noexcept {
    queued_.fetch_sub(n);
    if (waiters_.load() > 0) {
      std::lock_guard<std::mutex> guard{mtx_};
      cv_.notify_all();
    }
  }

  uint64_t queued() const noexcept {
    return queued_.load(std::memory_order_relaxed);
  }

  uint64_t limit() const noexcept {
    return limit_;
  }

private:
  std::atomic<uint64_t> queued_{0};
  std::atomic<int> waiters_{0};
  uint64_t limit_;
  std::mutex mtx_;
  std::condition_variable cv_;
};

} // namespace streamb
