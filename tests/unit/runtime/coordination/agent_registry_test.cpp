// The agent registry on a clock the test moves: sessions, heartbeats, the
// active -> stale -> disconnected states and the takeover of a name.

#include "runtime/coordination/agent_registry.hpp"

#include "tests/unit/runtime/coordination/router_fixture.hpp"

#include <catch2/catch.hpp>

using namespace streamb;

namespace {

agent_registration registration(const std::string& name,
                                const std::string& role,
                                std::vector<std::string> subscriptions) {
  agent_registration reg;
  reg.name = name;
  reg.role = role;
  reg.subscriptions = std::move(subscriptions);
  reg.token = "never kept";
  return reg;
}

constexpr int64_t t0 = 1'700'000'000'000;

} // namespace

TEST_CASE("a registration opens a session the agent heartbeats with") {
  agent_registry agents{test::test_agents_config()};
  CHECK_FALSE(agents.register_agent(registration("ops-1", "ops", {"webhook"}),
                                    {"s1", "key-7", "hash"}, t0));
  auto a = agents.by_session("s1");
  REQUIRE(a != nullptr);
  CHECK(a->id == "agent-ops-1");
  CHECK(a->role == "ops");
  CHECK(a->key_id == "key-7");
  CHECK(a->state == agent_state::active);
  CHECK(a->registered_ms == t0);
  CHECK(agents.heartbeat("s1", t0 + 4'000) == heartbeat_result::alive);
  CHECK(a->last_heartbeat_ms == t0 + 4'000);
  CHECK(agents.heartbeat("s0", t0) == heartbeat_result::unknown_session);
  auto status = agents.status(*a);
  CHECK(status.state == agent_state::active);
  CHECK(status.max_in_flight == 8);
  CHECK(status.subscriptions == std::vector<std::string>{"webhook"});
}

TEST_CASE("an agent silent for missed_heartbeats intervals goes stale, and "
          "a heartbeat brings it back") {
  agent_registry agents{test::test_agents_config()};
  agents.register_agent(registration("ops-1", "ops", {}), {"s1"}, t0);
  agents.register_agent(registration("ops-2", "ops", {}), {"s2"}, t0);
  agents.heartbeat("s2", t0 + 10'000);
  CHECK(agents.mark_stale(t0 + 15'000).empty()); // 3 x 5 s, not more
  auto stale = agents.mark_stale(t0 + 15'001);
  REQUIRE(stale.size() == 1);
  CHECK(stale[0].name == "ops-1");
  CHECK(stale[0].silent_ms == 15'001);
  CHECK(agents.find("ops-1")->state == agent_state::stale);
  CHECK(agents.mark_stale(t0 + 16'000).empty()); // reported once
  CHECK(agents.heartbeat("s1", t0 + 16'000) == heartbeat_result::revived);
  CHECK(agents.find("ops-1")->state == agent_state::active);
}

TEST_CASE("a live name cannot be taken by another process; a stale or "
          "disconnected one can, keeping its identity") {
  agent_registry agents{test::test_agents_config()};
  CHECK(agents.admit("ops-1", true) == takeover::none); // unknown
  agents.register_agent(registration("ops-1", "ops", {}), {"s1"}, t0);
  CHECK(agents.admit("ops-1", true) == takeover::refused);
  CHECK(agents.admit("ops-1", false) == takeover::none); // the same process
  agents.mark_stale(t0 + 20'000);
  CHECK(agents.admit("ops-1", true) == takeover::of_stale);
  agents.disconnect("ops-1");
  CHECK(agents.admit("ops-1", true) == takeover::of_disconnected);
  CHECK(agents.heartbeat("s1", t0 + 20'000)
        == heartbeat_result::unknown_session);
  CHECK(agents.register_agent(registration("ops-1", "ops-v2", {}), {"s2"},
                              t0 + 21'000));
  auto a = agents.find("ops-1");
  CHECK(a->state == agent_state::active);
  CHECK(a->registered_ms == t0); // the identity, not the process
  CHECK(a->role == "ops-v2");
  CHECK(agents.by_session("s1") == nullptr);
  CHECK(agents.by_session("s2") == a);
}

TEST_CASE("agents of an earlier run are known but disconnected until they "
          "register") {
  agent_registry agents{test::test_agents_config()};
  agents.register_agent(registration("ops-1", "ops", {}), {"s1"}, t0);
  known_agent x{"finance", {"cost_alert"}, t0 - 1'000};
  CHECK(agents.remember("fin-1", x));
  CHECK_FALSE(agents.remember("ops-1", x)); // live: left alone
  CHECK(agents.find("ops-1")->role == "ops");
  auto a = agents.find("fin-1");
  CHECK(a->state == agent_state::disconnected);
  CHECK(a->id == "agent-fin-1");
  CHECK(a->subscribes("cost_alert"));
  CHECK(agents.free_slots(delivery_target::role("finance")) == 0);
  CHECK(
    agents.register_agent(registration("fin-1", "finance", {}), {"s2"}, t0));
  CHECK(a->registered_ms == t0 - 1'000);
  CHECK(agents.free_slots(delivery_target::role("finance")) == 8);
}

TEST_CASE("the least busy active agent is picked, preferring one that has "
          "not failed the unit") {
  auto cfg = test::test_agents_config();
  cfg.max_in_flight = 2;
  agent_registry agents{cfg};
  for (auto name : {"a", "b", "c"})
    agents.register_agent(registration(name, "ops", {"cost_alert"}),
                          {std::string{"s-"} + name}, t0);
  agents.register_agent(registration("d", "ops", {"webhook"}), {"s-d"}, t0);
  auto ops = delivery_target::role("ops");
  CHECK(agents.pick(ops, "cost_alert", {})->name == "a");
  agents.find("a")->in_flight = 1;
  CHECK(agents.pick(ops, "cost_alert", {})->name == "b");
  CHECK(agents.pick(ops, "cost_alert", {"b", "c"})->name == "a");
  agents.find("b")->in_flight = 2; // full
  CHECK(agents.pick(ops, "cost_alert", {"a", "c"})->name == "c");
  agents.mark_stale(t0 + 60'000);
  CHECK(agents.pick(ops, "cost_alert", {}) == nullptr);
  CHECK(agents.pick(delivery_target::agent("d"), "webhook", {}) == nullptr);
  agents.heartbeat("s-d", t0 + 60'000);
  CHECK(agents.pick(delivery_target::agent("d"), "webhook", {})->name == "d");
  CHECK(agents.free_slots(ops) == 2);
  CHECK(agents.free_slots(delivery_target{}) == 0);
}
