#include "runtime/core/actor_wall_clock.hpp"

#include "runtime/core/wall_time.hpp"

#include <chrono>
#include <utility>

namespace streamb {

int64_t epoch_ms(const caf::actor_clock& clock) {
  using namespace std::chrono;
  static const auto origin = std::make_pair(clock.now(), epoch_ms_now());
  return origin.second
    + duration_cast<milliseconds>(clock.now() - origin.first).count();
}

} // namespace streamb
