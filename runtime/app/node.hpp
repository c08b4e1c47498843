#pragma once

#include <caf/actor.hpp>

// One streamb node: spawns this node's actors from the config, starts them
// in order (actors, then HTTP) and stops them in reverse (HTTP first).

#include "bridges/http_context.hpp"
#include "runtime/config/config.hpp"
#include "runtime/core/audit.hpp"
#include "runtime/messages.hpp"

#include <caf/expected.hpp>
#include <caf/fwd.hpp>

#include <memory>
#include <string>
#include <vector>

namespace streamb {

class node {
public:
  node(caf::actor_system& system, config cfg);
  ~node();

  node(const node&) = delete;
  node& operator=(const node&) = delete;

  /// Spawns the actors and starts HTTP; returns the bound HTTP port.
  caf::expected<uint16_t> start();

  /// Appends `text`, the config file this node started with, to the config
  /// history in the store; returns the entry's id. Fails (and the caller
  /// logs it) when the store is unreachable: a node does not refuse to start
  /// for its history.
  caf::expected<std::string> record_config(const std::string& text);

  /// Applies a new config (SIGHUP): keys, agent token and webhook secrets,
  /// each service's budget, limits, alerts and cost model. `text` is the
  /// file as on disk (recorded as a config version, audited with `who`).
  /// Changes that need a restart are logged and returned; the rest apply.
  std::vector<std::string> reload(config next, const std::string& text,
                                  const std::string& who);

  /// Audits a reload that was refused (a bad file) with its problems.
  void audit_refused_reload(const std::string& problems);

  /// Stops HTTP (requests in flight finish), then the actors. Idempotent.
  void stop();

  const config& cfg() const noexcept {
    return context_->cfg;
  }

  /// The coordination hub (for embedding and benchmarks); null before start.
  coordination_hub_actor hub() const noexcept {
    return hub_;
  }

  /// The HTTP delivery endpoints, in config order.
  const std::vector<delivery_endpoint_actor>& endpoints() const noexcept {
    return context_->endpoints;
  }

  /// The port agents connect to (the coordination hub's); 0 before start.
  uint16_t actor_port() const noexcept {
    return context_->actor_port;
  }

private:
  readiness_report readiness() const;

  int64_t audit_retention_ms() const;

  /// Appends `text` as a config version with the audit record `audit`.
  caf::expected<std::string> record_version(const std::string& text,
                                            audit_record audit);

  caf::actor_system& system_;
  credential_keeper_actor keeper_;
  /// Runs the singleton jobs while this node holds the lease.
  housekeeper_actor housekeeper_;
  std::shared_ptr<http_context> context_;
  store_actor store_;
  webhook_subscriber_actor subscriber_;
  coordination_hub_actor hub_;
  coordination_gateway_actor gateway_;
  std::string store_detail_;
  http_bridge_actor http_;
  /// Pushes the dashboard to the live streams.
  caf::actor dashboard_;
  /// Hears the hub's events, agent changes and findings for the streams.
  hub_observer_actor live_events_;
  /// This node's part in the cluster; null outside one.
  caf::actor member_;
  bool started_ = false;
};

} // namespace streamb
