#pragma once

// A circuit breaker per service, fed with call outcomes.
//
// closed     every call is allowed; the outcomes of the last `min_calls`
//            calls are kept in a ring. Once the ring is full and failures /
//            min_calls >= error_rate, the breaker opens. Failures are server
//            errors, timeouts and network errors; 4xx and 429 are the
//            caller's or the rate limiter's business, not the provider's
//            health, and count as answered calls.
// open       nothing is allowed for `open_s`; outcomes arriving now belong
//            to calls made before it opened and are ignored.
// half_open  after the cool-down, `half_open_probes` calls are allowed as
//            probes. One failed outcome reopens it (a fresh cool-down); that
//            many successes close it with an empty ring. Outcomes recorded
//            in half-open are taken as probe results. If probes were handed
//            out but their results never come (a client died), a new round
//            of probes is allowed after another `open_s`, so the breaker
//            cannot stay stuck half-open.
//
// The open -> half_open move happens in allow() (and is visible in wait_ms)
// when the cool-down has passed; no timer is needed.
// error_rate <= 0 disables the breaker: it never opens.

#include <cstddef>
#include <cstdint>
#include <vector>

namespace streamb {
enum class status_class : uint8_t; // runtime/messages.hpp
} // namespace streamb

namespace streamb::budget {

enum class breaker_state : uint8_t { closed, open, half_open };

const char* to_string(breaker_state x);

/// Closed -> open -> half-open -> closed, from call outcomes.
class circuit_breaker {
public:
  circuit_breaker(double error_rate, uint32_t min_calls, uint32_t open_s,
                  uint32_t half_open_probes);

  /// Whether a call may go out now; in half-open, counts it as a probe.
  bool allow(int64_t now_ms);

  /// Feeds the outcome of one call.
  void record(status_class outcome, int64_t now_ms);

  /// New settings (a config reload). The state stays: an open breaker stays
  /// open (its cool-down now `open_s` from when it opened), a half-open one
  /// keeps its probes. Closed, the ring keeps its newest outcomes up to the
  /// new `min_calls`; the new error rate is judged at the next outcome.
  /// error_rate <= 0 disables the breaker, which closes it.
  void reconfigure(double error_rate, uint32_t min_calls, uint32_t open_s,
                   uint32_t half_open_probes);

  /// Server errors, timeouts and network errors.
  static bool is_failure(status_class outcome) noexcept;

  breaker_state state() const noexcept {
    return state_;
  }

  /// 0 when allow(now_ms) would say yes; otherwise the time until it may.
  int64_t wait_ms(int64_t now_ms) const;

  /// Calls and failures in the ring (closed state).
  uint32_t calls() const noexcept {
    return calls_;
  }

  uint32_t failures() const noexcept {
    return failures_;
  }

  /// How often it has opened (for metrics).
  uint64_t times_opened() const noexcept {
    return times_opened_;
  }

private:
  void open(int64_t now_ms);
  void close();

  uint32_t rate_ppm_; // error_rate in parts per million
  uint32_t window_;   // min_calls
  int64_t open_ms_;
  uint32_t probes_;
  breaker_state state_ = breaker_state::closed;
  std::vector<uint8_t> ring_; // 1 = failure
  size_t next_ = 0;
  uint32_t calls_ = 0;
  uint32_t failures_ = 0;
  int64_t opened_at_ = 0;
  int64_t round_at_ = 0; // start of the current round of probes
  uint32_t probes_allowed_ = 0;
  uint32_t probes_ok_ = 0;
  uint64_t times_opened_ = 0;
};

} // namespace streamb::budget
