#pragma once

#include "actors/request_deadlines.hpp"
#include "actors/store_batcher.hpp"
#include "runtime/config/config.hpp"
#include "runtime/messages.hpp"
#include "runtime/metrics/histogram.hpp"
#include "runtime/webhooks/delivery_queue.hpp"

#include <caf/typed_event_based_actor.hpp>
#include <caf/typed_response_promise.hpp>

#include <cstdio>
#include <deque>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <vector>

namespace streamb {

/// What the processor needs of the config.
struct webhook_processor_settings {
  /// The consumer name in the queues' group: one per node.
  std::string node = "local";
  webhooks_config delivery;
  /// Dedup TTL per service, in milliseconds.
  std::map<std::string, int64_t> dedup_ttl_ms;
  /// Event types that are critical, per service: such events go to the
  /// critical queue and are delivered before the others.
  std::map<std::string, std::vector<std::string>> critical_types;
  /// Audit records of rejections are trimmed after this long.
  int64_t audit_retention_ms = int64_t{90} * 24 * 3600 * 1000;
  /// How often to look for entries (written by other nodes, or claimable).
  std::chrono::milliseconds poll_interval{1000};
  /// Events held in memory (queued, in flight, waiting for a retry); more
  /// stay in the store until there is room.
  std::size_t max_buffered = 1000;
  /// How often an event nobody takes is offered again.
  std::chrono::milliseconds await_interval{1000};
};

/// Counters of one service; see webhook_stats.
struct webhook_counters : webhook_counts {
  histogram delivery_us;
};

struct webhook_processor_state {
  static inline const char* name = "webhook_processor";

  webhook_processor_settings settings;
  store_actor store;
  webhook_subscriber_actor subscriber;

  // -- accepting: requests wait while a store batch is in flight ------------
  struct waiting_accept {
    webhook_events events;
    /// Answers the request: the reply when it came with one, else the
    /// response promise.
    caf::typed_response_promise<accept_outcomes> promise;
    accept_reply reply;

    void answer(caf::expected<accept_outcomes> x) {
      if (reply)
        reply.deliver(std::move(x));
      else if (x)
        promise.deliver(std::move(*x));
      else
        promise.deliver(std::move(x.error()));
    }
  };
  /// Two round trips per batch (claim, then store); the batch stays in
  /// flight through both. A refused batch is answered with the error.
  std::optional<store_batcher<waiting_accept>> acceptor;
  uint64_t tokens = 0;

  // -- delivering ------------------------------------------------------------
  bool groups_ready = false;
  delivery_queue deliveries;
  /// Timeouts of store requests and deliveries, checked on every poll:
  /// CAF's own per-request timeouts would wake its clock thread twice per
  /// request.
  request_deadlines store_deadlines;
  bool polling = false;
  /// New entries were stored while a poll ran: poll again after it.
  bool poll_again = false;
  int64_t last_claim_ms = 0;
  /// Outcome writes (acks, dead letters, event records): one batch in
  /// flight, so deliveries cost a store round trip per round, not per
  /// event. They must land: refused ones are kept and sent again with the
  /// next outcome or poll.
  std::optional<store_batcher<store::write_op>> outcome_writer;
  /// Audit records of rejections, batched so that a flood of bad
  /// signatures costs a store round trip per batch, not per request.
  /// Dropped when the store refuses them: the log line is their record.
  std::optional<store_batcher<store::write_op>> audit_writer;

  std::map<std::string, webhook_counters> counters;
  /// Events that found no consumer, by id: their service.
  std::map<std::string, std::string> awaiting;
  /// Per service, one waiting event is offered again every await_interval
  /// (the probe, by id); the others wait here until the probe finds a
  /// consumer, so that N waiting events cost one offer a second, not N.
  std::map<std::string, std::string> probe;
  std::map<std::string, std::deque<webhook_event>> parked;
  std::minstd_rand rng{std::random_device{}()};
};

using webhook_processor_pointer = webhook_processor_actor::stateful_pointer<
  webhook_processor_state>;

/// One per node. Accepted events are classified (critical or not, by their
/// service's `critical_types`), de-duplicated and stored in one store batch
/// per round (requests that arrive meanwhile join the next), then read back
/// through the queues' consumer group and delivered to `subscriber`,
/// critical first, at most `max_in_flight` at a time; failures are retried
/// on the configured schedule with full jitter, then dead-lettered.
/// Rejected requests are counted, logged and audited here too.
webhook_processor_actor::behavior_type
webhook_processor(webhook_processor_pointer self,
                  webhook_processor_settings settings, store_actor store,
                  webhook_subscriber_actor subscriber);

/// The built-in subscriber until the coordination hub exists: prints each
/// event as one JSON line on stdout (id, service, type, critical, attempt;
/// never the payload) and answers true.
/// Each line names `node`, the node that delivered it (two nodes on one
/// Redis share the queues).
webhook_subscriber_actor::behavior_type
log_subscriber(webhook_subscriber_actor::pointer self, std::string node);

} // namespace streamb
