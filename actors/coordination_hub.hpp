#pragma once

// The coordination hub: the actor in front of the agent registry and the
// event router (runtime/coordination). It keeps what needs an actor: the
// agents' endpoints and the gateway, the store (open events, outcomes,
// known agents), the audit trail, the tick timer and the senders waiting
// for an answer. Open events are kept in the store so a node that restarts
// delivers what it had not finished.

// The node spawns the published gateway through this header, and the hub
// spawns a new one when it dies.
#include "actors/agent_gateway.hpp"
#include "actors/request_deadlines.hpp"
#include "actors/store_batcher.hpp"
#include "runtime/auth/credential_registry.hpp"
#include "runtime/config/config.hpp"
#include "runtime/coordination/agent_registry.hpp"
#include "runtime/coordination/event_router.hpp"
#include "runtime/coordination/refusal_throttle.hpp"
#include "runtime/messages.hpp"
#include "runtime/metrics/ingest_backlog.hpp"

#include <caf/typed_event_based_actor.hpp>
#include <caf/typed_response_promise.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace streamb {

/// The node's service monitors, by name, for the call samples agents
/// report. Filled by the node before agents can connect.
struct service_routes {
  std::vector<std::string> names;
  std::vector<service_monitor_actor> monitors;
  std::vector<std::shared_ptr<ingest_backlog>> backlogs;
};

/// What the hub needs from the node.
struct coordination_hub_settings {
  std::string node = "local";
  agents_config agents;
  int64_t audit_retention_ms = int64_t{90} * 24 * 3600 * 1000;
  /// The actor port is on mutual TLS (a replaced gateway is published so).
  bool actor_tls = false;
  /// This node's view of the cluster (null outside one), for the gateway.
  cluster::cluster_state_ptr cluster;
  /// Where call samples reported by agents go; may be null.
  std::shared_ptr<const service_routes> services;
  /// Takes the webhooks no agent subscribes to (the node's log, when
  /// webhooks.log_deliveries); null: they wait for a consumer.
  webhook_subscriber_actor fallback;
  /// HTTP delivery endpoints: events of the types they name, webhooks of
  /// the services they name.
  std::vector<delivery_route> endpoints;
  /// How often deadlines and heartbeats are checked: a delivery without an
  /// answer fails up to this much after its timeout.
  std::chrono::milliseconds tick_interval{100};
  /// Finished events answered from memory; older ones from the store.
  std::size_t finished_kept = 2000;
  /// The hub's one clock in epoch ms: deadlines, heartbeats, key expiry and
  /// records all read it. Empty: the actor clock (`epoch_ms`), which is
  /// steady in production, so a wall-clock step makes no agent stale.
  std::function<int64_t()> now_ms;
  /// The node's credentials: agent tokens (config and managed agent keys).
  /// Null: agents.token_sha256 alone decides.
  std::shared_ptr<auth::credential_registry> credentials;
};

/// The store keys of the hub.
namespace coordination_keys {
/// Stream of the events this node has not finished (XDEL when finished).
std::string open_events(const std::string& node);
/// Hash of the agents that registered with this node: name -> JSON of its
/// role and subscriptions (encode_known_agent), so that after a restart
/// events for them wait for them instead of being unrouted.
std::string known_agents(const std::string& node);
/// The record of a finished event (JSON; see record_to_json), with a TTL.
std::string event(const std::string& id);
/// SET NX lease: the survivor that takes over a dead node's open events.
std::string adopt_lease(const std::string& node);
} // namespace coordination_keys

struct coordination_hub_state {
  static inline const char* name = "coordination_hub";

  coordination_hub_settings settings;
  store_actor store;
  /// Timeouts of the requests on the hot paths (store batches, webhooks
  /// handed to endpoints or the fallback subscriber), checked on every
  /// tick: CAF's own would wake its clock thread twice per request.
  request_deadlines deadlines;

  // Built from the settings when the actor starts; the router keeps a
  // reference to the registry.
  std::unique_ptr<agent_registry> agents;
  std::unique_ptr<event_router> router;

  /// The process behind each agent name. Kept after a disconnect: a new
  /// process that takes the name over is told apart from the old one.
  std::map<std::string, agent_endpoint_actor> endpoints;
  /// Speaks for the hub to agents: events go out as sent by it, so agents
  /// never learn the hub's own address.
  coordination_gateway_actor gateway;
  std::string gateway_host;
  uint16_t gateway_port = 0;

  /// Webhook deliveries waiting for the outcome of their event (a retry of
  /// the processor joins the delivery in progress).
  std::unordered_map<std::string,
                     std::vector<caf::typed_response_promise<bool>>>
    webhook_promises;
  /// send-event requests waiting for their event to be stored.
  std::unordered_map<std::string,
                     std::vector<caf::typed_response_promise<std::string>>>
    stored_promises;

  uint64_t ticks = 0;
  uint64_t refused_registrations = 0;
  /// Node events delivered without being stored since the store last took
  /// an event: one warning per such run, not one per event.
  uint64_t unstored_run = 0;
  /// The credential generation last checked against the agents' keys.
  uint64_t credentials_seen = 0;
  refusal_throttle refusals;
  /// Told of events, agent state changes and findings (the live streams).
  hub_observer_actor observer;
  /// Each agent's state as the observer last heard it.
  std::map<std::string, agent_state> observed_states;

  /// A store write and, for an event's XADD, the event it opens (whose
  /// sender waits for it to be stored).
  struct hub_write {
    store::write_op op;
    std::string opened_event;
  };
  /// Whatever arrives while one batch is in flight goes out together in the
  /// next; refused records are sent again, refused opens answered.
  std::optional<store_batcher<hub_write>> writer;
};

using coordination_hub_pointer = coordination_hub_actor::stateful_pointer<
  coordination_hub_state>;

coordination_hub_actor::behavior_type
coordination_hub(coordination_hub_pointer self,
                 coordination_hub_settings settings, store_actor store);

} // namespace streamb
