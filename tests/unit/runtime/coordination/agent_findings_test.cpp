#include "runtime/coordination/agent_findings.hpp"
#include "runtime/coordination/agent_roster.hpp"
#include "runtime/core/utf8.hpp"

#include <catch2/catch.hpp>

using namespace streamb;

namespace {

const std::vector<std::string> services{"stripe", "twilio"};

coordination_event event_of(std::string type, std::string payload = "{}") {
  coordination_event ev;
  ev.id = "local-1-7";
  ev.type = std::move(type);
  ev.payload = std::move(payload);
  return ev;
}

} // namespace

TEST_CASE("an answer's findings and recommendations become findings with "
          "the agent and event as source") {
  auto ev = event_of("database_coordination", R"({"service":"twilio"})");
  auto xs = findings_in_answer(
    R"({"findings":[{"service":"stripe","title":"Index by customer",
                     "detail":"3 scans","category":"performance"},
                    "no service given"],
        "recommendations":[{"title":"Batch","category":"innovation"}]})",
    ev, "db-1", services, 1234);
  REQUIRE(xs.size() == 3);
  CHECK(xs[0].service == "stripe");
  CHECK(xs[0].title == "Index by customer");
  CHECK(xs[0].detail == "3 scans");
  CHECK(xs[0].category == "performance");
  CHECK(xs[0].agent == "db-1");
  CHECK(xs[0].event_id == "local-1-7");
  CHECK(xs[0].event_type == "database_coordination");
  CHECK(xs[0].at_ms == 1234);
  // No service: the event's; no category: the event type's.
  CHECK(xs[1].service == "twilio");
  CHECK(xs[1].category == "database");
  CHECK(xs[2].category == "innovation");
}

TEST_CASE("findings of unknown services, without a title, or past the cap "
          "are dropped; other answers carry none") {
  auto ev = event_of("performance_optimization");
  CHECK(findings_in_answer(R"({"findings":[{"service":"nosuch","title":"x"},
                                           {"service":"stripe"}, 7, ""]})",
                           ev, "a", services, 1)
          .empty());
  for (auto text : {"", "ok", "[1,2]", "{\"findings\":{}}",
                    "{\"handledBy\":\"a\"}", "{\"findings\":"})
    CHECK(findings_in_answer(text, ev, "a", services, 1).empty());
  std::string many = R"({"findings":[)";
  for (int i = 0; i < 50; ++i)
    many += (i > 0 ? ",\"t" : "\"t") + std::to_string(i) + "\"";
  auto xs = findings_in_answer(many + "]}", ev, "a", services, 1);
  CHECK(xs.size() == max_findings_per_answer);
  auto long_title = std::string(5000, 'x');
  xs = findings_in_answer(R"({"findings":[")" + long_title + "\"]}", ev, "a",
                          services, 1);
  REQUIRE(xs.size() == 1);
  CHECK(xs[0].title.size() == 200);
  // Cut at a character, never inside one: 67 euro signs are 201 bytes.
  std::string euros;
  for (int i = 0; i < 67; ++i)
    euros += "\xE2\x82\xAC";
  auto cut = findings_in_answer(R"({"findings":[")" + euros + "\"]}", ev, "a",
                                services, 1);
  REQUIRE(cut.size() == 1);
  CHECK(cut[0].title.size() == 198);
  CHECK(valid_utf8(cut[0].title));
  CHECK(xs[0].category == "performance");
  CHECK(xs[0].service.empty());
}

TEST_CASE("the roster says which expected agents are active, stale or "
          "missing") {
  auto agent = [](std::string name, std::string role, agent_state s) {
    agent_status a;
    a.name = std::move(name);
    a.role = std::move(role);
    a.state = s;
    return a;
  };
  std::vector<agent_status> agents{
    agent("ops-1", "operations", agent_state::active),
    agent("fe-1", "frontend", agent_state::stale),
    agent("fe-2", "frontend", agent_state::disconnected),
    agent("db-1", "database", agent_state::disconnected)};
  auto r = check_roster({"ops-1", "role:frontend", "db-1", "role:innovation"},
                        agents);
  REQUIRE(r.entries.size() == 4);
  CHECK(r.entries[0].state == "active");
  CHECK(r.entries[1].state == "stale");
  CHECK(r.entries[1].agents == std::vector<std::string>{"fe-1"});
  CHECK(r.entries[2].state == "missing");
  CHECK(r.entries[3].state == "missing");
  CHECK(r.missing == 2);
  CHECK(r.stale == 1);
  CHECK(check_roster({}, agents).entries.empty());
}
