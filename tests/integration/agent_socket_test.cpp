// Agents over WebSocket (GET /api/v1/agents/ws): the protocol with a raw
// client, and the Python reference agent as a real process next to
// streamb-agent (CAF) on one node.

#include "runtime/coordination/event_types.hpp"
#include "tests/integration/agent_process.hpp"
#include "tests/integration/auth_support.hpp"
#include "tests/integration/coordination_support.hpp"
#include "tests/integration/redis_process.hpp"
#include "tests/integration/running_node.hpp"
#include "tests/integration/stripe_signing.hpp"
#include "tests/integration/ws_client.hpp"

#include <boost/json.hpp>
#include <catch2/catch.hpp>

#include <csignal>

using namespace streamb;
using namespace streamb::test;
using namespace std::chrono_literals;
namespace json = boost::json;

namespace {

constexpr const char* agent_ws = "/api/v1/agents/ws";

json::object frame_of(const std::optional<std::string>& text) {
  REQUIRE(text);
  INFO(*text);
  return json::parse(*text).as_object();
}

std::string register_frame(const std::string& name, const std::string& role,
                           const std::string& types,
                           const std::string& token = "") {
  auto subs = json::parse(types).as_array();
  json::object f{{"v", 1},
                 {"op", "register"},
                 {"name", name},
                 {"role", role},
                 {"subscriptions", std::move(subs)}};
  if (!token.empty())
    f["token"] = token;
  return json::serialize(f);
}

std::string all_types() {
  std::string out;
  for (auto& t : coordination_event_types)
    out += (out.empty() ? "" : ",") + t;
  return out;
}

} // namespace

TEST_CASE("WebSocket agents and CAF agents get events of every type alike") {
  auto agents = fast_agents();
  // Answers must not time out on a loaded machine: this is about routing.
  agents["response_timeout_s"] = 30;
  agents_config_file cfg{"ws-types", agents};
  running_node node{{}, cfg.path};
  auto actor_port = node.process.actor_port();
  REQUIRE(actor_port != 0);
  agent_process caf_agent{actor_port, "caf-1", "caf-role", all_types()};
  agent_process py{agent_process::python_tag{}, node.port, "py-1", "py-role",
                   all_types()};
  REQUIRE(caf_agent.registered());
  REQUIRE(py.registered());

  std::vector<std::string> ids;
  for (auto& type : coordination_event_types)
    ids.push_back(send_event(node,
                             R"({"type":")" + type
                               + R"(","priority":"high","payload":{"n":1}})"));
  for (auto& id : ids) {
    REQUIRE(caf_agent.received(id));
    REQUIRE(py.received(id));
    auto rec = wait_outcome(node, id);
    INFO(json::serialize(rec));
    CHECK(rec.at("state").as_string() == "completed");
    auto& ds = rec.at("deliveries").as_array();
    REQUIRE(ds.size() == 2);
    for (auto& d : ds) {
      CHECK(d.at("status").as_string() == "ok");
      // The answer each kind sent is the one recorded.
      CHECK(d.at("response").at("handledBy") == d.at("agent"));
    }
  }
  auto p = agent_named(node, "py-1");
  CHECK(p.at("state").as_string() == "active");
  CHECK(p.at("answered").to_number<int64_t>()
        == static_cast<int64_t>(ids.size()));
  CHECK_FALSE(p.at("lastHeartbeat").is_null());
  auto status = node.get_json(std::string{prefix} + "/agents/status");
  CHECK(status.at("websocket").at("open").to_number<int64_t>() == 1);
  CHECK(status.at("websocket").at("eventsOut").to_number<int64_t>()
        == static_cast<int64_t>(ids.size()));
}

