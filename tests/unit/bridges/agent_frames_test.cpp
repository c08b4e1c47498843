#include "bridges/agent_frames.hpp"

#include <boost/json.hpp>
#include <catch2/catch.hpp>

using namespace streamb;
namespace json = boost::json;

TEST_CASE("agent frames: register, heartbeat, answers, report and leave are "
          "read") {
  agent_frame f;
  REQUIRE_FALSE(parse_agent_frame(
    R"({"v":1,"op":"register","name":"db-1","role":"database",
        "subscriptions":["database_coordination","webhook"],"token":"t0k"})",
    f));
  CHECK(f.op == agent_op::register_);
  CHECK(f.registration.name == "db-1");
  CHECK(f.registration.role == "database");
  CHECK(f.registration.subscriptions
        == std::vector<std::string>{"database_coordination", "webhook"});
  CHECK(f.registration.token == "t0k");

  agent_frame hb;
  REQUIRE_FALSE(parse_agent_frame(R"({"v":1,"op":"heartbeat"})", hb));
  CHECK(hb.op == agent_op::heartbeat);

  agent_frame one;
  REQUIRE_FALSE(parse_agent_frame(
    R"({"v":1,"op":"answer","eventId":"e1","delivery":7,"status":"failed",
        "result":{"error":"disk full"}})",
    one));
  REQUIRE(one.answers.size() == 1);
  CHECK(one.answers[0].event_id == "e1");
  CHECK(one.answers[0].delivery == 7);
  CHECK(one.answers[0].status == answer_status::failed);
  CHECK(json::parse(one.answers[0].payload).at("error") == "disk full");

  agent_frame many;
  REQUIRE_FALSE(parse_agent_frame(
    R"({"v":1,"op":"answer","answers":[
        {"eventId":"a","delivery":1,"status":"ok"},
        {"eventId":"b","delivery":2,"status":"ok","result":[1,2]}]})",
    many));
  REQUIRE(many.answers.size() == 2);
  CHECK(many.answers[0].payload.empty());
  CHECK(many.answers[1].payload == "[1,2]");

  agent_frame rep;
  REQUIRE_FALSE(parse_agent_frame(
    R"({"v":1,"op":"report","samples":[{"service":"maps","latencyMs":3}]})",
    rep));
  CHECK(rep.op == agent_op::report);
  CHECK(json::parse(rep.samples).as_array().size() == 1);

  agent_frame bye;
  REQUIRE_FALSE(parse_agent_frame(R"({"v":1,"op":"leave"})", bye));
  CHECK(bye.op == agent_op::leave);
}

TEST_CASE("agent frames: what is wrong is named, by a stable code") {
  struct bad {
    const char* text;
    const char* code;
    const char* op;
  };
  std::vector<bad> cases{
    {"", "malformed", ""},
    {"{", "malformed", ""},
    {"null", "malformed", ""},
    {R"({"v":1,"op":"leave","v":1})", "malformed", ""},
    {R"({"op":"leave"})", "unsupported_version", "leave"},
    {R"({"v":"1","op":"leave"})", "unsupported_version", "leave"},
    {R"({"v":1})", "unknown_op", ""},
    {R"({"v":1,"op":7})", "unknown_op", ""},
    {R"({"v":1,"op":"register","role":"r","subscriptions":[]})",
     "invalid_frame", "register"},
    {R"({"v":1,"op":"register","name":1,"role":"r","subscriptions":[]})",
     "invalid_frame", "register"},
    {R"({"v":1,"op":"register","name":"n","role":"r","subscriptions":[1]})",
     "invalid_frame", "register"},
    {R"({"v":1,"op":"answer","eventId":"e","status":"ok"})", "invalid_frame",
     "answer"},
    {R"({"v":1,"op":"answer","eventId":"e","status":"ok","delivery":-1})",
     "invalid_frame", "answer"},
    {R"({"v":1,"op":"answer","eventId":"e","status":"done","delivery":1})",
     "invalid_frame", "answer"},
    {R"({"v":1,"op":"answer","answers":[]})", "invalid_frame", "answer"},
    {R"({"v":1,"op":"answer","answers":[1]})", "invalid_frame", "answer"},
    {R"({"v":1,"op":"report","samples":{}})", "invalid_frame", "report"},
  };
  for (auto& c : cases) {
    INFO(c.text);
    agent_frame f;
    auto err = parse_agent_frame(c.text, f);
    REQUIRE(err);
    CHECK(err->code == c.code);
    CHECK(err->op == c.op);
    CHECK_FALSE(err->message.empty());
  }
}

TEST_CASE("agent frames: what the node sends") {
  agent_welcome w{"agent-db-1", 5000, "n1", "s3cr3t"};
  auto welcome = json::parse(welcome_frame(w));
  CHECK(welcome.at("v") == 1);
  CHECK(welcome.at("op") == "welcome");
  CHECK(welcome.at("agentId") == "agent-db-1");
  CHECK(welcome.at("session") == "s3cr3t");
  CHECK(welcome.at("heartbeatIntervalMs") == 5000);

  coordination_event ev;
  ev.id = "e1";
  ev.type = "cost_alert";
  ev.priority = budget::priority::critical;
  ev.source = "budget:stripe";
  ev.created_ms = 1000;
  ev.payload = R"({"pct":96})";
  ev.attempt = 2;
  ev.delivery = 42;
  auto frame = json::parse(event_frame(ev, 11000));
  CHECK(frame.at("op") == "event");
  CHECK(frame.at("id") == "e1");
  CHECK(frame.at("type") == "cost_alert");
  CHECK(frame.at("priority") == "critical");
  CHECK(frame.at("payload").at("pct") == 96);
  CHECK(frame.at("attempt") == 2);
  CHECK(frame.at("delivery") == 42);
  CHECK(frame.at("deadline") == 11000);

  // What came from the client goes back as valid JSON and UTF-8.
  agent_frame f;
  auto err = parse_agent_frame(
    "{\"op\":\"\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3"
    "\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9"
    "\xC3\xA9\xC3\xA9\"}",
    f);
  REQUIRE(err);
  auto e = json::parse(error_frame(*err));
  CHECK(e.at("code") == "unsupported_version");
  CHECK(e.at("frame").as_string().size() == 32);
  CHECK(json::parse(leave_frame("key \"revoked\"")).at("reason")
        == "key \"revoked\"");
}
