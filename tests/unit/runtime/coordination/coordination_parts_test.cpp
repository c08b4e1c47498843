// The small parts of the hub's logic: targets, event checks, known agents,
// the events the node makes and the bound on refused registrations.

#include "runtime/coordination/delivery_target.hpp"
#include "runtime/coordination/event_check.hpp"
#include "runtime/coordination/known_agents.hpp"
#include "runtime/coordination/node_events.hpp"
#include "runtime/coordination/refusal_throttle.hpp"

#include <boost/json.hpp>
#include <catch2/catch.hpp>

using namespace streamb;

TEST_CASE("a target is parsed in one place and written back the same") {
  using kind = delivery_target::kind_t;
  auto agent = delivery_target::parse("agent:db-1");
  REQUIRE(agent);
  CHECK(agent->kind == kind::agent);
  CHECK(agent->name == "db-1");
  CHECK(agent->to_string() == "agent:db-1");
  auto role = delivery_target::parse("role:finance");
  REQUIRE(role);
  CHECK(role->kind == kind::role);
  CHECK(role->to_string() == "role:finance");
  CHECK(delivery_target::parse("")->kind == kind::any);
  CHECK(delivery_target::parse("")->to_string().empty());
  CHECK_FALSE(delivery_target::parse("finance"));
  CHECK_FALSE(delivery_target::parse("Agent:x"));
  CHECK(delivery_target::from_unit(agent->to_unit()) == *agent);
  CHECK(delivery_target::from_unit(role->to_unit()) == *role);
  CHECK(role->to_unit().role == "finance");
  CHECK(agent->to_unit().agent == "db-1");
}

TEST_CASE("an event needs a known type, a priority and a valid target") {
  coordination_event ev;
  ev.type = "cost_alert";
  CHECK_FALSE(event_error(ev));
  ev.target = "role:ops";
  CHECK_FALSE(event_error(ev));
  ev.target = "ops";
  CHECK(event_error(ev) == "target must be \"agent:NAME\" or \"role:ROLE\"");
  ev.target.clear();
  ev.priority = static_cast<budget::priority>(4); // from a peer
  CHECK(event_error(ev) == "priority must be critical, high, normal or low");
  ev.type = "coffee";
  CHECK(event_error(ev) == "unknown event type 'coffee'");
}

TEST_CASE("a known agent survives the store and bad fields are skipped") {
  known_agent x{"finance", {"cost_alert", "webhook"}, 1234};
  auto back = decode_known_agent(encode_known_agent(x));
  REQUIRE(back);
  CHECK(back->role == "finance");
  CHECK(back->subscriptions == x.subscriptions);
  CHECK(back->registered_ms == 1234);
  CHECK_FALSE(decode_known_agent("not json"));
  CHECK_FALSE(decode_known_agent("[]"));
  auto partial = decode_known_agent(R"({"role":7,"subscriptions":["a",1]})");
  REQUIRE(partial);
  CHECK(partial->role.empty());
  CHECK(partial->subscriptions == std::vector<std::string>{"a"});
}

TEST_CASE("a webhook becomes an event of its own id, critical when it is") {
  webhook_event wh;
  wh.id = "stripe:evt_1";
  wh.service = "stripe";
  wh.type = "charge.failed";
  wh.critical = true;
  wh.payload = R"({"amount":5})";
  wh.attempts = 2;
  auto ev = webhook_as_event(wh, 99);
  CHECK(ev.id == "webhook:stripe:evt_1");
  CHECK(ev.type == "webhook");
  CHECK(ev.priority == budget::priority::critical);
  CHECK(ev.source == "webhook:stripe");
  CHECK(ev.created_ms == 99);
  auto payload = boost::json::parse(ev.payload).as_object();
  CHECK(payload.at("body").at("amount").as_int64() == 5);
  CHECK(payload.at("attempt").as_int64() == 2);
  wh.critical = false;
  wh.payload = "not json";
  ev = webhook_as_event(wh, 99);
  CHECK(ev.priority == budget::priority::normal);
  CHECK(boost::json::parse(ev.payload).at("body").as_string() == "not json");
}

TEST_CASE("an alert becomes a performance_optimization event at its "
          "priority") {
  service_alert x;
  x.service = "maps";
  x.metric = alert_metric::p95_ms;
  x.kind = alert_kind::anomaly;
  x.priority = budget::priority::high;
  x.expected_high = 900;
  auto ev = alert_as_event(x);
  CHECK(ev.type == "performance_optimization");
  CHECK(ev.priority == budget::priority::high);
  CHECK(ev.source == "monitor:maps");
  CHECK(ev.id.empty()); // the router names it
  auto payload = boost::json::parse(ev.payload);
  CHECK(payload.at("expected").at("high").as_double() == 900);
  x.kind = alert_kind::threshold;
  CHECK_FALSE(boost::json::parse(alert_as_event(x).payload)
                .as_object()
                .contains("expected"));
}

TEST_CASE("refused registrations are recorded at most 10 a minute, the next "
          "record saying how many were left out") {
  refusal_throttle t;
  int64_t t0 = 5'000;
  for (int i = 0; i < 10; ++i)
    CHECK(t.admit(t0 + i) == uint64_t{0});
  for (int i = 0; i < 5; ++i)
    CHECK_FALSE(t.admit(t0 + 100 + i));
  CHECK_FALSE(t.admit(t0 + 59'999));
  CHECK(t.admit(t0 + 60'000) == uint64_t{6});
  CHECK(t.admit(t0 + 60'001) == uint64_t{0});
}
