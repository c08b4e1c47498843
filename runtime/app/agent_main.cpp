// streamb-agent: a ready agent process built on the SDK. It prints every
// event it receives as one JSON line on stdout and answers as --reply says:
// the demo, the test double of a real agent, and an example of the SDK.

#include "bridges/agent_client.hpp"
#include "runtime/coordination/coordination_codec.hpp"

#include <boost/json.hpp>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <mutex>
#include <optional>
#include <signal.h>
#include <sstream>
#include <thread>
#include <unistd.h>

namespace {

const char* usage = R"(streamb-agent — an agent for a streamb node

Usage:
  streamb-agent --connect HOST:PORT --name NAME --role ROLE
                --subscribe TYPE[,TYPE...] [--token TOKEN]
                [--reply ok|fail|delay:MS]

  --connect    the node's actor endpoint (node.actor in its config)
  --name       this agent's name: its identity across reconnects
  --role       agents of one role are replicas: an event for the role goes
               to one of them, and to another when that one fails
  --subscribe  event types: performance_optimization, database_coordination,
               innovation_insight, frontend_update, cost_alert,
               system_optimization, webhook
  --token      the registration token (or env STREAMB_AGENT_TOKEN, which
               does not show in `ps`)
  --reply      answer every event "ok" (default), "failed", or "ok" after MS
               milliseconds

Prints one JSON line per event received and per connection change.
Stops on SIGINT or SIGTERM.
)";

int fail_usage(const std::string& message) {
  std::cerr << "streamb-agent: " << message << "\n\n" << usage;
  return 2;
}

std::mutex out_mtx;

void print_line(const boost::json::object& obj) {
  auto text = boost::json::serialize(obj) + "\n";
  std::lock_guard<std::mutex> guard{out_mtx};
  std::fwrite(text.data(), 1, text.size(), stdout);
  std::fflush(stdout);
}

std::vector<std::string> split(const std::string& text, char sep) {
  std::vector<std::string> out;
  std::stringstream in{text};
  std::string item;
  while (std::getline(in, item, sep))
    if (!item.empty())
      out.push_back(item);
  return out;
}

} // namespace

int main(int argc, char** argv) {
  using namespace streamb;
  agent_options opts;
  std::string reply = "ok";
  bool have_connect = false;
  std::vector<std::string> args(argv + 1, argv + argc);
  for (std::size_t i = 0; i < args.size(); ++i) {
    auto& flag = args[i];
    if (flag == "--help" || flag == "-h") {
      std::cout << usage;
      return 0;
    }
    if (i + 1 >= args.size())
      return fail_usage(flag + " needs a value");
    auto& v = args[++i];
    if (flag == "--connect") {
      auto colon = v.rfind(':');
      if (colon == std::string::npos || colon == 0)
        return fail_usage("--connect needs HOST:PORT");
      opts.host = v.substr(0, colon);
      auto port = std::strtoul(v.c_str() + colon + 1, nullptr, 10);
      if (port == 0 || port > 65535)
        return fail_usage("--connect needs a port 1..65535");
      opts.port = static_cast<uint16_t>(port);
      have_connect = true;
    } else if (flag == "--name") {
      opts.name = v;
    } else if (flag == "--role") {
      opts.role = v;
    } else if (flag == "--subscribe") {
      opts.subscriptions = split(v, ',');
      for (auto& t : opts.subscriptions)
        if (!is_coordination_event_type(t))
          return fail_usage("unknown event type '" + t + "'");
    } else if (flag == "--token") {
      opts.token = v;
    } else if (flag == "--reply") {
      if (v != "ok" && v != "fail" && v.rfind("delay:", 0) != 0)
        return fail_usage("--reply needs ok, fail or delay:MS");
      reply = v;
    } else {
      return fail_usage("unknown option " + flag);
    }
  }
  if (!have_connect || opts.name.empty() || opts.role.empty())
    return fail_usage("--connect, --name and --role are required");
  if (opts.token.empty())
    if (auto env = std::getenv("STREAMB_AGENT_TOKEN"))
      opts.token = env;
  std::chrono::milliseconds delay{0};
  if (reply.rfind("delay:", 0) == 0)
    delay = std::chrono::milliseconds{
      std::strtol(reply.c_str() + 6, nullptr, 10)};

  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  caf::actor_system_config cfg;
  agent_client::prepare(cfg);
  caf::actor_system sys{cfg};
  auto name = opts.name;
  auto on_event = [&](const coordination_event& ev) {
    print_line(
      {{"agent", name}, {"attempt", ev.attempt}, {"event", event_to_json(ev)}});
    if (delay.count() > 0)
      std::this_thread::sleep_for(delay);
    event_response r;
    r.event_id = ev.id;
    r.status = reply == "fail" ? "failed" : "ok";
    r.payload = boost::json::serialize(
      boost::json::object{{"handledBy", name}});
    return r;
  };
  std::atomic<bool> refused{false};
  auto on_connection = [&](agent_connection_event what,
                           const std::string& detail) {
    switch (what) {
      case agent_connection_event::registered:
        print_line({{"agent", name}, {"registered", detail}});
        break;
      case agent_connection_event::disconnected:
        print_line({{"agent", name}, {"disconnected", detail}});
        break;
      case agent_connection_event::refused:
        print_line({{"agent", name}, {"refused", detail}});
        refused = true;
        // Wake the main thread: a refusal is final.
        kill(getpid(), SIGTERM);
        break;
    }
  };
  agent_client agent{sys, opts, on_event, on_connection};
  agent.start();
  int sig = 0;
  sigwait(&stop_signals, &sig);
  agent.stop();
  return refused ? 1 : 0;
}