TEST_CASE("a killed Python agent is disconnected within a second and its "
          "event goes to another agent of its role") {
  auto agents = fast_agents();
  // p1 holds its event for 5 s: only its death may end that delivery.
  agents["response_timeout_s"] = 30;
  agents_config_file cfg{"ws-kill", agents};
  running_node node{{}, cfg.path};
  // p1 sits on the event (5 s) so that it is in flight when p1 dies.
  agent_process p1{agent_process::python_tag{},
                   node.port,
                   "p1",
                   "worker",
                   "database_coordination",
                   {"--reply", "delay:5000"}};
  REQUIRE(p1.registered());
  auto id = send_event(node, R"({"type":"database_coordination",
    "target":{"role":"worker"},"payload":{"n":1}})");
  REQUIRE(p1.received(id));
  agent_process p2{agent_process::python_tag{}, node.port, "p2", "worker",
                   "database_coordination"};
  REQUIRE(p2.registered());

  p1.process.signal(SIGKILL);
  auto took = wait_state(node, "p1", "disconnected", 1s);
  INFO("disconnected after " << took.count() << " ms");
  CHECK(took >= 0ms);
  REQUIRE(p2.received(id));
  auto rec = wait_outcome(node, id);
  INFO(json::serialize(rec));
  CHECK(rec.at("state").as_string() == "completed");
  auto& ds = rec.at("deliveries").as_array();
  REQUIRE(ds.size() == 2);
  CHECK(ds[0].at("agent").as_string() == "p1");
  CHECK(ds[0].at("status").as_string() == "disconnected");
  CHECK(ds[1].at("agent").as_string() == "p2");
  CHECK(ds[1].at("status").as_string() == "ok");
}

TEST_CASE("a Python agent reconnects to a restarted node and registers with "
          "a new session") {
  agents_config_file cfg{"ws-restart", fast_agents()};
  auto first = std::make_unique<running_node>(std::vector<std::string>{},
                                              cfg.path);
  auto port = first->port;
  agent_process py{agent_process::python_tag{}, port, "py-r", "worker",
                   "database_coordination"};
  REQUIRE(py.registered());
  first.reset(); // SIGTERM, the connection closes
  running_node second{{"--http-port", std::to_string(port)}, cfg.path};
  REQUIRE(second.port == port);
  REQUIRE(py.registered(2));
  auto id = send_event(second, R"({"type":"database_coordination",
    "payload":{}})");
  REQUIRE(py.received(id));
  CHECK(wait_outcome(second, id).at("state").as_string() == "completed");

  // Each registration gets a session of its own.
  ws_client a;
  REQUIRE(a.open(port, agent_ws));
  REQUIRE(a.send(register_frame("raw-1", "raw", R"(["webhook"])")));
  auto w1 = frame_of(a.recv());
  REQUIRE(w1.at("op").as_string() == "welcome");
  a.close();
  REQUIRE(wait_state(second, "raw-1", "disconnected", 2s) >= 0ms);
  ws_client b;
  REQUIRE(b.open(port, agent_ws));
  REQUIRE(b.send(register_frame("raw-1", "raw", R"(["webhook"])")));
  auto w2 = frame_of(b.recv());
  REQUIRE(w2.at("op").as_string() == "welcome");
  CHECK(w2.at("agentId") == w1.at("agentId"));
  CHECK(w2.at("session") != w1.at("session"));
  CHECK(w2.at("session").as_string().size() >= 16);
}

