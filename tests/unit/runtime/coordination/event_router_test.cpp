// The event router without an actor system: routing, priorities, in-flight
// limits, deadlines and retries, disconnects and recovery on a clock the
// test moves.

#include "runtime/coordination/event_router.hpp"

#include "runtime/coordination/coordination_codec.hpp"
#include "runtime/coordination/known_agents.hpp"
#include "tests/unit/runtime/coordination/router_fixture.hpp"

#include <catch2/catch.hpp>

using namespace streamb;
using streamb::test::router_fixture;

namespace {

constexpr uint8_t critical = 0;
constexpr uint8_t normal = 2;
constexpr uint8_t low = 3;

agents_config with_in_flight(uint32_t n) {
  auto cfg = test::test_agents_config();
  cfg.max_in_flight = n;
  return cfg;
}

} // namespace

TEST_CASE("an event goes to one agent of each role that subscribes to its "
          "type") {
  router_fixture f;
  f.join("ops-1", "ops", {"cost_alert"});
  f.join("ops-2", "ops", {"cost_alert"});
  f.join("fin-1", "finance", {"cost_alert", "innovation_insight"});
  f.join("db-1", "db", {"database_coordination"});
  auto id = f.send("cost_alert");
  auto out = f.dispatch();
  REQUIRE(out.size() == 2);
  CHECK(out.count("ops-1") == 1); // tie: the first by name
  CHECK(out.count("fin-1") == 1);
  CHECK(out["ops-1"] == std::vector<std::string>{id});
  auto rec = f.router.find(id);
  REQUIRE(rec);
  CHECK(rec->state == event_state::delivering);
  REQUIRE(rec->deliveries.size() == 2);
  CHECK(rec->deliveries[0].unit == "role:finance");
  CHECK(rec->deliveries[1].unit == "role:ops");
  CHECK(f.last_delivery(id).attempt == 1);
}

TEST_CASE("a target sends the event to that agent or to one agent of that "
          "role only") {
  router_fixture f;
  f.join("ops-1", "ops", {"cost_alert"});
  f.join("ops-2", "ops", {"cost_alert"});
  f.join("fin-1", "finance", {"cost_alert"});
  auto to_agent = f.send("cost_alert", normal, "agent:ops-2");
  auto out = f.dispatch();
  CHECK(
    out
    == std::map<std::string, std::vector<std::string>>{{"ops-2", {to_agent}}});
  auto to_role = f.send("cost_alert", normal, "role:finance");
  out = f.dispatch();
  CHECK(
    out
    == std::map<std::string, std::vector<std::string>>{{"fin-1", {to_role}}});
  CHECK(f.router.find(to_agent)->deliveries.at(0).unit == "agent:ops-2");
}

TEST_CASE("an event nobody takes is unrouted at once and says why") {
  router_fixture f;
  f.join("ops-1", "ops", {"cost_alert"});
  coordination_event ev;
  ev.type = "frontend_update";
  auto r = f.router.open(ev, f.now);
  CHECK_FALSE(r.routed());
  CHECK(r.record.state == event_state::unrouted);
  CHECK(r.record.detail == "no agent subscribes to frontend_update");
  CHECK(r.record.finished_ms == f.now);
  CHECK(r.id() == "n1-" + std::to_string(f.now) + "-1");
  CHECK(f.state_of(r.id()) == "unrouted");
  ev.type = "cost_alert";
  ev.target = "agent:nobody";
  CHECK(f.router.open(ev, f.now).record.detail
        == "no agent named 'nobody' has registered");
  ev.type = "innovation_insight";
  ev.target = "agent:ops-1";
  CHECK(f.router.open(ev, f.now).record.detail
        == "agent 'ops-1' does not subscribe to innovation_insight");
  ev.type = "cost_alert";
  ev.target = "role:finance";
  CHECK(f.router.open(ev, f.now).record.detail
        == "no agent of role 'finance' subscribes to cost_alert");
  CHECK(f.router.counters().at("cost_alert").counts.unrouted == 2);
  CHECK(f.router.counters().at("cost_alert").counts.sent == 2);
  CHECK(f.router.find_open(r.id()) == nullptr);
}

