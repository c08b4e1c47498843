#pragma once

// What the coordination tests share: sending events over HTTP, reading
// agents and event outcomes, polling for an agent's state.

#include "tests/integration/running_node.hpp"

#include <boost/json.hpp>
#include <catch2/catch.hpp>

#include <chrono>
#include <string>
#include <thread>

namespace streamb::test {

namespace json = boost::json;
using namespace std::chrono_literals;

using clock_type = std::chrono::steady_clock;

constexpr const char* prefix = "/api/v1/stream-b-coordination";

inline json::object fast_agents() {
  return {{"heartbeat_interval_s", 1},
          {"missed_heartbeats", 2},
          {"response_timeout_s", 1}};
}

inline std::string send_event(running_node& node, const std::string& body) {
  auto res = node.client.Post(
    (std::string{prefix} + "/coordination/send-event").c_str(), body,
    "application/json");
  REQUIRE(res);
  INFO(res->body);
  REQUIRE(res->status == 202);
  return std::string{json::parse(res->body).at("id").as_string()};
}

inline json::object agent_named(running_node& node, const std::string& name) {
  auto doc = node.get_json(std::string{prefix} + "/agents/status");
  for (auto& a : doc.at("agents").as_array())
    if (a.at("name").as_string() == name)
      return a.as_object();
  return {};
}

inline std::string state_of_agent(running_node& node, const std::string& name) {
  auto a = agent_named(node, name);
  return a.empty() ? "" : std::string{a.at("state").as_string()};
}

/// Polls until the agent is in `state`; returns how long that took, or -1
/// ms when it did not within `timeout`.
inline std::chrono::milliseconds wait_state(running_node& node,
                                            const std::string& name,
                                            const std::string& state,
                                            std::chrono::milliseconds timeout) {
  auto start = clock_type::now();
  while (clock_type::now() - start < timeout) {
    if (state_of_agent(node, name) == state)
      return std::chrono::duration_cast<std::chrono::milliseconds>(
        clock_type::now() - start);
    std::this_thread::sleep_for(20ms);
  }
  return -1ms;
}

/// Polls GET events/{id} until its state is final; returns the record.
inline json::object wait_outcome(running_node& node, const std::string& id,
                                 std::chrono::milliseconds timeout = 15s) {
  auto deadline = clock_type::now() + timeout;
  json::object rec;
  while (clock_type::now() < deadline) {
    auto res = node.client.Get(("/api/v1/coordination/events/" + id).c_str());
    if (res && res->status == 200) {
      rec = json::parse(res->body).as_object();
      auto state = rec.at("state").as_string();
      if (state != "queued" && state != "delivering")
        return rec;
    }
    std::this_thread::sleep_for(20ms);
  }
  return rec;
}

} // namespace streamb::test
