#include "runtime/app/run_cli.hpp"

#include "runtime/app/config_path.hpp"
#include "runtime/app/node.hpp"
#include "runtime/app/scheduler_tuning.hpp"
#include "runtime/config/config.hpp"
#include "runtime/core/error_text.hpp"
#include "runtime/core/log.hpp"
#include "runtime/core/log_format.hpp"
#include "runtime/messages.hpp"
#include "runtime/store/redis_backend.hpp"

#include <caf/actor_system.hpp>
#include "actors/actor_port.hpp"

#include <caf/actor_system_config.hpp>
#include <caf/io/middleman.hpp>

#include <sys/resource.h>
#include <systemd/sd-daemon.h>

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <iostream>
#include <memory>
#include <optional>
#include <string>

namespace streamb {

namespace {

/// Each connection is a descriptor: the usual soft limit of 1024 would cap
/// the node far below node.http.max_connections. Raise the soft limit up to
/// the hard one, and say so when even that is too low.
void raise_descriptor_limit(uint32_t max_connections) {
  rlimit lim{};
  if (getrlimit(RLIMIT_NOFILE, &lim) != 0)
    return;
  if (lim.rlim_cur < lim.rlim_max) {
    lim.rlim_cur = lim.rlim_max;
    setrlimit(RLIMIT_NOFILE, &lim);
    getrlimit(RLIMIT_NOFILE, &lim);
  }
  // Room for the store, the actor port, agents and log files.
  constexpr rlim_t spare = 256;
  if (lim.rlim_cur != RLIM_INFINITY && lim.rlim_cur < max_connections + spare)
    log_warning("http",
                "the descriptor limit (" + std::to_string(lim.rlim_cur)
                  + ") is below node.http.max_connections ("
                  + std::to_string(max_connections)
                  + ") + 256: raise it (ulimit -n, LimitNOFILE=)");
}

/// The command line of `run`; every value overrides the config file's.
struct run_options {
  std::string config_path = default_config_path();
  std::optional<std::string> node_name;
  std::optional<uint16_t> http_port;
  std::optional<uint16_t> actor_port;
  std::optional<std::string> store;
};

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
  // The config file's URL too: a bad one is the same mistake as a bad flag.
  if (cfg.store.kind == "redis") {
    if (auto opts = store::redis_options_for(cfg.store.url, cfg.store.username,
                                             cfg.store.password,
                                             cfg.store.prefix);
        !opts)
      return "bad store URL: " + caf::to_string(opts.error().context());
  }
  return {};
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

int run_node(const run_options& opts) {
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
    std::cerr << "streamb run: " << err << '\n';
    return cli::usage_exit;
  }
  if (auto exposed = exposure_problems(cfg); !exposed.empty()) {
    std::cerr << "streamb: refusing to start:\n";
    for (auto& p : exposed)
      std::cerr << "  " << p.path << ": " << p.message << '\n';
    return 1;
  }
  // Block the stop signals in every thread (the mask is inherited by the
  // threads CAF and the HTTP server start) and take them synchronously below.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  // A client that hangs up mid-response must not kill the node.
  std::signal(SIGPIPE, SIG_IGN);
  raise_descriptor_limit(cfg.node.http.max_connections);

