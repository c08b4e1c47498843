// The coordination hub with real processes: a streamb node and several
// streamb-agent processes over loopback, plus the SDK in this process.

#include "bridges/agent_client.hpp"
#include "runtime/config/config_versions.hpp"
#include "runtime/core/crypto.hpp"
#include "runtime/core/wall_time.hpp"
#include "tests/integration/agent_process.hpp"
#include "tests/integration/coordination_support.hpp"
#include "tests/integration/node_process.hpp"
#include "tests/integration/redis_config_file.hpp"
#include "tests/integration/redis_process.hpp"
#include "tests/integration/running_node.hpp"
#include "tests/integration/stripe_signing.hpp"

#include <boost/json.hpp>
#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/io/middleman.hpp>
#include <caf/send.hpp>
#include <catch2/catch.hpp>
#include <httplib.h>

#include <csignal>
#include <thread>

using namespace streamb;
using namespace std::chrono_literals;
namespace json = boost::json;

using test::agent_process;
using test::agents_config_file;
using test::with_agents;
using namespace streamb::test;

TEST_CASE("agents register, get only the types they subscribe to, and their "
          "answers show in the routes") {
  test::running_node node;
  auto port = node.process.actor_port();
  REQUIRE(port != 0);
  agent_process db{port, "db-1", "database", "database_coordination"};
  agent_process perf{port,
                     "perf-1",
                     "performance",
                     "performance_optimization,cost_alert",
                     {"--reply", "delay:30"}};
  REQUIRE(db.registered());
  REQUIRE(perf.registered());

  auto a = send_event(node, R"({"type":"database_coordination",
    "priority":"high","payload":{"table":"routes","op":"vacuum"}})");
  auto b = send_event(node, R"({"type":"performance_optimization",
    "payload":{"service":"maps"}})");
  REQUIRE(db.received(a));
  REQUIRE(perf.received(b));

  auto rec_a = wait_outcome(node, a);
  INFO(json::serialize(rec_a));
  CHECK(rec_a.at("state").as_string() == "completed");
  CHECK(rec_a.at("priority").as_string() == "high");
  CHECK(rec_a.at("payload").at("table").as_string() == "routes");
  auto& deliveries = rec_a.at("deliveries").as_array();
  REQUIRE(deliveries.size() == 1);
  CHECK(deliveries[0].at("agent").as_string() == "db-1");
  CHECK(deliveries[0].at("status").as_string() == "ok");
  CHECK(deliveries[0].at("response").at("handledBy").as_string() == "db-1");
  // Times are ISO-8601 UTC strings (docs/http-api.md, JSON conventions).
  CHECK(rec_a.at("createdAt").as_string().ends_with("Z"));
  CHECK(rec_a.at("finishedAt").is_string());
  CHECK(deliveries[0].at("sentAt").is_string());
  CHECK(deliveries[0].at("answeredAt").is_string());
  auto rec_b = wait_outcome(node, b);
  CHECK(rec_b.at("state").as_string() == "completed");
  CHECK(rec_b.at("deliveries").at(0).at("responseTimeMs").to_number<int64_t>()
        >= 30);

  // Each agent saw only its own type.
  CHECK(db.events() == std::vector<std::string>{a});
  CHECK(perf.events() == std::vector<std::string>{b});

  auto status = node.get_json(std::string{prefix} + "/agents/status");
  INFO(json::serialize(status));
  CHECK(status.at("byState").at("active").to_number<int64_t>() == 2);
  auto p = agent_named(node, "perf-1");
  CHECK(p.at("role").as_string() == "performance");
  CHECK(p.at("state").as_string() == "active");
  CHECK(p.at("answered").to_number<int64_t>() == 1);
  CHECK(p.at("inFlight").to_number<int64_t>() == 0);
  CHECK(p.at("responseTimeMs").at("p95").to_number<double>() >= 30.0);
  CHECK(p.at("subscriptions").as_array().size() == 2);
  CHECK_FALSE(p.at("lastHeartbeat").is_null());
  bool found_type = false;
  for (auto& t : status.at("eventTypes").as_array())
    if (t.at("type").as_string() == "database_coordination") {
      found_type = true;
      CHECK(t.at("completed").to_number<int64_t>() == 1);
    }
  CHECK(found_type);
}

