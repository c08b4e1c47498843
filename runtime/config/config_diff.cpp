#include "runtime/config/config_diff.hpp"

#include <charconv>
#include <tuple>

namespace streamb {

namespace {

std::string show(double x) {
  // Shortest text that reads back as x: 25 -> "25", 0.05 -> "0.05".
  char buf[32];
  auto res = std::to_chars(buf, buf + sizeof(buf), x);
  return std::string(buf, res.ptr);
}

std::string show(bool x) {
  return x ? "true" : "false";
}

std::string show(uint32_t x) {
  return std::to_string(x);
}

std::string show(uint64_t x) {
  return std::to_string(x);
}

std::string show(const std::vector<uint32_t>& xs) {
  std::string out = "[";
  for (auto x : xs) {
    if (out.size() > 1)
      out += ", ";
    out += std::to_string(x);
  }
  return out + "]";
}

std::string show(const std::string& x) {
  return x.empty() ? "\"\"" : x;
}

std::string show(const std::vector<std::string>& xs) {
  std::string out = "[";
  for (auto& x : xs) {
    if (out.size() > 1)
      out += ", ";
    out += x;
  }
  return out + "]";
}

/// Appends "key before -> after" for every field that differs.
class change_list {
public:
  explicit change_list(std::vector<std::string>& out) : out_(out) {
    // nop
  }

  template <class T>
  void operator()(const char* key, const T& before, const T& after) {
    if (!(before == after))
      add(key, show(before), show(after));
  }

  void add(const std::string& key, const std::string& before,
           const std::string& after) {
    out_.push_back(key + " " + before + " -> " + after);
  }

private:
  std::vector<std::string>& out_;
};

std::string show_secrets(const std::vector<std::string>& xs) {
  return "<" + std::to_string(xs.size())
    + (xs.size() == 1 ? " secret>" : " secrets>");
}

std::string show_critical_types(const webhook_config& x) {
  return x.critical_types_set ? show(x.critical_types) : "<scheme default>";
}

void webhook_changes(change_list& diff, const webhook_config& a,
                     const webhook_config& b) {
  diff("webhook.scheme", a.scheme, b.scheme);
  // The values are secret; a change of any of them is still a change.
  if (a.secrets != b.secrets)
    diff.add("webhook.secrets", show_secrets(a.secrets),
             show_secrets(b.secrets));
  diff("webhook.tolerance_s", a.tolerance_s, b.tolerance_s);
  if (a.critical_types_set != b.critical_types_set
      || a.critical_types != b.critical_types)
    diff.add("webhook.critical_types", show_critical_types(a),
             show_critical_types(b));
  diff("webhook.dedup_ttl_s", a.dedup_ttl_s, b.dedup_ttl_s);
  diff("webhook.max_body_bytes", a.max_body_bytes, b.max_body_bytes);
}

/// Appends `key` when `before` and `after` differ.
class key_list {
public:
  key_list(std::vector<std::string>& out, std::string prefix)
    : out_(out), prefix_(std::move(prefix)) {
    // nop
  }

  template <class T>
  void operator()(const char* key, const T& before, const T& after) {
    if (!(before == after))
      out_.push_back(prefix_ + key);
  }

private:
  std::vector<std::string>& out_;
  std::string prefix_;
};

auto fields(const delivery_endpoint_config& x) {
  return std::tie(x.name, x.url, x.events, x.webhooks, x.secret, x.timeout_s,
                  x.ca_file, x.retry_delays_s, x.max_in_flight, x.max_queued);
}

bool same_endpoints(const std::vector<delivery_endpoint_config>& a,
                    const std::vector<delivery_endpoint_config>& b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(),
                    [](auto& x, auto& y) { return fields(x) == fields(y); });
}

auto fields(const cluster_node_config& x) {
  return std::tie(x.name, x.host, x.actor_port, x.http_port);
}

bool same_nodes(const std::vector<cluster_node_config>& a,
                const std::vector<cluster_node_config>& b) {
  if (a.size() != b.size())
    return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (fields(a[i]) != fields(b[i]))
      return false;
  return true;
}

std::vector<std::string> service_names(const config& cfg) {
  std::vector<std::string> names;
  for (auto& svc : cfg.services)
    names.push_back(svc.name);
  return names;
}

} // namespace