  caf::actor_system_config sys_cfg;
  register_message_types(sys_cfg);
  sys_cfg.load<caf::io::middleman>();
  configure_actor_tls(sys_cfg, cfg.node.actor.tls);
  tune_scheduler(sys_cfg);
  caf::actor_system system{sys_cfg};
  node n{system, std::move(cfg)};
  auto port = n.start();
  if (!port) {
    std::cerr << "streamb: cannot start: " << error_text(port.error()) << '\n';
    n.stop();
    return 1;
  }
  if (auto id = n.record_config(config_text); !id)
    log_warning("main",
                "config version not recorded: " + error_text(id.error()));
  std::printf("streamb node '%s' serving %s://%s:%u agents at %s:%u\n",
              n.cfg().node.name.c_str(),
              n.cfg().node.http.tls.enabled() ? "https" : "http",
              n.cfg().node.http.host.c_str(), static_cast<unsigned>(*port),
              n.cfg().node.actor.host.c_str(),
              static_cast<unsigned>(n.actor_port()));
  std::fflush(stdout);
  // systemd (Type=notify): the node serves now. Without NOTIFY_SOCKET
  // (not under systemd) these calls do nothing.
  sd_notify(0, "READY=1\nSTATUS=serving");
  int sig = 0;
  for (;;) {
    sigwait(&stop_signals, &sig);
    if (sig != SIGHUP)
      break;
    sd_notify(0, "RELOADING=1");
    reload(n, opts);
    sd_notify(0, "READY=1\nSTATUS=serving");
  }
  sd_notify(0, "STOPPING=1");
  log_info("main",
           std::string{"received "} + (sig == SIGINT ? "SIGINT" : "SIGTERM")
             + ", stopping");
  n.stop();
  return 0;
}

/// "memory" or a redis:// URL the store can use.
const CLI::Validator& store_url() {
  static const CLI::Validator validator{
    [](std::string& text) -> std::string {
      if (text == "memory")
        return {};
      if (text.rfind("redis://", 0) != 0)
        return "must be \"memory\" or a redis:// URL";
      auto opts = store::parse_redis_url(text);
      if (!opts) {
        auto& ctx = opts.error().context();
        return ctx.match_elements<std::string>()
          ? ctx.get_as<std::string>(0)
          : "bad store URL: " + error_text(opts.error());
      }
      return {};
    },
    ""};
  return validator;
}

} // namespace

void add_run_command(cli::program& p) {
  auto opts = std::make_shared<run_options>();
  auto& cmd = p.add_command(p.app(), "run", "start a node");
  cmd
    .add_option("--config", opts->config_path,
                "config file (default: $STREAMB_CONFIG, else "
                "/etc/streamb/streamb.json if it exists, else "
                "config/streamb.json)")
    ->type_name("FILE")
    ->capture_default_str();
  cmd
    .add_option("--node", opts->node_name,
                "this node's name (picks its entry in cluster.nodes)")
    ->type_name("NAME");
  cmd
    .add_option("--http-port", opts->http_port,
                "HTTP port, overrides the config (0 picks a free port)")
    ->type_name("N")
    ->check(cli::port_number());
  cmd
    .add_option("--actor-port", opts->actor_port,
                "the port agents connect to (node.actor.port; 0 picks one)")
    ->type_name("N")
    ->check(cli::port_number());
  cmd
    .add_option("--store", opts->store,
                "\"memory\" or a redis://host:port/db URL, overrides the "
                "config")
    ->type_name("URL")
    ->check(store_url());
  cmd.footer(
    "Prints \"streamb node 'NAME' serving http[s]://HOST:PORT agents at "
    "HOST:PORT\" once it\n"
    "listens. Stops cleanly on SIGINT or SIGTERM (exit 0); SIGHUP "
    "reloads the config\n"
    "file (keys, secrets, budgets, limits, alerts; a bad file "
    "changes nothing).\n"
    "Exit 1: invalid config or cannot start (a port in use); exit "
    "2: usage error.");
  auto level = std::make_shared<std::string>("info");
  auto format = std::make_shared<std::string>("text");
  cmd
    .add_option("--log-level", *level,
                "debug, info, warning or error: lines below it are dropped")
    ->type_name("LEVEL")
    ->envname("STREAMB_LOG_LEVEL")
    ->check(CLI::IsMember({"debug", "info", "warning", "warn", "error"}))
    ->capture_default_str();
  cmd
    .add_option("--log-format", *format,
                "text (for people) or json (one object per line, for log "
                "shippers)")
    ->type_name("FORMAT")
    ->envname("STREAMB_LOG_FORMAT")
    ->check(CLI::IsMember({"text", "json"}))
    ->capture_default_str();
  p.on_run(cmd, [opts, level, format] {
    // Validated by CLI11 above.
    set_log_level(parse_log_level(*level).value_or(log_level::info));
    set_log_format(parse_log_format(*format).value_or(log_format::text));
    return run_node(*opts);
  });
}

} // namespace streamb
