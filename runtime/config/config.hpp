#pragma once

// The node's configuration: parsed from JSON once, validated, then const.
// Every key of the file maps to a field here; see README "Config keys".

#include <cstdint>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace streamb {

/// One problem found while loading a config, located by its JSON path
/// (e.g. `$.services.stripe.budget_usd_month`).
struct config_problem {
  std::string path;
  std::string message;
};

/// Thrown by `load_config*` with every problem found, not only the first.
class config_error : public std::runtime_error {
public:
  explicit config_error(std::vector<config_problem> problems);
  const std::vector<config_problem>& problems() const noexcept {
    return problems_;
  }

private:
  std::vector<config_problem> problems_;
};

/// TLS on the HTTP listener, for operators without a reverse proxy in
/// front: PEM files, read at start.
struct http_tls_config {
  std::string cert_file; // the certificate chain, leaf first
  std::string key_file;
  bool enabled() const {
    return !cert_file.empty();
  }
};

struct http_config {
  std::string host = "127.0.0.1";
  uint16_t port = 8080;
  std::string public_url; // what providers call; Twilio signs it
  uint64_t max_body_bytes = 8 * 1024 * 1024;
  /// Threads serving connections; 0: one per core.
  uint32_t io_threads = 0;
  /// Threads running route handlers (which may wait for actors).
  uint32_t threads = 64;
  /// Requests waiting for a route thread; past it: 503.
  uint32_t max_queued_requests = 4096;
  /// Open connections; past it: 503 and close.
  uint32_t max_connections = 10000;
  /// One log line per request: method, route, status, duration, key id.
  bool access_log = false;
  /// Request line and headers; past it: 431.
  uint32_t max_header_bytes = 16 * 1024;
  uint32_t backlog = 1024;
  uint32_t keep_alive_max_count = 100000;
  uint32_t keep_alive_timeout_s = 30;
  /// From a request's first byte to the end of its head.
  uint32_t head_timeout_s = 10;
  /// From the end of the head to the end of the body.
  uint32_t body_timeout_s = 30;
  uint32_t write_timeout_s = 10;
  /// On stop, how long requests in flight may take to finish.
  uint32_t shutdown_grace_s = 5;
  /// SSE and WebSocket subscribers, all routes together; past it: 503.
  uint32_t max_subscribers = 10000;
  /// Bytes queued for one subscriber; one that falls this far behind is
  /// dropped (WebSocket close code 1013) and counted.
  uint32_t stream_queue_bytes = 1 << 20;
  /// Largest message a WebSocket client may send.
  uint32_t ws_max_message_bytes = 64 * 1024;
  /// A silent WebSocket is pinged after this long and closed after twice
  /// this long without an answer; SSE streams get a comment line.
  uint32_t stream_keep_alive_s = 15;
  /// Absent: plain HTTP.
  http_tls_config tls;
};

/// Mutual TLS on the actor port (caf_openssl): this node's certificate and
/// key, and the CA every peer's and agent's certificate must be signed by.
struct actor_tls_config {
  std::string cert_file;
  std::string key_file;
  std::string ca_file;
  bool enabled() const {
    return !cert_file.empty();
  }
};

struct actor_endpoint_config {
  std::string host = "127.0.0.1";
  uint16_t port = 4242;
  /// With it, a connection that does not present a certificate signed by
  /// ca_file is closed in the TLS handshake, before CAF reads a byte of
  /// BASP (which reserves what a header claims, up to 4 GiB).
  actor_tls_config tls;
  /// Without TLS, off loopback the node refuses to start unless this says
  /// the network is trusted.
  bool allow_plaintext_remote = false;
};

struct node_config {
  std::string name = "local";
  http_config http;
  actor_endpoint_config actor;
};