TEST_CASE("one dispatch round hands out critical units before normal ones, "
          "across roles and names") {
  router_fixture f{with_in_flight(1)};
  f.join("ops-1", "ops", {"cost_alert"});
  // The role's normal event is queued first, the agent's critical one next;
  // the agent has one slot, and it goes to the critical event.
  auto for_role = f.send("cost_alert", normal, "role:ops");
  auto for_agent = f.send("cost_alert", critical, "agent:ops-1");
  CHECK(f.dispatch()["ops-1"] == std::vector<std::string>{for_agent});
  CHECK(f.state_of(for_role) == "queued");
  CHECK(f.router.queued() == 1);
  f.answer("ops-1", for_agent);
  CHECK(f.dispatch()["ops-1"] == std::vector<std::string>{for_role});
}

TEST_CASE("a critical event sent behind a backlog of normal ones is "
          "delivered first") {
  router_fixture f{with_in_flight(8)};
  f.join("ops-1", "ops", {"cost_alert"});
  auto a = f.send("cost_alert", low);
  auto b = f.send("cost_alert", normal);
  auto c = f.send("cost_alert", critical);
  CHECK(f.dispatch()["ops-1"] == std::vector<std::string>{c, b, a});
}

TEST_CASE("an agent gets at most max_in_flight deliveries; the rest wait for "
          "the least busy agent") {
  router_fixture f{with_in_flight(2)};
  f.join("ops-1", "ops", {"cost_alert"});
  std::vector<std::string> ids;
  for (int i = 0; i < 5; ++i)
    ids.push_back(f.send("cost_alert"));
  auto out = f.dispatch();
  CHECK(out["ops-1"] == std::vector<std::string>{ids[0], ids[1]});
  CHECK(f.agents.find("ops-1")->in_flight == 2);
  CHECK(f.router.queued() == 3);
  CHECK(f.router.in_flight() == 2);
  CHECK(f.dispatch().empty()); // no free slot
  // A second agent of the role takes what the first cannot.
  f.join("ops-2", "ops", {"cost_alert"});
  out = f.dispatch();
  CHECK(out.count("ops-1") == 0);
  CHECK(out["ops-2"] == std::vector<std::string>{ids[2], ids[3]});
  // An answer frees a slot of ops-1, the least busy now.
  f.answer("ops-1", ids[0]);
  out = f.dispatch();
  CHECK(
    out
    == std::map<std::string, std::vector<std::string>>{{"ops-1", {ids[4]}}});
  CHECK(f.agents.find("ops-1")->counts.delivered == 3);
}

TEST_CASE("an answer completes the event, with the agent's response in its "
          "record") {
  router_fixture f;
  f.join("ops-1", "ops", {"cost_alert"});
  auto id = f.send("cost_alert");
  f.dispatch();
  f.now += 250;
  auto done = f.answer("ops-1", id, answer_status::ok, R"({"done":true})");
  REQUIRE(done.size() == 1);
  CHECK(done[0].ok());
  CHECK(done[0].open_entry == "entry-" + id);
  auto& rec = done[0].record;
  CHECK(rec.state == event_state::completed);
  CHECK(rec.finished_ms == f.now);
  REQUIRE(rec.deliveries.size() == 1);
  CHECK(rec.deliveries[0].status == delivery_status::ok);
  CHECK(rec.deliveries[0].answered_ms - rec.deliveries[0].sent_ms == 250);
  CHECK(rec.deliveries[0].response == R"({"done":true})");
  CHECK(f.state_of(id) == "completed");
  auto a = f.agents.find("ops-1");
  CHECK(a->counts.answered == 1);
  CHECK(a->in_flight == 0);
  CHECK(a->last_seen_ms == f.now);
  CHECK(f.agents.status(*a).p50_ms == Approx(250).epsilon(0.01));
  CHECK(f.router.counters().at("cost_alert").counts.completed == 1);
  // The same answer again is late and changes nothing.
  CHECK(f.answer("ops-1", id).empty());
  CHECK(f.agents.find("ops-1")->counts.answered == 1);
}

TEST_CASE("an answer is taken only from the agent the delivery went to") {
  router_fixture f;
  f.join("ops-1", "ops", {"cost_alert"});
  f.join("fin-1", "finance", {"cost_alert"});
  auto id = f.send("cost_alert", normal, "role:ops");
  f.dispatch();
  event_response forged;
  forged.event_id = id;
  forged.delivery = f.last_delivery(id, "ops-1").delivery;
  CHECK(f.router.answer("fin-1", forged, f.now).empty());
  CHECK(f.router.in_flight() == 1);
  CHECK(f.answer("ops-1", id).size() == 1);
}

