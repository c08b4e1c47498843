#include "runtime/app/scheduler_tuning.hpp"

#include <caf/actor_system_config.hpp>

#include <algorithm>
#include <thread>

namespace streamb {

void tune_scheduler(caf::actor_system_config& cfg) {
  auto cores = static_cast<size_t>(std::thread::hardware_concurrency());
  cfg.set("scheduler.max-threads", std::max<size_t>(cores, 2));
  cfg.set("work-stealing.moderate-poll-attempts", size_t{1});
}

} // namespace streamb
