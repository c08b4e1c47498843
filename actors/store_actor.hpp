#pragma once

#include "runtime/messages.hpp"
#include "runtime/store/store_backend.hpp"

#include <caf/typed_event_based_actor.hpp>

#include <memory>

namespace streamb {

/// The store actor owns its backend (and so the connection).
struct store_state {
  static inline const char* name = "store";
  std::shared_ptr<store::backend> backend;
};

using store_pointer = store_actor::stateful_pointer<store_state>;

/// Serves store requests from `backend`. Spawn detached when the backend
/// blocks (Redis); the memory backend also works on the shared scheduler.
store_actor::behavior_type
store_service(store_pointer self, std::shared_ptr<store::backend> backend);

} // namespace streamb
