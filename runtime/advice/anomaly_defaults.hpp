#pragma once

// The baseline settings the monitors and the replay share: how far a value
// must leave its hour's usual range before it is an anomaly.

#include "runtime/advice/seasonal_baseline.hpp"

#include <cstdint>

namespace streamb::advice {

/// p95 latency: at least +-20 % of the hour's mean and +-5 ms (a smaller
/// change is noise to an operator); error rate: at least +-0.02, so that
/// 0 % +- noise does not alert on one failed call.
inline baseline_settings anomaly_baseline(double sigmas,
                                          uint32_t min_observations,
                                          bool error_rate) {
  baseline_settings b;
  b.sigmas = sigmas;
  b.min_observations = min_observations;
  b.min_spread = error_rate ? 0.1 : 0.2;
  b.min_absolute_spread = error_rate ? 0.02 : 5.0;
  return b;
}

} // namespace streamb::advice