struct store_config {
  std::string kind = "memory"; // "memory" | "redis"
  std::string url;             // redis://host:port/db when kind == "redis"
  /// AUTH credentials, when not in the URL: the password usually as
  /// "${env:NAME}" (no escaping needed, never in the file). Never logged.
  std::string username;
  std::string password;
  std::string prefix = "streamb:";
  /// Audit records older than this are trimmed from the audit stream.
  uint32_t audit_retention_days = 90;
  /// How often the node that holds the housekeeping lease trims the shared
  /// streams (audit, dead letters) to their retention.
  uint32_t sweep_interval_s = 300;
  /// Keys the memory store holds at most (webhook ids, events, records);
  /// past it writes that add a key fail with `capacity` (webhooks: 429).
  uint32_t memory_max_keys = 200000;
};

struct metrics_config {
  uint32_t snapshot_interval_s = 15;
  uint32_t dashboard_interval_s = 5;
  uint32_t retention_h = 24;
  /// Length of one metric-history roll-up (aligned to the wall clock).
  uint32_t rollup_interval_s = 60;
  /// Samples accepted but not yet processed by one service's monitor; past
  /// it POST /api/v1/calls waits for the monitor, and after 2 s answers 503
  /// with Retry-After, instead of letting the mailbox grow without bound.
  uint64_t max_queued_samples = 100000;
};

/// A bootstrap API key: its SHA-256, never the key.
struct auth_token_config {
  std::string name;
  std::string sha256; // hex of SHA-256 of the bearer token
  std::string role;   // viewer | reporter | operator | admin
};

struct auth_config {
  std::vector<auth_token_config> tokens;
  /// Viewer routes (GETs) answer requests without a key. Off unless the
  /// file says so (the embedded default config, on loopback, does).
  bool open_reads = false;
  /// Every route answers requests without a key (as admin). For a node on
  /// loopback during development; warned about at every start.
  bool allow_unauthenticated = false;
  /// Refused requests are audited as one record per key and reason per
  /// this interval (a flood of bad keys cannot fill the store).
  uint32_t audit_interval_s = 60;
};

struct agents_config {
  uint32_t heartbeat_interval_s = 5;
  uint32_t missed_heartbeats = 3;
  /// Hex SHA-256 of the registration token; empty: no token needed (the
  /// actor port binds loopback by default).
  std::string token_sha256;
  /// Registrations need a token even when only managed agent keys (in the
  /// store) exist; lets an actor port off loopback start without
  /// token_sha256.
  bool require_token = false;
  /// How long a delivery waits for the agent's answer, unless the event's
  /// type has its own entry in response_timeouts_s.
  uint32_t response_timeout_s = 10;
  std::map<std::string, uint32_t> response_timeouts_s;
  /// Deliveries of one event to one role (or agent) before it fails.
  uint32_t max_attempts = 3;
  /// Deliveries in flight to one agent at once; more wait in the hub.
  uint32_t max_in_flight = 8;
  /// An event that finds no live agent for this long fails as no_agent.
  uint32_t undeliverable_after_s = 300;
  /// Outcomes of finished events are kept this long in the store.
  uint32_t event_retention_h = 24;
  /// Events open at once (sent, not finished); past it send-event is 429.
  uint32_t max_open_events = 10000;
  /// Their payload bytes together; past it send-event is 429.
  uint64_t max_open_payload_bytes = 64ull << 20;
  /// Payload bytes of the finished events the hub answers from memory
  /// (older ones are read from the store).
  uint64_t max_finished_payload_bytes = 64ull << 20;
  /// The agents that should be connected: an agent name, or "role:R" for
  /// any agent of role R. Status and health list who is missing.
  std::vector<std::string> expected;
  /// Agents connected over WebSocket at once; past it the upgrade is 503.
  uint32_t max_websocket_agents = 1000;
  /// Of those, at most this many opened with one key (agent key, ticket of
  /// one, or the agents.token_sha256 token): one leaked key cannot take
  /// every slot.
  uint32_t max_websocket_agents_per_key = 200;
};

struct cost_config {
  double per_call_usd = 0.0;
  double per_unit_usd = 0.0;
  std::string
    unit; // e.g. "sms_segment", "email", "map_element"; empty: per call
};

struct burst_limit_config {
  double capacity = 0;     // tokens
  double refill_per_s = 0; // tokens per second
};

struct sustained_limit_config {
  uint64_t limit = 0;
  uint32_t window_s = 60;
};