std::vector<std::string> service_changes(const service_config& a,
                                         const service_config& b) {
  std::vector<std::string> out;
  change_list diff{out};
  diff("name", a.name, b.name);
  diff("batching.endpoints", a.batching.endpoints, b.batching.endpoints);
  diff("batching.window_ms", a.batching.window_ms, b.batching.window_ms);
  diff("budget_usd_month", a.budget_usd_month, b.budget_usd_month);
  diff("hard_cap", a.hard_cap, b.hard_cap);
  diff("cost.per_call_usd", a.cost.per_call_usd, b.cost.per_call_usd);
  diff("cost.per_unit_usd", a.cost.per_unit_usd, b.cost.per_unit_usd);
  diff("cost.unit", a.cost.unit, b.cost.unit);
  auto& la = a.limits;
  auto& lb = b.limits;
  diff("limits.burst.capacity", la.burst.capacity, lb.burst.capacity);
  diff("limits.burst.refill_per_s", la.burst.refill_per_s,
       lb.burst.refill_per_s);
  diff("limits.sustained.limit", la.sustained.limit, lb.sustained.limit);
  diff("limits.sustained.window_s", la.sustained.window_s,
       lb.sustained.window_s);
  diff("limits.daily.limit", la.daily.limit, lb.daily.limit);
  diff("limits.daily.time_zone", la.daily.time_zone, lb.daily.time_zone);
  diff("limits.reserved_share", la.reserved_share, lb.reserved_share);
  diff("alerts.p95_ms", a.alerts.p95_ms, b.alerts.p95_ms);
  diff("alerts.error_rate", a.alerts.error_rate, b.alerts.error_rate);
  diff("alerts.min_calls", a.alerts.min_calls, b.alerts.min_calls);
  diff("alerts.clear_ratio", a.alerts.clear_ratio, b.alerts.clear_ratio);
  diff("alerts.escalate_after_s", a.alerts.escalate_after_s,
       b.alerts.escalate_after_s);
  diff("alerts.anomaly_sigmas", a.alerts.anomaly_sigmas,
       b.alerts.anomaly_sigmas);
  diff("alerts.anomaly_min_observations", a.alerts.anomaly_min_observations,
       b.alerts.anomaly_min_observations);
  diff("alert_levels_bp", a.alert_levels_bp, b.alert_levels_bp);
  diff("throttle_bp", a.throttle_bp, b.throttle_bp);
  diff("breaker.error_rate", a.breaker.error_rate, b.breaker.error_rate);
  diff("breaker.min_calls", a.breaker.min_calls, b.breaker.min_calls);
  diff("breaker.open_s", a.breaker.open_s, b.breaker.open_s);
  diff("breaker.half_open_probes", a.breaker.half_open_probes,
       b.breaker.half_open_probes);
  if (a.webhook && b.webhook)
    webhook_changes(diff, *a.webhook, *b.webhook);
  else if (a.webhook || b.webhook)
    diff.add("webhook", a.webhook ? a.webhook->scheme : "none",
             b.webhook ? b.webhook->scheme : "none");
  return out;
}

std::string join_changes(const std::vector<std::string>& changes) {
  std::string out;
  for (auto& x : changes) {
    if (!out.empty())
      out += ", ";
    out += x;
  }
  return out;
}

