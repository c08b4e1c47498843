#pragma once

// A node's part in the cluster: it keeps a link to every peer (connect,
// ask what it owns every heartbeat, notice when it goes), decides which
// services this node owns (runtime/cluster/ownership), starts and stops
// their actors here, and points the node's service routers at each
// service's owner.

#include "actors/service_router.hpp"
#include "runtime/cluster/cluster_state.hpp"
#include "runtime/config/config.hpp"
#include "runtime/messages.hpp"

#include <caf/actor.hpp>
#include <caf/event_based_actor.hpp>

#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace streamb {

/// A service's actors on this node.
struct local_service {
  service_monitor_actor monitor;
  budget_controller_actor budget;
};

struct cluster_member_settings {
  std::string self;
  cluster_config cluster;
  /// Service names in config order; the routers are in the same order.
  std::vector<std::string> services;
  std::vector<caf::actor> monitor_routers;
  std::vector<caf::actor> budget_routers;
  /// Starts the actors of service `i` here (restoring its state from the
  /// store, as at a node's start).
  std::function<local_service(std::size_t)> start_service;
  cluster::cluster_state_ptr state;
  /// Peers' actor ports are on mutual TLS (all nodes share node.actor.tls).
  bool actor_tls = false;
  /// This node's published gateway, handed to the peers it connects to.
  caf::strong_actor_ptr own_gateway;
  /// Told (adopt) when a peer has been down for failover_ms, to take over
  /// its open events.
  coordination_hub_actor hub;
};

/// Ends (and stops this node's service actors) on an exit message.
caf::behavior cluster_member(caf::event_based_actor* self,
                             cluster_member_settings settings);

} // namespace streamb
