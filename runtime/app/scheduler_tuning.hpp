#pragma once

#include <caf/fwd.hpp>

namespace streamb {

/// Sets the actor scheduler for a node process. CAF 0.17 starts
/// max(cores, 4) worker threads, and an idle worker polls its queue every
/// 50 µs for 500 rounds before it sleeps on a condition variable. On a
/// 2-core machine, four such pollers and their wake-ups cost more CPU than
/// the actors' own work (docs/BENCHMARKS.md, "Where a webhook's CPU goes").
/// One worker per core, and an idle worker sleeps after one poll: each
/// 50 µs poll is a sleep and a wake-up of its own, and a worker woken per
/// message costs less (10 polls: 0.9 of the deliveries per second and the
/// same webhooks; docs/BENCHMARKS.md, "Deliveries vs wrk").
void tune_scheduler(caf::actor_system_config& cfg);

} // namespace streamb
