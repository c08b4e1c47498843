#include "runtime/config/config_versions.hpp"
#include "runtime/coordination/agent_token.hpp"
#include "runtime/coordination/coordination_codec.hpp"
#include "runtime/core/crypto.hpp"

#include <boost/json.hpp>
#include <catch2/catch.hpp>

using namespace streamb;

namespace {

coordination_event sample_event() {
  coordination_event ev;
  ev.id = "local-1-1";
  ev.type = "cost_alert";
  ev.priority = budget::priority::high;
  ev.source = "budget:maps";
  ev.created_ms = 1795766822519;
  ev.payload = R"({"service":"maps","levelPercent":95})";
  ev.target = "role:finance";
  return ev;
}

} // namespace

TEST_CASE("an open event and its units survive the store's encoding") {
  auto ev = sample_event();
  std::vector<unit_target> units{{"finance", ""}, {"", "db-1"}};
  auto decoded = decode_open_event(encode_open_event(ev, units));
  REQUIRE(decoded);
  auto& [back, back_units] = *decoded;
  CHECK(back.id == ev.id);
  CHECK(back.type == ev.type);
  CHECK(back.priority == ev.priority);
  CHECK(back.source == ev.source);
  CHECK(back.created_ms == ev.created_ms);
  CHECK(back.target == ev.target);
  CHECK(boost::json::parse(back.payload) == boost::json::parse(ev.payload));
  REQUIRE(back_units.size() == 2);
  CHECK(back_units[0].role == "finance");
  CHECK(back_units[0].agent.empty());
  CHECK(back_units[1].agent == "db-1");
}

TEST_CASE("a payload that is not JSON is kept as a string") {
  auto ev = sample_event();
  ev.payload = "plain text, not JSON";
  auto decoded = decode_open_event(encode_open_event(ev, {{"x", ""}}));
  REQUIRE(decoded);
  CHECK(decoded->first.payload == ev.payload);
  ev.payload.clear();
  decoded = decode_open_event(encode_open_event(ev, {{"x", ""}}));
  REQUIRE(decoded);
  CHECK(decoded->first.payload.empty());
}

TEST_CASE("unreadable open events are refused, not half read") {
  CHECK_FALSE(decode_open_event("not json"));
  CHECK_FALSE(decode_open_event("[]"));
  CHECK_FALSE(decode_open_event(R"({"event":{"id":"x"},"units":[]})"));
  auto text = encode_open_event(sample_event(), {{"x", ""}});
  auto doc = boost::json::parse(text);
  doc.at("event").as_object()["priority"] = "urgent";
  CHECK_FALSE(decode_open_event(boost::json::serialize(doc)));
  doc = boost::json::parse(text);
  doc.at("units").as_array()[0] = boost::json::object{};
  CHECK_FALSE(decode_open_event(boost::json::serialize(doc)));
}

TEST_CASE("an event record round-trips with its deliveries and response "
          "times") {
  event_record rec;
  rec.event = sample_event();
  rec.state = event_state::completed;
  rec.detail = "role:x: 3 attempts";
  rec.finished_ms = rec.event.created_ms + 70;
  event_delivery d;
  d.agent = "db-1";
  d.unit = "role:finance";
  d.attempt = 2;
  d.sent_ms = rec.event.created_ms + 10;
  d.answered_ms = rec.event.created_ms + 60;
  d.status = delivery_status::ok;
  d.response = R"({"done":true})";
  rec.deliveries.push_back(d);
  d.answered_ms = 0;
  d.status = delivery_status::timeout;
  d.response.clear();
  rec.deliveries.push_back(d);
  auto obj = record_to_json(rec);
  CHECK(obj.at("deliveries").at(0).at("responseTimeMs").as_int64() == 50);
  CHECK_FALSE(
    obj.at("deliveries").at(1).as_object().contains("responseTimeMs"));
  CHECK(obj.at("priority").as_string() == "high");
  auto back = decode_record(boost::json::serialize(obj));
  REQUIRE(back);
  CHECK(back->state == event_state::completed);
  CHECK(back->detail == rec.detail);
  CHECK(back->finished_ms == rec.finished_ms);
  REQUIRE(back->deliveries.size() == 2);
  CHECK(back->deliveries[0].agent == "db-1");
  CHECK(back->deliveries[0].attempt == 2);
  CHECK(back->deliveries[0].answered_ms == d.sent_ms + 50);
  CHECK(back->deliveries[1].status == delivery_status::timeout);
  CHECK_FALSE(decode_record("{}"));
  // A record whose state or delivery status this node does not know is
  // refused, not read as some default.
  auto odd_state = obj;
  odd_state["state"] = "half-done";
  CHECK_FALSE(decode_record(boost::json::serialize(odd_state)));
  auto odd_status = obj;
  odd_status["deliveries"].as_array()[0].as_object()["status"] = "maybe";
  CHECK_FALSE(decode_record(boost::json::serialize(odd_status)));
}

TEST_CASE("an agent token matches only the configured hash") {
  auto hash = sha256_hex("s3cret-token");
  CHECK(agent_token_matches("s3cret-token", hash));
  CHECK_FALSE(agent_token_matches("s3cret-tokeN", hash));
  CHECK_FALSE(agent_token_matches("", hash));
  CHECK_FALSE(agent_token_matches(hash, hash)); // the hash is not the token
  std::string upper = hash;
  for (auto& c : upper)
    c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  CHECK(agent_token_matches("s3cret-token", upper));
  // No token configured: registrations need none.
  CHECK(agent_token_matches("", ""));
  CHECK(agent_token_matches("anything", ""));
}