TEST_CASE("bad agent frames are answered with an error frame, counted, and "
          "the connection goes on") {
  running_node node;
  ws_client ws;
  REQUIRE(ws.open(node.port, agent_ws));
  struct bad {
    std::string frame;
    std::string code;
  };
  std::vector<bad> cases{
    {"{not json", "malformed"},
    {"[1,2]", "malformed"},
    {R"({"v":1,"op":"heartbeat","op":"leave"})", "malformed"},
    {R"({"op":"heartbeat"})", "unsupported_version"},
    {R"({"v":2,"op":"heartbeat"})", "unsupported_version"},
    {R"({"v":1,"op":"dance"})", "unknown_op"},
    {R"({"v":1,"op":"heartbeat"})", "not_registered"},
    {R"({"v":1,"op":"answer","eventId":"x","status":"ok","delivery":1})",
     "not_registered"},
    {R"({"v":1,"op":"register","name":"a"})", "invalid_frame"},
    {R"({"v":1,"op":"register","name":"a","role":"r","subscriptions":"x"})",
     "invalid_frame"},
    {register_frame("bad name!", "r", R"(["webhook"])"), "invalid_argument"},
    // More answers than agents.max_in_flight (8) deliveries can be out.
    {[] {
       json::array xs;
       for (int i = 0; i < 9; ++i)
         xs.push_back(
           json::object{{"eventId", "e"}, {"delivery", i}, {"status", "ok"}});
       return json::serialize(
         json::object{{"v", 1}, {"op", "answer"}, {"answers", xs}});
     }(),
     "invalid_frame"},
    {register_frame("a", "r", R"(["no_such_type"])"), "invalid_argument"},
  };
  for (auto& c : cases) {
    INFO(c.frame);
    REQUIRE(ws.send(c.frame));
    auto f = frame_of(ws.recv());
    CHECK(f.at("op").as_string() == "error");
    CHECK(f.at("code").as_string() == c.code);
    CHECK_FALSE(f.at("message").as_string().empty());
  }
  // Still usable: register, then an answer without its delivery is refused.
  REQUIRE(ws.send(register_frame("ok-1", "r", R"(["webhook"])")));
  CHECK(frame_of(ws.recv()).at("op").as_string() == "welcome");
  REQUIRE(ws.send(R"({"v":1,"op":"answer","eventId":"x","status":"ok"})"));
  CHECK(frame_of(ws.recv()).at("code").as_string() == "invalid_frame");
  REQUIRE(ws.send(register_frame("ok-2", "r", R"(["webhook"])")));
  CHECK(frame_of(ws.recv()).at("code").as_string() == "already_registered");

  auto status = node.get_json(std::string{prefix} + "/agents/status");
  INFO(json::serialize(status));
  CHECK(status.at("websocket").at("framesRefused").to_number<int64_t>()
        == static_cast<int64_t>(cases.size() + 2));
  CHECK(status.at("websocket").at("framesIn").to_number<int64_t>()
        == static_cast<int64_t>(cases.size() + 3));

  // A message over the size limit closes the connection (1009), and only it.
  REQUIRE(ws.send(std::string(70 * 1024, 'x')));
  CHECK_FALSE(ws.recv());
  CHECK(ws.closed);
  CHECK(ws.close_code() == 1009);
  CHECK(wait_state(node, "ok-1", "disconnected", 2s) >= 0ms);
  // A text frame that is not UTF-8 closes it too (1007).
  ws_client bad_text;
  REQUIRE(bad_text.open(node.port, agent_ws));
  REQUIRE(bad_text.send("\"\xff\xfe\""));
  CHECK_FALSE(bad_text.recv());
  CHECK(bad_text.close_code() == 1007);
  auto health = node.client.Get("/healthz");
  REQUIRE(health);
  CHECK(health->status == 200);
}

TEST_CASE("an agent reports call samples over its WebSocket") {
  running_node node;
  ws_client ws;
  REQUIRE(ws.open(node.port, agent_ws));
  REQUIRE(ws.send(register_frame("rep-1", "r", R"(["webhook"])")));
  REQUIRE(frame_of(ws.recv()).at("op").as_string() == "welcome");
  REQUIRE(ws.send(
    R"({"v":1,"op":"report","samples":[
      {"service":"twilio","endpoint":"/sms","latencyMs":120,"status":200},
      {"service":"twilio","endpoint":"/sms","latencyMs":80,"status":500}]})"));
  // An unknown service refuses the whole report.
  REQUIRE(ws.send(R"({"v":1,"op":"report","samples":[
      {"service":"nope","latencyMs":1,"status":200}]})"));
  auto err = frame_of(ws.recv());
  CHECK(err.at("frame").as_string() == "report");
  int64_t total = 0;
  for (int i = 0; i < 100 && total < 2; ++i) {
    auto m = node.get_json("/api/v1/stream-b-coordination/metrics/realtime");
    total = m.at("services").at("twilio").at("calls").to_number<int64_t>();
    std::this_thread::sleep_for(20ms);
  }
  CHECK(total == 2);
  CHECK(agent_named(node, "rep-1").at("samplesReported").to_number<int64_t>()
        == 2);
}

