#pragma once

// The agents the hub knows, by name: registration (and the takeover of a
// name whose process went stale or away), sessions, heartbeats, the
// active -> stale -> disconnected states, and which live agent takes a
// delivery. Pure: time comes in as epoch ms, sessions are drawn by the
// caller, and nothing here sends or logs.

#include "runtime/config/config.hpp"
#include "runtime/coordination/delivery_target.hpp"
#include "runtime/coordination/known_agents.hpp"
#include "runtime/messages.hpp"
#include "runtime/metrics/histogram.hpp"

#include "runtime/coordination/event_states.hpp"

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace streamb {

/// An agent that registered now or in an earlier run of the node.
struct registered_agent {
  std::string id;
  std::string name;
  std::string role;
  std::vector<std::string> subscriptions;
  agent_state state = agent_state::active;
  int64_t registered_ms = 0;
  int64_t last_heartbeat_ms = 0;
  int64_t last_seen_ms = 0;
  /// The secret of the current registration; empty while disconnected.
  std::string session;
  /// The key the registration carried ("anonymous" when none was needed):
  /// revoking it ends the registration.
  std::string key_id;
  /// SHA-256 of the token it carried: a rotation without overlap ends it.
  std::string key_hash;
  uint32_t in_flight = 0;
  agent_counts counts;
  histogram response_us;

  bool subscribes(const std::string& type) const;

  /// True when this agent may take a unit for `target` (never for `any`).
  bool serves(const delivery_target& target) const;
};

/// What a registration of a known name from another process means.
enum class takeover {
  /// Nobody holds the name, or the same process registers again.
  none,
  /// The holder is stale: it is disconnected first, and what it holds goes
  /// to others.
  of_stale,
  /// The holder is gone already.
  of_disconnected,
  /// The holder is live: the registration is refused.
  refused,
};

/// The hub's half of a registration: what it checked and drew.
struct agent_session {
  agent_session(std::string session, std::string key_id = "anonymous",
                std::string key_hash = {})
    : session(std::move(session)), key_id(std::move(key_id)),
      key_hash(std::move(key_hash)) {
    // nop
  }

  std::string session;
  std::string key_id;
  std::string key_hash;
};

/// An agent that went stale in a check, and for how long it was silent.
struct stale_agent {
  std::string name;
  int64_t silent_ms = 0;
};

/// Outcome of a heartbeat.
enum class heartbeat_result { unknown_session, alive, revived };

class agent_registry {
public:
  using map_type = std::map<std::string, registered_agent>;

  explicit agent_registry(const agents_config& cfg);

  /// How a registration of `name` from a process that is not the one
  /// registered (`other_process`) is to be treated.
  takeover admit(const std::string& name, bool other_process) const;

  /// Registers `reg` (validated by the caller) as active with a new
  /// session; a stale holder must have been disconnected first. Returns
  /// true when the name was known before (a re-registration).
  bool register_agent(const agent_registration& reg, agent_session s,
                      int64_t now_ms);

  /// Keeps the agent of `session` alive; a stale one becomes active again.
  heartbeat_result heartbeat(const std::string& session, int64_t now_ms);

  /// Active agents silent for more than heartbeat_interval_s *
  /// missed_heartbeats become stale; returns them.
  std::vector<stale_agent> mark_stale(int64_t now_ms);

  /// Ends the agent's session. Its deliveries are the router's to fail.
  void disconnect(const std::string& name);

  /// Adds an agent of an earlier run as disconnected, unless the name is
  /// known; returns whether it was added.
  bool remember(const std::string& name, const known_agent& x);

  registered_agent* find(const std::string& name);
  const registered_agent* find(const std::string& name) const;
  registered_agent* by_session(const std::string& session);

  /// The least busy active agent with a free slot that serves `target` and
  /// subscribes to `type`, preferring one not in `tried`; ties go to the
  /// first by name. Null when none.
  registered_agent* pick(const delivery_target& target, const std::string& type,
                         const std::set<std::string>& tried);

  /// Free delivery slots of the active agents that serve `target`.
  uint64_t free_slots(const delivery_target& target) const;

  const map_type& all() const {
    return agents_;
  }

  uint32_t max_in_flight() const {
    return max_in_flight_;
  }

  agent_status status(const registered_agent& a) const;

private:
  const uint32_t max_in_flight_;
  const int64_t silent_limit_ms_;
  map_type agents_;
  std::unordered_map<std::string, std::string> sessions_; // -> name
};

/// The id an agent's name gets ("agent-NAME").
std::string agent_id(const std::string& name);

} // namespace streamb
