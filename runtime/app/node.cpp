#include "runtime/app/node.hpp"

#include "bridges/dashboard_view.hpp"
#include "bridges/delivery_endpoint.hpp"
#include "bridges/live_events.hpp"
#include "runtime/core/error_text.hpp"

#include "actors/actor_port.hpp"
#include "actors/advisor.hpp"
#include "actors/agent_gateway.hpp"
#include "actors/budget_controller.hpp"
#include "actors/cluster_member.hpp"
#include "actors/coordination_hub.hpp"
#include "actors/credential_keeper.hpp"
#include "actors/housekeeper.hpp"
#include "actors/service_monitor.hpp"
#include "actors/service_router.hpp"
#include "actors/store_actor.hpp"
#include "actors/webhook_processor.hpp"
#include "bridges/ask.hpp"
#include "bridges/http_bridge.hpp"
#include "runtime/config/config_diff.hpp"
#include "runtime/config/config_versions.hpp"
#include "runtime/core/audit.hpp"
#include "runtime/core/crypto.hpp"
#include "runtime/core/log.hpp"
#include "runtime/core/wall_time.hpp"
#include "runtime/store/memory_backend.hpp"
#include "runtime/store/redis_backend.hpp"
#include "runtime/webhooks/webhook_queue.hpp"

#include <caf/actor_system.hpp>
#include <caf/io/publish.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/send.hpp>

#include <chrono>
#include <thread>