TEST_CASE("send-event refuses bad input with a JSON error") {
  test::running_node node;
  auto url = std::string{prefix} + "/coordination/send-event";
  auto post = [&](const std::string& body) {
    return node.client.Post(url.c_str(), body, "application/json");
  };
  test::check_error(post(R"({"type":"telepathy"})"), 400, "invalid_argument",
                    "$.type");
  test::check_error(post(R"({"payload":{}})"), 400, "invalid_argument",
                    "$.type");
  test::check_error(post("{not json"), 400, "malformed", "$");
  test::check_error(post(R"({"type":"cost_alert","priority":"urgent"})"), 400,
                    "invalid_argument", "$.priority");
  test::check_error(post(R"({"type":"cost_alert","target":"agent"})"), 400,
                    "invalid_argument", "$.target");
  test::check_error(post(R"({"type":"cost_alert","payload":")"
                         + std::string(300 * 1024, 'x') + "\"}"),
                    413, "too_large");
  auto res = node.client.Get("/api/v1/coordination/events/no-such-event");
  test::check_error(res, 404, "not_found");
  // A type nobody subscribes to is taken and recorded as not routed.
  auto id = send_event(node, R"({"type":"innovation_insight"})");
  auto rec = wait_outcome(node, id);
  CHECK(rec.at("state").as_string() == "unrouted");
  CHECK(rec.at("detail").as_string().find("innovation_insight")
        != std::string::npos);
}

TEST_CASE("a killed agent is disconnected within a second, a stopped one "
          "goes stale, and the role's events go to the live agent") {
  agents_config_file cfg{"liveness", fast_agents()};
  test::running_node node{{}, cfg.path};
  auto port = node.process.actor_port();
  agent_process w1{port, "w1", "worker", "database_coordination"};
  agent_process w2{port, "w2", "worker", "database_coordination"};
  agent_process w3{port, "w3", "worker", "database_coordination"};
  REQUIRE(w1.registered());
  REQUIRE(w2.registered());
  REQUIRE(w3.registered());
  REQUIRE(wait_state(node, "w3", "active", 5s) >= 0ms);

  w1.process.signal(SIGKILL);
  auto took = wait_state(node, "w1", "disconnected", 1s);
  INFO("disconnected after " << took.count() << " ms");
  CHECK(took >= 0ms);

  // Two missed 1 s heartbeats make an agent stale.
  w2.process.signal(SIGSTOP);
  CHECK(wait_state(node, "w2", "stale", 10s) >= 0ms);

  std::vector<std::string> ids;
  for (int i = 0; i < 4; ++i)
    ids.push_back(send_event(node,
                             R"({"type":"database_coordination",
      "target":{"role":"worker"},"payload":{"n":)"
                               + std::to_string(i) + "}}"));
  for (auto& id : ids) {
    auto rec = wait_outcome(node, id);
    INFO(json::serialize(rec));
    CHECK(rec.at("state").as_string() == "completed");
    CHECK(rec.at("deliveries").at(0).at("agent").as_string() == "w3");
  }
  CHECK(w3.events() == ids);

  // Heartbeats again: active again.
  w2.process.signal(SIGCONT);
  CHECK(wait_state(node, "w2", "active", 10s) >= 0ms);
}

