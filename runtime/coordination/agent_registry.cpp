#include "runtime/coordination/agent_registry.hpp"

#include <algorithm>

namespace streamb {

std::string agent_id(const std::string& name) {
  return "agent-" + name;
}

bool registered_agent::subscribes(const std::string& type) const {
  return std::find(subscriptions.begin(), subscriptions.end(), type)
    != subscriptions.end();
}

bool registered_agent::serves(const delivery_target& target) const {
  switch (target.kind) {
    case delivery_target::kind_t::agent: return target.name == name;
    case delivery_target::kind_t::role: return target.name == role;
    case delivery_target::kind_t::any: break;
  }
  return false;
}

agent_registry::agent_registry(const agents_config& cfg)
  : max_in_flight_(cfg.max_in_flight),
    silent_limit_ms_(int64_t{cfg.heartbeat_interval_s} * cfg.missed_heartbeats
                     * 1000) {
  // nop
}

takeover agent_registry::admit(const std::string& name,
                               bool other_process) const {
  auto a = find(name);
  if (a == nullptr || !other_process)
    return takeover::none;
  switch (a->state) {
    case agent_state::active: return takeover::refused;
    case agent_state::stale: return takeover::of_stale;
    case agent_state::disconnected: break;
  }
  return takeover::of_disconnected;
}

bool agent_registry::register_agent(const agent_registration& reg,
                                    agent_session s, int64_t now_ms) {
  auto& a = agents_[reg.name];
  bool known = !a.id.empty();
  sessions_.erase(a.session);
  a.session = std::move(s.session);
  sessions_[a.session] = reg.name;
  a.id = agent_id(reg.name);
  a.name = reg.name;
  a.role = reg.role;
  a.subscriptions = reg.subscriptions;
  a.key_id = std::move(s.key_id);
  a.key_hash = std::move(s.key_hash);
  a.state = agent_state::active;
  // The identity outlives its processes: a takeover keeps the first date.
  if (a.registered_ms == 0)
    a.registered_ms = now_ms;
  a.last_heartbeat_ms = now_ms;
  a.last_seen_ms = now_ms;
  return known;
}

heartbeat_result agent_registry::heartbeat(const std::string& session,
                                           int64_t now_ms) {
  auto a = by_session(session);
  if (a == nullptr || a->session != session)
    return heartbeat_result::unknown_session;
  a->last_heartbeat_ms = now_ms;
  a->last_seen_ms = now_ms;
  if (a->state != agent_state::stale)
    return heartbeat_result::alive;
  a->state = agent_state::active;
  return heartbeat_result::revived;
}

std::vector<stale_agent> agent_registry::mark_stale(int64_t now_ms) {
  std::vector<stale_agent> result;
  for (auto& [name, a] : agents_) {
    auto silent = now_ms - a.last_heartbeat_ms;
    if (a.state == agent_state::active && silent > silent_limit_ms_) {
      a.state = agent_state::stale;
      result.push_back({name, silent});
    }
  }
  return result;
}

void agent_registry::disconnect(const std::string& name) {
  auto a = find(name);
  if (a == nullptr)
    return;
  a->state = agent_state::disconnected;
  sessions_.erase(a->session);
  a->session.clear();
}

bool agent_registry::remember(const std::string& name, const known_agent& x) {
  if (agents_.count(name) > 0)
    return false;
  auto& a = agents_[name];
  a.id = agent_id(name);
  a.name = name;
  a.role = x.role;
  a.subscriptions = x.subscriptions;
  a.registered_ms = x.registered_ms;
  a.state = agent_state::disconnected;
  return true;
}

registered_agent* agent_registry::find(const std::string& name) {
  auto i = agents_.find(name);
  return i == agents_.end() ? nullptr : &i->second;
}

const registered_agent* agent_registry::find(const std::string& name) const {
  auto i = agents_.find(name);
  return i == agents_.end() ? nullptr : &i->second;
}

registered_agent* agent_registry::by_session(const std::string& session) {
  auto i = sessions_.find(session);
  return i == sessions_.end() ? nullptr : find(i->second);
}

registered_agent* agent_registry::pick(const delivery_target& target,
                                       const std::string& type,
                                       const std::set<std::string>& tried) {
  registered_agent* best = nullptr;
  bool best_tried = true;
  for (auto& [name, a] : agents_) {
    if (a.state != agent_state::active || a.in_flight >= max_in_flight_
        || !a.subscribes(type) || !a.serves(target))
      continue;
    bool was_tried = tried.count(name) > 0;
    if (best == nullptr || (best_tried && !was_tried)
        || (was_tried == best_tried && a.in_flight < best->in_flight)) {
      best = &a;
      best_tried = was_tried;
    }
  }
  return best;
}

uint64_t agent_registry::free_slots(const delivery_target& target) const {
  uint64_t free = 0;
  for (auto& [name, a] : agents_)
    if (a.state == agent_state::active && a.in_flight < max_in_flight_
        && a.serves(target))
      free += max_in_flight_ - a.in_flight;
  return free;
}

agent_status agent_registry::status(const registered_agent& a) const {
  agent_status x;
  x.id = a.id;
  x.name = a.name;
  x.role = a.role;
  x.subscriptions = a.subscriptions;
  x.state = a.state;
  x.registered_ms = a.registered_ms;
  x.last_heartbeat_ms = a.last_heartbeat_ms;
  x.last_seen_ms = a.last_seen_ms;
  x.in_flight = a.in_flight;
  x.max_in_flight = max_in_flight_;
  x.counts = a.counts;
  x.p50_ms = a.response_us.quantile(0.50) / 1000.0;
  x.p95_ms = a.response_us.quantile(0.95) / 1000.0;
  return x;
}

} // namespace streamb
