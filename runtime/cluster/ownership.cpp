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
  // Nobody does, as far as this node knows. A node it has not heard from
  // within the failover delay (a node that just started has heard from
  // nobody) may own it: wait, or a restarted node would take back every
  // service it is first for, with or without failback.
  for (auto& name : placement) {
    if (name == self)
      continue;
    auto p = find_peer(peers, name);
    if (p != nullptr && !p->alive && now_ms - p->down_since_ms < failover_ms)
      return {};
  }
  // The first node that is alive takes it (the dead are passed over: their
  // failover delay is over).
  for (auto& name : placement) {
    if (name == self)
      return {self, true};
    auto p = find_peer(peers, name);
    if (p == nullptr)
      continue; // not a node of the cluster (check-config refuses this)
    if (p->alive)
      return {name, false}; // it takes the service at its next look
  }
  return {};
}

} // namespace streamb::cluster
