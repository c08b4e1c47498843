#include "bridges/http_context.hpp"

#include <caf/actor_system.hpp>

#include <memory>

namespace streamb {

caf::scoped_actor& worker_actor(caf::actor_system& system) {
  thread_local std::unique_ptr<caf::scoped_actor> self;
  thread_local caf::actor_system* owner = nullptr;
  // A thread that served another system (tests run several nodes in one
  // process) gets a fresh one.
  if (!self || owner != &system) {
    self = std::make_unique<caf::scoped_actor>(system);
    owner = &system;
  }
  return *self;
}

} // namespace streamb