// A field added to config.hpp needs a line here, or a reload silently
// ignores its change.
std::vector<std::string> restart_only_changes(const config& a,
                                              const config& b) {
  std::vector<std::string> out;
  {
    key_list diff{out, "node."};
    auto &x = a.node, &y = b.node;
    diff("name", x.name, y.name);
    diff("http.host", x.http.host, y.http.host);
    diff("http.port", x.http.port, y.http.port);
    diff("http.public_url", x.http.public_url, y.http.public_url);
    diff("http.max_body_bytes", x.http.max_body_bytes, y.http.max_body_bytes);
    diff("http.io_threads", x.http.io_threads, y.http.io_threads);
    diff("http.threads", x.http.threads, y.http.threads);
    diff("http.max_queued_requests", x.http.max_queued_requests,
         y.http.max_queued_requests);
    diff("http.max_connections", x.http.max_connections,
         y.http.max_connections);
    diff("http.max_header_bytes", x.http.max_header_bytes,
         y.http.max_header_bytes);
    diff("http.backlog", x.http.backlog, y.http.backlog);
    diff("http.keep_alive_max_count", x.http.keep_alive_max_count,
         y.http.keep_alive_max_count);
    diff("http.keep_alive_timeout_s", x.http.keep_alive_timeout_s,
         y.http.keep_alive_timeout_s);
    diff("http.head_timeout_s", x.http.head_timeout_s, y.http.head_timeout_s);
    diff("http.body_timeout_s", x.http.body_timeout_s, y.http.body_timeout_s);
    diff("http.write_timeout_s", x.http.write_timeout_s,
         y.http.write_timeout_s);
    diff("http.shutdown_grace_s", x.http.shutdown_grace_s,
         y.http.shutdown_grace_s);
    diff("http.max_subscribers", x.http.max_subscribers,
         y.http.max_subscribers);
    diff("http.access_log", x.http.access_log, y.http.access_log);
    diff("http.stream_queue_bytes", x.http.stream_queue_bytes,
         y.http.stream_queue_bytes);
    diff("http.ws_max_message_bytes", x.http.ws_max_message_bytes,
         y.http.ws_max_message_bytes);
    diff("http.stream_keep_alive_s", x.http.stream_keep_alive_s,
         y.http.stream_keep_alive_s);
    diff("http.tls.cert_file", x.http.tls.cert_file, y.http.tls.cert_file);
    diff("http.tls.key_file", x.http.tls.key_file, y.http.tls.key_file);
    diff("actor.host", x.actor.host, y.actor.host);
    diff("actor.port", x.actor.port, y.actor.port);
    diff("actor.allow_plaintext_remote", x.actor.allow_plaintext_remote,
         y.actor.allow_plaintext_remote);
    diff("actor.tls.cert_file", x.actor.tls.cert_file, y.actor.tls.cert_file);
    diff("actor.tls.key_file", x.actor.tls.key_file, y.actor.tls.key_file);
    diff("actor.tls.ca_file", x.actor.tls.ca_file, y.actor.tls.ca_file);
  }
  {
    key_list diff{out, "store."};
    auto &x = a.store, &y = b.store;
    diff("kind", x.kind, y.kind);
    diff("url", x.url, y.url);
    diff("prefix", x.prefix, y.prefix);
    diff("audit_retention_days", x.audit_retention_days,
         y.audit_retention_days);
    diff("memory_max_keys", x.memory_max_keys, y.memory_max_keys);
    diff("sweep_interval_s", x.sweep_interval_s, y.sweep_interval_s);
  }
  {
    key_list diff{out, "metrics."};
    auto &x = a.metrics, &y = b.metrics;
    diff("snapshot_interval_s", x.snapshot_interval_s, y.snapshot_interval_s);
    diff("dashboard_interval_s", x.dashboard_interval_s,
         y.dashboard_interval_s);
    diff("retention_h", x.retention_h, y.retention_h);
    diff("rollup_interval_s", x.rollup_interval_s, y.rollup_interval_s);
    diff("max_queued_samples", x.max_queued_samples, y.max_queued_samples);
  }
  {
    // Keys, open_reads and allow_unauthenticated apply live; the keeper's
    // flush timer is set at start.
    key_list diff{out, "auth."};
    diff("audit_interval_s", a.auth.audit_interval_s, b.auth.audit_interval_s);
  }
  {
    // token_sha256 is left out: the credential keeper applies it live.
    key_list diff{out, "agents."};
    auto &x = a.agents, &y = b.agents;
    diff("heartbeat_interval_s", x.heartbeat_interval_s,
         y.heartbeat_interval_s);
    diff("missed_heartbeats", x.missed_heartbeats, y.missed_heartbeats);
    diff("require_token", x.require_token, y.require_token);
    diff("response_timeout_s", x.response_timeout_s, y.response_timeout_s);
    diff("response_timeouts_s", x.response_timeouts_s, y.response_timeouts_s);
    diff("max_attempts", x.max_attempts, y.max_attempts);
    diff("max_in_flight", x.max_in_flight, y.max_in_flight);
    diff("undeliverable_after_s", x.undeliverable_after_s,
         y.undeliverable_after_s);
    diff("event_retention_h", x.event_retention_h, y.event_retention_h);
    diff("max_open_events", x.max_open_events, y.max_open_events);
    diff("max_open_payload_bytes", x.max_open_payload_bytes,
         y.max_open_payload_bytes);
    diff("max_finished_payload_bytes", x.max_finished_payload_bytes,
         y.max_finished_payload_bytes);
    diff("expected", x.expected, y.expected);
    diff("max_websocket_agents", x.max_websocket_agents,
         y.max_websocket_agents);
  }
  {
    key_list diff{out, "webhooks."};
    auto &x = a.webhooks, &y = b.webhooks;
    diff("retry_delays_s", x.retry_delays_s, y.retry_delays_s);
    diff("delivery_timeout_s", x.delivery_timeout_s, y.delivery_timeout_s);
    diff("max_in_flight", x.max_in_flight, y.max_in_flight);
    diff("claim_idle_s", x.claim_idle_s, y.claim_idle_s);
    diff("queue_retention_h", x.queue_retention_h, y.queue_retention_h);
    diff("dead_letter_retention_days", x.dead_letter_retention_days,
         y.dead_letter_retention_days);
    diff("log_deliveries", x.log_deliveries, y.log_deliveries);
  }
  // Each endpoint's actor and senders are made at start.
  if (!same_endpoints(a.deliveries.endpoints, b.deliveries.endpoints))
    out.emplace_back("deliveries.endpoints");
  {
    // The advisor and the monitors' history writers are set up at start.
    key_list diff{out, "advisor."};
    auto &x = a.advisor, &y = b.advisor;
    diff("observation_days", x.observation_days, y.observation_days);
    diff("headroom", x.headroom, y.headroom);
    diff("min_confidence", x.min_confidence, y.min_confidence);
    diff("persist_interval_s", x.persist_interval_s, y.persist_interval_s);
  }
  // Each service has its actors and routes from the start: adding, removing
  // or reordering services needs a restart; the settings of a kept service
  // apply live except how its webhooks are received.
  if (service_names(a) != service_names(b))
    out.emplace_back("services");
  for (auto& x : a.services) {
    auto y = b.find_service(x.name);
    if (y == nullptr)
      continue;
    auto prefix = "services." + x.name + ".";
    {
      // The learned baselines are built with these at start.
      key_list diff{out, prefix + "alerts."};
      diff("anomaly_sigmas", x.alerts.anomaly_sigmas, y->alerts.anomaly_sigmas);
      diff("anomaly_min_observations", x.alerts.anomaly_min_observations,
           y->alerts.anomaly_min_observations);
    }
    if (x.webhook.has_value() != y->webhook.has_value()) {
      out.push_back(prefix + "webhook");
    } else if (x.webhook) {
      key_list diff{out, prefix + "webhook."};
      diff("scheme", x.webhook->scheme, y->webhook->scheme);
      diff("max_body_bytes", x.webhook->max_body_bytes,
           y->webhook->max_body_bytes);
      diff("dedup_ttl_s", x.webhook->dedup_ttl_s, y->webhook->dedup_ttl_s);
      // The webhook route prepares these once; secrets apply live.
      diff("tolerance_s", x.webhook->tolerance_s, y->webhook->tolerance_s);
      if (x.webhook->critical_types_set != y->webhook->critical_types_set
          || x.webhook->critical_types != y->webhook->critical_types)
        out.push_back(prefix + "webhook.critical_types");
    }
  }
  if (!same_nodes(a.cluster.nodes, b.cluster.nodes))
    out.emplace_back("cluster.nodes");
  if (a.cluster.placement != b.cluster.placement)
    out.emplace_back("cluster.placement");
  {
    key_list diff{out, "cluster."};
    auto &x = a.cluster, &y = b.cluster;
    // The secret's name only: the list goes to the log and the audit.
    diff("secret", x.secret, y.secret);
    diff("failover_ms", x.failover_ms, y.failover_ms);
    diff("heartbeat_ms", x.heartbeat_ms, y.heartbeat_ms);
    diff("failback", x.failback, y.failback);
  }
  return out;
}

} // namespace streamb