TEST_CASE("the agent WebSocket needs a key of role agent, checks the "
          "registration token, and is capped") {
  auth_config cfg{"ws-auth"};
  cfg.replace(R"("agents": {)", R"("agents": {"max_websocket_agents": 1, )");
  cfg.save();
  running_node node{{}, cfg.path};
  auto admin = cfg.keys.at("admin");
  auto agent_key = text_of(create_key(node.client, admin, "agent", "ws-1"),
                           "key");
  {
    ws_client none;
    CHECK_FALSE(none.open(node.port, agent_ws));
    CHECK(none.status == 401);
    ws_client viewer;
    CHECK_FALSE(viewer.open(node.port, agent_ws, cfg.keys.at("viewer")));
    CHECK(viewer.status == 403);
  }
  ws_client ws;
  bool opened = ws.open(node.port, agent_ws, agent_key);
  INFO("status " << ws.status);
  REQUIRE(opened);
  // Past agents.max_websocket_agents: 503.
  ws_client second;
  CHECK_FALSE(second.open(node.port, agent_ws, agent_key));
  CHECK(second.status == 503);

  REQUIRE(ws.send(register_frame("tok-1", "r", R"(["webhook"])", "wrong")));
  auto refused = frame_of(ws.recv());
  CHECK(refused.at("code").as_string() == "unauthorized");
  REQUIRE(ws.send(register_frame("tok-1", "r", R"(["webhook"])", agent_key)));
  CHECK(frame_of(ws.recv()).at("op").as_string() == "welcome");
}

TEST_CASE("a webhook no consumer takes waits, counted pending, and reaches "
          "the first agent that subscribes to webhooks") {
  auto doc = json::parse(read_file(STREAMB_SOURCE_DIR "/config/streamb.json"));
  doc.at("services").at("stripe").as_object()["webhook"] = json::object{
    {"scheme", "stripe"}, {"secrets", json::array{"whsec_wait"}}};
  auto path = "/tmp/streamb-ws-await-" + std::to_string(getpid()) + ".json";
  write_file(path, json::serialize(doc));
  running_node node{{}, path, true};
  unlink(path.c_str());
  // Three wait: one is offered again every second, the others are parked
  // until it is taken; all go then.
  for (auto id : {"evt_waits", "evt_waits_2", "evt_waits_3"}) {
    auto res = post_stripe_event(node.client, "whsec_wait", id);
    REQUIRE(res);
    REQUIRE(res->status == 200); // stored: the provider is done
  }
  json::value stripe;
  REQUIRE(eventually(5s, [&] {
    stripe = node.get_json("/api/v1/stream-b-coordination/webhooks/stats")
               .at("services")
               .at("stripe");
    return stripe.at("awaitingConsumer").to_number<int64_t>() == 3;
  }));
  INFO(json::serialize(stripe));
  CHECK(stripe.at("pending").to_number<int64_t>() == 3);
  CHECK(stripe.at("delivered").to_number<int64_t>() == 0);
  // Offered again and again without using up its retries.
  std::this_thread::sleep_for(2500ms);
  stripe = node.get_json("/api/v1/stream-b-coordination/webhooks/stats")
             .at("services")
             .at("stripe");
  CHECK(stripe.at("retried").to_number<int64_t>() == 0);
  CHECK(stripe.at("deadLettered").to_number<int64_t>() == 0);
  CHECK(node.process.drain(100ms).find("wait for a consumer")
        != std::string::npos);

  agent_process py{agent_process::python_tag{}, node.port, "billing-py",
                   "billing", "webhook"};
  REQUIRE(py.registered());
  REQUIRE(py.received("webhook:stripe:evt_waits"));
  REQUIRE(py.received("webhook:stripe:evt_waits_2"));
  REQUIRE(py.received("webhook:stripe:evt_waits_3"));
  REQUIRE(eventually(5s, [&] {
    stripe = node.get_json("/api/v1/stream-b-coordination/webhooks/stats")
               .at("services")
               .at("stripe");
    return stripe.at("delivered").to_number<int64_t>() == 3;
  }));
  CHECK(stripe.at("pending").to_number<int64_t>() == 0);
  CHECK(stripe.at("awaitingConsumer").to_number<int64_t>() == 0);
}