namespace streamb {

node::node(caf::actor_system& system, config cfg)
  : system_(system), context_(std::make_shared<http_context>()) {
  context_->system = &system;
  context_->cfg = std::move(cfg);
  context_->streams = std::make_shared<stream_hub>(
    context_->cfg.node.http.max_subscribers);
  // Two per core: an asker only sends requests and runs short callbacks.
  context_->askers = std::make_shared<asker_pool>(
    system, 2 * std::max(1u, std::thread::hardware_concurrency()));
}

node::~node() {
  stop();
}

caf::expected<uint16_t> node::start() {
  auto& ctx = *context_;
  // Store first: every other component may persist through it. A Redis
  // that is down does not stop the start: the node serves what it can,
  // reports "degraded", and the backend reconnects with backoff.
  std::shared_ptr<store::backend> backend;
  if (ctx.cfg.store.kind == "redis") {
    auto& sc = ctx.cfg.store;
    auto opts = store::redis_options_for(sc.url, sc.username, sc.password,
                                         sc.prefix);
    if (!opts)
      return std::move(opts.error());
    store_detail_ = "redis " + opts->host + ":" + std::to_string(opts->port)
      + "/" + std::to_string(opts->db) + " (durable)";
    backend = std::make_shared<store::redis_backend>(std::move(*opts));
  } else {
    store_detail_ = "memory (not durable)";
    backend = std::make_shared<store::memory_backend>(
      store::wall_clock_ms, ctx.cfg.store.memory_max_keys);
  }
  // hiredis blocks on its socket: the Redis store gets a thread of its own.
  // The memory store never blocks and shares the scheduler (measured: a
  // detached actor costs a thread wake-up per request, ~40 µs per webhook).
  if (ctx.cfg.store.kind == "redis")
    store_ = system_.spawn<caf::detached>(store_service, std::move(backend));
  else
    store_ = system_.spawn(store_service, std::move(backend));
  ctx.store = store_;
  // Credentials next: the hub and HTTP check against them.
  ctx.credentials = make_credential_registry(ctx.cfg);
  credential_keeper_settings keeper_settings;
  keeper_settings.node = ctx.cfg.node.name;
  keeper_settings.audit_retention_ms = audit_retention_ms();
  keeper_settings.flush_ms = int64_t{ctx.cfg.auth.audit_interval_s} * 1000;
  keeper_ = system_.spawn(credential_keeper,
                          std::make_shared<const config>(ctx.cfg),
                          keeper_settings, store_, ctx.credentials);
  ctx.keeper = keeper_;
  {
    housekeeper_settings hk;
    hk.node = ctx.cfg.node.name;
    hk.lease_ttl_ms = ctx.cfg.cluster.failover_ms;
    hk.renew_interval = std::chrono::milliseconds{ctx.cfg.cluster.heartbeat_ms};
    hk.sweep_interval = std::chrono::seconds{ctx.cfg.store.sweep_interval_s};
    hk.streams = {{audit_stream, audit_retention_ms()},
                  {webhook_keys::dead,
                   int64_t{ctx.cfg.webhooks.dead_letter_retention_days} * 24
                     * 3600 * 1000}};
    housekeeper_ = system_.spawn(housekeeper, std::move(hk),
                                 lease_token(ctx.cfg.node.name), store_);
  }
  // Agents and HTTP are served once managed credentials are known (until
  // then they are refused as unavailable): wait a little for the first read.
  for (int i = 0; i < 400 && !ctx.credentials->current()->loaded(); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds{5});
  if (!ctx.credentials->current()->loaded())
    log_warning("node",
                "managed credentials not read yet (the store does not "
                "answer): managed keys and token-less agents are refused "
                "until it does");
  for (auto& w : exposure_warnings(ctx.cfg))
    log_warning("node", w);
  monitor_settings settings;
  settings.node = ctx.cfg.node.name;
  settings.snapshot_interval_s = ctx.cfg.metrics.snapshot_interval_s;
  settings.rollup_interval_s = ctx.cfg.metrics.rollup_interval_s;
  settings.retention_h = ctx.cfg.metrics.retention_h;
  settings.observation_days = ctx.cfg.advisor.observation_days;
  settings.persist_interval_s = ctx.cfg.advisor.persist_interval_s;
  // Keep a whole retention period of roll-ups through a store outage.
  settings.max_unwritten_rollups = std::max<std::size_t>(
    1,
    std::size_t{ctx.cfg.metrics.retention_h} * 3600
      / ctx.cfg.metrics.rollup_interval_s);
  // The hub before the services: monitors and budget controllers send it
  // their alerts. It learns the monitors (for agents' call samples) through
  // `routes`, filled below before the hub is published to agents.
  if (ctx.cfg.webhooks.log_deliveries)
    subscriber_ = system_.spawn(log_subscriber, ctx.cfg.node.name);
  auto routes = std::make_shared<service_routes>();
  bool clustered = !ctx.cfg.cluster.nodes.empty();
  if (clustered && ctx.cfg.cluster.find_node(ctx.cfg.node.name) == nullptr)
    return caf::make_error(error_code::invalid_argument,
                           "node '" + ctx.cfg.node.name
                             + "' is not in cluster.nodes: start it with "
                               "--node NAME");
  if (clustered)
    ctx.cluster = std::make_shared<cluster::cluster_state>(
      ctx.cfg.node.name,
      [&] {
        std::vector<std::string> names;
        for (auto& svc : ctx.cfg.services)
          names.push_back(svc.name);
        return names;
      }(),
      ctx.cfg.cluster.secret);
  coordination_hub_settings hub_settings;
  hub_settings.node = ctx.cfg.node.name;
  hub_settings.agents = ctx.cfg.agents;
  hub_settings.audit_retention_ms = audit_retention_ms();
  hub_settings.services = routes;
  hub_settings.fallback = subscriber_;
  hub_settings.credentials = ctx.credentials;
  hub_settings.cluster = ctx.cluster;
  hub_settings.actor_tls = ctx.cfg.node.actor.tls.enabled();
  for (auto& e : ctx.cfg.deliveries.endpoints) {
    auto ep = spawn_delivery_endpoint(
      system_,
      delivery_endpoint_settings{ctx.cfg.node.name, e, audit_retention_ms()},
      store_);
    ctx.endpoints.push_back(ep);
    hub_settings.endpoints.push_back(
      delivery_route{e.name, e.events, e.webhooks, ep});
  }
  hub_ = system_.spawn(coordination_hub, std::move(hub_settings), store_);
  ctx.hub = hub_;
  if (ctx.cluster)
    ctx.cluster->set_local_hub(caf::actor_cast<caf::strong_actor_ptr>(hub_));
  // Published below, once everything it forwards to exists.
  gateway_ = system_.spawn(agent_gateway, hub_, ctx.cluster);
  budget_controller_settings budget_settings;
  budget_settings.node = ctx.cfg.node.name;
  budget_settings.audit_retention_ms = audit_retention_ms();
  budget_settings.events = hub_;
  // A service's actors: here, at the start, or (in a cluster) when this
  // node becomes its owner.
  auto start_service = [this, settings, budget_settings](std::size_t i) {
    auto& ctx = *context_;
    auto& svc = ctx.cfg.services[i];
    local_service x;
    x.budget = system_.spawn(budget_controller, svc, budget_settings, store_);
    x.monitor = system_.spawn(service_monitor, svc, settings,
                              alert_sink_actor{hub_}, ctx.backlogs[i], store_,
                              x.budget);
    return x;
  };
  for (auto& svc : ctx.cfg.services) {
    ctx.service_names.push_back(svc.name);
    ctx.backlogs.push_back(
      std::make_shared<ingest_backlog>(ctx.cfg.metrics.max_queued_samples));
  }
  if (!clustered) {
    for (std::size_t i = 0; i < ctx.service_names.size(); ++i) {
      auto x = start_service(i);
      ctx.monitors.push_back(x.monitor);
      ctx.budgets.push_back(x.budget);
    }
  } else {
    // Everything here talks to routers; the member points them at each
    // service's owner, on this node or a peer.
    cluster_member_settings member;
    member.self = ctx.cfg.node.name;
    member.cluster = ctx.cfg.cluster;
    member.services = ctx.service_names;
    member.start_service = start_service;
    member.state = ctx.cluster;
    member.actor_tls = ctx.cfg.node.actor.tls.enabled();
    member.own_gateway = caf::actor_cast<caf::strong_actor_ptr>(gateway_);
    member.hub = hub_;
    for (std::size_t i = 0; i < ctx.service_names.size(); ++i) {
      member.monitor_routers.push_back(
        system_.spawn(service_router, ctx.service_names[i], ctx.backlogs[i]));
      member.budget_routers.push_back(
        system_.spawn(service_router, ctx.service_names[i], nullptr));
      ctx.monitors.push_back(
        caf::actor_cast<service_monitor_actor>(member.monitor_routers.back()));
      ctx.budgets.push_back(
        caf::actor_cast<budget_controller_actor>(member.budget_routers.back()));
    }
    member_ = system_.spawn(cluster_member, std::move(member));
    ctx.cluster->on_peer_gateway = [to = caf::actor_cast<caf::actor_addr>(
                                      member_)](const std::string& peer,
                                                caf::strong_actor_ptr gw) {
      if (auto m = caf::actor_cast<caf::actor>(to))
        caf::anon_send(m, peer_atom_v, peer, std::move(gw));
    };
  }
  routes->names = ctx.service_names;
  routes->monitors = ctx.monitors;
  routes->backlogs = ctx.backlogs;
  advisor_settings advice;
  advice.node = ctx.cfg.node.name;
  advice.advice = ctx.cfg.advisor;
  advice.audit_retention_ms = audit_retention_ms();
  ctx.advisor = system_.spawn(advisor, ctx.service_names, ctx.monitors,
                              ctx.budgets, std::move(advice), store_);
  webhook_processor_settings wh;
  wh.node = ctx.cfg.node.name;
  wh.delivery = ctx.cfg.webhooks;
  wh.audit_retention_ms = audit_retention_ms();
  for (auto& svc : ctx.cfg.services)
    if (svc.webhook) {
      wh.dedup_ttl_ms[svc.name] = static_cast<int64_t>(svc.webhook->dedup_ttl_s)
        * 1000;
      wh.critical_types[svc.name] = svc.webhook->critical_types;
    }
  ctx.webhooks = system_.spawn(webhook_processor, std::move(wh), store_,
                               webhook_subscriber_actor{hub_});
  ctx.readiness = [this] { return readiness(); };
  live_events_ = system_.spawn(live_events, http_context_ptr{context_});
  caf::anon_send(hub_, observe_atom_v, live_events_);
  started_ = true;
  // Agents connect here; the port is bound before HTTP starts so that a
  // node that cannot take it fails its start instead of running deaf.
  auto& actor = ctx.cfg.node.actor;
  auto published = publish_gateway(gateway_, actor.host, actor.port,
                                   actor.tls.enabled());
  if (!published)
    return caf::make_error(error_code::unavailable,
                           "cannot publish the coordination hub on "
                             + actor.host + ":" + std::to_string(actor.port)
                             + ": " + error_text(published.error()));
  ctx.actor_port = *published;
  caf::anon_send(hub_, gateway_atom_v, gateway_, actor.host, ctx.actor_port);
  log_info("node",
           "agents connect to " + actor.host + ":"
             + std::to_string(ctx.actor_port));
  http_ = system_.spawn<caf::detached>(http_bridge, context_);
  caf::expected<uint16_t> port{caf::make_error(error_code::unavailable)};
  caf::scoped_actor self{system_};
  self->request(http_, std::chrono::seconds{10}, start_atom_v)
    .receive([&](uint16_t p) { port = p; },
             [&](caf::error& err) { port = std::move(err); });
  if (port) {
    dashboard_ = system_.spawn(
      dashboard_publisher, http_context_ptr{context_},
      std::chrono::seconds{ctx.cfg.metrics.dashboard_interval_s});
    log_info("node",
             "node '" + ctx.cfg.node.name + "' started "
               + (member_ ? std::string{"as a cluster member (services "
                                        "run where cluster.placement puts "
                                        "them)"}
                          : std::to_string(ctx.monitors.size())
                      + " service monitors"));
  }
  return port;
}

caf::expected<std::string> node::record_config(const std::string& text) {
  auto& cfg = context_->cfg;
  audit_record started;
  started.at_ms = epoch_ms_now();
  started.node = cfg.node.name;
  started.who = "node";
  started.action = "node.start";
  started.subject = cfg.node.name;
  started.outcome = "ok";
  started.detail = "config sha256 " + sha256_hex(text) + ", store "
    + store_detail_;
  return record_version(text, std::move(started));
}

caf::expected<std::string> node::record_version(const std::string& text,
                                                audit_record audit) {
  auto now = audit.at_ms;
  auto& cfg = context_->cfg;
  // One batch: the version and the audit record land together.
  write_ops ops{
    store::write_op::make_xadd(config_versions_stream,
                               config_version_fields(cfg.node.name, text, now)),
    audit_write(audit, audit_retention_ms())};
  caf::expected<std::string> result{caf::make_error(error_code::unavailable)};
  caf::scoped_actor self{system_};
  self->request(store_, std::chrono::seconds{5}, write_atom_v, std::move(ops))
    .receive(
      [&](write_results& rs) {
        if (rs.size() != 2)
          result = caf::make_error(error_code::store_error,
                                   "unexpected reply to the config write");
        else if (rs[0].error)
          result = std::move(rs[0].error);
        else if (rs[1].error)
          result = std::move(rs[1].error);
        else
          result = std::move(rs[0].text);
      },
      [&](caf::error& err) { result = std::move(err); });
  return result;
}

std::vector<std::string> node::reload(config next, const std::string& text,
                                      const std::string& who) {
  auto& ctx = *context_;
  auto needs_restart = restart_only_changes(ctx.cfg, next);
  for (auto& x : needs_restart)
    log_warning("node",
                "config reload: " + x + " needs a restart; not applied");
  auto next_ptr = std::make_shared<const config>(std::move(next));
  caf::scoped_actor self{system_};
  auto on_error = [&](const std::string& what) {
    return [&, what](caf::error& err) {
      log_warning("node",
                  "config reload of " + what + " failed: " + error_text(err));
    };
  };
  std::vector<std::string> applied;
  self->request(keeper_, std::chrono::seconds{5}, reload_atom_v, next_ptr, who)
    .receive([&](bool) { applied.push_back("credentials"); },
             on_error("credentials"));
  for (std::size_t i = 0; i < ctx.service_names.size(); ++i) {
    auto svc = next_ptr->find_service(ctx.service_names[i]);
    if (svc == nullptr)
      continue;
    auto svc_ptr = std::make_shared<const service_config>(*svc);
    self
      ->request(ctx.budgets[i], std::chrono::seconds{5}, reconfig_atom_v,
                svc_ptr, who)
      .receive(
        [&](bool changed) {
          if (changed)
            applied.push_back("budget_controller/" + svc->name);
        },
        on_error("budget_controller/" + svc->name));
    self
      ->request(ctx.monitors[i], std::chrono::seconds{5}, reconfig_atom_v,
                svc_ptr, who)
      .receive(
        [&](bool changed) {
          if (changed)
            applied.push_back("service_monitor/" + svc->name);
        },
        on_error("service_monitor/" + svc->name));
  }
  audit_record x;
  x.at_ms = epoch_ms_now();
  x.node = ctx.cfg.node.name;
  x.who = who;
  x.action = "config.reload";
  x.subject = ctx.cfg.node.name;
  x.outcome = "ok";
  x.detail = "config sha256 " + sha256_hex(text) + "; applied to";
  for (auto& a : applied)
    x.detail += " " + a;
  if (!needs_restart.empty()) {
    x.detail += "; needs a restart:";
    for (auto& r : needs_restart)
      x.detail += " " + r;
  }
  if (auto id = record_version(text, std::move(x)); !id)
    log_warning("node",
                "config reload not recorded: " + error_text(id.error()));
  log_info("node",
           "config reloaded (" + std::to_string(applied.size())
             + " components changed)");
  return needs_restart;
}

void node::audit_refused_reload(const std::string& problems) {
  audit_record x;
  x.at_ms = epoch_ms_now();
  x.node = context_->cfg.node.name;
  x.who = "signal:SIGHUP";
  x.action = "config.reload";
  x.subject = context_->cfg.node.name;
  x.outcome = "invalid";
  x.detail = problems.substr(0, 2000);
  caf::anon_send(store_, write_atom_v,
                 write_ops{audit_write(x, audit_retention_ms())});
}

int64_t node::audit_retention_ms() const {
  return int64_t{context_->cfg.store.audit_retention_days} * 24 * 3600 * 1000;
}

void node::stop() {
  if (!started_) {
    // A start that failed half-way: the askers must not hold the actor
    // system open.
    context_->askers->stop();
    return;
  }
  started_ = false;
  caf::scoped_actor self{system_};
  // HTTP first, and all of it (requests in flight get the grace period,
  // route threads are joined): no new work arrives while the actors wind
  // down, and no answer is sent after they stopped.
  if (http_) {
    auto grace = context_->cfg.node.http.shutdown_grace_s;
    self->request(http_, std::chrono::seconds{grace + 10}, stop_atom_v)
      .receive([](bool) {},
               [](caf::error& err) {
                 log_warning("node", "HTTP stop: " + error_text(err));
               });
    self->send_exit(http_, caf::exit_reason::user_shutdown);
  }
  // No route asks any more, nor does the dashboard's timer.
  if (dashboard_)
    caf::anon_send_exit(dashboard_, caf::exit_reason::user_shutdown);
  if (live_events_)
    caf::anon_send_exit(live_events_, caf::exit_reason::user_shutdown);
  context_->askers->stop();
  // The current roll-up period and any the store refused earlier: a clean
  // stop loses no history while the store is reachable. Ask all, then wait.
  auto& ctx = *context_;
  using flush_handle = decltype(self->request(
    ctx.monitors[0], std::chrono::seconds{5}, flush_atom_v));
  std::vector<flush_handle> flushes;
  for (auto& m : ctx.monitors)
    flushes.push_back(self->request(m, std::chrono::seconds{5}, flush_atom_v));
  for (std::size_t i = 0; i < flushes.size(); ++i)
    flushes[i].receive(
      [&](bool stored) {
        if (!stored)
          log_warning("node",
                      "history of " + ctx.service_names[i]
                        + " not stored at stop: the store refused");
      },
      [&](caf::error& err) {
        log_warning("node",
                    "history of " + ctx.service_names[i]
                      + " not stored at stop: " + error_text(err));
      });
  // Last-used times and refusals not yet written.
  self->request(keeper_, std::chrono::seconds{2}, flush_atom_v)
    .receive([](bool) {},
             [](caf::error& err) {
               log_warning(
                 "node", "key activity not stored at stop: " + error_text(err));
             });
  audit_record stopped;
  stopped.at_ms = epoch_ms_now();
  stopped.node = ctx.cfg.node.name;
  stopped.who = "node";
  stopped.action = "node.stop";
  stopped.subject = ctx.cfg.node.name;
  stopped.outcome = "ok";
  self
    ->request(store_, std::chrono::seconds{2}, write_atom_v,
              write_ops{audit_write(stopped, audit_retention_ms())})
    .receive([](write_results&) {},
             [](caf::error& err) {
               log_warning("node",
                           "audit record of the stop not stored: "
                             + error_text(err));
             });
  // In a cluster the member stops this node's service actors with it.
  if (member_)
    self->send_exit(member_, caf::exit_reason::user_shutdown);
  for (auto& m : context_->monitors)
    self->send_exit(m, caf::exit_reason::user_shutdown);
  self->send_exit(ctx.advisor, caf::exit_reason::user_shutdown);
  for (auto& b : ctx.budgets)
    self->send_exit(b, caf::exit_reason::user_shutdown);
  self->send_exit(ctx.webhooks, caf::exit_reason::user_shutdown);
  // The gateway ends with the hub (it ignores exit messages: peers could
  // send those).
  self->send_exit(hub_, caf::exit_reason::user_shutdown);
  for (auto& e : ctx.endpoints)
    self->send_exit(e, caf::exit_reason::user_shutdown);
  if (subscriber_)
    self->send_exit(subscriber_, caf::exit_reason::user_shutdown);
  self->send_exit(keeper_, caf::exit_reason::user_shutdown);
  self->send_exit(housekeeper_, caf::exit_reason::user_shutdown);
  // Store last: the actors above may still write while they wind down.
  self->send_exit(store_, caf::exit_reason::user_shutdown);
  http_ = nullptr;
  log_info("node", "node '" + context_->cfg.node.name + "' stopped");
}

readiness_report node::readiness() const {
  readiness_report report;
  report.ready = started_;
  caf::scoped_actor self{system_};
  auto& ctx = *context_;
  // Every component answers a high-priority ping: a busy mailbox does not
  // delay it, a stuck or dead actor shows up as "down".
  // An unreachable store only degrades the node: ingest and metrics work
  // without it, durable writes fail to their callers.
  auto probe = [&](auto handle, std::string name, std::string detail) {
    component_health c{std::move(name), health_state::ok, std::move(detail)};
    self
      ->request<caf::message_priority::high>(handle, std::chrono::seconds{2},
                                             ping_atom_v)
      .receive([](bool) {},
               [&](caf::error& err) {
                 auto reason = error_text(err);
                 c.detail += c.detail.empty() ? reason : ": " + reason;
                 if (err == caf::make_error(error_code::store_unavailable)) {
                   c.status = health_state::degraded;
                   report.degraded = true;
                 } else {
                   c.status = health_state::down;
                   report.ready = false;
                 }
               });
    report.components.push_back(std::move(c));
  };
  probe(store_, "store", store_detail_);
  {
    std::string line;
    self->request(housekeeper_, std::chrono::seconds{2}, lease_atom_v)
      .receive([&](bool, std::string& x) { line = std::move(x); },
               [&](caf::error& err) { line = error_text(err); });
    probe(housekeeper_, "housekeeping", std::move(line));
  }
  {
    std::string why;
    auto box = auth::secret_box::from_environment(why);
    probe(keeper_, "credentials",
          box ? std::string{"managed webhook secrets on"} : why);
  }
  probe(ctx.webhooks, "webhook_processor", "");
  probe(hub_, "coordination_hub",
        ctx.actor_port == 0 ? std::string{"not published"}
                            : "agents at " + ctx.cfg.node.actor.host + ":"
            + std::to_string(ctx.actor_port));
  for (std::size_t i = 0; i < ctx.monitors.size(); ++i) {
    std::string where;
    if (ctx.cluster) {
      auto owner = ctx.cluster->owner(i);
      where = owner.node.empty() ? "no owner" : "on " + owner.node;
    }
    probe(ctx.monitors[i], "service_monitor/" + ctx.service_names[i], where);
    probe(ctx.budgets[i], "budget_controller/" + ctx.service_names[i], where);
  }
  // A peer that is down degrades this node (its services move here or to
  // another peer); it does not make this node unready.
  if (ctx.cluster)
    for (auto& p : ctx.cluster->peers()) {
      component_health c{"peer/" + p.name, health_state::ok, {}};
      if (p.alive) {
        c.detail = p.owns.empty() ? "up, owns nothing" : "up, owns " + [&] {
          std::string xs;
          for (auto& x : p.owns)
            xs += (xs.empty() ? "" : ", ") + x;
          return xs;
        }();
      } else {
        c.status = health_state::degraded;
        report.degraded = true;
        c.detail = "unreachable for "
          + std::to_string((epoch_ms_now() - p.down_since_ms) / 1000)
          + " s: " + (p.last_error.empty() ? "not seen yet" : p.last_error);
      }
      report.components.push_back(std::move(c));
    }
  return report;
}

} // namespace streamb
