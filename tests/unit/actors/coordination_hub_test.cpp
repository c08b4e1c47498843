// The coordination hub as an actor under CAF's test scheduler: agents are
// actors of the test, the store is in memory, and time moves only when the
// test moves it.
//
// Lives next to the router's tests rather than in tests/unit/actors/ while
// that folder is edited by others; it tests actors/coordination_hub.

#include "actors/coordination_hub.hpp"

#include "actors/store_actor.hpp"
#include "runtime/core/actor_wall_clock.hpp"
#include "runtime/store/memory_backend.hpp"
#include "tests/unit/actor_fixture.hpp"

#include <catch2/catch.hpp>

#include <memory>

using namespace streamb;
using namespace std::chrono_literals;

namespace {

/// What a test agent received.
struct inbox {
  std::vector<coordination_event> events;
};

agent_endpoint_actor::behavior_type test_agent(agent_endpoint_actor::pointer,
                                               std::shared_ptr<inbox> box) {
  return {
    [box](assign_atom, std::vector<coordination_event>& xs) {
      for (auto& x : xs)
        box->events.push_back(std::move(x));
    },
    [](leave_atom, const std::string&) {
      // nop
    },
  };
}

struct test_agent_handle {
  agent_endpoint_actor endpoint;
  std::shared_ptr<inbox> box;
  std::string session;
};

struct fixture : test::actor_fixture {
  std::shared_ptr<store::memory_backend>
    db = std::make_shared<store::memory_backend>(
      [this] { return epoch_ms(sched.clock()); });
  store_actor store = sys().spawn(store_service,
                                  std::shared_ptr<store::backend>{db});
  std::vector<caf::actor> actors;
  coordination_hub_actor hub = spawn_hub();

  ~fixture() {
    for (auto& x : actors)
      self->send_exit(x, caf::exit_reason::user_shutdown);
    self->send_exit(store, caf::exit_reason::user_shutdown);
  }

  coordination_hub_actor spawn_hub() {
    coordination_hub_settings settings;
    settings.node = "n1";
    settings.agents.response_timeout_s = 2;
    auto hdl = sys().spawn(coordination_hub, std::move(settings), store);
    sched.run(); // recovery from the store
    actors.push_back(caf::actor_cast<caf::actor>(hdl));
    return hdl;
  }

  test_agent_handle join(const std::string& name, const std::string& role) {
    test_agent_handle x;
    x.box = std::make_shared<inbox>();
    x.endpoint = sys().spawn(test_agent, x.box);
    actors.push_back(caf::actor_cast<caf::actor>(x.endpoint));
    agent_registration reg;
    reg.name = name;
    reg.role = role;
    reg.subscriptions = {"cost_alert"};
    x.session = ask<agent_welcome>(hub, agent_reg_atom_v, reg, x.endpoint)
                  .session;
    return x;
  }

  std::string send_event() {
    coordination_event ev;
    ev.type = "cost_alert";
    ev.source = "test";
    return ask<std::string>(hub, assign_atom_v, ev);
  }

  event_record record(const std::string& id) {
    return ask<event_record>(hub, event_atom_v, id);
  }

  void answer(const test_agent_handle& a, const coordination_event& ev) {
    event_response r;
    r.event_id = ev.id;
    r.delivery = ev.delivery;
    self->send(hub, respond_atom_v, a.session, std::vector<event_response>{r});
    sched.run();
  }
};

} // namespace

TEST_CASE_METHOD(fixture,
                 "the hub stores an event, delivers it to an agent "
                 "and records the answer") {
  auto a = join("ops-1", "ops");
  auto id = send_event();
  REQUIRE(a.box->events.size() == 1);
  CHECK(a.box->events[0].id == id);
  CHECK(a.box->events[0].attempt == 1);
  CHECK(db->xlen(coordination_keys::open_events("n1")).value() == 1);
  advance(250ms);
  answer(a, a.box->events[0]);
  auto rec = record(id);
  CHECK(rec.state == event_state::completed);
  REQUIRE(rec.deliveries.size() == 1);
  CHECK(rec.deliveries[0].answered_ms - rec.deliveries[0].sent_ms == 250);
  // The outcome is in the store; the open-events stream is empty again.
  CHECK(db->get(coordination_keys::event(id)).value().has_value());
  CHECK(db->xlen(coordination_keys::open_events("n1")).value() == 0);
}

TEST_CASE_METHOD(fixture,
                 "on the actor clock, a delivery without an answer "
                 "goes to another agent of the role") {
  auto a = join("ops-1", "ops");
  auto b = join("ops-2", "ops");
  auto id = send_event();
  REQUIRE(a.box->events.size() == 1);
  advance(1s);
  CHECK(b.box->events.empty());
  advance(1s); // the deadline: 2 s
  REQUIRE(b.box->events.size() == 1);
  CHECK(b.box->events[0].id == id);
  CHECK(b.box->events[0].attempt == 2);
  auto rec = record(id);
  CHECK(rec.state == event_state::delivering);
  CHECK(rec.deliveries.at(0).status == delivery_status::timeout);
  // The first agent's late answer changes nothing.
  answer(a, a.box->events[0]);
  CHECK(record(id).state == event_state::delivering);
  answer(b, b.box->events[0]);
  CHECK(record(id).state == event_state::completed);
  auto status = ask<coordination_status>(hub, agents_atom_v);
  REQUIRE(status.agents.size() == 2);
  CHECK(status.agents[0].counts.timed_out == 1);
  CHECK(status.agents[1].counts.answered == 1);
}

TEST_CASE_METHOD(fixture,
                 "a restarted hub delivers the events it had "
                 "stored to their agent once it is back") {
  auto a = join("ops-1", "ops");
  auto id = send_event();
  REQUIRE(a.box->events.size() == 1);
  self->send_exit(hub, caf::exit_reason::user_shutdown);
  sched.run();
  hub = spawn_hub();
  auto rec = record(id);
  CHECK(rec.state == event_state::queued);
  CHECK(rec.detail == "recovered after a restart of node n1");
  auto status = ask<coordination_status>(hub, agents_atom_v);
  REQUIRE(status.agents.size() == 1);
  CHECK(status.agents[0].state == agent_state::disconnected);
  auto again = join("ops-1", "ops");
  REQUIRE(again.box->events.size() == 1);
  CHECK(again.box->events[0].id == id);
  answer(again, again.box->events[0]);
  CHECK(record(id).state == event_state::completed);
}

TEST_CASE_METHOD(fixture,
                 "a burst of 20 000 node events arriving while a store write "
                 "is in flight is stored whole, none delivered unstored") {
  auto a = join("ops-1", "ops");
  constexpr int burst = 20'000;
  for (int i = 0; i < burst; ++i) {
    coordination_event ev;
    ev.type = "cost_alert";
    ev.source = "budget_controller";
    self->send(hub, publish_atom_v, ev);
  }
  sched.run();
  CHECK(db->xlen(coordination_keys::open_events("n1")).value() == burst);
  CHECK_FALSE(a.box->events.empty());
}