TEST_CASE("a delivery without an answer in time is retried on another agent "
          "of the role") {
  agents_config_file cfg{"retry", fast_agents()};
  test::running_node node{{}, cfg.path};
  auto port = node.process.actor_port();
  // Both idle: the hub picks the first by name, the slow one.
  agent_process slow{
    port, "a-slow", "worker", "system_optimization", {"--reply", "delay:3000"}};
  agent_process fast{port, "b-fast", "worker", "system_optimization"};
  REQUIRE(slow.registered());
  REQUIRE(fast.registered());
  auto id = send_event(node, R"({"type":"system_optimization"})");
  auto rec = wait_outcome(node, id);
  INFO(json::serialize(rec));
  CHECK(rec.at("state").as_string() == "completed");
  auto& ds = rec.at("deliveries").as_array();
  REQUIRE(ds.size() == 2);
  CHECK(ds[0].at("agent").as_string() == "a-slow");
  CHECK(ds[0].at("status").as_string() == "timeout");
  CHECK(ds[1].at("agent").as_string() == "b-fast");
  CHECK(ds[1].at("status").as_string() == "ok");
  CHECK(ds[1].at("attempt").to_number<int64_t>() == 2);
  CHECK(agent_named(node, "a-slow").at("timedOut").to_number<int64_t>() == 1);

  // Every agent of the role answers "failed": the event fails after
  // max_attempts deliveries and says why.
  agent_process bad{
    port, "c-bad", "broken", "system_optimization", {"--reply", "fail"}};
  REQUIRE(bad.registered());
  auto failing = send_event(node, R"({"type":"system_optimization",
    "target":"role:broken"})");
  auto failed = wait_outcome(node, failing);
  INFO(json::serialize(failed));
  CHECK(failed.at("state").as_string() == "failed");
  CHECK(failed.at("deliveries").as_array().size() == 3);
  CHECK(failed.at("detail").as_string().find("3 attempts")
        != std::string::npos);
}

TEST_CASE("a critical event sent behind a backlog of normal ones is "
          "delivered first") {
  auto agents = fast_agents();
  agents["max_in_flight"] = 1;
  agents["response_timeout_s"] = 10;
  agents_config_file cfg{"priority", agents};
  test::running_node node{{}, cfg.path};
  agent_process w{node.process.actor_port(),
                  "w",
                  "worker",
                  "frontend_update",
                  {"--reply", "delay:100"}};
  REQUIRE(w.registered());
  std::vector<std::string> normal;
  for (int i = 0; i < 6; ++i)
    normal.push_back(send_event(node, R"({"type":"frontend_update"})"));
  auto critical = send_event(
    node, R"({"type":"frontend_update","priority":"critical"})");
  for (auto& id : normal)
    CHECK(wait_outcome(node, id).at("state").as_string() == "completed");
  auto got = w.events();
  INFO(json::serialize(json::value_from(got)));
  REQUIRE(got.size() == 7);
  // Only the first normal event was in flight when the critical one came.
  CHECK(got[0] == normal[0]);
  CHECK(got[1] == critical);
}

TEST_CASE("a wrong agent token is refused and audited") {
  agents_config_file cfg{"token",
                         {{"token_sha256", sha256_hex("right-token")}}};
  test::running_node node{{}, cfg.path};
  auto port = node.process.actor_port();
  agent_process wrong{
    port, "intruder", "x", "cost_alert", {"--token", "wrong-token"}};
  CHECK(wrong.process.wait_for("\"refused\"", 15s));
  CHECK(wrong.process.stop(SIGTERM, 10s) == 1);
  CHECK(wrong.process.output().find("registered") == std::string::npos);
  agent_process none{port, "anonymous", "x", "cost_alert"};
  CHECK(none.process.wait_for("\"refused\"", 15s));
  agent_process right{
    port, "finance", "finance", "cost_alert", {"--token", "right-token"}};
  REQUIRE(right.registered());

  auto status = node.get_json(std::string{prefix} + "/agents/status");
  CHECK(status.at("refusedRegistrations").to_number<int64_t>() == 2);
  CHECK(agent_named(node, "intruder").empty());
  auto audit = node.get_json("/api/v1/audit?limit=50");
  int denied = 0;
  for (auto& r : audit.at("records").as_array()) {
    if (r.at("action").as_string() != "agent.register")
      continue;
    if (r.at("outcome").as_string() == "denied") {
      ++denied;
      // The record never carries the token.
      CHECK(json::serialize(r).find("wrong-token") == std::string::npos);
    }
  }
  CHECK(denied == 2);
}

