#pragma once

// Agents over WebSocket (GET /api/v1/agents/ws): one actor per connection
// stands in for the agent. To the hub it is an agent endpoint like the
// one a CAF agent exports, so routing, in-flight limits, timeouts, retries,
// takeover and audit are the same code for both kinds; to its client it
// speaks the JSON frames of bridges/agent_frames.hpp.

#include "bridges/http/stream_sink.hpp"
#include "runtime/config/config.hpp"
#include "runtime/messages.hpp"
#include "runtime/metrics/ingest_backlog.hpp"

#include <caf/fwd.hpp>

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

namespace streamb {

/// Counters of the WebSocket agents' connections (agents/status, /metrics).
struct agent_socket_stats {
  std::atomic<uint64_t> open{0};
  std::atomic<uint64_t> opened{0};
  std::atomic<uint64_t> refused{0}; // turned away at the cap
  std::atomic<uint64_t> frames_in{0};
  std::atomic<uint64_t> frames_refused{0}; // answered with an error frame
  std::atomic<uint64_t> events_out{0};
  std::atomic<uint64_t> refused_per_key{0}; // turned away at the key's cap

  /// Counts a connection of `key` (a key hash; empty: none, not capped);
  /// false when `key` holds `cap` already.
  bool take_key(const std::string& key, uint32_t cap) {
    if (key.empty())
      return true;
    std::lock_guard<std::mutex> guard{mtx_};
    auto& n = per_key_[key];
    if (n >= cap)
      return false;
    ++n;
    return true;
  }

  void release_key(const std::string& key) {
    if (key.empty())
      return;
    std::lock_guard<std::mutex> guard{mtx_};
    if (auto i = per_key_.find(key); i != per_key_.end() && --i->second == 0)
      per_key_.erase(i);
  }

private:
  std::mutex mtx_;
  std::unordered_map<std::string, uint32_t> per_key_; // guarded by mtx_
};

struct agent_socket_settings {
  coordination_hub_actor hub;
  /// Service names, for the call samples agents report.
  std::vector<std::string> services;
  /// Response timeouts (the deadline each event frame carries).
  agents_config agents;
  std::shared_ptr<agent_socket_stats> stats;
  /// The services' ingest backlogs: a report past a full one is refused
  /// (busy), as POST /api/v1/calls would wait.
  std::vector<std::shared_ptr<ingest_backlog>> backlogs;
  /// The key the connection was opened with; when set, the registration
  /// must use it (empty token: it is used), so that revoking that key ends
  /// the registration and one key cannot register with another's token.
  std::string connection_key;
  /// Opened with an agent ticket (a browser): the hash of the key that
  /// asked for it; the registration must carry that key as its token.
  std::string connection_key_hash;
  /// Counted against agents.max_websocket_agents_per_key (released at the
  /// actor's end).
  std::string counted_key;
};

/// What a WebSocket route hands to the connection.
struct agent_socket_link {
  std::shared_ptr<stream_listener> listener;
  stream_attach attach;
};

/// Spawns the actor of one agent connection. The actor ends when the
/// connection does (the hub then sees the agent disconnected, as when a
/// CAF agent's process dies) and ends the connection when the hub goes.
agent_socket_link open_agent_socket(caf::actor_system& sys,
                                    agent_socket_settings settings);

} // namespace streamb
