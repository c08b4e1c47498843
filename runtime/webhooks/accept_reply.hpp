#pragma once

// How the webhook processor answers the HTTP request that handed it events,
// without an actor in between: the route's callback travels in the accept
// message and the processor calls it once with the outcomes or the error.
// An asker actor in the middle cost two messages and two actor wake-ups per
// webhook (docs/BENCHMARKS.md, issue 14).

#include "runtime/core/error_code.hpp"

#include <caf/expected.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

namespace streamb {

/// What the processor did with one accepted event.
enum class accept_outcome : uint8_t {
  stored,      // new, durable now: answer 2xx
  duplicate,   // seen before (within the dedup TTL): answer 200 duplicate
  in_progress, // another request is storing it right now: answer 503
};

using accept_outcomes = std::vector<accept_outcome>;

/// The answer to one accept, called at most once. Copies share it. If the
/// last copy goes without an answer (the processor stopped and its mailbox
/// was dropped), it answers `sec::request_receiver_down`: a request never
/// waits for an answer that cannot come. Local only, never serialized.
class accept_reply {
public:
  using callback = std::function<void(caf::expected<accept_outcomes>)>;

  accept_reply() = default;

  explicit accept_reply(callback f);

  /// Calls the callback unless it was called before; thread-safe.
  void deliver(caf::expected<accept_outcomes> x) const;

  /// Whether there is a callback (a default-constructed reply has none).
  explicit operator bool() const noexcept {
    return state_ != nullptr;
  }

private:
  struct state;
  std::shared_ptr<state> state_;
};

} // namespace streamb