TEST_CASE("a restarted node delivers the events it had not finished, and the "
          "agents reconnect by themselves") {
  test::redis_config_file cfg{"coord-restart"};
  cfg.text = with_agents(cfg.text, {{"response_timeout_s", 10}});
  cfg.save();
  uint16_t actor_port = 0;
  std::vector<std::string> ids;
  std::optional<agent_process> w;
  {
    test::running_node first{{}, cfg.path};
    actor_port = first.process.actor_port();
    // Slow enough that the node dies before any answer arrives.
    w.emplace(actor_port, "w", "worker", "database_coordination",
              std::vector<std::string>{"--reply", "delay:1500"});
    REQUIRE(w->registered());
    for (int i = 0; i < 3; ++i)
      ids.push_back(send_event(first, R"({"type":"database_coordination"})"));
    REQUIRE(w->received(ids[0]));
    first.process.signal(SIGKILL);
    first.process.stop(SIGKILL, 5s);
  }
  test::running_node second{{"--actor-port", std::to_string(actor_port)},
                            cfg.path};
  REQUIRE(w->registered(2));
  for (auto& id : ids) {
    auto rec = wait_outcome(second, id, 30s);
    INFO(json::serialize(rec));
    CHECK(rec.at("state").as_string() == "completed");
    CHECK(rec.at("detail").as_string().find("recovered") != std::string::npos);
  }
  // The first one was being handled when the node died: it came twice.
  auto got = w->events();
  for (auto& id : ids)
    CHECK(std::count(got.begin(), got.end(), id) >= 1);
  CHECK(std::count(got.begin(), got.end(), ids[0]) == 2);
}

TEST_CASE("call samples sent through the SDK reach the service's metrics") {
  test::running_node node;
  caf::actor_system_config sys_cfg;
  agent_client::prepare(sys_cfg);
  caf::actor_system sys{sys_cfg};
  agent_options opts;
  opts.port = node.process.actor_port();
  opts.name = "reporter";
  opts.role = "telemetry";
  agent_client agent{sys, opts, [](const coordination_event& ev) {
                       return event_response{ev.id, answer_status::ok, ""};
                     }};
  CHECK_FALSE(agent.report_calls("maps", {})); // not connected yet
  agent.start();
  REQUIRE(agent.wait_registered(15s));
  CHECK(agent.agent_id() == "agent-reporter");
  call_samples xs;
  for (int i = 0; i < 250; ++i) {
    call_sample x;
    x.endpoint = "/directions";
    x.latency_us = 20'000 + static_cast<uint64_t>(i) * 100;
    x.http_status = 200;
    x.timestamp_ms = epoch_ms_now();
    xs.push_back(x);
  }
  for (int i = 0; i < 4; ++i)
    CHECK(agent.report_calls("maps", xs));
  CHECK(agent.report_calls("no-such-service", xs));
  auto deadline = clock_type::now() + 10s;
  int64_t calls = 0;
  while (clock_type::now() < deadline && calls < 1000) {
    auto doc = node.get_json(std::string{prefix}
                             + "/metrics/realtime?window=1m");
    calls = doc.at("services").at("maps").at("calls").to_number<int64_t>();
    std::this_thread::sleep_for(50ms);
  }
  CHECK(calls == 1000);
  auto me = agent_named(node, "reporter");
  CHECK(me.at("samplesReported").to_number<int64_t>() == 1000);
  CHECK(me.at("samplesRejected").to_number<int64_t>() == 250);
  agent.stop();
  CHECK_FALSE(agent.connected());
}

TEST_CASE("a node whose actor port is taken refuses to start") {
  test::running_node first;
  std::string out;
  CHECK(test::node_process::run_to_exit(
          {"run", "--http-port", "0", "--actor-port",
           std::to_string(first.process.actor_port())},
          out)
        == 1);
  CHECK(out.find("cannot publish the coordination hub") != std::string::npos);
}

