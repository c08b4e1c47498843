// What the hub hears reaches the live streams and the operator's view: agent
// state changes, alerts, cost alerts and frontend_update events as they
// happen, and what agents' answers found, with the agent and event as
// source, in the recommendations and the dashboard's coordination block.

#include "tests/integration/agent_process.hpp"
#include "tests/integration/raw_connection.hpp"
#include "tests/integration/running_node.hpp"

#include <boost/json.hpp>
#include <catch2/catch.hpp>

#include <thread>

using namespace streamb;
using namespace std::chrono_literals;
namespace json = boost::json;

namespace {

constexpr const char* prefix = "/api/v1/stream-b-coordination";

/// For raw_connection::read_until: `text` has arrived.
auto has(std::string text) {
  return [text = std::move(text)](const std::string& received) {
    return received.find(text) != std::string::npos;
  };
}

/// The default config with fast heartbeats, a second between snapshots of
/// the monitors (for their alerts) and an expected `role:frontend`.
json::object live_agents() {
  return {{"heartbeat_interval_s", 1},
          {"missed_heartbeats", 2},
          {"response_timeout_s", 2},
          {"expected", {"ops-1", "role:frontend"}}};
}

} // namespace

TEST_CASE("agent state changes, alerts, cost alerts and budget state changes "
          "are pushed to the live stream as they happen") {
  test::agents_config_file cfg{"live", live_agents()};
  // Monitors check their alerts every second.
  auto doc = json::parse(test::read_file(cfg.path));
  doc.at("metrics").as_object()["snapshot_interval_s"] = 1;
  test::write_file(cfg.path, json::serialize(doc));
  test::running_node node{{}, cfg.path};
  test::raw_connection sse{node.port};
  sse.send(std::string{"GET "} + prefix
           + "/stream?topics=agent,alert,cost_alert,budget HTTP/1.1\r\n"
             "Host: 127.0.0.1\r\n\r\n");
  REQUIRE(sse.read_until(has("text/event-stream"), 5s));

  // An agent arrives: active, and the roster finds it.
  {
    test::agent_process ops{node.process.actor_port(), "ops-1", "operations",
                            "cost_alert,performance_optimization"};
    REQUIRE(ops.registered());
    REQUIRE(sse.read_until(has("\"name\":\"ops-1\""), 5s));
    CHECK(sse.received().find("event: agent") != std::string::npos);
    auto status = node.get_json(std::string{prefix} + "/agents/status");
    INFO(json::serialize(status));
    auto& roster = status.at("roster");
    CHECK(roster.at("missing") == json::array{"role:frontend"});
    CHECK(roster.at("expected").at(0).at("state") == "active");

    // Airtable: 30 USD a month; 29 USD of slow calls is past the 75 and
    // 90 % levels, the 95 % throttle and the p95 threshold (1500 ms).
    std::string batch = "[";
    for (int i = 0; i < 29; ++i)
      batch += std::string{i > 0 ? "," : ""}
        + test::sample("airtable", 2500, "200", ",\"costUsd\":1.0");
    REQUIRE(node.post(batch + "]")->status == 202);
    REQUIRE(sse.read_until(has("event: cost_alert"), 10s));
    REQUIRE(sse.read_until(has("\"source\":\"budget:airtable\""), 5s));
    REQUIRE(sse.read_until(has("event: budget"), 10s));
    CHECK(sse.received().find("\"to\":\"throttled\"") != std::string::npos);
    REQUIRE(sse.read_until(has("event: alert"), 10s));
    CHECK(sse.received().find("\"source\":\"monitor:airtable\"")
          != std::string::npos);
    ops.process.stop(SIGKILL, 5s);
  }
  // Killed: the hub notices and says so on the stream.
  REQUIRE(sse.read_until(has("\"state\":\"disconnected\""), 10s));
  auto health = node.get_json(std::string{prefix} + "/health/comprehensive");
  INFO(json::serialize(health));
  CHECK(health.at("agents").at("roster").at("missing").as_array().size() == 2);
  // The p95 alert of airtable is open.
  CHECK(health.at("openAlerts").at("count").to_number<int>() == 1);
  CHECK(health.at("openAlerts").at("alerts").at(0).at("service") == "airtable");
  CHECK(health.at("webhooks").at("pending").to_number<int>() == 0);
}