TEST_CASE("a delivery without an answer in time is retried on another agent "
          "of the role, and fails after max_attempts") {
  router_fixture f;
  f.join("ops-1", "ops", {"cost_alert"});
  f.join("ops-2", "ops", {"cost_alert"});
  auto id = f.send("cost_alert");
  CHECK(f.dispatch().count("ops-1") == 1);
  f.now += 9'999;
  CHECK(f.router.expire(f.now).empty());
  CHECK(f.router.in_flight() == 1);
  f.now += 1;
  CHECK(f.router.expire(f.now).empty()); // retried, not failed
  CHECK(f.agents.find("ops-1")->counts.timed_out == 1);
  // The agent that has not failed it yet goes first.
  CHECK(f.dispatch().count("ops-2") == 1);
  CHECK(f.last_delivery(id).attempt == 2);
  f.now += 10'000;
  CHECK(f.router.expire(f.now).empty());
  CHECK(f.dispatch().count("ops-1") == 1); // both failed it: least busy
  CHECK(f.last_delivery(id).attempt == 3);
  f.now += 10'000;
  auto done = f.router.expire(f.now);
  REQUIRE(done.size() == 1);
  CHECK_FALSE(done[0].ok());
  auto& rec = done[0].record;
  CHECK(rec.state == event_state::failed);
  CHECK(rec.detail == "role:ops: 3 attempts, last: no answer in time");
  REQUIRE(rec.deliveries.size() == 3);
  for (auto& d : rec.deliveries)
    CHECK(d.status == delivery_status::timeout);
  CHECK(f.router.counters().at("cost_alert").counts.failed == 1);
  CHECK(f.dispatch().empty());
}

TEST_CASE("a per-type response timeout overrides the default") {
  auto cfg = test::test_agents_config();
  cfg.response_timeouts_s["database_coordination"] = 60;
  router_fixture f{cfg};
  f.join("db-1", "db", {"database_coordination"});
  f.send("database_coordination");
  f.dispatch();
  f.now += 59'999;
  f.router.expire(f.now);
  CHECK(f.router.in_flight() == 1);
  f.now += 1;
  f.router.expire(f.now);
  CHECK(f.router.in_flight() == 0);
}

TEST_CASE("an agent that answers failed has the unit retried elsewhere") {
  router_fixture f;
  f.join("ops-1", "ops", {"cost_alert"});
  f.join("ops-2", "ops", {"cost_alert"});
  auto id = f.send("cost_alert");
  f.dispatch();
  CHECK(f.answer("ops-1", id, answer_status::failed).empty());
  CHECK(f.agents.find("ops-1")->counts.failed == 1);
  CHECK(f.dispatch().count("ops-2") == 1);
  auto done = f.answer("ops-2", id);
  REQUIRE(done.size() == 1);
  CHECK(done[0].record.deliveries[0].status == delivery_status::failed);
  CHECK(done[0].record.state == event_state::completed);
}

TEST_CASE("the deliveries of a disconnected agent go to another agent of "
          "the role") {
  router_fixture f;
  f.join("ops-1", "ops", {"cost_alert"});
  f.join("ops-2", "ops", {"cost_alert"});
  auto first = f.send("cost_alert");
  auto second = f.send("cost_alert");
  // Equally busy: the first by name, then the least busy.
  CHECK(f.dispatch()
        == std::map<std::string, std::vector<std::string>>{
          {"ops-1", {first}}, {"ops-2", {second}}});
  CHECK(f.router.disconnect("ops-1", f.now).empty());
  auto gone = f.agents.find("ops-1");
  CHECK(gone->state == agent_state::disconnected);
  CHECK(gone->session.empty());
  CHECK(gone->in_flight == 0);
  CHECK(f.agents.by_session("session-ops-1") == nullptr);
  CHECK(f.router.find(first)->deliveries[0].status
        == delivery_status::disconnected);
  CHECK(f.dispatch()
        == std::map<std::string, std::vector<std::string>>{{"ops-2", {first}}});
  CHECK(f.last_delivery(first).attempt == 2);
  CHECK(f.state_of(second) == "delivering");
}

