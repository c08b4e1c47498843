#pragma once

// What route handlers may use: the actor system to ask actors, the config,
// and the handles of this node's actors. Built once by the node, then const.

#include "bridges/agent_socket.hpp"
#include "bridges/edge_metrics.hpp"
#include "bridges/http/stream_hub.hpp"
#include "bridges/snapshot_cache.hpp"
#include "runtime/auth/credential_registry.hpp"
#include "runtime/auth/stream_tickets.hpp"
#include "runtime/cluster/cluster_state.hpp"
#include "runtime/config/config.hpp"
#include "runtime/messages.hpp"
#include "runtime/metrics/ingest_backlog.hpp"

#include <caf/fwd.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace streamb {

/// Status of one component, as /readyz and health/comprehensive show it.
enum class health_state : uint8_t {
  ok,
  degraded, // answers, but a dependency (the store) is unreachable
  down,     // did not answer the probe in time
};

constexpr const char* to_string(health_state x) noexcept {
  switch (x) {
    case health_state::ok: return "ok";
    case health_state::degraded: return "degraded";
    case health_state::down: return "down";
  }
  return "unknown";
}

struct component_health {
  std::string name;
  health_state status = health_state::ok;
  std::string detail;
};

struct readiness_report {
  bool ready = false;
  /// Ready, but a dependency (the store) is unreachable.
  bool degraded = false;
  std::vector<component_health> components;
};

class asker_pool;

struct http_context {
  caf::actor_system* system = nullptr;
  config cfg;
  /// Service names in config order; `monitors[i]` serves `service_names[i]`.
  std::vector<std::string> service_names;
  std::vector<service_monitor_actor> monitors;
  /// `budgets[i]` admits calls to `service_names[i]`.
  std::vector<budget_controller_actor> budgets;
  /// Recommendations from all of the above.
  advisor_actor advisor;
  /// `backlogs[i]` counts samples queued at `monitors[i]`.
  std::vector<std::shared_ptr<ingest_backlog>> backlogs;
  /// The node's store: history, audit trail and everything durable.
  store_actor store;
  /// Stores and delivers verified webhooks.
  webhook_processor_actor webhooks;
  /// Agents, coordination events and their outcomes.
  coordination_hub_actor hub;
  /// HTTP delivery endpoints, in config order.
  std::vector<delivery_endpoint_actor> endpoints;
  /// Keys, agent tokens and webhook secrets as they are now.
  std::shared_ptr<auth::credential_registry> credentials;
  /// Creates, rotates and revokes managed credentials.
  credential_keeper_actor keeper;
  /// In a cluster: who owns each service, the peers (null outside one).
  /// `monitors` and `budgets` are then routers to each service's owner.
  cluster::cluster_state_ptr cluster;
  /// Where agents connect (the published hub); 0 when not published.
  uint16_t actor_port = 0;
  /// How long a handler waits for an actor's answer.
  std::chrono::milliseconds ask_timeout{2000};
  /// Asks every component; supplied by the node.
  std::function<readiness_report()> readiness;
  /// Send the asks of routes that do not wait (bridges/ask.hpp).
  std::shared_ptr<asker_pool> askers;
  /// One-time tickets that open a live stream without a header (browsers'
  /// EventSource cannot send one): 30 s, at most 10 000 waiting.
  std::shared_ptr<auth::stream_tickets>
    stream_tickets = std::make_shared<auth::stream_tickets>(10000, 30'000);
  /// Requests by route and status, connections (GET /metrics).
  std::shared_ptr<edge_metrics> edge = std::make_shared<edge_metrics>();
  /// GET .../dashboard's document, computed at most once a second; a
  /// computation still running after 10 s no longer holds requests back.
  std::shared_ptr<snapshot_cache>
    dashboard_cache = std::make_shared<snapshot_cache>(
      std::chrono::milliseconds{1000}, std::chrono::milliseconds{10000});
  /// Agents connected over WebSocket.
  std::shared_ptr<agent_socket_stats>
    agent_sockets = std::make_shared<agent_socket_stats>();
  /// Events for the SSE and WebSocket subscribers.
  std::shared_ptr<stream_hub> streams = std::make_shared<stream_hub>(10000);
};

} // namespace streamb