struct daily_limit_config {
  uint64_t limit = 0;
  std::string time_zone = "UTC";
};

struct limits_config {
  burst_limit_config burst;
  sustained_limit_config sustained;
  daily_limit_config daily;
  /// Share of each tier that normal and low priority may not use: headroom
  /// kept for critical and high.
  double reserved_share = 0.2;
};

struct alerts_config {
  double p95_ms = 1000;     // alert when the 5 m window's p95 exceeds this
  double error_rate = 0.05; // alert when the 5 m error rate exceeds this
  uint32_t min_calls = 20;  // no error-rate alert on fewer calls than this
  double clear_ratio = 0.8; // hysteresis: clear below threshold * clear_ratio
  /// An alert still open this long (seconds since raised) goes from normal
  /// to high priority, then to critical; empty: never escalates.
  std::vector<uint32_t> escalate_after_s{900, 3600};
  /// Anomaly alerts: p95 and error rate outside mean +- sigmas * deviation
  /// learned for the hour of day (UTC); 0 turns them off.
  double anomaly_sigmas = 3;
  /// Snapshots an hour-of-day slot must have seen before it judges.
  uint32_t anomaly_min_observations = 40;
};

struct breaker_config {
  double error_rate = 0.5;
  uint32_t min_calls = 20;
  uint32_t open_s = 30;
  uint32_t half_open_probes = 3;
};

struct webhook_config {
  std::string
    scheme; // stripe | twilio | sendgrid | samsara | airtable | standard
  std::vector<std::string> secrets;
  uint32_t tolerance_s = 300;
  /// Event types handled first; when absent, the scheme's defaults (Stripe:
  /// payment failures and disputes; Samsara: alert incidents and severe
  /// speeding).
  std::vector<std::string> critical_types;
  bool critical_types_set = false;
  uint64_t dedup_ttl_s = 604800;
  /// Larger webhook bodies get 413.
  uint64_t max_body_bytes = 1024 * 1024;
};

/// How every service's webhooks are delivered after they are stored.
struct webhooks_config {
  /// The wait before each retry; full jitter picks uniformly in (0, delay].
  /// Its length is the number of retries: 7 retries + the first try.
  std::vector<uint32_t> retry_delays_s{5, 30, 150, 750, 3600, 14400, 36000};
  /// A delivery that gets no answer in this time counts as failed.
  uint32_t delivery_timeout_s = 30;
  /// Deliveries in flight to the subscriber at once.
  uint32_t max_in_flight = 16;
  /// Entries another consumer (a node that died) left unacknowledged this
  /// long are claimed.
  uint32_t claim_idle_s = 300;
  /// Queue entries are trimmed after this; longer than the retry schedule.
  /// A webhook no consumer took by then is dead-lettered.
  uint32_t queue_retention_h = 48;
  /// Dead letters are kept this long for replay, then swept.
  uint32_t dead_letter_retention_days = 30;
  /// Prints every webhook no agent or endpoint takes as a JSON line on
  /// stdout and counts it delivered: a debugging aid, not a consumer.
  bool log_deliveries = false;
};

/// An HTTP endpoint that takes coordination events and verified webhooks,
/// signed with the Standard Webhooks scheme (bridges/delivery_endpoint).
struct delivery_endpoint_config {
  std::string name;
  std::string url; // http:// or https://, checked at start
  /// Coordination event types it takes.
  std::vector<std::string> events;
  /// Services whose verified provider webhooks it takes.
  std::vector<std::string> webhooks;
  /// "whsec_" + base64 (or base64): receivers verify with it.
  std::string secret;
  uint32_t timeout_s = 10;
  /// https: a PEM file of the CAs to trust instead of the system's (a
  /// private CA). The endpoint's certificate is always verified.
  std::string ca_file;
  /// The wait before each retry (full jitter); then a dead letter.
  std::vector<uint32_t> retry_delays_s{5, 30, 120, 600, 1800, 3600};
  /// Requests to the endpoint at once (its own threads).
  uint32_t max_in_flight = 4;
  /// Messages waiting for it; past it, new ones are refused (webhooks stay
  /// in the webhook queue and are offered again).
  uint32_t max_queued = 10000;
};

