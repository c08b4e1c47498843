#include "runtime/cluster/cluster_state.hpp"

#include "runtime/core/crypto.hpp"

#include <algorithm>
#include <cstdint>

namespace streamb::cluster {

cluster_state::cluster_state(std::string self,
                             std::vector<std::string> services,
                             const std::string& secret)
  : self_(std::move(self)), services_(services.size()),
    secret_sha256_(secret.empty() ? std::string{}
                                  : sha256(secret).value_or(std::string{})),
    reachable_(new std::atomic<bool>[services.size()]) {
  for (std::size_t i = 0; i < services_; ++i) {
    reachable_[i] = false;
    owners_.push_back(service_owner{services[i], {}, false, false});
  }
  directory_.node = self_;
}

bool cluster_state::secret_matches(std::string_view presented) const {
  auto digest = sha256(presented);
  // An empty secret never matches: a node without one answers no peer.
  return digest && !secret_sha256_.empty()
    && equal_constant_time(*digest, secret_sha256_);
}

void cluster_state::set_directory(cluster_directory x) {
  std::lock_guard<std::mutex> guard{mtx_};
  // The hub and its agents' types are the hub's to set.
  directory_.node = std::move(x.node);
  directory_.services = std::move(x.services);
  directory_.monitors = std::move(x.monitors);
  directory_.budgets = std::move(x.budgets);
}

cluster_directory cluster_state::directory() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return directory_;
}

void cluster_state::set_local_hub(caf::strong_actor_ptr hub) {
  std::lock_guard<std::mutex> guard{mtx_};
  directory_.hub = std::move(hub);
}

void cluster_state::set_local_agent_types(
  std::vector<std::string> types, std::map<std::string, uint32_t> spare) {
  std::lock_guard<std::mutex> guard{mtx_};
  directory_.agent_types = std::move(types);
  directory_.agent_spare = std::move(spare);
}

caf::strong_actor_ptr
cluster_state::peer_hub_with_room(const std::vector<std::string>& roles,
                                  const std::string& type) {
  if (roles.empty())
    return nullptr;
  std::lock_guard<std::mutex> guard{mtx_};
  caf::strong_actor_ptr best;
  uint32_t best_room = 0;
  for (auto& p : peer_hubs_) {
    if (!p.hub)
      continue;
    uint32_t room = UINT32_MAX;
    for (auto& role : roles) {
      auto i = p.agent_spare.find(role + '\t' + type);
      room = std::min(room, i == p.agent_spare.end() ? 0u : i->second);
    }
    if (room > best_room) {
      best_room = room;
      best = p.hub;
    }
  }
  return best;
}

caf::strong_actor_ptr cluster_state::peer_hub_for(const std::string& type) {
  std::lock_guard<std::mutex> guard{mtx_};
  auto n = peer_hubs_.size();
  for (std::size_t k = 0; k < n; ++k) {
    auto& p = peer_hubs_[(next_peer_hub_ + k) % n];
    if (p.hub
        && std::find(p.agent_types.begin(), p.agent_types.end(), type)
          != p.agent_types.end()) {
      next_peer_hub_ = (next_peer_hub_ + k + 1) % n;
      return p.hub;
    }
  }
  return nullptr;
}

void cluster_state::set_peer_hubs(std::vector<cluster_directory> live_peers) {
  std::lock_guard<std::mutex> guard{mtx_};
  peer_hubs_ = std::move(live_peers);
}

void cluster_state::set_owner(std::size_t service, service_owner x) {
  if (service >= services_)
    return;
  std::lock_guard<std::mutex> guard{mtx_};
  reachable_[service] = x.reachable;
  owners_[service] = std::move(x);
}

service_owner cluster_state::owner(std::size_t service) const {
  std::lock_guard<std::mutex> guard{mtx_};
  return service < services_ ? owners_[service] : service_owner{};
}

void cluster_state::set_peers(std::vector<peer_view> xs) {
  std::lock_guard<std::mutex> guard{mtx_};
  peers_ = std::move(xs);
}

std::vector<peer_view> cluster_state::peers() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return peers_;
}

} // namespace streamb::cluster
