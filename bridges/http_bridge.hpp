#pragma once

#include "bridges/http_context.hpp"
#include "runtime/messages.hpp"

#include <caf/typed_event_based_actor.hpp>

#include <memory>
#include <thread>

namespace httplib {
class Server;
} // namespace httplib

namespace streamb {

/// Owns the cpp-httplib server and the thread that runs its accept loop.
struct http_bridge_state {
  static inline const char* name = "http_bridge";

  std::shared_ptr<const http_context> context;
  std::unique_ptr<httplib::Server> server;
  std::thread listener;

  // Out of line: httplib::Server is incomplete here.
  http_bridge_state();
  ~http_bridge_state();

  /// Stops accepting, lets requests in flight finish, joins the listener.
  void stop();
};

using http_bridge_pointer = http_bridge_actor::stateful_pointer<
  http_bridge_state>;

/// Spawn detached: `stop` blocks while requests in flight finish.
http_bridge_actor::behavior_type
http_bridge(http_bridge_pointer self,
            std::shared_ptr<const http_context> context);

} // namespace streamb
