#pragma once

// The actor the node publishes on its actor port for agents. A peer there
// can send anything, so it reaches this gateway only: the gateway forwards
// the agents' messages to the hub and nothing else, and the hub sends its
// events as the gateway, so agents never learn the hub's own address.

#include "runtime/cluster/cluster_state.hpp"
#include "runtime/messages.hpp"

#include <caf/typed_event_based_actor.hpp>

namespace streamb {

/// Forwards the gateway messages to `hub` and ignores exit and down
/// messages that come from other nodes; ends with the hub. In a cluster
/// (`cluster` not null) it answers peers that present the cluster secret
/// with what this node owns.
coordination_gateway_actor::behavior_type
agent_gateway(coordination_gateway_actor::pointer self,
              coordination_hub_actor hub, cluster::cluster_state_ptr cluster);

} // namespace streamb