TEST_CASE("a browser agent opens the WebSocket with a one-time agent ticket "
          "bound to the agent key that asked for it") {
  auth_config cfg{"ws-ticket"};
  running_node node{{}, cfg.path};
  auto admin = cfg.keys.at("admin");
  auto agent_key = text_of(create_key(node.client, admin, "agent", "ws-t"),
                           "key");
  auto other_key = text_of(create_key(node.client, admin, "agent", "ws-u"),
                           "key");
  auto ticket_of = [&](const std::string& key, int expect = 201) {
    auto res = send(node.client, "POST", "/api/v1/agents/ws/ticket", key);
    REQUIRE(res);
    INFO(res->body);
    CHECK(res->status == expect);
    return res->status == 201
      ? text_of(json::parse(res->body).as_object(), "ticket")
      : std::string{};
  };
  // Only an agent key gets one.
  ticket_of("", 401);
  ticket_of(cfg.keys.at("viewer"), 403);
  ticket_of(admin, 403);
  // A stream ticket does not open the agents' socket, and is spent there.
  auto stream_ticket = send(node.client, "POST",
                            "/api/v1/stream-b-coordination/stream/ticket",
                            cfg.keys.at("viewer"));
  REQUIRE(stream_ticket);
  REQUIRE(stream_ticket->status == 201);
  ws_client by_stream_ticket;
  CHECK_FALSE(by_stream_ticket.open(
    node.port,
    std::string{agent_ws} + "?ticket="
      + text_of(json::parse(stream_ticket->body).as_object(), "ticket")));
  CHECK(by_stream_ticket.status == 401);
  // An agent ticket does not open a live stream.
  auto t0 = ticket_of(agent_key);
  auto live = node.client.Get("/api/v1/stream-b-coordination/stream?ticket="
                              + t0);
  REQUIRE(live);
  CHECK(live->status == 401);

  // Opened with a ticket, the registration must carry the key that asked.
  auto t1 = ticket_of(agent_key);
  ws_client ws;
  REQUIRE(ws.open(node.port, std::string{agent_ws} + "?ticket=" + t1));
  REQUIRE(ws.send(register_frame("browser-1", "frontend",
                                 R"(["frontend_update"])", other_key)));
  CHECK(frame_of(ws.recv()).at("code").as_string() == "unauthorized");
  REQUIRE(
    ws.send(register_frame("browser-1", "frontend", R"(["frontend_update"])")));
  CHECK(frame_of(ws.recv()).at("code").as_string() == "unauthorized");
  REQUIRE(ws.send(register_frame("browser-1", "frontend",
                                 R"(["frontend_update"])", agent_key)));
  CHECK(frame_of(ws.recv()).at("op").as_string() == "welcome");
  // Used up: the same ticket opens nothing again.
  ws_client again;
  CHECK_FALSE(again.open(node.port, std::string{agent_ws} + "?ticket=" + t1));
  CHECK(again.status == 401);
}

TEST_CASE("one key holds at most agents.max_websocket_agents_per_key "
          "WebSocket agents; another key still gets in") {
  auth_config cfg{"ws-per-key"};
  cfg.replace(R"("agents": {)",
              R"("agents": {"max_websocket_agents_per_key": 2, )");
  cfg.save();
  running_node node{{}, cfg.path};
  auto admin = cfg.keys.at("admin");
  auto key_a = text_of(create_key(node.client, admin, "agent", "fleet-a"),
                       "key");
  auto key_b = text_of(create_key(node.client, admin, "agent", "fleet-b"),
                       "key");
  ws_client a1, a2, a3, b1;
  REQUIRE(a1.open(node.port, agent_ws, key_a));
  REQUIRE(a2.open(node.port, agent_ws, key_a));
  CHECK_FALSE(a3.open(node.port, agent_ws, key_a));
  CHECK(a3.status == 429);
  // Tickets of the same key count against it too.
  auto t = send(node.client, "POST", "/api/v1/agents/ws/ticket", key_a);
  REQUIRE(t);
  REQUIRE(t->status == 201);
  ws_client by_ticket;
  CHECK_FALSE(
    by_ticket.open(node.port,
                   std::string{agent_ws} + "?ticket="
                     + text_of(json::parse(t->body).as_object(), "ticket")));
  CHECK(by_ticket.status == 429);
  REQUIRE(b1.open(node.port, agent_ws, key_b));
  auto res = send(node.client, "GET",
                  "/api/v1/stream-b-coordination/agents/status",
                  cfg.keys.at("viewer"));
  REQUIRE(res);
  REQUIRE(res->status == 200);
  CHECK(json::parse(res->body)
          .at("websocket")
          .at("refusedPerKey")
          .to_number<int64_t>()
        == 2);
  // A connection that ends gives its slot back.
  a1.close();
  std::unique_ptr<ws_client> again;
  CHECK(eventually(5s, [&] {
    again = std::make_unique<ws_client>();
    return again->open(node.port, agent_ws, key_a);
  }));
}
