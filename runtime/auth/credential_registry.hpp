#pragma once

// Where the current credential_set lives: the keeper publishes, the HTTP
// edge and the hub read. Also collects what requests did with keys (last
// use, refusals) until the keeper writes it out, so that no request waits
// on the store for bookkeeping.

#include "runtime/auth/credentials.hpp"

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>

namespace streamb::auth {

/// Refusals of one (claimed key, reason) pair since the last flush.
struct refusal_count {
  uint64_t count = 0;
  std::string first_remote;
};

/// Distinct (key, reason) pairs kept between flushes; more are summed in
/// one ("*", "other") entry, so a flood of random keys costs nothing.
constexpr std::size_t max_refusal_kinds = 256;

class credential_registry {
public:
  explicit credential_registry(std::shared_ptr<const credential_set> first);

  std::shared_ptr<const credential_set> current() const;

  /// Replaces the current set; readers see it at their next `current()`.
  void publish(std::shared_ptr<const credential_set> next);

  /// Increments with every publish: cheap to poll for a change.
  uint64_t generation() const noexcept {
    return generation_.load(std::memory_order_acquire);
  }

  void note_used(const std::string& id, int64_t now_ms);
  /// `reason`: a refusal's name, or "forbidden" for a role too low.
  void note_refused(const std::string& claimed_id, std::string_view reason,
                    const std::string& remote);

  struct activity {
    std::map<std::string, int64_t> last_used;
    std::map<std::pair<std::string, std::string>, refusal_count> refused;
  };

  /// Last-used times noted since the last take_activity.
  std::map<std::string, int64_t> peek_last_used() const;

  /// What was noted since the last call.
  activity take_activity();

private:
  mutable std::mutex mtx_;
  std::shared_ptr<const credential_set> current_;
  std::atomic<uint64_t> generation_{1};
  activity pending_;
};

} // namespace streamb::auth
