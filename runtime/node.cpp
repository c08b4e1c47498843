#include "runtime/node.hpp"

#include "actors/service_monitor.hpp"
#include "actors/store_actor.hpp"
#include "bridges/http_bridge.hpp"
#include "runtime/config_versions.hpp"
#include "runtime/log.hpp"
#include "runtime/store/memory_backend.hpp"
#include "runtime/store/redis_backend.hpp"
#include "runtime/wall_time.hpp"

#include <caf/actor_system.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/send.hpp>

namespace streamb {

node::node(caf::actor_system& system, config cfg)
  : system_(system), context_(std::make_shared<http_context>()) {
  context_->system = &system;
  context_->cfg = std::move(cfg);
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
    auto opts = store::parse_redis_url(ctx.cfg.store.url);
    if (!opts)
      return std::move(opts.error());
    opts->prefix = ctx.cfg.store.prefix;
    store_detail_ = "redis " + opts->host + ":" + std::to_string(opts->port)
      + "/" + std::to_string(opts->db) + " (durable)";
    backend = std::make_shared<store::redis_backend>(std::move(*opts));
  } else {
    store_detail_ = "memory (not durable)";
    backend = std::make_shared<store::memory_backend>();
  }
  store_ = system_.spawn<caf::detached>(store_service, std::move(backend));
  for (auto& svc : ctx.cfg.services) {
    ctx.service_names.push_back(svc.name);
    auto backlog = std::make_shared<ingest_backlog>(
      ctx.cfg.metrics.max_queued_samples);
    ctx.backlogs.push_back(backlog);
    ctx.monitors.push_back(system_.spawn(service_monitor, svc,
                                         ctx.cfg.metrics.snapshot_interval_s,
                                         alert_sink_actor{}, backlog));
  }
  ctx.readiness = [this] { return readiness(); };
  http_ = system_.spawn<caf::detached>(http_bridge, context_);
  started_ = true;
  caf::expected<uint16_t> port{caf::make_error(error_code::unavailable)};
  caf::scoped_actor self{system_};
  self->request(http_, std::chrono::seconds{10}, start_atom_v)
    .receive([&](uint16_t p) { port = p; },
             [&](caf::error& err) { port = std::move(err); });
  if (port)
    log_info("node",
             "node '" + ctx.cfg.node.name + "' started "
               + std::to_string(ctx.monitors.size()) + " service monitors");
  return port;
}

caf::expected<std::string> node::record_config(const std::string& text) {
  caf::expected<std::string> result{caf::make_error(error_code::unavailable)};
  caf::scoped_actor self{system_};
  self
    ->request(store_, std::chrono::seconds{5}, xadd_atom_v,
              std::string{config_versions_stream},
              config_version_fields(context_->cfg.node.name, text,
                                    epoch_ms_now()),
              store::stream_trim{})
    .receive([&](std::string& id) { result = std::move(id); },
             [&](caf::error& err) { result = std::move(err); });
  return result;
}

void node::stop() {
  if (!started_)
    return;
  started_ = false;
  caf::scoped_actor self{system_};
  // HTTP first: no new work arrives while the actors wind down.
  self->request(http_, std::chrono::seconds{10}, stop_atom_v)
    .receive([](bool) {},
             [](caf::error& err) {
               log_warning("node", "HTTP stop: " + caf::to_string(err));
             });
  self->send_exit(http_, caf::exit_reason::user_shutdown);
  for (auto& m : context_->monitors)
    self->send_exit(m, caf::exit_reason::user_shutdown);
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
    component_health c{std::move(name), "ok", std::move(detail)};
    self
      ->request<caf::message_priority::high>(handle, std::chrono::seconds{2},
                                             ping_atom_v)
      .receive([](bool) {},
               [&](caf::error& err) {
                 auto reason = err.context().empty()
                   ? caf::to_string(err)
                   : caf::to_string(err.context());
                 c.detail += c.detail.empty() ? reason : ": " + reason;
                 if (err == caf::make_error(error_code::store_unavailable)) {
                   c.status = "degraded";
                   report.degraded = true;
                 } else {
                   c.status = "down";
                   report.ready = false;
                 }
               });
    report.components.push_back(std::move(c));
  };
  probe(store_, "store", store_detail_);
  for (std::size_t i = 0; i < ctx.monitors.size(); ++i)
    probe(ctx.monitors[i], "service_monitor/" + ctx.service_names[i], "");
  return report;
}

} // namespace streamb
