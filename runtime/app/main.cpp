// The `streamb` binary: run a node, check a config.

#include "runtime/app/replay_cli.hpp"
#include "runtime/core/audit.hpp"
#include "runtime/app/cli_store.hpp"
#include "runtime/config/config.hpp"
#include "runtime/config/config_versions.hpp"
#include "runtime/app/keys_cli.hpp"
#include "runtime/core/log.hpp"
#include "runtime/messages.hpp"
#include "runtime/app/node.hpp"
#include "runtime/store/redis_backend.hpp"
#include "runtime/core/wall_time.hpp"
#include "runtime/app/webhook_verify_cli.hpp"

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/io/middleman.hpp>

#include <csignal>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

namespace {

using namespace streamb;

constexpr const char* default_config_path = "config/streamb.json";

const char* usage = R"(streamb — coordination runtime for SaaS API operations

Usage:
  streamb run [--config FILE] [--node NAME] [--http-port N] [--actor-port N]
              [--store memory|redis://...]
  streamb check-config FILE
  streamb config history [--config FILE] [--store URL]
  streamb config show N [--config FILE] [--store URL]
  streamb config rollback N --out FILE [--config FILE] [--store URL]
  streamb webhook-verify --vectors FILE | --scheme S --secret X ... | --help
  streamb keys create|list|rotate|revoke|bootstrap ...   (streamb keys --help)
  streamb advise-replay [--scenario NAME|all]   the advisor on a simulated month
  streamb webhook-secrets add|list|retire SERVICE ...
  streamb --help
  streamb --version

run            start a node; stops cleanly on SIGINT or SIGTERM; SIGHUP
               reloads the config file (keys, secrets, budgets, limits,
               alerts; a bad file changes nothing)
  --config     config file (default: config/streamb.json)
  --node       this node's name (picks its entry in cluster.nodes)
  --http-port  HTTP port, overrides the config (0 picks a free port)
  --actor-port the port agents connect to (node.actor.port; 0 picks one)
  --store      "memory" or a redis:// URL, overrides the config
check-config   validate a config file; prints every problem with its JSON path
config         the configs nodes started with, from the store of --config
               (secrets as ${env:...}, never expanded): list them, print
               version N, or write version N to a file to restart with
)";

struct run_options {
  std::string config_path = default_config_path;
  std::optional<std::string> node_name;
  std::optional<uint16_t> http_port;
  std::optional<uint16_t> actor_port;
  std::optional<std::string> store;
};

int fail_usage(const std::string& message) {
  std::cerr << "streamb: " << message << "\n\n" << usage;
  return 2;
}

bool parse_port(const std::string& text, uint16_t& out) {
  if (text.empty() || text.size() > 5
      || text.find_first_not_of("0123456789") != std::string::npos)
    return false;
  auto value = std::stoul(text);
  if (value > 65535)
    return false;
  out = static_cast<uint16_t>(value);
  return true;
}

// Applies command-line overrides; returns an error message or "".
std::string apply_overrides(config& cfg, const run_options& opts) {
  if (opts.node_name) {
    cfg.node.name = *opts.node_name;
    if (!cfg.cluster.nodes.empty()) {
      auto& nodes = cfg.cluster.nodes;
      auto i = std::find_if(nodes.begin(), nodes.end(),
                            [&](auto& n) { return n.name == *opts.node_name; });
      if (i == nodes.end())
        return "node '" + *opts.node_name + "' is not in cluster.nodes";
      cfg.node.http.port = i->http_port;
      cfg.node.actor.host = i->host;
      cfg.node.actor.port = i->actor_port;
    }
  }
  if (opts.http_port)
    cfg.node.http.port = *opts.http_port;
  if (opts.actor_port)
    cfg.node.actor.port = *opts.actor_port;
  if (opts.store) {
    if (*opts.store == "memory") {
      cfg.store.kind = "memory";
    } else if (opts.store->rfind("redis://", 0) == 0) {
      cfg.store.kind = "redis";
      cfg.store.url = *opts.store;
    } else {
      return "--store must be \"memory\" or a redis:// URL";
    }
  }
  if (cfg.store.kind == "redis") {
    if (auto opts = store::parse_redis_url(cfg.store.url); !opts)
      return "bad store URL: " + caf::to_string(opts.error().context());
  }
  return {};
}

int check_config(const std::vector<std::string>& args) {
  if (args.size() != 1)
    return fail_usage("check-config takes exactly one FILE");
  try {
    auto cfg = load_config_file(args[0]);
    // Settings that would expose the node: the node refuses to start.
    auto exposed = exposure_problems(cfg);
    for (auto& p : exposed)
      std::cout << args[0] << ": " << p.path << ": " << p.message << '\n';
    if (!exposed.empty()) {
      std::cout << exposed.size() << " problem(s)\n";
      return 1;
    }
    std::cout << args[0] << ": ok (" << cfg.services.size() << " services)\n";
    for (auto& w : exposure_warnings(cfg))
      std::cout << args[0] << ": warning: " << w << '\n';
    return 0;
  } catch (const config_error& e) {
    for (auto& p : e.problems())
      std::cout << args[0] << ": " << p.path << ": " << p.message << '\n';
    std::cout << e.problems().size() << " problem(s)\n";
    return 1;
  }
}

int config_command(const std::vector<std::string>& args) {
  if (args.empty())
    return fail_usage("config needs history, show N or rollback N");
  auto verb = args[0];
  std::string config_path = default_config_path;
  std::optional<std::string> store_url, out_path;
  std::size_t number = 0;
  std::size_t i = 1;
  if (verb == "show" || verb == "rollback") {
    // At most 9 digits: std::stoul would throw past its range.
    if (args.size() < 2 || args[1].empty() || args[1].size() > 9
        || args[1].find_first_not_of("0123456789") != std::string::npos)
      return fail_usage("config " + verb + " needs a version number N");
    number = std::stoul(args[1]);
    i = 2;
  } else if (verb != "history") {
    return fail_usage("unknown config command '" + verb + "'");
  }
  for (; i < args.size(); ++i) {
    if (i + 1 >= args.size())
      return fail_usage(args[i] + " needs a value");
    if (args[i] == "--config")
      config_path = args[++i];
    else if (args[i] == "--store")
      store_url = args[++i];
    else if (args[i] == "--out")
      out_path = args[++i];
    else
      return fail_usage("unknown option '" + args[i] + "' for config");
  }
  if (verb == "rollback" && !out_path)
    return fail_usage("config rollback needs --out FILE");
  int code = 0;
  auto opened = open_cli_store(config_path, store_url, "config history", code);
  if (!opened)
    return code;
  auto& cfg = opened->cfg;
  auto& db = *opened->db;
  auto versions = list_config_versions(db);
  if (!versions) {
    std::cerr << "streamb: cannot read the config history: "
              << caf::to_string(versions.error()) << '\n';
    return 1;
  }
  if (verb == "history") {
    for (auto& v : *versions)
      std::cout << v.number << "  " << iso8601_utc(v.at_ms) << "  "
                << v.sha256.substr(0, 12) << "  " << v.node << '\n';
    std::cout << versions->size() << " version(s)\n";
    return 0;
  }
  if (number == 0 || number > versions->size()) {
    std::cerr << "streamb: no config version " << number << " (there are "
              << versions->size() << ")\n";
    return 1;
  }
  auto& v = (*versions)[number - 1];
  if (verb == "show") {
    std::cout << v.text;
    return 0;
  }
  std::ofstream out{*out_path, std::ios::binary | std::ios::trunc};
  out << v.text;
  out.close();
  if (!out) {
    std::cerr << "streamb: cannot write " << *out_path << '\n';
    return 1;
  }
  std::cout << "wrote config version " << number << " (sha256 " << v.sha256
            << ") to " << *out_path << "; restart with: streamb run --config "
            << *out_path << '\n';
  audit_record rollback;
  rollback.at_ms = epoch_ms_now();
  rollback.node = cfg.node.name;
  rollback.who = "cli";
  rollback.action = "config.rollback";
  rollback.subject = "config version " + std::to_string(number);
  rollback.outcome = "ok";
  rollback.detail = "sha256 " + v.sha256 + " written to " + *out_path;
  auto retention_ms = int64_t{cfg.store.audit_retention_days} * 24 * 3600
    * 1000;
  if (auto written = db.write({audit_write(rollback, retention_ms)});
      !written || written->front().error)
    std::cerr << "streamb: warning: the rollback is not in the audit trail: "
              << caf::to_string(written ? written->front().error
                                        : written.error())
              << '\n';
  return 0;
}

/// SIGHUP: the config file again, validated and checked as at start; a bad
/// one changes nothing (and says why in the log and the audit trail).
void reload(node& n, const run_options& opts) {
  log_info("main", "received SIGHUP, reloading " + opts.config_path);
  std::string text;
  config cfg;
  std::string problems;
  try {
    text = read_config_text(opts.config_path);
    cfg = load_config_text(text);
    if (auto err = apply_overrides(cfg, opts); !err.empty())
      problems = err;
    for (auto& p : exposure_problems(cfg))
      problems += (problems.empty() ? "" : "; ") + p.path + ": " + p.message;
  } catch (const config_error& e) {
    for (auto& p : e.problems())
      problems += (problems.empty() ? "" : "; ") + p.path + ": " + p.message;
  }
  if (!problems.empty()) {
    log_error("main", "config reload refused, nothing changed: " + problems);
    n.audit_refused_reload(problems);
    return;
  }
  n.reload(std::move(cfg), text, "signal:SIGHUP");
}

int run(const std::vector<std::string>& args) {
  run_options opts;
  for (std::size_t i = 0; i < args.size(); ++i) {
    auto& flag = args[i];
    auto value = [&]() -> std::optional<std::string> {
      if (i + 1 >= args.size())
        return std::nullopt;
      return args[++i];
    };
    if (flag == "--config") {
      auto v = value();
      if (!v)
        return fail_usage("--config needs a FILE");
      opts.config_path = *v;
    } else if (flag == "--node") {
      auto v = value();
      if (!v)
        return fail_usage("--node needs a NAME");
      opts.node_name = *v;
    } else if (flag == "--http-port") {
      auto v = value();
      uint16_t port = 0;
      if (!v || !parse_port(*v, port))
        return fail_usage("--http-port needs a port number 0..65535");
      opts.http_port = port;
    } else if (flag == "--actor-port") {
      auto v = value();
      uint16_t port = 0;
      if (!v || !parse_port(*v, port))
        return fail_usage("--actor-port needs a port number 0..65535");
      opts.actor_port = port;
    } else if (flag == "--store") {
      auto v = value();
      if (!v)
        return fail_usage("--store needs memory or a redis:// URL");
      opts.store = *v;
    } else {
      return fail_usage("unknown option '" + flag + "' for run");
    }
  }
  config cfg;
  std::string config_text;
  try {
    config_text = read_config_text(opts.config_path);
    cfg = load_config_text(config_text);
  } catch (const config_error& e) {
    std::cerr << "streamb: invalid config " << opts.config_path << ":\n";
    for (auto& p : e.problems())
      std::cerr << "  " << p.path << ": " << p.message << '\n';
    return 1;
  }
  if (auto err = apply_overrides(cfg, opts); !err.empty()) {
    std::cerr << "streamb: " << err << '\n';
    return 2;
  }
  if (auto exposed = exposure_problems(cfg); !exposed.empty()) {
    std::cerr << "streamb: refusing to start:\n";
    for (auto& p : exposed)
      std::cerr << "  " << p.path << ": " << p.message << '\n';
    return 1;
  }
  // Block the stop signals in every thread (the mask is inherited by the
  // threads CAF and httplib start) and take them synchronously below.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  // A client that hangs up mid-response must not kill the node.
  std::signal(SIGPIPE, SIG_IGN);

  caf::actor_system_config sys_cfg;
  register_message_types(sys_cfg);
  sys_cfg.load<caf::io::middleman>();
  caf::actor_system system{sys_cfg};
  node n{system, std::move(cfg)};
  auto port = n.start();
  if (!port) {
    std::cerr << "streamb: cannot start: " << caf::to_string(port.error())
              << '\n';
    n.stop();
    return 1;
  }
  if (auto id = n.record_config(config_text); !id)
    log_warning("main",
                "config version not recorded: " + caf::to_string(id.error()));
  std::printf("streamb node '%s' serving http://%s:%u agents at %s:%u\n",
              n.cfg().node.name.c_str(), n.cfg().node.http.host.c_str(),
              static_cast<unsigned>(*port), n.cfg().node.actor.host.c_str(),
              static_cast<unsigned>(n.actor_port()));
  std::fflush(stdout);
  int sig = 0;
  for (;;) {
    sigwait(&stop_signals, &sig);
    if (sig != SIGHUP)
      break;
    reload(n, opts);
  }
  log_info("main",
           std::string{"received "} + (sig == SIGINT ? "SIGINT" : "SIGTERM")
             + ", stopping");
  n.stop();
  return 0;
}

} // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty())
    return fail_usage("missing command");
  auto cmd = args.front();
  args.erase(args.begin());
  if (cmd == "--help" || cmd == "-h" || cmd == "help") {
    std::cout << usage;
    return 0;
  }
  if (cmd == "--version") {
    std::cout << "streamb " << STREAMB_VERSION << " (CAF 0.17.6, cpp-httplib "
              << "0.11.4, Boost.JSON 1.81)\n";
    return 0;
  }
  if (cmd == "run")
    return run(args);
  if (cmd == "config")
    return config_command(args);
  if (cmd == "check-config")
    return check_config(args);
  if (cmd == "webhook-verify")
    return webhook_verify_command(args);
  if (cmd == "keys")
    return keys_command(args);
  if (cmd == "webhook-secrets")
    return webhook_secrets_command(args);
  if (cmd == "advise-replay")
    return advise_replay_command(args);
  return fail_usage("unknown command '" + cmd + "'");
}
