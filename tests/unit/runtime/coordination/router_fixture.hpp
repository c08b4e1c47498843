#pragma once

// An agent registry and an event router on a clock the test moves: the
// hub's pure half, without an actor system.

#include "runtime/coordination/agent_registry.hpp"
#include "runtime/coordination/event_router.hpp"

#include <catch2/catch.hpp>

#include <map>
#include <string>
#include <utility>
#include <vector>

namespace streamb::test {

inline agents_config test_agents_config() {
  agents_config cfg;
  cfg.heartbeat_interval_s = 5;
  cfg.missed_heartbeats = 3;
  cfg.response_timeout_s = 10;
  cfg.max_attempts = 3;
  cfg.max_in_flight = 8;
  cfg.undeliverable_after_s = 300;
  return cfg;
}

struct router_fixture {
  explicit router_fixture(agents_config config = test_agents_config())
    : cfg(config), agents(cfg), router({"n1", cfg, 100}, agents) {
    // nop
  }

  agents_config cfg;
  agent_registry agents;
  event_router router;
  int64_t now = 1'700'000'000'000;

  void join(const std::string& name, const std::string& role,
            std::vector<std::string> subscriptions) {
    agent_registration reg;
    reg.name = name;
    reg.role = role;
    reg.subscriptions = std::move(subscriptions);
    agents.register_agent(reg, agent_session{"session-" + name}, now);
  }

  /// Opens and starts an event as the hub does once it is stored.
  std::string send(const std::string& type, uint8_t priority = 2,
                   const std::string& target = {}) {
    coordination_event ev;
    ev.type = type;
    ev.priority = static_cast<budget::priority>(priority);
    ev.source = "test";
    ev.target = target;
    auto routed = router.open(std::move(ev), now);
    if (routed.routed())
      router.start(routed.id(), "entry-" + routed.id(), now);
    return routed.id();
  }

  /// The ids in one dispatch round for each agent.
  std::map<std::string, std::vector<std::string>> dispatch() {
    std::map<std::string, std::vector<std::string>> ids;
    for (auto& [agent, events] : router.dispatch(now))
      for (auto& ev : events) {
        ids[agent].push_back(ev.id);
        sent.emplace_back(agent, ev);
      }
    return ids;
  }

  /// The last delivery of `id` (to `agent`, unless empty) handed out by
  /// dispatch().
  const coordination_event& last_delivery(const std::string& id,
                                          const std::string& agent = {}) const {
    for (auto i = sent.rbegin(); i != sent.rend(); ++i)
      if (i->second.id == id && (agent.empty() || i->first == agent))
        return i->second;
    FAIL("event " << id << " was never delivered");
    return sent.front().second;
  }

  finished_events answer(const std::string& agent, const std::string& id,
                         answer_status status = answer_status::ok,
                         const std::string& payload = "{}") {
    event_response r;
    r.event_id = id;
    r.status = status;
    r.payload = payload;
    r.delivery = last_delivery(id, agent).delivery;
    return router.answer(agent, r, now);
  }

  std::string state_of(const std::string& id) const {
    auto rec = router.find(id);
    return rec ? to_string(rec->state) : "(none)";
  }

  /// Every delivery so far: (agent, event).
  std::vector<std::pair<std::string, coordination_event>> sent;
};

} // namespace streamb::test
