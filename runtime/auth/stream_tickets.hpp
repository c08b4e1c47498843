#pragma once

// One-time tickets for the live streams. Browsers cannot set headers on an
// EventSource, and a long-lived key in a URL ends up in proxy logs and
// browser history; instead a page asks POST .../stream/ticket with its key
// and opens GET .../stream?ticket=T within `ttl`. A ticket opens one stream
// once, for the identity that asked for it. Agent tickets (a browser agent:
// POST /api/v1/agents/ws/ticket with its agent key) open the agents'
// WebSocket only, and carry the key's hash so that the registration on it
// must use that key.

#include "runtime/auth/credentials.hpp"

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace streamb::auth {

/// What a ticket opens: the live streams, or the agents' WebSocket.
enum class ticket_scope { streams, agent_socket };

struct ticket_grant {
  identity who;
  /// agent_socket: the hash of the agent key that asked (auth::key_hash).
  std::string key_hash;
};

class stream_tickets {
public:
  /// At most `max_open` tickets wait to be used; each lives `ttl_ms`.
  stream_tickets(std::size_t max_open, int64_t ttl_ms);

  /// A new ticket for `who`; nullopt when `max_open` are open (the caller
  /// answers 429).
  std::optional<std::string> issue(identity who, int64_t now_ms,
                                   ticket_scope scope = ticket_scope::streams,
                                   std::string key_hash = {});

  /// Uses the ticket up: who asked for it, or nullopt when it is unknown,
  /// used, expired or of another scope.
  std::optional<ticket_grant> redeem(std::string_view ticket, int64_t now_ms,
                                     ticket_scope scope);

  int64_t ttl_ms() const noexcept {
    return ttl_ms_;
  }

  std::size_t open() const;

private:
  struct entry {
    ticket_grant grant;
    ticket_scope scope = ticket_scope::streams;
    int64_t expires_ms = 0;
  };

  void purge_locked(int64_t now_ms);

  std::size_t max_open_;
  int64_t ttl_ms_;
  mutable std::mutex mtx_;
  /// By the ticket's SHA-256: a lookup's timing says nothing about the
  /// ticket, and the node keeps no usable ticket in memory.
  std::unordered_map<std::string, entry> by_hash_;
};

} // namespace streamb::auth