struct deliveries_config {
  std::vector<delivery_endpoint_config> endpoints;
};

/// Endpoints that accept several items per call (SendGrid's mail send with
/// personalizations, Airtable's record batches): calls to them closer than
/// `window_ms` count as a batching opportunity.
struct batching_config {
  std::vector<std::string> endpoints; // prefixes of the sample's endpoint
  uint32_t window_ms = 1000;
};

struct service_config {
  std::string name;
  batching_config batching;
  double budget_usd_month = 0;
  bool hard_cap = false;
  /// Budget alert levels in basis points (from `alert_levels_percent`);
  /// the throttle level and 100 % are always reported too.
  std::vector<uint32_t> alert_levels_bp{7500, 9000};
  /// Spend at which normal, high and low priority are refused.
  uint32_t throttle_bp = 9500;
  cost_config cost;
  limits_config limits;
  alerts_config alerts;
  breaker_config breaker;
  std::optional<webhook_config> webhook;
};

struct cluster_node_config {
  std::string name;
  std::string host = "127.0.0.1";
  uint16_t actor_port = 4242;
  uint16_t http_port = 8080;
};

struct cluster_config {
  std::vector<cluster_node_config> nodes;
  /// service -> the nodes that may own it, in order of preference: the
  /// first live one runs its monitor and budget controller.
  std::map<std::string, std::vector<std::string>> placement;
  /// What a peer presents to learn this node's services (compared as
  /// SHA-256, constant-time); required with nodes.
  std::string secret;
  /// A service moves to the next node of its placement once every node
  /// before it has been unreachable this long.
  uint32_t failover_ms = 3000;
  /// How often a node asks each peer what it owns (also its heartbeat).
  uint32_t heartbeat_ms = 500;
  /// A service moves back to an earlier node of its placement when that
  /// node returns (off: it stays where it is until its owner goes).
  bool failback = false;

  /// The node `name`'s entry, or nullptr.
  const cluster_node_config* find_node(const std::string& name) const;
};

/// How the advisor judges and how cost/optimize applies its advice.
struct advisor_config {
  /// Traffic history the advice rests on; shorter history lowers the
  /// confidence in proportion.
  uint32_t observation_days = 7;
  /// A limit is never lowered below the observed peak demand of its period
  /// times this.
  double headroom = 1.5;
  /// cost/optimize applies only recommendations at least this confident.
  double min_confidence = 0.8;
  /// How often each monitor writes its traffic history to the store.
  uint32_t persist_interval_s = 60;
};

/// The whole configuration. `services` keeps the order of the file.
struct config {
  node_config node;
  store_config store;
  metrics_config metrics;
  auth_config auth;
  agents_config agents;
  webhooks_config webhooks;
  deliveries_config deliveries;
  advisor_config advisor;
  std::vector<service_config> services;
  cluster_config cluster;

  /// Returns the service named `name`, or nullptr.
  const service_config* find_service(const std::string& name) const;
};

/// Parses and validates JSON text. `${env:NAME}` in any string value is
/// replaced from the environment. Throws `config_error` listing every problem.
config load_config_text(const std::string& json_text);

/// Reads a whole config file as it is on disk (before `${env:...}`
/// substitution). Throws `config_error` with path `$` when it cannot.
std::string read_config_text(const std::string& path);

/// Settings that would expose the node: an HTTP listener off loopback with
/// no auth.tokens (and no auth.allow_unauthenticated), an actor port off
/// loopback with no agent token. A node refuses to start with any of them;
/// check-config reports them.
std::vector<config_problem> exposure_problems(const config& cfg);

/// Settings that are allowed but worth a word at every start and in
/// check-config: every route open (allow_unauthenticated), or reads open to
/// a listener off loopback.
std::vector<std::string> exposure_warnings(const config& cfg);

/// Whether `host` is a loopback address (127.0.0.0/8, ::1, localhost).
bool is_loopback_host(const std::string& host);

/// Reads `path` and calls `load_config_text`. A file that cannot be read is a
/// `config_error` with path `$`.
config load_config_file(const std::string& path);

} // namespace streamb
