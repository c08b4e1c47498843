#pragma once

// The coordination hub: the registry of agents (remote actors in their own
// processes), their heartbeats, and the routing of coordination events to
// them with priorities, in-flight limits, response tracking and retries on
// another agent of the role. Open events are kept in the store so a node
// that restarts delivers what it had not finished.

#include "runtime/auth/credential_registry.hpp"
#include "runtime/config/config.hpp"
#include "runtime/coordination/coordination_codec.hpp"
#include "runtime/metrics/histogram.hpp"
#include "runtime/metrics/ingest_backlog.hpp"
#include "runtime/messages.hpp"

#include <caf/typed_event_based_actor.hpp>
#include <caf/typed_response_promise.hpp>

#include <array>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <queue>
#include <set>
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
  /// Where call samples reported by agents go; may be null.
  std::shared_ptr<const service_routes> services;
  /// Takes the webhooks no agent subscribes to (the node's log).
  webhook_subscriber_actor fallback;
  /// How often deadlines and heartbeats are checked: a delivery without an
  /// answer fails up to this much after its timeout.
  std::chrono::milliseconds tick_interval{100};
  /// Finished events answered from memory; older ones from the store.
  std::size_t finished_kept = 2000;
  /// Wall clock in epoch ms; tests inject their own.
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
/// role and subscriptions, so that after a restart events for them wait
/// for them instead of being unrouted.
std::string known_agents(const std::string& node);
/// The record of a finished event (JSON; see record_to_json), with a TTL.
std::string event(const std::string& id);
} // namespace coordination_keys

struct hub_agent {
  std::string id;
  std::string name;
  std::string role;
  std::vector<std::string> subscriptions;
  agent_endpoint_actor endpoint;
  enum class state_t { active, stale, disconnected } state = state_t::active;
  int64_t registered_ms = 0;
  int64_t last_heartbeat_ms = 0;
  /// Steady clock of the last heartbeat: what staleness is judged by (a
  /// wall-clock step must not make agents stale).
  int64_t last_heartbeat_us = 0;
  int64_t last_seen_ms = 0;
  /// The secret of the current registration; empty while disconnected.
  std::string session;
  /// The key the registration carried ("anonymous" when none was needed):
  /// revoking it ends the registration.
  std::string key_id;
  /// SHA-256 of the token it carried: a rotation without overlap ends it.
  std::string key_hash;
  uint32_t in_flight = 0;
  uint64_t delivered = 0;
  uint64_t answered = 0;
  uint64_t failed = 0;
  uint64_t timed_out = 0;
  uint64_t samples_reported = 0;
  uint64_t samples_rejected = 0;
  std::unique_ptr<histogram> response_us = std::make_unique<histogram>();

  bool subscribes(const std::string& type) const;
};

/// One delivery target of an event: a role or an agent, tried up to
/// agents.max_attempts times.
struct delivery_unit {
  unit_target target;
  uint32_t attempts = 0;
  std::set<std::string> tried; // agents that failed it
  /// The delivery in flight (its sequence number); 0 when none.
  uint64_t in_flight = 0;
  bool done = false;
  bool ok = false;
  int64_t queued_since_ms = 0;
};

struct open_event {
  event_record record;
  std::vector<delivery_unit> units;
  std::size_t units_left = 0;
  /// The entry in the open-events stream; empty while not (or not yet)
  /// stored, and for webhooks, whose queue is the processor's.
  std::string open_entry;
  /// Webhook deliveries waiting for the outcome (a retry of the processor
  /// joins the delivery in progress).
  std::vector<caf::typed_response_promise<bool>> webhook_promises;
  /// send-event requests waiting for the event to be stored.
  std::vector<caf::typed_response_promise<std::string>> stored_promises;
};

struct event_type_counters {
  uint64_t sent = 0;
  uint64_t completed = 0;
  uint64_t failed = 0;
  uint64_t unrouted = 0;
  std::unique_ptr<histogram> latency_us = std::make_unique<histogram>();
};

struct coordination_hub_state {
  static inline const char* name = "coordination_hub";

  coordination_hub_settings settings;
  store_actor store;

  std::map<std::string, hub_agent> agents;               // by name
  std::unordered_map<std::string, std::string> sessions; // session -> name
  /// Speaks for the hub to agents: events go out as sent by it, so agents
  /// never learn the hub's own address.
  coordination_gateway_actor gateway;
  std::string gateway_host;
  uint16_t gateway_port = 0;
  std::unordered_map<std::string, open_event> open;
  /// Units waiting for an agent, by priority: (event id, unit index).
  /// Keyed by who serves them ("role:R" or "agent:N"), so that a backlog
  /// for a role nobody serves now costs nothing when others are served.
  using unit_queue = std::array<std::deque<std::pair<std::string, std::size_t>>,
                                4>;
  std::map<std::string, unit_queue> queues;
  struct flight {
    std::string event_id;
    std::size_t unit = 0;
    std::string agent;
    std::size_t delivery = 0; // index into the record's deliveries
    int64_t sent_us = 0;      // steady clock
  };
  std::unordered_map<uint64_t, flight> in_flight;
  /// (deadline in steady µs, delivery): the earliest on top; entries whose
  /// delivery ended are skipped when they come up.
  std::priority_queue<std::pair<int64_t, uint64_t>,
                      std::vector<std::pair<int64_t, uint64_t>>, std::greater<>>
    deadlines;
  uint64_t ticks = 0;
  uint64_t next_delivery = 0;
  uint64_t next_event = 0;

  std::unordered_map<std::string, event_record> finished;
  std::deque<std::string> finished_order;
  std::map<std::string, event_type_counters> types;
  uint64_t refused_registrations = 0;
  /// The credential generation last checked against the agents' keys.
  uint64_t credentials_seen = 0;
  /// Refused registrations are audited at most 10 a minute; the rest are
  /// counted into the next record.
  uint64_t unaudited_refusals = 0;
  uint64_t refusals_in_window = 0;
  int64_t refusal_window_us = 0;

  // Store writes are batched: whatever arrives while one is in flight goes
  // out together in the next.
  write_ops write_buffer;
  std::vector<std::string> buffered_opens; // events whose XADD is buffered
  bool writing = false;
};

using coordination_hub_pointer = coordination_hub_actor::stateful_pointer<
  coordination_hub_state>;

coordination_hub_actor::behavior_type
coordination_hub(coordination_hub_pointer self,
                 coordination_hub_settings settings, store_actor store);

} // namespace streamb

namespace streamb {

/// The actor published for agents: forwards the gateway messages to the hub
/// and ignores exit and down messages that come from other nodes.
coordination_gateway_actor::behavior_type
agent_gateway(coordination_gateway_actor::pointer self,
              coordination_hub_actor hub);

} // namespace streamb
