#include "runtime/coordination/refusal_throttle.hpp"

namespace streamb {

refusal_throttle::refusal_throttle(uint64_t per_window, int64_t window_ms)
  : per_window_(per_window), window_ms_(window_ms) {
  // nop
}

std::optional<uint64_t> refusal_throttle::admit(int64_t now_ms) {
  if (!window_start_ || now_ms - *window_start_ >= window_ms_) {
    window_start_ = now_ms;
    in_window_ = 0;
  }
  if (in_window_ >= per_window_) {
    ++left_out_;
    return std::nullopt;
  }
  ++in_window_;
  auto n = left_out_;
  left_out_ = 0;
  return n;
}

} // namespace streamb
