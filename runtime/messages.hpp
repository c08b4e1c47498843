#pragma once

// The one contract between streamb's actors: every atom, message struct and
// typed actor interface. Types are registered once in messages.cpp.

#include "runtime/advice/vocabulary.hpp"
#include "runtime/auth/records.hpp"
#include "runtime/budget/budget_state.hpp"
#include "runtime/budget/circuit_breaker.hpp"
#include "runtime/budget/denial_reason.hpp"
#include "runtime/budget/limit_tier.hpp"
#include "runtime/budget/priority.hpp"
#include "runtime/config/config.hpp"
#include "runtime/coordination/event_states.hpp"
#include "runtime/coordination/event_types.hpp"
#include "runtime/core/error_code.hpp"
#include "runtime/metrics/alert_vocabulary.hpp"
#include "runtime/metrics/call_totals.hpp"
#include "runtime/store/store_backend.hpp"
#include "runtime/webhooks/accept_reply.hpp"
#include "runtime/webhooks/rejection.hpp"

#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/atom.hpp>
#include <caf/fwd.hpp>
#include <caf/meta/type_name.hpp>
#include <caf/replies_to.hpp>
#include <caf/type_id.hpp>
#include <caf/typed_actor.hpp>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

// -- atoms (at most 10 characters; CAF's own get/put/ok/tick/... not reused) --

CAF_ADD_ATOM(streamb, streamb, record_atom, "record")
CAF_ADD_ATOM(streamb, streamb, metrics_atom, "metrics")
CAF_ADD_ATOM(streamb, streamb, totals_atom, "totals")
CAF_ADD_ATOM(streamb, streamb, snapshot_atom, "snapshot")
CAF_ADD_ATOM(streamb, streamb, alerts_atom, "alerts")
CAF_ADD_ATOM(streamb, streamb, ping_atom, "ping")
CAF_ADD_ATOM(streamb, streamb, key_new_atom, "key_new")
CAF_ADD_ATOM(streamb, streamb, key_list_atom, "key_list")
CAF_ADD_ATOM(streamb, streamb, key_rotate_atom, "key_rotate")
CAF_ADD_ATOM(streamb, streamb, key_revoke_atom, "key_revoke")
CAF_ADD_ATOM(streamb, streamb, secret_add_atom, "secret_add")
CAF_ADD_ATOM(streamb, streamb, secrets_atom, "secrets")
CAF_ADD_ATOM(streamb, streamb, retire_atom, "retire")
CAF_ADD_ATOM(streamb, streamb, auth_poll_atom, "auth_poll")
CAF_ADD_ATOM(streamb, streamb, auth_flush_atom, "auth_flush")
CAF_ADD_ATOM(streamb, streamb, reload_atom, "reload")
CAF_ADD_ATOM(streamb, streamb, start_atom, "start")
CAF_ADD_ATOM(streamb, streamb, stop_atom, "stop")
CAF_ADD_ATOM(streamb, streamb, kv_get_atom, "kv_get")
CAF_ADD_ATOM(streamb, streamb, kv_set_atom, "kv_set")
CAF_ADD_ATOM(streamb, streamb, kv_setnx_atom, "kv_setnx")
CAF_ADD_ATOM(streamb, streamb, incr_atom, "incr")
CAF_ADD_ATOM(streamb, streamb, xadd_atom, "xadd")
CAF_ADD_ATOM(streamb, streamb, xrange_atom, "xrange")
CAF_ADD_ATOM(streamb, streamb, xgroup_atom, "xgroup")
CAF_ADD_ATOM(streamb, streamb, xreadgroup_atom, "xreadgroup")
CAF_ADD_ATOM(streamb, streamb, xack_atom, "xack")
CAF_ADD_ATOM(streamb, streamb, xautoclaim_atom, "xautoclaim")
CAF_ADD_ATOM(streamb, streamb, write_atom, "write")
CAF_ADD_ATOM(streamb, streamb, hgetall_atom, "hgetall")
CAF_ADD_ATOM(streamb, streamb, xrevrange_atom, "xrevrange")
CAF_ADD_ATOM(streamb, streamb, rollup_atom, "rollup")
CAF_ADD_ATOM(streamb, streamb, flush_atom, "flush")
CAF_ADD_ATOM(streamb, streamb, wh_accept_atom, "wh_accept")
CAF_ADD_ATOM(streamb, streamb, wh_reject_atom, "wh_reject")
CAF_ADD_ATOM(streamb, streamb, wh_poll_atom, "wh_poll")
CAF_ADD_ATOM(streamb, streamb, wh_retry_atom, "wh_retry")
CAF_ADD_ATOM(streamb, streamb, wh_stats_atom, "wh_stats")
CAF_ADD_ATOM(streamb, streamb, wh_dead_atom, "wh_dead")
CAF_ADD_ATOM(streamb, streamb, wh_replay_atom, "wh_replay")
CAF_ADD_ATOM(streamb, streamb, deliver_atom, "deliver")
CAF_ADD_ATOM(streamb, streamb, xpending_atom, "xpending")
CAF_ADD_ATOM(streamb, streamb, admit_atom, "admit")
CAF_ADD_ATOM(streamb, streamb, spend_atom, "spend")
CAF_ADD_ATOM(streamb, streamb, budget_atom, "budget")
CAF_ADD_ATOM(streamb, streamb, override_atom, "override")
CAF_ADD_ATOM(streamb, streamb, btick_atom, "btick")
CAF_ADD_ATOM(streamb, streamb, profile_atom, "profile")
CAF_ADD_ATOM(streamb, streamb, set_limit_atom, "set_limit")
CAF_ADD_ATOM(streamb, streamb, advise_atom, "advise")
CAF_ADD_ATOM(streamb, streamb, optimize_atom, "optimize")
CAF_ADD_ATOM(streamb, streamb, undo_atom, "undo")
CAF_ADD_ATOM(streamb, streamb, changes_atom, "changes")
CAF_ADD_ATOM(streamb, streamb, persist_atom, "persist")
CAF_ADD_ATOM(streamb, streamb, agent_reg_atom, "agent_reg")
CAF_ADD_ATOM(streamb, streamb, heartbeat_atom, "heartbeat")
CAF_ADD_ATOM(streamb, streamb, assign_atom, "assign")
CAF_ADD_ATOM(streamb, streamb, publish_atom, "publish")
CAF_ADD_ATOM(streamb, streamb, agents_atom, "agents")
CAF_ADD_ATOM(streamb, streamb, event_atom, "event")
CAF_ADD_ATOM(streamb, streamb, hub_tick_atom, "hub_tick")
CAF_ADD_ATOM(streamb, streamb, recover_atom, "recover")
CAF_ADD_ATOM(streamb, streamb, respond_atom, "respond")
CAF_ADD_ATOM(streamb, streamb, leave_atom, "leave")
CAF_ADD_ATOM(streamb, streamb, gateway_atom, "gateway")
CAF_ADD_ATOM(streamb, streamb, reconfig_atom, "reconfig")
CAF_ADD_ATOM(streamb, streamb, observe_atom, "observe")
CAF_ADD_ATOM(streamb, streamb, finding_atom, "finding")
CAF_ADD_ATOM(streamb, streamb, ws_frame_atom, "ws_frame")
CAF_ADD_ATOM(streamb, streamb, reg_due_atom, "reg_due")
CAF_ADD_ATOM(streamb, streamb, ep_tick_atom, "ep_tick")
CAF_ADD_ATOM(streamb, streamb, cluster_atom, "cluster")
CAF_ADD_ATOM(streamb, streamb, owner_atom, "owner")
CAF_ADD_ATOM(streamb, streamb, peer_atom, "peer")
CAF_ADD_ATOM(streamb, streamb, cl_tick_atom, "cl_tick")
CAF_ADD_ATOM(streamb, streamb, adopt_atom, "adopt")
CAF_ADD_ATOM(streamb, streamb, kv_expif_atom, "kv_expif")
CAF_ADD_ATOM(streamb, streamb, xtrim_atom, "xtrim")
CAF_ADD_ATOM(streamb, streamb, lease_atom, "lease")
CAF_ADD_ATOM(streamb, streamb, hk_tick_atom, "hk_tick")