TEST_CASE("verified webhooks go to the agents subscribed to them, critical "
          "ones as critical events") {
  auto doc = json::parse(
    test::read_file(STREAMB_SOURCE_DIR "/config/streamb.json"));
  doc.at("services").at("stripe").as_object()["webhook"] = json::object{
    {"scheme", "stripe"},
    {"secrets", json::array{"whsec_agents"}},
    {"critical_types", json::array{"invoice.payment_failed"}}};
  auto path = "/tmp/streamb-agents-webhooks-" + std::to_string(getpid())
    + ".json";
  test::write_file(path, json::serialize(doc));
  test::running_node node{{}, path};
  unlink(path.c_str());
  agent_process billing{node.process.actor_port(), "billing-1", "billing",
                        "webhook"};
  REQUIRE(billing.registered());
  auto post = [&](const std::string& body) {
    httplib::Headers headers{
      {"Stripe-Signature",
       test::stripe_signature("whsec_agents", body, test::now_s())}};
    auto res = node.client.Post("/webhooks/stripe", headers, body,
                                "application/json");
    REQUIRE(res);
    CHECK(res->status == 200);
  };
  post(test::stripe_event("evt_ok"));
  post(test::stripe_event("evt_failed", "invoice.payment_failed"));
  REQUIRE(billing.received("webhook:stripe:evt_ok"));
  REQUIRE(billing.received("webhook:stripe:evt_failed"));
  bool saw_critical = false;
  std::istringstream lines{billing.process.output()};
  std::string line;
  while (std::getline(lines, line)) {
    if (line.find("evt_failed") == std::string::npos)
      continue;
    auto ev = json::parse(line).at("event");
    CHECK(ev.at("type").as_string() == "webhook");
    CHECK(ev.at("priority").as_string() == "critical");
    CHECK(ev.at("payload").at("critical").as_bool());
    CHECK(ev.at("payload").at("body").at("type").as_string()
          == "invoice.payment_failed");
    saw_critical = true;
  }
  CHECK(saw_critical);
  // The processor counts them delivered once the agent answered; the
  // node's own log subscriber printed none of them.
  auto deadline = clock_type::now() + 10s;
  int64_t delivered = 0;
  while (clock_type::now() < deadline && delivered < 2) {
    auto stats = node.get_json(std::string{prefix} + "/webhooks/stats");
    delivered = stats.at("services")
                  .at("stripe")
                  .at("delivered")
                  .to_number<int64_t>();
    std::this_thread::sleep_for(50ms);
  }
  CHECK(delivered == 2);
  node.process.drain(100ms);
  CHECK(node.process.output().find("{\"webhook\":") == std::string::npos);
  auto rec = wait_outcome(node, "webhook:stripe:evt_ok");
  CHECK(rec.at("state").as_string() == "completed");
  CHECK(rec.at("source").as_string() == "webhook:stripe");
}

TEST_CASE("a name that is live cannot be taken; once its agent is gone a new "
          "process takes it over with the same identity") {
  agents_config_file cfg{"names", fast_agents()};
  test::running_node node{{}, cfg.path};
  auto port = node.process.actor_port();
  agent_process first{port, "db-1", "database", "database_coordination"};
  REQUIRE(first.registered());
  agent_process second{port, "db-1", "database", "database_coordination"};
  CHECK(second.process.wait_for("is live", 10s));
  CHECK(second.process.output().find("\"registered\"") == std::string::npos);
  first.process.signal(SIGKILL);
  // The SDK keeps trying with backoff (at most 2 s apart).
  REQUIRE(second.registered());
  auto a = agent_named(node, "db-1");
  CHECK(a.at("id").as_string() == "agent-db-1");
  CHECK(a.at("state").as_string() == "active");
  auto id = send_event(node, R"({"type":"database_coordination"})");
  CHECK(second.received(id));
  // Invalid registrations are refused for good.
  agent_process bad{port, "bad name!", "x", "cost_alert"};
  CHECK(bad.process.wait_for("\"refused\"", 10s));
}

