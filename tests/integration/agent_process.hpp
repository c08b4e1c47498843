#pragma once

// streamb-agent processes and agent settings for the integration tests that
// coordinate real agents with a real node.

#include "tests/integration/node_process.hpp"
#include "tests/integration/redis_config_file.hpp"

#include <boost/json.hpp>

#include <sstream>
#include <string>
#include <unistd.h>
#include <vector>

namespace streamb::test {

/// `text` (a config) with `agents` merged into its "agents" object.
inline std::string with_agents(const std::string& text,
                               const boost::json::object& agents) {
  auto doc = boost::json::parse(text);
  auto& a = doc.as_object()["agents"].as_object();
  for (auto& [k, v] : agents)
    a[k] = v;
  return boost::json::serialize(doc);
}

/// A memory-store config file with agent settings for fast tests.
struct agents_config_file {
  std::string path;

  explicit agents_config_file(const std::string& name,
                              boost::json::object agents) {
    path = "/tmp/streamb-agents-" + name + "-" + std::to_string(getpid())
      + ".json";
    write_file(path,
               with_agents(read_file(STREAMB_SOURCE_DIR "/config/streamb.json"),
                           agents));
  }

  ~agents_config_file() {
    unlink(path.c_str());
  }
};

/// A streamb-agent process connected to `port`.
struct agent_process {
  std::string name;
  node_process process;

  agent_process(uint16_t port, std::string agent_name, const std::string& role,
                const std::string& subscriptions,
                std::vector<std::string> extra = {})
    : name(std::move(agent_name)),
      process(STREAMB_AGENT_BINARY,
              args(port, name, role, subscriptions, std::move(extra))) {
    // nop
  }

  /// The Python reference agent (clients/python) on the WebSocket endpoint
  /// of the node serving HTTP on `http_port`; it prints the same lines.
  struct python_tag {};
  agent_process(python_tag, uint16_t http_port, std::string agent_name,
                const std::string& role, const std::string& subscriptions,
                std::vector<std::string> extra = {})
    : name(std::move(agent_name)),
      process("/usr/bin/python3",
              python_args(http_port, name, role, subscriptions,
                          std::move(extra))) {
    // nop
  }

  static std::vector<std::string> python_args(uint16_t http_port,
                                              const std::string& name,
                                              const std::string& role,
                                              const std::string& subscriptions,
                                              std::vector<std::string> extra) {
    std::vector<std::string> xs{
      STREAMB_SOURCE_DIR "/clients/python/bin/streamb-agent-py",
      "--url",
      "ws://127.0.0.1:" + std::to_string(http_port) + "/api/v1/agents/ws",
      "--name",
      name,
      "--role",
      role,
      "--subscribe",
      subscriptions};
    xs.insert(xs.end(), extra.begin(), extra.end());
    return xs;
  }

  static std::vector<std::string> args(uint16_t port, const std::string& name,
                                       const std::string& role,
                                       const std::string& subscriptions,
                                       std::vector<std::string> extra) {
    std::vector<std::string> xs{
      "--connect",   "127.0.0.1:" + std::to_string(port),
      "--name",      name,
      "--role",      role,
      "--subscribe", subscriptions};
    xs.insert(xs.end(), extra.begin(), extra.end());
    return xs;
  }

  bool registered(std::size_t times = 1) {
    return process.wait_for("\"registered\"", std::chrono::seconds{15}, times);
  }

  /// Waits until the agent printed the event `id` (`times` deliveries).
  bool received(const std::string& id, std::size_t times = 1,
                std::chrono::milliseconds timeout = std::chrono::seconds{10}) {
    return process.wait_for("\"id\":\"" + id + "\"", timeout, times);
  }

  /// Event ids in the order the agent printed them.
  std::vector<std::string> events() {
    process.drain(std::chrono::milliseconds{50});
    std::vector<std::string> ids;
    std::istringstream in{process.output()};
    std::string line;
    while (std::getline(in, line)) {
      boost::json::error_code ec;
      auto doc = boost::json::parse(line, ec);
      if (ec || !doc.is_object())
        continue;
      if (auto ev = doc.as_object().if_contains("event"))
        ids.emplace_back(ev->at("id").as_string());
    }
    return ids;
  }
};

} // namespace streamb::test