namespace streamb {

// -- call samples
// ---------------------------------------------------------------

/// How a call ended, from the HTTP status or the transport failure.
enum class status_class : uint8_t {
  ok = 0,       // 1xx-3xx
  client_error, // 4xx other than 429
  rate_limited, // 429
  server_error, // 5xx
  timeout,
  network,
};

constexpr std::size_t status_class_count = 6;

const char* to_string(status_class x);

/// Maps an HTTP status code (100..599) to its class.
status_class classify_http_status(int code);

/// One outbound call to a provider's API, as a client reported it.
struct call_sample {
  std::string endpoint;
  uint64_t latency_us = 0;
  uint16_t http_status = 0; // 0 for timeout and network failures
  status_class outcome = status_class::ok;
  int64_t cost_micros = -1; // -1: not reported, the cost model applies
  bool cache_hit = false;
  int64_t timestamp_ms = 0; // epoch ms when the call was made
  /// Hash of the client's optional `requestKey` (what makes two requests
  /// identical); 0 when not given. The advisor counts repeats of it.
  uint64_t request_key = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, call_sample& x) {
  return f(caf::meta::type_name("call_sample"), x.endpoint, x.latency_us,
           x.http_status, x.outcome, x.cost_micros, x.cache_hit, x.timestamp_ms,
           x.request_key);
}

using call_samples = std::vector<call_sample>;

// -- metrics
// --------------------------------------------------------------------

/// The rolling windows every service_monitor keeps.
enum class metrics_window : uint8_t { one_minute, five_minutes, one_hour };

const char* to_string(metrics_window x);

/// Parses "1m", "5m" or "1h".
bool parse_metrics_window(const std::string& text, metrics_window& out);

/// An alert raised by a service_monitor; cleared with hysteresis.
struct service_alert {
  std::string service;
  alert_metric metric = alert_metric::p95_ms;
  double value = 0;
  double threshold = 0;
  bool active = true; // false: this is the clearing notice
  int64_t since_ms = 0;
  /// For an anomaly, expected_* say the range learned for this hour.
  alert_kind kind = alert_kind::threshold;
  double expected_low = 0;
  double expected_mean = 0;
  double expected_high = 0;
  alert_state state = alert_state::raised;
  budget::priority priority = budget::priority::normal;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, service_alert& x) {
  return f(caf::meta::type_name("service_alert"), x.service, x.metric, x.value,
           x.threshold, x.active, x.since_ms, x.kind, x.expected_low,
           x.expected_mean, x.expected_high, x.state, x.priority);
}

/// One service's metrics over one window: DESIGN.md's APIPerformanceMetrics.
struct service_metrics {
  std::string service;
  metrics_window window = metrics_window::five_minutes;
  double span_s = 0; // seconds the window actually covers
  uint64_t calls = 0;
  // responseTime
  double average_ms = 0;
  double p50_ms = 0;
  double p95_ms = 0;
  double p99_ms = 0;
  std::string trend = "stable"; // improving | stable | degrading
  double trend_change_pct = 0;  // p95 against the previous window
  // throughput
  double requests_per_second = 0;
  double utilization_pct = 0; // against the sustained limit
  // errorRates
  double error_rate = 0;
  std::vector<uint64_t> calls_by_outcome; // indexed by status_class
  uint64_t critical_errors = 0;
  // costMetrics
  int64_t spend_micros = 0; // reported or modelled spend in the window
  double hourly_spend_usd = 0;
  double budget_utilization_pct = 0;
  double projected_cost_usd = 0;
  // optimization
  double cache_hit_ratio = 0;
  uint32_t batching_opportunities = 0;
  std::vector<std::string> recommended_actions;
  std::vector<service_alert> active_alerts;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, service_metrics& x) {
  return f(caf::meta::type_name("service_metrics"), x.service, x.window,
           x.span_s, x.calls, x.average_ms, x.p50_ms, x.p95_ms, x.p99_ms,
           x.trend, x.trend_change_pct, x.requests_per_second,
           x.utilization_pct, x.error_rate, x.calls_by_outcome,
           x.critical_errors, x.spend_micros, x.hourly_spend_usd,
           x.budget_utilization_pct, x.projected_cost_usd, x.cache_hit_ratio,
           x.batching_opportunities, x.recommended_actions, x.active_alerts);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, call_totals& x) {
  return f(caf::meta::type_name("call_totals"), x.service, x.by_outcome,
           x.latency_buckets, x.latency_sum_us, x.spend_micros, x.cache_hits);
}

// -- typed actor interfaces
// -------------------------------------------------------

/// One per service: call samples in, rolling metrics and alerts out.
/// A summary of one service's traffic since `span_s` ago: the advisor's
/// input, counted by the service_monitor (runtime/advice/usage_history.hpp)
/// over the observation window (kept in the store across restarts).
struct usage_profile {
  std::string service;
  double span_s = 0;   // traffic history covered (capped at the window)
  double window_s = 0; // the observation window asked for
  uint64_t calls = 0;
  uint64_t keyed_calls = 0; // calls that carried a requestKey
  /// Different keys among them: a HyperLogLog estimate, with its relative
  /// standard error.
  double distinct_keys = 0;
  double distinct_keys_error = 0;
  uint64_t batchable_calls = 0;
  uint64_t batch_groups = 0; // runs of batchable calls within the window
  uint64_t rate_limited = 0; // 429s
  int64_t spend_micros = 0;
  /// Most calls seen in any span of 1, 60 and 1440 consecutive minutes, and
  /// in any span of the sustained limit's window (an upper bound: the most
  /// calls in ceil(window / 60 s) + 1 consecutive minutes).
  uint64_t peak_minute = 0;
  uint64_t peak_hour = 0;
  uint64_t peak_day = 0;
  uint64_t peak_window = 0;
  uint32_t peak_window_s = 60;
  /// Per full day observed in the window, oldest first (today, partial,
  /// and days before observation began are left out): keyed calls, and
  /// calls batching would have saved. Each saving follows its own trend.
  std::vector<uint64_t> daily_keyed;
  std::vector<uint64_t> daily_batch_saved;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, usage_profile& x) {
  return f(caf::meta::type_name("usage_profile"), x.service, x.span_s,
           x.window_s, x.calls, x.keyed_calls, x.distinct_keys,
           x.distinct_keys_error, x.batchable_calls, x.batch_groups,
           x.rate_limited, x.spend_micros, x.peak_minute, x.peak_hour,
           x.peak_day, x.peak_window, x.peak_window_s, x.daily_keyed,
           x.daily_batch_saved);
}

/// A service's new settings (config reload); local only, never serialized.
using service_config_ptr = std::shared_ptr<const service_config>;

using service_monitor_actor = caf::typed_actor<
  // A batch of samples of this service; fire-and-forget for ingest speed.
  caf::reacts_to<record_atom, call_samples>,
  caf::replies_to<metrics_atom, metrics_window>::with<service_metrics>,
  // Counts since the start, for GET /metrics.
  caf::replies_to<totals_atom>::with<call_totals>,
  // Readiness probe: answers as soon as the mailbox reaches it.
  caf::replies_to<ping_atom>::with<bool>,
  // The periodic snapshot the actor schedules for itself.
  caf::reacts_to<snapshot_atom>,
  // The traffic summary for the advisor.
  caf::replies_to<profile_atom>::with<usage_profile>,
  // The timer that writes the advisor's inputs to the store.
  caf::reacts_to<persist_atom>,
  // The end of a roll-up period, scheduled by the actor itself.
  caf::reacts_to<rollup_atom>,
  // Writes the current partial period and every roll-up not yet stored;
  // true once all are stored, false if the store refused (they are kept).
  caf::replies_to<flush_atom>::with<bool>,
  // New settings of this service, who -> whether anything changed; alert
  // thresholds, cost model and batching apply, windows and history stay.
  caf::replies_to<reconfig_atom, service_config_ptr, std::string>::with<bool>>;

/// Where alerts go: a log now, the coordination hub later.
using alert_sink_actor = caf::typed_actor<
  caf::reacts_to<alerts_atom, service_alert>>;

/// The node's HTTP listener: started and stopped by the node.
using http_bridge_actor = caf::typed_actor<
  caf::replies_to<start_atom>::with<uint16_t>,
  caf::replies_to<stop_atom>::with<bool>>;

// -- store --------------------------------------------------------------------

} // namespace streamb

