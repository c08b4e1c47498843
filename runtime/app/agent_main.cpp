// streamb-agent: a ready agent process built on the SDK. It prints every
// event it receives as one JSON line on stdout and answers as --reply says:
// the demo, the test double of a real agent, and an example of the SDK.

#include "bridges/agent_client.hpp"
#include "runtime/app/cli.hpp"
#include "runtime/coordination/coordination_codec.hpp"

#include <boost/json.hpp>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <mutex>
#include <optional>
#include <signal.h>
#include <sstream>
#include <thread>
#include <unistd.h>

namespace {

std::vector<std::string> split(const std::string& text, char sep) {
  std::vector<std::string> out;
  std::stringstream in{text};
  std::string item;
  while (std::getline(in, item, sep))
    if (!item.empty())
      out.push_back(item);
  return out;
}

/// "HOST:PORT" with a port 1..65535.
const CLI::Validator& endpoint() {
  static const CLI::Validator validator{
    [](std::string& text) -> std::string {
      for (auto& one : split(text, ',')) {
        auto colon = one.rfind(':');
        if (colon == std::string::npos || colon == 0)
          return "needs HOST:PORT[,HOST:PORT...]";
        auto port = one.substr(colon + 1);
        if (!streamb::cli::digits(port, 5) || std::stoul(port) == 0
            || std::stoul(port) > 65535)
          return "needs a port 1..65535";
      }
      return {};
    },
    ""};
  return validator;
}

/// Event types separated by commas.
const CLI::Validator& event_types() {
  static const CLI::Validator validator{
    [](std::string& text) -> std::string {
      for (auto& t : split(text, ','))
        if (!streamb::is_coordination_event_type(t))
          return "unknown event type '" + t + "'";
      return {};
    },
    ""};
  return validator;
}

/// Any JSON object.
/// An existing file; no description, so that --help shows the type name
/// alone (CLI11 appends a validator's description to it).
const CLI::Validator& existing_file() {
  static const CLI::Validator v = [] {
    CLI::Validator x = CLI::ExistingFile;
    x.description("");
    return x;
  }();
  return v;
}

const CLI::Validator& json_object() {
  static const CLI::Validator v{[](std::string& x) -> std::string {
                                  boost::json::error_code ec;
                                  auto doc = boost::json::parse(x, ec);
                                  return !ec && doc.is_object()
                                    ? ""
                                    : "must be a JSON object";
                                },
                                ""};
  return v;
}

/// "ok", "fail" or "delay:MS".
const CLI::Validator& reply_mode() {
  static const auto validator = streamb::cli::check(
    [](const std::string& text) {
      return text == "ok" || text == "fail"
        || (text.rfind("delay:", 0) == 0
            && streamb::cli::digits(text.substr(6), 9));
    },
    "needs ok, fail or delay:MS");
  return validator;
}

/// The command line of streamb-agent.
struct agent_cli_options {
  std::string connect;
  std::string name;
  std::string role;
  std::string subscribe;
  std::string token;
  std::string tls_cert;
  std::string tls_key;
  std::string tls_ca;
  std::string reply = "ok";
  /// A JSON object whose members every answer carries (e.g. findings).
  std::string answer;
};

std::mutex out_mtx;

void print_line(const boost::json::object& obj) {
  auto text = boost::json::serialize(obj) + "\n";
  std::lock_guard<std::mutex> guard{out_mtx};
  std::fwrite(text.data(), 1, text.size(), stdout);
  std::fflush(stdout);
}

int run_agent(const agent_cli_options& cli_opts) {
  using namespace streamb;
  agent_options opts;
  // endpoint() checked the shape: the first node, then the others of a
  // cluster to fail over to.
  auto nodes = split(cli_opts.connect, ',');
  for (std::size_t i = 0; i < nodes.size(); ++i) {
    auto colon = nodes[i].rfind(':');
    auto host = nodes[i].substr(0, colon);
    auto port = static_cast<uint16_t>(std::stoul(nodes[i].substr(colon + 1)));
    if (i == 0) {
      opts.host = host;
      opts.port = port;
    } else {
      opts.more_nodes.emplace_back(host, port);
    }
  }
  opts.name = cli_opts.name;
  opts.role = cli_opts.role;
  opts.subscriptions = split(cli_opts.subscribe, ',');
  opts.token = cli_opts.token;
  opts.tls = actor_tls_config{cli_opts.tls_cert, cli_opts.tls_key,
                              cli_opts.tls_ca};
  if (opts.token.empty())
    if (auto env = std::getenv("STREAMB_AGENT_TOKEN"))
      opts.token = env;
  auto reply = cli_opts.reply;
  std::chrono::milliseconds delay{0};
  if (reply.rfind("delay:", 0) == 0)
    delay = std::chrono::milliseconds{std::stol(reply.substr(6))};

  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  caf::actor_system_config cfg;
  agent_client::prepare(cfg, opts.tls);
  caf::actor_system sys{cfg};
  auto name = opts.name;
  boost::json::object answer_extra;
  if (!cli_opts.answer.empty())
    answer_extra = boost::json::parse(cli_opts.answer).as_object();
  auto on_event = [&](const coordination_event& ev) {
    print_line(
      {{"agent", name}, {"attempt", ev.attempt}, {"event", event_to_json(ev)}});
    if (delay.count() > 0)
      std::this_thread::sleep_for(delay);
    event_response r;
    r.event_id = ev.id;
    r.status = reply == "fail" ? answer_status::failed : answer_status::ok;
    auto payload = answer_extra;
    payload["handledBy"] = name;
    r.payload = boost::json::serialize(payload);
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

} // namespace

int main(int argc, char** argv) {
  streamb::cli::program p{"streamb-agent",
                          "streamb-agent — an agent for a "
                          "streamb node"};
  auto opts = std::make_shared<agent_cli_options>();
  auto& app = p.app();
  app
    .add_option("--connect", opts->connect,
                "the node's actor endpoint (node.actor in its config); in a "
                "cluster several, tried in order when one fails")
    ->type_name("HOST:PORT[,...]")
    ->required()
    ->check(endpoint());
  app
    .add_option("--name", opts->name,
                "this agent's name: its identity across reconnects")
    ->type_name("NAME")
    ->required();
  app
    .add_option("--role", opts->role,
                "agents of one role are replicas: an event for the role "
                "goes to one of them")
    ->type_name("ROLE")
    ->required();
  app
    .add_option("--subscribe", opts->subscribe,
                "event types, comma-separated (below)")
    ->type_name("TYPE[,TYPE...]")
    ->check(event_types());
  app
    .add_option("--token", opts->token,
                "the registration token (or env STREAMB_AGENT_TOKEN, which "
                "ps does not show)")
    ->type_name("TOKEN");
  auto* cert = app
                 .add_option("--tls-cert", opts->tls_cert,
                             "this agent's certificate (PEM), for a node "
                             "whose actor port has node.actor.tls")
                 ->check(existing_file())
                 ->type_name("FILE");
  auto* key = app
                .add_option("--tls-key", opts->tls_key,
                            "the certificate's private key (PEM)")
                ->check(existing_file())
                ->type_name("FILE");
  auto* ca = app
               .add_option("--tls-ca", opts->tls_ca,
                           "the CA that signed the node's certificate (PEM)")
               ->check(existing_file())
               ->type_name("FILE");
  cert->needs(key)->needs(ca);
  key->needs(cert);
  ca->needs(cert);
  app
    .add_option("--reply", opts->reply,
                "answer every event ok, failed, or ok after MS "
                "milliseconds")
    ->type_name("ok|fail|delay:MS")
    ->capture_default_str()
    ->check(reply_mode());
  app
    .add_option("--answer", opts->answer,
                "a JSON object whose members every answer carries, e.g. "
                "{\"findings\":[{\"service\":\"stripe\",\"title\":"
                "\"...\"}]}")
    ->check(json_object())
    ->type_name("JSON");
  app.footer("Event types: performance_optimization, database_coordination, "
             "innovation_insight,\n"
             "frontend_update, cost_alert, system_optimization, webhook.\n"
             "Prints one JSON line per event received and per connection "
             "change. Stops on\n"
             "SIGINT or SIGTERM (exit 0); exit 1: the node refused the "
             "registration; exit 2:\n"
             "usage error.");
  p.on_run(app, [opts] { return run_agent(*opts); });
  return p.run(argc, argv);
}