TEST_CASE("monitor alerts and budget alerts reach the agents that subscribe "
          "to them") {
  auto doc = json::parse(
    test::read_file(STREAMB_SOURCE_DIR "/config/streamb.json"));
  doc.at("metrics").as_object()["snapshot_interval_s"] = 1;
  auto path = "/tmp/streamb-agents-alerts-" + std::to_string(getpid())
    + ".json";
  test::write_file(path, json::serialize(doc));
  test::running_node node{{}, path};
  unlink(path.c_str());
  agent_process ops{node.process.actor_port(), "ops-1", "operations",
                    "performance_optimization,cost_alert"};
  REQUIRE(ops.registered());
  // Airtable: 30 USD a month; 25 USD of calls is past the 75 % level.
  std::string batch = "[";
  for (int i = 0; i < 25; ++i) {
    if (i > 0)
      batch += ",";
    // p95 alert at 1500 ms: these are slower.
    batch += test::sample("airtable", 2500, "200", ",\"costUsd\":1.0");
  }
  batch += "]";
  auto res = node.post(batch);
  REQUIRE(res);
  REQUIRE(res->status == 202);
  REQUIRE(ops.process.wait_for("\"cost_alert\"", 10s));
  REQUIRE(ops.process.wait_for("\"performance_optimization\"", 10s));
  bool cost = false, perf = false;
  std::istringstream lines{ops.process.output()};
  std::string line;
  while (std::getline(lines, line)) {
    json::error_code ec;
    auto v = json::parse(line, ec);
    if (ec || !v.as_object().contains("event"))
      continue;
    auto& ev = v.at("event");
    auto& payload = ev.at("payload");
    if (ev.at("type").as_string() == "cost_alert") {
      CHECK(ev.at("source").as_string() == "budget:airtable");
      CHECK(payload.at("service").as_string() == "airtable");
      cost = true;
    } else if (ev.at("type").as_string() == "performance_optimization") {
      CHECK(ev.at("source").as_string() == "monitor:airtable");
      CHECK(payload.at("metric").as_string() == "p95_ms");
      CHECK(payload.at("active").as_bool());
      perf = true;
    }
  }
  CHECK(cost);
  CHECK(perf);
}

TEST_CASE("a peer on the actor port reaches only the gateway: forged "
          "messages change nothing") {
  test::running_node node;
  auto port = node.process.actor_port();
  caf::actor_system_config sys_cfg;
  agent_client::prepare(sys_cfg);
  caf::actor_system sys{sys_cfg};
  // The interface check is the client's: a peer casts the handle away and
  // sends anything.
  auto gw = sys.middleman().remote_actor<coordination_gateway_actor>(
    "127.0.0.1", port);
  REQUIRE(gw);
  auto raw = std::optional<caf::actor>{caf::actor_cast<caf::actor>(*gw)};
  webhook_event fake;
  fake.id = "stripe:evt_forged";
  fake.service = "stripe";
  caf::anon_send(*raw, deliver_atom_v, fake);
  caf::anon_send(*raw, hub_tick_atom_v);
  caf::anon_send(*raw, heartbeat_atom_v, std::string{"agent-nobody"});
  caf::anon_send(*raw, record_atom_v, std::string{"not-a-session"},
                 std::string{"maps"}, call_samples(5));
  caf::anon_send_exit(*raw, caf::exit_reason::user_shutdown);
  // Cannot be ignored in CAF 0.17: the hub publishes a new gateway.
  caf::anon_send_exit(*raw, caf::exit_reason::kill);
  // The hub still takes agents (the agent retries until the gateway
  // answers), and nothing forged got in.
  agent_process a{port, "after", "x", "cost_alert"};
  REQUIRE(a.registered());
  CHECK(node.client
          .Get("/api/v1/coordination/events/webhook:stripe:evt_"
               "forged")
          ->status
        == 404);
  auto doc = node.get_json(std::string{prefix} + "/metrics/realtime?window=1m");
  CHECK(doc.at("services").at("maps").at("calls").to_number<int64_t>() == 0);
  auto ready = node.client.Get("/readyz");
  REQUIRE(ready);
  CHECK(ready->status == 200);
}

