#include "runtime/cluster/ownership.hpp"

#include <algorithm>

namespace streamb::cluster {

namespace {

const peer_view* find_peer(const std::vector<peer_view>& peers,
                           const std::string& name) {
  for (auto& p : peers)
    if (p.name == name)
      return &p;
  return nullptr;
}

bool claims(const peer_view& p, const std::string& service) {
  return p.alive
    && std::find(p.owns.begin(), p.owns.end(), service) != p.owns.end();
}

} // namespace

owner_choice choose_owner(const std::string& service,
                          const std::vector<std::string>& placement,
                          const std::string& self, bool self_owns,
                          const std::vector<peer_view>& peers, int64_t now_ms,
                          int64_t failover_ms, bool failback) {
  // Someone owns it: the earliest owner in the placement keeps it.
  for (auto& name : failback ? std::vector<std::string>{} : placement) {
    if (name == self) {
      if (self_owns)
        return {self, true};
      continue;
    }
    if (auto p = find_peer(peers, name); p != nullptr && claims(*p, service))
      return {name, false};
  }
  // Nobody does: the first node that is alive, passing over the dead only
  // once their failover delay is over.
  for (auto& name : placement) {
    if (name == self)
      return {self, true};
    auto p = find_peer(peers, name);
    if (p == nullptr)
      continue; // not a node of the cluster (check-config refuses this)
    if (p->alive)
      return {name, false}; // it takes the service at its next look
    if (now_ms - p->down_since_ms < failover_ms)
      return {}; // maybe back in a moment: wait
  }
  return {};
}

} // namespace streamb::cluster
