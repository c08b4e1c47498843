#pragma once

// Epoch milliseconds as an actor sees them: the wall clock read once, then
// advanced by the actor clock. In production that clock is steady, so a
// wall-clock step does not move budgets or alert windows; in tests it is
// CAF's simulated clock, and a test reads the same mapping through the
// scheduler's clock (`epoch_ms(sched.clock())`) to know what time its actors
// think it is.

#include <caf/actor_clock.hpp>

#include <cstdint>

namespace streamb {

/// The first call pairs `clock.now()` with the wall clock; later calls add
/// the clock's progress since. One mapping per process: all actors agree.
int64_t epoch_ms(const caf::actor_clock& clock);

} // namespace streamb
