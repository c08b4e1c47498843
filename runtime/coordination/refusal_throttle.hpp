#pragma once

// Bounds what refused registrations cost: whoever reaches the actor port
// can be refused as often as it likes, but must not flood the log or the
// audit trail. A fixed window, because the count only has to be bounded,
// not smooth.

#include <cstdint>
#include <optional>

namespace streamb {

class refusal_throttle {
public:
  explicit refusal_throttle(uint64_t per_window = 10,
                            int64_t window_ms = 60'000);

  /// A refusal at `now_ms`: nothing when it is to be left out (it is
  /// counted), else how many were left out since the last one kept.
  std::optional<uint64_t> admit(int64_t now_ms);

private:
  const uint64_t per_window_;
  const int64_t window_ms_;
  std::optional<int64_t> window_start_;
  uint64_t in_window_ = 0;
  uint64_t left_out_ = 0;
};

} // namespace streamb