TEST_CASE("a unit that no live agent takes fails as no_agent after "
          "undeliverable_after_s") {
  router_fixture f;
  f.join("ops-1", "ops", {"cost_alert"});
  f.router.disconnect("ops-1", f.now);
  // Its role's events wait for it...
  auto id = f.send("cost_alert");
  CHECK(f.state_of(id) == "queued");
  CHECK(f.dispatch().empty());
  f.now += 300'000;
  CHECK(f.router.expire_undeliverable(f.now).empty());
  // ... for undeliverable_after_s.
  f.now += 1;
  auto done = f.router.expire_undeliverable(f.now);
  REQUIRE(done.size() == 1);
  CHECK(done[0].record.detail
        == "role:ops: no_agent: no live agent took it within 300 s");
  CHECK(f.router.queued() == 0);
}

TEST_CASE("a stale agent takes no deliveries until it heartbeats again") {
  router_fixture f;
  f.join("ops-1", "ops", {"cost_alert"});
  f.now += 15'001;
  REQUIRE(f.agents.mark_stale(f.now).size() == 1);
  auto id = f.send("cost_alert");
  CHECK(f.dispatch().empty());
  CHECK(f.agents.heartbeat("session-ops-1", f.now)
        == heartbeat_result::revived);
  CHECK(f.dispatch()["ops-1"] == std::vector<std::string>{id});
}

TEST_CASE("a new process that takes over a stale name gets that agent's "
          "deliveries again") {
  router_fixture f;
  f.join("ops-1", "ops", {"cost_alert"});
  auto id = f.send("cost_alert");
  f.dispatch();
  f.now += 20'000;
  f.agents.mark_stale(f.now);
  // What the hub does for a registration from another process:
  REQUIRE(f.agents.admit("ops-1", true) == takeover::of_stale);
  f.router.disconnect("ops-1", f.now);
  f.join("ops-1", "ops", {"cost_alert"});
  auto out = f.dispatch();
  CHECK(out["ops-1"] == std::vector<std::string>{id});
  CHECK(f.last_delivery(id).attempt == 2);
  auto rec = f.router.find(id);
  CHECK(rec->deliveries[0].status == delivery_status::disconnected);
  CHECK(rec->deliveries[1].status == delivery_status::in_flight);
}

TEST_CASE("a sender the store refused is forgotten without a trace") {
  router_fixture f;
  f.join("ops-1", "ops", {"cost_alert"});
  coordination_event ev;
  ev.type = "cost_alert";
  auto r = f.router.open(ev, f.now);
  REQUIRE(r.routed());
  CHECK(f.router.counters().at("cost_alert").counts.sent == 1);
  f.router.abandon(r.id());
  CHECK(f.router.find(r.id()) == std::nullopt);
  CHECK(f.router.counters().at("cost_alert").counts.sent == 0);
  CHECK(f.dispatch().empty());
}

