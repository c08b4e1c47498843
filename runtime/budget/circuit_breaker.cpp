#include "runtime/budget/circuit_breaker.hpp"

#include "runtime/messages.hpp"

#include <algorithm>
#include <cmath>

namespace streamb::budget {

const char* to_string(breaker_state x) {
  switch (x) {
    case breaker_state::closed: return "closed";
    case breaker_state::open: return "open";
    case breaker_state::half_open: return "half_open";
  }
  return "unknown";
}

namespace {

uint32_t to_ppm(double error_rate) {
  return static_cast<uint32_t>(std::llround(
    std::clamp(error_rate > 0 ? error_rate : 0.0, 0.0, 1.0) * 1e6));
}

} // namespace

circuit_breaker::circuit_breaker(double error_rate, uint32_t min_calls,
                                 uint32_t open_s, uint32_t half_open_probes)
  : rate_ppm_(to_ppm(error_rate)), window_(std::max<uint32_t>(min_calls, 1)),
    open_ms_(int64_t{open_s} * 1000),
    probes_(std::max<uint32_t>(half_open_probes, 1)), ring_(window_, 0) {
  // nop
}

void circuit_breaker::reconfigure(double error_rate, uint32_t min_calls,
                                  uint32_t open_s, uint32_t half_open_probes) {
  rate_ppm_ = to_ppm(error_rate);
  open_ms_ = int64_t{open_s} * 1000;
  probes_ = std::max<uint32_t>(half_open_probes, 1);
  auto window = std::max<uint32_t>(min_calls, 1);
  if (window != window_) {
    // The newest outcomes, oldest first, into a ring of the new size.
    auto keep = std::min(calls_, window);
    std::vector<uint8_t> ring(window, 0);
    for (uint32_t i = 0; i < keep; ++i)
      ring[i] = ring_[(next_ + ring_.size() - keep + i) % ring_.size()];
    ring_ = std::move(ring);
    window_ = window;
    calls_ = keep;
    next_ = keep % window;
    failures_ = 0;
    for (auto x : ring_)
      failures_ += x;
  }
  if (rate_ppm_ == 0 && state_ != breaker_state::closed)
    close();
}

bool circuit_breaker::is_failure(status_class outcome) noexcept {
  return outcome == status_class::server_error
    || outcome == status_class::timeout || outcome == status_class::network;
}

void circuit_breaker::open(int64_t now_ms) {
  state_ = breaker_state::open;
  opened_at_ = now_ms;
  ++times_opened_;
}

void circuit_breaker::close() {
  state_ = breaker_state::closed;
  std::fill(ring_.begin(), ring_.end(), 0);
  next_ = 0;
  calls_ = 0;
  failures_ = 0;
}

bool circuit_breaker::allow(int64_t now_ms) {
  switch (state_) {
    case breaker_state::closed: return true;
    case breaker_state::open:
      if (now_ms - opened_at_ < open_ms_)
        return false;
      state_ = breaker_state::half_open;
      round_at_ = now_ms;
      probes_allowed_ = 0;
      probes_ok_ = 0;
      break;
    case breaker_state::half_open:
      // Probes handed out long ago and never answered: try another round.
      if (probes_allowed_ >= probes_ && now_ms - round_at_ >= open_ms_) {
        round_at_ = now_ms;
        probes_allowed_ = probes_ok_;
      }
      break;
  }
  if (probes_allowed_ >= probes_)
    return false;
  ++probes_allowed_;
  return true;
}

void circuit_breaker::record(status_class outcome, int64_t now_ms) {
  auto failed = is_failure(outcome);
  switch (state_) {
    case breaker_state::closed: {
      if (rate_ppm_ == 0)
        return; // disabled
      auto& slot = ring_[next_];
      if (calls_ == window_)
        failures_ -= slot; // the oldest outcome leaves the ring
      else
        ++calls_;
      slot = failed ? 1 : 0;
      failures_ += slot;
      next_ = (next_ + 1) % ring_.size();
      if (calls_ == window_
          && uint64_t{failures_} * 1'000'000 >= uint64_t{rate_ppm_} * calls_)
        open(now_ms);
      return;
    }
    case breaker_state::open: return; // a call from before the breaker opened
    case breaker_state::half_open:
      if (failed) {
        open(now_ms);
        return;
      }
      if (++probes_ok_ >= probes_)
        close();
      return;
  }
}

int64_t circuit_breaker::wait_ms(int64_t now_ms) const {
  switch (state_) {
    case breaker_state::closed: return 0;
    case breaker_state::open:
      return std::max<int64_t>(opened_at_ + open_ms_ - now_ms, 0);
    case breaker_state::half_open:
      if (probes_allowed_ < probes_)
        return 0;
      return std::max<int64_t>(round_at_ + open_ms_ - now_ms, 0);
  }
  return 0;
}

} // namespace streamb::budget