namespace streamb::store {

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, stream_entry& x) {
  return f(caf::meta::type_name("stream_entry"), x.id, x.fields);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, stream_trim& x) {
  return f(caf::meta::type_name("stream_trim"), x.max_len, x.min_id);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, pending_entry& x) {
  return f(caf::meta::type_name("pending_entry"), x.id, x.consumer, x.idle_ms,
           x.delivery_count);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, write_op& x) {
  return f(caf::meta::type_name("write_op"), x.what, x.key, x.value, x.number,
           x.ttl_ms, x.fields, x.trim);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, write_result& x) {
  return f(caf::meta::type_name("write_result"), x.error, x.integer, x.text);
}

} // namespace streamb::store

namespace streamb {

using stream_entries = std::vector<store::stream_entry>;
using write_ops = std::vector<store::write_op>;
using pending_entries = std::vector<store::pending_entry>;
using write_results = std::vector<store::write_result>;

/// The node's store: one per node, detached because a backend may block
/// (hiredis). Keys are given without the configured prefix. Durable writes
/// fail with error_code::store_unavailable when the backend is unreachable.
using store_actor = caf::typed_actor<
  caf::replies_to<ping_atom>::with<bool>,
  // GET key -> value, or "" with found = false
  caf::replies_to<kv_get_atom, std::string>::with<bool, std::string>,
  // SET key value [PX ttl_ms] (ttl_ms 0: no expiry)
  caf::replies_to<kv_set_atom, std::string, std::string, int64_t>::with<bool>,
  // SET key value NX PX ttl_ms -> whether it was set (idempotency, dedup)
  caf::replies_to<kv_setnx_atom, std::string, std::string, int64_t>::with<bool>,
  // If key holds value: PEXPIRE key ttl_ms (<= 0: DEL) -> whether it did
  caf::replies_to<kv_expif_atom, std::string, std::string, int64_t>::with<bool>,
  // INCRBY key delta (+ expiry when the key had none) -> new value
  caf::replies_to<incr_atom, std::string, int64_t, int64_t>::with<int64_t>,
  // XADD stream [trim] * fields... -> entry id
  caf::replies_to<xadd_atom, std::string, store::field_list,
                  store::stream_trim>::with<std::string>,
  // XRANGE stream start end [COUNT n]
  caf::replies_to<xrange_atom, std::string, std::string, std::string,
                  uint64_t>::with<stream_entries>,
  // XREVRANGE stream end start [COUNT n]: newest first
  caf::replies_to<xrevrange_atom, std::string, std::string, std::string,
                  uint64_t>::with<stream_entries>,
  // HGETALL key -> fields sorted by name; empty when missing
  caf::replies_to<hgetall_atom, std::string>::with<store::field_list>,
  // XGROUP CREATE stream group start MKSTREAM -> false if it existed
  caf::replies_to<xgroup_atom, std::string, std::string,
                  std::string>::with<bool>,
  // XREADGROUP GROUP group consumer COUNT n STREAMS stream >
  caf::replies_to<xreadgroup_atom, std::string, std::string, std::string,
                  uint64_t>::with<stream_entries>,
  // XPENDING stream group - + COUNT n (0: all) -> owner, idle, deliveries
  caf::replies_to<xpending_atom, std::string, std::string,
                  uint64_t>::with<pending_entries>,
  // XACK stream group ids... -> acknowledged count
  caf::replies_to<xack_atom, std::string, std::string,
                  std::vector<std::string>>::with<uint64_t>,
  // XAUTOCLAIM stream group consumer min_idle_ms 0 COUNT n
  caf::replies_to<xautoclaim_atom, std::string, std::string, std::string,
                  int64_t, uint64_t>::with<stream_entries>,
  // XTRIM stream MINID id | MAXLEN n -> entries removed
  caf::replies_to<xtrim_atom, std::string, store::stream_trim>::with<uint64_t>,
  // MULTI op... EXEC in one round trip: several writes at the cost of one
  caf::replies_to<write_atom, write_ops>::with<write_results>>;

// -- webhooks -----------------------------------------------------------------

/// A verified provider event on its way to the subscribers.
struct webhook_event {
  /// "<service>:<provider's event id>": unique across services.
  std::string id;
  std::string service;
  std::string type; // the provider's event type; may be empty
  bool critical = false;
  std::string payload;
  int64_t received_ms = 0;
  /// Deliveries tried so far.
  uint32_t attempts = 0;
  /// The queue stream entry, once stored.
  std::string entry_id;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, webhook_event& x) {
  return f(caf::meta::type_name("webhook_event"), x.id, x.service, x.type,
           x.critical, x.payload, x.received_ms, x.attempts, x.entry_id);
}

using webhook_events = std::vector<webhook_event>;

/// Webhook counters of one service since the node started.
/// What a webhook processor counts per service, as it counts it.
struct webhook_counts {
  uint64_t received = 0;
  uint64_t verified = 0;
  std::map<webhook_rejection, uint64_t> rejected;
  uint64_t duplicates = 0;
  uint64_t critical = 0;
  uint64_t delivered = 0;
  uint64_t retried = 0;
  uint64_t dead_lettered = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, webhook_counts& x) {
  return f(caf::meta::type_name("webhook_counts"), x.received, x.verified,
           x.rejected, x.duplicates, x.critical, x.delivered, x.retried,
           x.dead_lettered);
}

struct webhook_stats {
  std::string service;
  webhook_counts counts;
  uint64_t pending = 0;           // stored, not yet delivered or dead-lettered
  uint64_t awaiting_consumer = 0; // of those, waiting for an agent or endpoint
  double delivery_p50_ms = 0;     // receipt to delivery
  double delivery_p99_ms = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, webhook_stats& x) {
  return f(caf::meta::type_name("webhook_stats"), x.service, x.counts,
           x.pending, x.awaiting_consumer, x.delivery_p50_ms,
           x.delivery_p99_ms);
}

using webhook_stats_list = std::vector<webhook_stats>;

/// Who gets the events: the built-in log subscriber now, the coordination
/// hub later. True: handled. False, an error or no answer within the
/// delivery timeout: the delivery failed and is retried.
/// One verdict per webhook of a batch delivery, in the batch's order: no
/// error = handled; `unsupported`: not tried, send it on its own (see
/// `one_by_one`); `no_consumer`: nothing takes it now, it waits; any other
/// error: not delivered, retried.
using delivery_verdicts = std::vector<caf::error>;

using webhook_subscriber_actor = caf::typed_actor<
  caf::replies_to<deliver_atom, webhook_event>::with<bool>,
  // A batch (one request per batch, not per webhook: the hot path).
  caf::replies_to<deliver_atom, webhook_events>::with<delivery_verdicts>>;

/// Stores verified events (dedup, persist-before-ack), delivers them to the
/// subscriber (critical first), retries with backoff, dead-letters.
using webhook_processor_actor = caf::typed_actor<
  // Dedup and store; one outcome per event, in order.
  caf::replies_to<wh_accept_atom, webhook_events>::with<accept_outcomes>,
  // The same, answered through `accept_reply` (the HTTP route's callback)
  // rather than a response message.
  caf::reacts_to<wh_accept_atom, webhook_events, accept_reply>,
  // A rejected request: service, reason, detail, remote address. The
  // processor counts it, logs it and appends it to the audit trail.
  caf::reacts_to<wh_reject_atom, std::string, webhook_rejection, std::string,
                 std::string>,
  // Timer: read the queues, claim what crashed consumers left.
  caf::reacts_to<wh_poll_atom>,
  // Timer: deliver this event again.
  caf::reacts_to<wh_retry_atom, webhook_event>,
  caf::replies_to<wh_stats_atom>::with<webhook_stats_list>,
  // Dead letters not yet replayed, of one service ("" for all).
  caf::replies_to<wh_dead_atom, std::string>::with<stream_entries>,
  // Replays one dead letter: its id, who asked (audited) -> the event's id.
  caf::replies_to<wh_replay_atom, std::string, std::string>::with<std::string>,
  caf::replies_to<ping_atom>::with<bool>>;

// -- budgets and admission
// ------------------------------------------------------

/// "May I call the provider now?" (POST /api/v1/admission/{service}).
struct admission_request {
  budget::priority priority = budget::priority::normal;
  uint64_t units = 1;
  int64_t wait_ms = 0;      // how long the caller may wait in the queue
  int64_t cost_micros = -1; // the call's estimate; -1: the cost model's
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, admission_request& x) {
  return f(caf::meta::type_name("admission_request"), x.priority, x.units,
           x.wait_ms, x.cost_micros);
}

/// The answer: a grant, or why not and when to ask again.
struct admission_decision {
  bool granted = false;
  /// none on a grant.
  budget::denial_reason reason = budget::denial_reason::none;
  int64_t retry_after_ms = 0;
  int64_t waited_ms = 0;
  std::string grant_id;
  int64_t reserved_micros = 0;
  // remaining capacity after the decision; -1 where unlimited
  int64_t burst_left = -1;
  int64_t sustained_left = -1;
  int64_t daily_left = -1;
  int64_t budget_left_micros = -1;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, admission_decision& x) {
  return f(caf::meta::type_name("admission_decision"), x.granted, x.reason,
           x.retry_after_ms, x.waited_ms, x.grant_id, x.reserved_micros,
           x.burst_left, x.sustained_left, x.daily_left, x.budget_left_micros);
}

/// What a batch of call samples cost and how the calls ended, from the
/// service_monitor to the service's budget_controller.
struct call_spend {
  int64_t cost_micros = 0;
  std::vector<status_class> outcomes;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, call_spend& x) {
  return f(caf::meta::type_name("call_spend"), x.cost_micros, x.outcomes);
}

/// One service's budget, limits and breaker, for the cost routes.
struct budget_status {
  std::string service;
  int64_t spend_micros = 0;
  int64_t budget_micros = 0;
  int64_t reserved_micros = 0; // granted, not yet reconciled
  budget::budget_mode mode = budget::budget_mode::normal;
  budget::budget_override override_mode = budget::budget_override::none;
  budget::breaker_state breaker = budget::breaker_state::closed;
  std::vector<uint32_t> reached_levels_bp;
  int64_t forecast_micros = 0;
  int64_t forecast_low_micros = 0;
  int64_t forecast_high_micros = 0;
  int64_t daily_rate_micros = 0;
  std::string runs_out; // YYYY-MM-DD, or empty
  /// The store did not answer: the forecast is the last one computed (all
  /// zero if none was), the rest is current.
  bool forecast_stale = false;
  uint64_t granted = 0;
  std::vector<std::pair<budget::denial_reason, uint64_t>> denied;
  uint64_t queued = 0;
  uint64_t sustained_limit = 0; // current (after any change by cost/optimize)
  uint32_t sustained_window_s = 60;
  uint64_t daily_limit = 0;
  /// Share of each tier kept for critical and high priority.
  double reserved_share = 0;
  uint32_t throttle_bp = 9500;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, budget_status& x) {
  return f(caf::meta::type_name("budget_status"), x.service, x.spend_micros,
           x.budget_micros, x.reserved_micros, x.mode, x.override_mode,
           x.breaker, x.reached_levels_bp, x.forecast_micros,
           x.forecast_low_micros, x.forecast_high_micros, x.daily_rate_micros,
           x.runs_out, x.granted, x.denied, x.queued, x.sustained_limit,
           x.sustained_window_s, x.daily_limit, x.reserved_share, x.throttle_bp,
           x.forecast_stale);
}

/// One per service: admission against burst, sustained and daily limits,
/// the monthly budget and the circuit breaker; spend reserved at grant in
/// the store, reconciled with the calls' reported cost.
using budget_controller_actor = caf::typed_actor<
  caf::replies_to<admit_atom, admission_request>::with<admission_decision>,
  caf::reacts_to<spend_atom, call_spend>,
  caf::replies_to<budget_atom>::with<budget_status>,
  // mode, who -> the status after it
  caf::replies_to<override_atom, budget::budget_override,
                  std::string>::with<budget_status>,
  caf::reacts_to<btick_atom>,
  // tier (sustained or daily), new limit, who -> the status after it
  caf::replies_to<set_limit_atom, budget::limit_tier, uint64_t,
                  std::string>::with<budget_status>,
  caf::replies_to<ping_atom>::with<bool>,
  // New settings of this service, who -> whether anything changed; limits,
  // budget, cost and breaker apply, spend, usage, grants and queue stay.
  caf::replies_to<reconfig_atom, service_config_ptr, std::string>::with<bool>>;

// -- advisor ------------------------------------------------------------------

/// One recommendation: see runtime/advisor_rules.hpp.
struct recommendation {
  /// Stable for one service and kind: "<service>:<kind>".
  std::string id;
  std::string service;
  advice::recommendation_kind kind = advice::recommendation_kind::cache;
  std::string rationale;
  double monthly_saving_usd = 0;
  double monthly_call_reduction = 0;
  /// 0..1: the evidence (sample size) times the coverage of the
  /// observation window; cost/optimize applies only at or above its
  /// threshold.
  double confidence = 0;
  advice::action_type action_type = advice::action_type::advice;
  std::string action; // one sentence
  /// set_limit: the tier it changes (sustained or daily).
  budget::limit_tier limit = budget::limit_tier::sustained;
  uint64_t limit_before = 0;
  uint64_t limit_value = 0; // set_limit: the new limit
  /// The lowest value the limit may take: observed peak demand of its
  /// period times the headroom, over the unreserved share.
  uint64_t limit_floor = 0;
  /// What the numbers rest on, by name (peaks, spans, counts, errors).
  std::vector<std::pair<std::string, double>> evidence;
  /// kind agent_finding: who found it, "agent:NAME event:ID"; and the
  /// seed's coordination category (database, performance, innovation).
  std::string source;
  std::string category;
  int64_t found_ms = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, recommendation& x) {
  return f(caf::meta::type_name("recommendation"), x.id, x.service, x.kind,
           x.rationale, x.monthly_saving_usd, x.monthly_call_reduction,
           x.confidence, x.action_type, x.action, x.limit, x.limit_before,
           x.limit_value, x.limit_floor, x.evidence, x.source, x.category,
           x.found_ms);
}

using recommendations = std::vector<recommendation>;

/// One limit change cost/optimize made (or would make, in a dry run).
struct limit_change {
  std::string id; // "chg-<ms>-<n>", empty in a dry run
  std::string service;
  budget::limit_tier limit = budget::limit_tier::sustained;
  uint64_t before = 0;
  uint64_t after = 0;
  double confidence = 0;
  std::string recommendation_id;
  std::string rationale;
  std::vector<std::pair<std::string, double>> evidence;
  advice::change_status status = advice::change_status::planned;
  std::string reason; // why skipped or failed
  int64_t at_ms = 0;
  std::string who;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, limit_change& x) {
  return f(caf::meta::type_name("limit_change"), x.id, x.service, x.limit,
           x.before, x.after, x.confidence, x.recommendation_id, x.rationale,
           x.evidence, x.status, x.reason, x.at_ms, x.who);
}

using limit_changes = std::vector<limit_change>;

/// What cost/optimize asks: a dry run unless `apply`; only recommendations
/// at or above `min_confidence` (never below the configured one).
struct optimize_request {
  bool apply = false;
  double min_confidence = 0;
  std::string who;
  /// Only these recommendations (the dashboard's "apply" button); empty:
  /// every one.
  std::vector<std::string> ids;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, optimize_request& x) {
  return f(caf::meta::type_name("optimize_request"), x.apply, x.min_confidence,
           x.who, x.ids);
}

/// What an agent's answer said about a service (its `findings` or
/// `recommendations`; runtime/coordination/agent_findings).
struct agent_finding {
  std::string service;  // empty: about no one service
  std::string category; // database | performance | innovation | other
  std::string title;
  std::string detail;
  std::string agent;
  std::string event_id;
  std::string event_type;
  int64_t at_ms = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, agent_finding& x) {
  return f(caf::meta::type_name("agent_finding"), x.service, x.category,
           x.title, x.detail, x.agent, x.event_id, x.event_type, x.at_ms);
}

using agent_findings = std::vector<agent_finding>;

/// Computes recommendations from every service's traffic and budget,
/// applies the safe ones on request and undoes them.
using advisor_actor = caf::typed_actor<
  caf::replies_to<advise_atom>::with<recommendations>,
  // What agents found: listed with the advisor's own recommendations
  // (kind agent_finding), the newest per service and title kept.
  caf::reacts_to<finding_atom, agent_findings>,
  caf::replies_to<optimize_atom, optimize_request>::with<limit_changes>,
  // Change id, who -> the change, now undone.
  caf::replies_to<undo_atom, std::string, std::string>::with<limit_change>,
  // The changes made, newest first.
  caf::replies_to<changes_atom>::with<limit_changes>>;

/// Runs the cluster's singleton jobs (the retention sweep) on the one node
/// that holds the housekeeping lease; on every other node it only keeps
/// trying for the lease.
using housekeeper_actor = caf::typed_actor<
  caf::replies_to<ping_atom>::with<bool>,
  // -> whether this node holds the lease, and a line for the health report
  caf::replies_to<lease_atom>::with<bool, std::string>,
  caf::reacts_to<hk_tick_atom>>;

// -- coordination -------------------------------------------------------------

/// A typed event for agents. `target` picks who gets it: "agent:NAME" that
/// agent, "role:ROLE" one agent of that role; empty: one agent of every role
/// that subscribes to the type (agents of one role are replicas).
struct coordination_event {
  std::string id;
  std::string type;
  budget::priority priority = budget::priority::normal;
  std::string source; // "api", "budget:<service>", "monitor:<service>", ...
  int64_t created_ms = 0;
  std::string payload; // JSON text
  std::string target;
  /// This delivery's number for the receiving agent's unit: 1 the first.
  uint32_t attempt = 0;
  /// The hub's id of this delivery; the agent's answer echoes it.
  uint64_t delivery = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, coordination_event& x) {
  return f(caf::meta::type_name("coordination_event"), x.id, x.type, x.priority,
           x.source, x.created_ms, x.payload, x.target, x.attempt, x.delivery);
}

/// Where the node's own actors publish coordination events (budget
/// controllers: cost_alert); the hub.
using event_sink_actor = caf::typed_actor<
  caf::reacts_to<publish_atom, coordination_event>>;

/// An agent's answer to one event.
struct event_response {
  std::string event_id;
  answer_status status = answer_status::ok;
  std::string payload;   // JSON text or empty
  uint64_t delivery = 0; // coordination_event::delivery (the SDK sets it)
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, event_response& x) {
  return f(caf::meta::type_name("event_response"), x.event_id, x.status,
           x.payload, x.delivery);
}

/// Who an agent says it is. The token is compared (as SHA-256, in constant
/// time) with agents.token_sha256; it is never stored or logged.
struct agent_registration {
  std::string name;
  std::string role;
  std::vector<std::string> subscriptions; // event types
  std::string token;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, agent_registration& x) {
  return f(caf::meta::type_name("agent_registration"), x.name, x.role,
           x.subscriptions, x.token);
}

/// The hub's answer to a registration. The session is a random secret of
/// this registration: heartbeats, answers and reports must carry it.
struct agent_welcome {
  std::string agent_id;
  int64_t heartbeat_interval_ms = 5000;
  std::string node;
  std::string session;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, agent_welcome& x) {
  return f(caf::meta::type_name("agent_welcome"), x.agent_id,
           x.heartbeat_interval_ms, x.node, x.session);
}

/// What the hub counts per agent.
struct agent_counts {
  uint64_t delivered = 0;        // deliveries sent
  uint64_t answered = 0;         // answered ok
  uint64_t failed = 0;           // answered failed
  uint64_t timed_out = 0;        // no answer in time, or the connection dropped
  uint64_t samples_reported = 0; // call samples sent through the SDK
  uint64_t samples_rejected = 0; // ... for a service this node does not have
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, agent_counts& x) {
  return f(caf::meta::type_name("agent_counts"), x.delivered, x.answered,
           x.failed, x.timed_out, x.samples_reported, x.samples_rejected);
}

/// One agent as the hub sees it (GET .../agents/status).
struct agent_status {
  std::string id;
  std::string name;
  std::string role;
  std::vector<std::string> subscriptions;
  agent_state state = agent_state::active;
  int64_t registered_ms = 0;
  int64_t last_heartbeat_ms = 0;
  int64_t last_seen_ms = 0; // last heartbeat, answer or registration
  uint32_t in_flight = 0;
  uint32_t max_in_flight = 0;
  agent_counts counts;
  double p50_ms = 0; // response times of answered deliveries
  double p95_ms = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, agent_status& x) {
  return f(caf::meta::type_name("agent_status"), x.id, x.name, x.role,
           x.subscriptions, x.state, x.registered_ms, x.last_heartbeat_ms,
           x.last_seen_ms, x.in_flight, x.max_in_flight, x.counts, x.p50_ms,
           x.p95_ms);
}

/// What the router counts per event type.
struct event_type_counts {
  uint64_t sent = 0;
  uint64_t completed = 0;
  uint64_t failed = 0;
  uint64_t unrouted = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, event_type_counts& x) {
  return f(caf::meta::type_name("event_type_counts"), x.sent, x.completed,
           x.failed, x.unrouted);
}

/// Counts of one event type.
struct event_type_stats {
  std::string type;
  event_type_counts counts;
  double p50_ms = 0; // creation to outcome, of completed events
  double p95_ms = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, event_type_stats& x) {
  return f(caf::meta::type_name("event_type_stats"), x.type, x.counts, x.p50_ms,
           x.p95_ms);
}

/// Everything GET .../agents/status shows.
struct coordination_status {
  std::vector<agent_status> agents;
  std::vector<event_type_stats> types;
  uint64_t queued = 0;    // units waiting for an agent
  uint64_t in_flight = 0; // deliveries waiting for an answer
  uint64_t refused_registrations = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, coordination_status& x) {
  return f(caf::meta::type_name("coordination_status"), x.agents, x.types,
           x.queued, x.in_flight, x.refused_registrations);
}

/// One delivery of an event to an agent.
struct event_delivery {
  std::string agent;
  std::string unit; // the role or agent the delivery serves
  uint32_t attempt = 0;
  int64_t sent_ms = 0;
  int64_t answered_ms = 0; // 0 while in flight or when none came
  delivery_status status = delivery_status::in_flight;
  std::string response; // the agent's payload
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, event_delivery& x) {
  return f(caf::meta::type_name("event_delivery"), x.agent, x.unit, x.attempt,
           x.sent_ms, x.answered_ms, x.status, x.response);
}

/// An event, its deliveries and its outcome (GET .../coordination/events/ID).
struct event_record {
  coordination_event event;
  event_state state = event_state::queued;
  std::string detail; // why it failed or was not routed
  int64_t finished_ms = 0;
  std::vector<event_delivery> deliveries;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, event_record& x) {
  return f(caf::meta::type_name("event_record"), x.event, x.state, x.detail,
           x.finished_ms, x.deliveries);
}

/// Lives in the agent's process and takes the events. Events and answers
/// are one-way messages (the answer goes to the gateway that sent the
/// event): the hub tracks the deadlines itself, which costs far less than a
/// CAF request with its own timeout per delivery. Both go in batches: what
/// one dispatch round hands to an agent is one message, and answers the
/// agent has ready within 2 ms go back together.
using agent_endpoint_actor = caf::typed_actor<
  caf::reacts_to<assign_atom, std::vector<coordination_event>>,
  // The node ended the registration (its key was revoked; the reason):
  // register again, which the node refuses if the key is gone.
  caf::reacts_to<leave_atom, std::string>>;

/// What a cluster node answers a peer that presented the cluster secret:
/// the services it owns now and their actors (`monitors[i]` and
/// `budgets[i]` serve `services[i]`).
struct cluster_directory {
  std::string node;
  std::vector<std::string> services;
  std::vector<caf::strong_actor_ptr> monitors;
  std::vector<caf::strong_actor_ptr> budgets;
  /// The node's coordination hub, for events and webhooks its agents take.
  caf::strong_actor_ptr hub;
  /// The event types at least one of its agents (not disconnected)
  /// subscribes to ("webhook" for webhooks).
  std::vector<std::string> agent_types;
  /// Free delivery slots (agents.max_in_flight minus deliveries in flight)
  /// of its active agents, by role and event type: key "role\ttype". A
  /// node whose own agents are all busy hands an event to a peer with room.
  std::map<std::string, uint32_t> agent_spare;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, cluster_directory& x) {
  return f(caf::meta::type_name("cluster_directory"), x.node, x.services,
           x.monitors, x.budgets, x.hub, x.agent_types, x.agent_spare);
}

/// What the node publishes on node.actor.port for agents (a gateway actor
/// of its own that forwards to the hub, so a peer reaches nothing else):
/// register (an error for a wrong token or a name already live); then, with
/// the session of the welcome: heartbeat (false: not registered, register
/// again), answer an event, report call samples of a service (one way, for
/// throughput), and leave.
using coordination_gateway_actor = caf::typed_actor<
  caf::replies_to<agent_reg_atom, agent_registration,
                  agent_endpoint_actor>::with<agent_welcome>,
  caf::replies_to<heartbeat_atom, std::string>::with<bool>,
  caf::reacts_to<respond_atom, std::string, std::vector<event_response>>,
  caf::reacts_to<record_atom, std::string, std::string, call_samples>,
  caf::reacts_to<leave_atom, std::string>,
  // A cluster peer: its node name, the cluster secret and its own gateway
  // (so that one connection serves both directions) -> what this node owns
  // (unauthorized for a wrong secret, unsupported outside a cluster).
  caf::replies_to<cluster_atom, std::string, std::string,
                  caf::strong_actor_ptr>::with<cluster_directory>>;

/// A WebSocket agent inside the node (bridges/agent_socket): the endpoint
/// the hub sends its events to, which also takes the frames its client
/// sends, in order, and speaks for it to the hub as a CAF agent would.
using agent_socket_actor = agent_endpoint_actor::extend<
  caf::reacts_to<ws_frame_atom, std::string>,
  // Timer set at the start: a connection not registered by then closes.
  caf::reacts_to<reg_due_atom>>;

/// Watches the hub as things happen (the live streams): every event it
/// takes (alerts, cost alerts, frontend_update, ...), every change of an
/// agent's state, and what agents' answers found.
using hub_observer_actor = caf::typed_actor<
  caf::reacts_to<publish_atom, coordination_event>,
  caf::reacts_to<agents_atom, agent_status>,
  caf::reacts_to<finding_atom, agent_findings>>;

/// The hub: the gateway for agents plus what the node's own actors and
/// routes use. It is also the webhook subscriber and the alert sink.
using coordination_hub_actor = coordination_gateway_actor::extend<
  // Routes an event; replies with its id once it is stored.
  caf::replies_to<assign_atom, coordination_event>::with<std::string>,
  // From a cluster peer whose agents do not take it: for this node's agents
  // only (the peer's endpoints have it already, and it goes no further).
  caf::replies_to<peer_atom, coordination_event>::with<std::string>,
  caf::replies_to<peer_atom, webhook_event>::with<bool>,
  // A cluster peer is gone (for its failover delay): take over the events
  // it had open, unless another survivor holds the lease for them.
  caf::reacts_to<adopt_atom, std::string>,
  // The same, one way: alerts from monitors and budget controllers.
  caf::reacts_to<publish_atom, coordination_event>,
  caf::replies_to<agents_atom>::with<coordination_status>,
  caf::replies_to<event_atom, std::string>::with<event_record>,
  caf::replies_to<deliver_atom, webhook_event>::with<bool>,
  caf::replies_to<deliver_atom, webhook_events>::with<delivery_verdicts>,
  caf::reacts_to<alerts_atom, service_alert>,
  // Timer: stale agents, events waiting too long.
  caf::reacts_to<hub_tick_atom>,
  // Loads the agents and the events a previous run of this node knew.
  caf::reacts_to<recover_atom>,
  // The gateway that speaks for the hub to agents (events are sent as it),
  // published on host:port; the hub publishes a new one if it dies.
  caf::reacts_to<gateway_atom, coordination_gateway_actor, std::string,
                 uint16_t>,
  // The one observer (replaces the previous one).
  caf::reacts_to<observe_atom, hub_observer_actor>,
  caf::replies_to<ping_atom>::with<bool>>;

// -- deliveries to HTTP endpoints ---------------------------------------------

/// One thing to POST to an endpoint: a coordination event or a verified
/// provider webhook, as the JSON body receivers get.
struct outbound_message {
  /// webhook-id: the event's own id, the same on every try, so that
  /// receivers de-duplicate.
  std::string id;
  std::string kind; // "event" or "webhook"
  std::string type; // the event type, or the provider's event type
  std::string body;
  /// Tries so far.
  uint32_t attempts = 0;
  /// The endpoint's queue entry, once stored.
  std::string entry_id;
  int64_t queued_ms = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, outbound_message& x) {
  return f(caf::meta::type_name("outbound_message"), x.id, x.kind, x.type,
           x.body, x.attempts, x.entry_id, x.queued_ms);
}

/// What one endpoint did (webhooks/stats, /metrics).
struct endpoint_stats {
  std::string name;
  std::string url; // scheme, host and path: never a secret
  uint64_t accepted = 0;
  uint64_t delivered = 0;
  uint64_t failed_attempts = 0; // non-2xx, timeouts, refused connections
  uint64_t retried = 0;
  uint64_t dead_lettered = 0;
  uint64_t refused = 0; // not taken: the queue was full or the store away
  uint64_t queued = 0;
  uint32_t in_flight = 0;
  int last_status = 0; // 0: none yet, or the last try got no answer
  std::string last_error;
  double p50_ms = 0; // of delivered requests
  double p95_ms = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, endpoint_stats& x) {
  return f(caf::meta::type_name("endpoint_stats"), x.name, x.url, x.accepted,
           x.delivered, x.failed_attempts, x.retried, x.dead_lettered,
           x.refused, x.queued, x.in_flight, x.last_status, x.last_error,
           x.p50_ms, x.p95_ms);
}

/// One per configured endpoint (bridges/delivery_endpoint): its own queue
/// in the store, its own bounded senders, retries on its own schedule, so
/// that an endpoint that hangs holds back nothing else.
using delivery_endpoint_actor = caf::typed_actor<
  // Stores the message in the endpoint's queue; true once it is durable
  // (false: the queue is full or the store refused it).
  caf::replies_to<deliver_atom, outbound_message>::with<bool>,
  // Sends finished: their outcomes wait in the sender (one message for
  // however many finished before the endpoint looked).
  caf::reacts_to<respond_atom>,
  // Timer: try this held message (the endpoint's handle) again.
  caf::reacts_to<wh_retry_atom, uint64_t>,
  // Reads back what a previous run of this node left in the queue.
  caf::reacts_to<recover_atom>,
  // Writes what this mailbox round queued and settled, in one store batch.
  caf::reacts_to<flush_atom>,
  // Timer while store batches are out: answers those past their deadline.
  caf::reacts_to<ep_tick_atom>,
  caf::replies_to<wh_stats_atom>::with<endpoint_stats>,
  // Dead letters of this endpoint, oldest first.
  caf::replies_to<wh_dead_atom>::with<stream_entries>,
  // Puts one dead letter back in the queue: its id, who -> the event id.
  caf::replies_to<wh_replay_atom, std::string, std::string>::with<std::string>>;

/// The endpoints and what each takes, for the hub.
struct delivery_route {
  std::string name;
  std::vector<std::string> event_types;
  std::vector<std::string> webhook_services;
  delivery_endpoint_actor endpoint;
};

// -- credentials --------------------------------------------------------------

/// A new managed key: the record and the key itself (shown once, never
/// stored).
struct key_created {
  auth::key_record record;
  std::string key;
};

/// A key as `keys list` shows it.
struct key_view {
  auth::key_record record;
  int64_t last_used_ms = 0;
  bool from_config = false;
};

/// What a create asks for; `who` goes to the audit trail.
struct key_request {
  std::string name;
  auth::role r = auth::role::viewer;
  int64_t expires_in_s = 0; // 0: never
  std::string who;
};

using config_ptr = std::shared_ptr<const config>;

/// One per node: keeps the credentials the node accepts (config and managed
/// keys, agent tokens, webhook secrets) current in the shared registry,
/// polling the store's version so that a change made on any node applies
/// here within a poll; creates, rotates and revokes managed ones.
using credential_keeper_actor = caf::typed_actor<
  caf::replies_to<key_new_atom, key_request>::with<key_created>,
  caf::replies_to<key_list_atom>::with<std::vector<key_view>>,
  // id, overlap in seconds (the old key's remaining life), who
  caf::replies_to<key_rotate_atom, std::string, int64_t,
                  std::string>::with<key_created>,
  // id, who -> the revoked record
  caf::replies_to<key_revoke_atom, std::string,
                  std::string>::with<auth::key_record>,
  // service, secret, who -> the record (sealed)
  caf::replies_to<secret_add_atom, std::string, std::string,
                  std::string>::with<auth::secret_record>,
  caf::replies_to<secrets_atom,
                  std::string>::with<std::vector<auth::secret_record>>,
  // service, id, who -> the retired record
  caf::replies_to<retire_atom, std::string, std::string,
                  std::string>::with<auth::secret_record>,
  // A new config (SIGHUP): its keys, agent token and webhook secrets.
  caf::replies_to<reload_atom, config_ptr, std::string>::with<bool>,
  // Timers: the store's version; last-used times and refusals to the store.
  caf::reacts_to<auth_poll_atom>, caf::reacts_to<auth_flush_atom>,
  // Writes the activity now (at a clean stop).
  caf::replies_to<flush_atom>::with<bool>,
  caf::replies_to<ping_atom>::with<bool>>;

/// Registers every message type with CAF; call once on the system config.
void register_message_types(caf::actor_system_config& cfg);

} // namespace streamb

// Local only (never sent to another process): no serializer needed.
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(streamb::key_created)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(streamb::key_view)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(std::vector<streamb::key_view>)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(streamb::key_request)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(streamb::config_ptr)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(streamb::auth::key_record)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(streamb::auth::secret_record)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(std::vector<streamb::auth::secret_record>)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(streamb::service_config_ptr)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(streamb::accept_reply)
