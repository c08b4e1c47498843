#pragma once

// Which node owns a service, as one node sees the cluster: the rule every
// node applies to what it knows, so that all of them agree whenever they
// see the same peers.

#include <cstdint>
#include <string>
#include <vector>

namespace streamb::cluster {

/// A peer as this node last saw it.
struct peer_view {
  std::string name;
  /// Answered its last heartbeat.
  bool alive = false;
  /// Unreachable since (ms); the node's start when it was never seen.
  int64_t down_since_ms = 0;
  /// The services it said it owns.
  std::vector<std::string> owns;
  /// Why it is down (connection refused, timeout, wrong secret...).
  std::string last_error;
};

struct owner_choice {
  /// The node that owns the service or is about to; empty: none (every
  /// node of its placement is down or still within its failover delay).
  std::string owner;
  /// This node runs the service's actors.
  bool here = false;
};

/// The owner of `service` whose placement is `placement` (nodes in order
/// of preference), seen from node `self`, which owns it now when
/// `self_owns`.
///
/// A service that a live node owns stays there (no move back when an
/// earlier node returns), except that of two owners (both took it while
/// they could not see each other) the earlier in the placement keeps it.
/// Otherwise the first node of the placement that is alive takes it; a node
/// passes over a dead one only after that one has been unreachable for
/// `failover_ms`, so that a restart or a slow start does not move services.
///
/// With `failback` the first live node of the placement owns the service
/// even when another node has it now (that one hands it back).
owner_choice choose_owner(const std::string& service,
                          const std::vector<std::string>& placement,
                          const std::string& self, bool self_owns,
                          const std::vector<peer_view>& peers, int64_t now_ms,
                          int64_t failover_ms, bool failback = false);

} // namespace streamb::cluster
