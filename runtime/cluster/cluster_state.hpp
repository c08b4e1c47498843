#pragma once

// What the node's cluster member knows, for the readers on other threads:
// the gateway (answering peers), the routes (is a service's owner
// reachable?) and the health report (peers, owners).

#include "runtime/cluster/ownership.hpp"
#include "runtime/messages.hpp"

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace streamb::cluster {

/// Where a service is served, as this node sees it.
struct service_owner {
  std::string service;
  /// Its node (or the one about to take it); empty: none.
  std::string node;
  /// Its actors answer: here, or on a connected peer.
  bool reachable = false;
  bool here = false;
};

class cluster_state {
public:
  /// `services` in config order; `secret` the cluster secret (only its
  /// SHA-256 is kept).
  cluster_state(std::string self, std::vector<std::string> services,
                const std::string& secret);

  const std::string& self() const noexcept {
    return self_;
  }

  /// Whether a peer presented the cluster secret (constant-time).
  bool secret_matches(std::string_view presented) const;

  /// What this node owns, for its peers (services and their actors; the
  /// hub's part is set with set_local_hub / set_local_agent_types).
  void set_directory(cluster_directory x);
  cluster_directory directory() const;

  void set_owner(std::size_t service, service_owner x);
  service_owner owner(std::size_t service) const;
  /// Lock-free: asked once per ingest request.
  bool reachable(std::size_t service) const noexcept {
    return service < services_ && reachable_[service].load();
  }

  /// A peer that presented the secret also gave its own gateway: handed to
  /// the node's cluster member (set before the gateway is published).
  std::function<void(const std::string&, caf::strong_actor_ptr)>
    on_peer_gateway;
  void offer_gateway(const std::string& peer, caf::strong_actor_ptr gateway) {
    if (on_peer_gateway && gateway)
      on_peer_gateway(peer, std::move(gateway));
  }

  /// This node's hub and what its agents take, for the directory.
  void set_local_hub(caf::strong_actor_ptr hub);
  void set_local_agent_types(std::vector<std::string> types,
                             std::map<std::string, uint32_t> spare = {});

  /// A live peer's hub whose agents take `type` (round robin over such
  /// peers), or null.
  caf::strong_actor_ptr peer_hub_for(const std::string& type);
  /// A live peer's hub with a free slot for `type` in every one of `roles`
  /// (the most room first), or null.
  caf::strong_actor_ptr
  peer_hub_with_room(const std::vector<std::string>& roles,
                     const std::string& type);
  void set_peer_hubs(std::vector<cluster_directory> live_peers);

  void set_peers(std::vector<peer_view> xs);
  std::vector<peer_view> peers() const;

private:
  std::string self_;
  std::size_t services_;
  std::string secret_sha256_;
  std::unique_ptr<std::atomic<bool>[]> reachable_;
  mutable std::mutex mtx_;
  cluster_directory directory_;
  std::vector<service_owner> owners_;
  std::vector<peer_view> peers_;
  std::vector<cluster_directory> peer_hubs_;
  std::size_t next_peer_hub_ = 0;
};

using cluster_state_ptr = std::shared_ptr<cluster_state>;

} // namespace streamb::cluster