TEST_CASE("what agents find comes back as recommendations and in the "
          "dashboard's coordination block, with the agent and event named") {
  test::agents_config_file cfg{"findings", live_agents()};
  test::running_node node{{}, cfg.path};
  test::agent_process db{
    node.process.actor_port(),
    "db-1",
    "database",
    "database_coordination",
    {"--answer",
     R"({"findings":[{"service":"stripe","title":"Index charges by customer","detail":"3 scans per call"},
                     {"service":"nosuch","title":"dropped: no such service"},
                     "about the event's own service"],
        "recommendations":[{"service":"twilio","category":"innovation","title":"Try batch SMS"}]})"}};
  REQUIRE(db.registered());
  test::raw_connection sse{node.port};
  sse.send(std::string{"GET "} + prefix
           + "/stream?topics=finding&services=stripe HTTP/1.1\r\n"
             "Host: 127.0.0.1\r\n\r\n");
  REQUIRE(sse.read_until(has("text/event-stream"), 5s));

  auto sent = node.client.Post(
    (std::string{prefix} + "/coordination/send-event").c_str(),
    R"({"type":"database_coordination","payload":{"service":"sendgrid"}})",
    "application/json");
  REQUIRE(sent);
  REQUIRE(sent->status == 202);
  auto id = std::string{json::parse(sent->body).at("id").as_string()};
  REQUIRE(sse.read_until(has("Index charges by customer"), 10s));
  // The service filter holds: twilio's finding is not on this stream.
  CHECK(sse.received().find("Try batch SMS") == std::string::npos);

  json::array recs;
  for (int i = 0; i < 50; ++i) {
    recs = node.get_json(std::string{prefix} + "/optimization/recommendations")
             .at("recommendations")
             .as_array();
    if (recs.size() >= 3)
      break;
    std::this_thread::sleep_for(100ms);
  }
  INFO(json::serialize(recs));
  std::map<std::string, json::object> by_title;
  for (auto& r : recs)
    if (r.at("kind") == "agent_finding")
      by_title[std::string{r.at("action").at("description").as_string()}]
        = r.as_object();
  REQUIRE(by_title.size() == 3);
  auto& index = by_title.at("Index charges by customer");
  CHECK(index.at("service") == "stripe");
  CHECK(index.at("category") == "database");
  CHECK(index.at("rationale") == "3 scans per call");
  CHECK(index.at("source").as_string() == "agent:db-1 event:" + id);
  CHECK(by_title.at("about the event's own service").at("service")
        == "sendgrid");
  CHECK(by_title.at("Try batch SMS").at("category") == "innovation");

  // The dashboard is a snapshot of at most a second: wait for one that
  // was computed after the findings arrived.
  json::value doc;
  for (int i = 0; i < 50; ++i) {
    doc = node.get_json(std::string{prefix} + "/dashboard");
    if (!doc.at("services")
           .at("stripe")
           .at("metrics")
           .at("coordination")
           .at("databaseOptimizations")
           .as_array()
           .empty())
      break;
    std::this_thread::sleep_for(100ms);
  }
  auto& stripe = doc.at("services")
                   .at("stripe")
                   .at("metrics")
                   .at("coordination");
  INFO(json::serialize(stripe));
  REQUIRE(stripe.at("databaseOptimizations").as_array().size() == 1);
  CHECK(stripe.at("databaseOptimizations").at(0).at("source").as_string()
        == "agent:db-1 event:" + id);
  CHECK(doc.at("services")
          .at("twilio")
          .at("metrics")
          .at("coordination")
          .at("innovationOpportunities")
          .as_array()
          .size()
        == 1);
  CHECK(doc.at("agents").at("roster").at("missing").as_array().size() == 2);
}