TEST_CASE("after a restart, events for agents that have not reconnected yet "
          "wait for them") {
  test::redis_config_file cfg{"coord-known"};
  uint16_t actor_port = 0;
  {
    test::running_node first{{}, cfg.path};
    actor_port = first.process.actor_port();
    agent_process w{actor_port, "w", "worker", "database_coordination"};
    REQUIRE(w.registered());
    // The node remembers an agent once its record is stored, a store round
    // trip after the welcome; a kill before that forgets it.
    auto db = cfg.backend();
    REQUIRE(test::eventually(10s, [&] {
      auto known = db.hget("coord:agents:local", "w");
      return known && known->has_value();
    }));
    w.process.signal(SIGKILL);
    first.process.signal(SIGKILL);
    first.process.stop(SIGKILL, 5s);
  }
  test::running_node second{{"--actor-port", std::to_string(actor_port)},
                            cfg.path};
  CHECK(state_of_agent(second, "w") == "disconnected");
  auto id = send_event(second, R"({"type":"database_coordination"})");
  // The waiting event holds up nobody else; once an event sent after it is
  // completed, the hub has routed it too, and it still waits (an agent the
  // node did not know of would have made it `unrouted` at once).
  agent_process other{actor_port, "o", "other", "database_coordination"};
  REQUIRE(other.registered());
  auto for_other = send_event(
    second, R"({"type":"database_coordination","target":"role:other"})");
  CHECK(wait_outcome(second, for_other).at("state").as_string() == "completed");
  CHECK(other.events() == std::vector<std::string>{for_other});
  CHECK(
    second.get_json("/api/v1/coordination/events/" + id).at("state").as_string()
    == "queued");
  agent_process back{actor_port, "w", "worker", "database_coordination"};
  REQUIRE(back.registered());
  CHECK(back.received(id));
  CHECK(wait_outcome(second, id).at("state").as_string() == "completed");
}

TEST_CASE("send-event answers 503 while Redis is away and nothing is routed; "
          "once it is back events are taken again") {
  test::redis_process redis;
  auto redis_port = test::start_on_free_port(redis);
  test::redis_config_file cfg{"coord-redis-away",
                              "redis://127.0.0.1:" + std::to_string(redis_port)
                                + "/0"};
  test::running_node node{{}, cfg.path};
  agent_process w{node.process.actor_port(), "w", "worker", "frontend_update"};
  REQUIRE(w.registered());
  redis.kill();
  auto url = std::string{prefix} + "/coordination/send-event";
  int status = 0;
  std::string body;
  auto post = [&] {
    auto res = node.client.Post(url.c_str(), R"({"type":"frontend_update"})",
                                "application/json");
    status = res ? res->status : 0;
    body = res ? res->body : "";
  };
  CHECK(test::eventually(15s, [&] {
    post();
    return status == 503;
  }));
  INFO(body);
  CHECK(json::parse(body).at("error").at("code").as_string()
        == "store_unavailable");
  REQUIRE(redis.start(redis_port));
  std::string id;
  CHECK(test::eventually(15s, [&] {
    post();
    if (status != 202)
      return false;
    id = std::string{json::parse(body).at("id").as_string()};
    return true;
  }));
  REQUIRE_FALSE(id.empty());
  CHECK(w.received(id));
  CHECK(wait_outcome(node, id).at("state").as_string() == "completed");
  // Nothing sent while Redis was away reached the agent: the first event it
  // got is the first one stored.
  CHECK(w.events() == std::vector<std::string>{id});
}
