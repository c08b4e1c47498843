#pragma once

#include "bridges/http_context.hpp"
#include "runtime/messages.hpp"

#include <caf/typed_event_based_actor.hpp>

#include <memory>

namespace streamb {

class http_server;
class router;
class worker_pool;
struct http_limits;

/// The edge's limits as node.http sets them.
http_limits limits_of(const http_config& cfg);

/// Owns the node's HTTP listener (bridges/http/http_server.hpp), its route
/// threads and its routes.
struct http_bridge_state {
  static inline const char* name = "http_bridge";

  std::shared_ptr<const http_context> context;
  std::shared_ptr<const router> routes;
  std::shared_ptr<worker_pool> workers;
  std::unique_ptr<http_server> server;

  // Out of line: the members' types are incomplete here.
  http_bridge_state();
  ~http_bridge_state();

  /// In order: stop accepting, let requests in flight finish within
  /// node.http.shutdown_grace_s, cut the rest, stop the route threads.
  void stop();
};

using http_bridge_pointer = http_bridge_actor::stateful_pointer<
  http_bridge_state>;

/// Spawn detached: `stop` blocks while requests in flight finish.
http_bridge_actor::behavior_type
http_bridge(http_bridge_pointer self,
            std::shared_ptr<const http_context> context);

} // namespace streamb