TEST_CASE("after a restart the open events come back from what the store "
          "held, and wait for their agents") {
  // The first run: what the hub wrote to the store.
  std::vector<std::pair<std::string, std::string>> stream; // entry, event
  std::map<std::string, std::string> known;                // name -> JSON
  std::string answered, pending;
  {
    router_fixture f;
    f.join("ops-1", "ops", {"cost_alert"});
    f.join("fin-1", "finance", {"cost_alert"});
    auto& a = *f.agents.find("ops-1");
    known["ops-1"] = encode_known_agent(
      {a.role, a.subscriptions, a.registered_ms});
    auto& b = *f.agents.find("fin-1");
    known["fin-1"] = encode_known_agent(
      {b.role, b.subscriptions, b.registered_ms});
    for (auto* id : {&answered, &pending}) {
      coordination_event ev;
      ev.type = "cost_alert";
      auto r = f.router.open(ev, f.now);
      REQUIRE(r.units.size() == 2);
      auto entry = "1-" + std::to_string(stream.size());
      stream.emplace_back(entry, encode_open_event(r.record.event, r.units));
      f.router.start(r.id(), entry, f.now);
      *id = r.id();
    }
    f.dispatch();
    f.answer("ops-1", answered);
    auto done = f.answer("fin-1", answered);
    REQUIRE(done.size() == 1);
    // Its XDEL: the stream keeps only what is open.
    stream.erase(
      std::remove_if(stream.begin(), stream.end(),
                     [&](auto& x) { return x.first == done[0].open_entry; }),
      stream.end());
  }
  // The second run reads the store back.
  router_fixture f;
  f.now += 60'000;
  for (auto& [name, text] : known)
    CHECK(f.agents.remember(name, decode_known_agent(text).value()));
  CHECK(f.agents.find("ops-1")->state == agent_state::disconnected);
  for (auto& [entry, text] : stream) {
    auto decoded = decode_open_event(text);
    REQUIRE(decoded);
    CHECK(f.router.recover(decoded->first, decoded->second, entry, f.now));
    // A second read of the same stream changes nothing.
    CHECK_FALSE(
      f.router.recover(decoded->first, decoded->second, entry, f.now));
  }
  CHECK(f.router.find(answered) == std::nullopt);
  auto rec = f.router.find(pending);
  REQUIRE(rec);
  CHECK(rec->state == event_state::queued);
  CHECK(rec->detail == "recovered after a restart of node n1");
  CHECK(f.dispatch().empty()); // nobody is back yet
  // A new event for their roles is routed too: known agents count.
  auto later = f.send("cost_alert");
  CHECK(f.state_of(later) == "queued");
  f.join("ops-1", "ops", {"cost_alert"});
  f.join("fin-1", "finance", {"cost_alert"});
  auto out = f.dispatch();
  CHECK(out["ops-1"] == std::vector<std::string>{pending, later});
  CHECK(out["fin-1"] == std::vector<std::string>{pending, later});
  f.answer("ops-1", pending);
  auto done = f.answer("fin-1", pending);
  REQUIRE(done.size() == 1);
  CHECK(done[0].open_entry == "1-1");
  CHECK(done[0].ok());
}

TEST_CASE("finished events are answered from memory up to finished_kept") {
  router_fixture f;
  f.join("ops-1", "ops", {"cost_alert"});
  std::vector<std::string> ids;
  coordination_event ev;
  ev.type = "frontend_update"; // unrouted: finished at once
  for (int i = 0; i < 101; ++i)
    ids.push_back(f.router.open(ev, f.now).id());
  CHECK(f.router.find(ids.front()) == std::nullopt);
  CHECK(f.router.find(ids.back()).has_value());
}

TEST_CASE("open events are capped in count and payload bytes, and what "
          "finishes makes room") {
  auto cfg = test::test_agents_config();
  cfg.max_open_events = 3;
  cfg.max_open_payload_bytes = 2500;
  cfg.max_finished_payload_bytes = 1500;
  router_fixture f{cfg};
  f.join("ops-1", "ops", {"cost_alert"});
  coordination_event ev;
  ev.type = "cost_alert";
  ev.source = "test";
  ev.payload = std::string(1000, 'x');
  std::vector<std::string> ids;
  for (int i = 0; i < 2; ++i) {
    REQUIRE_FALSE(f.router.refuse_new(ev));
    auto r = f.router.open(ev, f.now);
    REQUIRE(r.routed());
    f.router.start(r.id(), "entry", f.now);
    ids.push_back(r.id());
  }
  CHECK(f.router.open_payload_bytes() == 2000);
  // A third 1000-byte payload would pass 2500 bytes.
  auto why = f.router.refuse_new(ev);
  REQUIRE(why);
  CHECK(why->find("max_open_payload_bytes") != std::string::npos);
  // A small one fits, and then the count is the limit.
  coordination_event small = ev;
  small.payload = "{}";
  REQUIRE_FALSE(f.router.refuse_new(small));
  auto r = f.router.open(small, f.now);
  f.router.start(r.id(), "entry", f.now);
  why = f.router.refuse_new(small);
  REQUIRE(why);
  CHECK(why->find("max_open_events") != std::string::npos);
  // Both big ones finish: their bytes are released.
  f.dispatch();
  f.answer("ops-1", ids[0]);
  f.answer("ops-1", ids[1]);
  CHECK(f.router.open_payload_bytes() == 2);
  CHECK_FALSE(f.router.refuse_new(ev));
  // Finished events in memory are bounded by their bytes too: only the
  // newest big one is still answered from memory.
  CHECK_FALSE(f.router.find(ids[0]).has_value());
  CHECK(f.router.find(ids[1]).has_value());
}
