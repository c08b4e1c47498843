#pragma once

// Where webhooks live in the store, and the pure rules of their delivery:
// key names, the stream encoding of an event, the retry delay.
//
//   webhooks:dedup:<event id>     "pending:<token>" while a request stores it
//                                 (60 s), then "stored" for the dedup TTL
//   webhooks:queue:critical|normal the durable queues; consumer group
//                                 "deliver", one consumer per node
//   webhooks:event:<event id>     hash: the event's history (status,
//                                 attempts, times, last error)
//   webhooks:dead                 dead letters (stream)
//   webhooks:dead:replayed        hash: dead letter id -> replayed event id

#include "runtime/messages.hpp"
#include "runtime/store/store_backend.hpp"

#include <caf/expected.hpp>

#include <cstdint>
#include <string>

namespace streamb::webhook_keys {

constexpr const char* critical_queue = "webhooks:queue:critical";
constexpr const char* normal_queue = "webhooks:queue:normal";
constexpr const char* group = "deliver";
constexpr const char* dead = "webhooks:dead";
constexpr const char* replayed = "webhooks:dead:replayed";
/// How long a request may hold an event's dedup key before it is stored.
constexpr int64_t pending_ttl_ms = 60'000;

inline std::string queue(bool critical) {
  return critical ? critical_queue : normal_queue;
}

inline std::string dedup(const std::string& event_id) {
  return "webhooks:dedup:" + event_id;
}

inline std::string event(const std::string& event_id) {
  return "webhooks:event:" + event_id;
}

} // namespace streamb::webhook_keys

namespace streamb {

/// The queue entry of `x` (everything but `entry_id`).
store::field_list to_fields(const webhook_event& x);

/// The event of a queue or dead-letter entry; `entry_id` is the entry's id.
caf::expected<webhook_event> webhook_from_entry(const store::stream_entry& e);

/// As above, moving the entry's fields (the payload) into the event.
caf::expected<webhook_event> webhook_from_entry(store::stream_entry&& e);

/// The verdict a subscriber gives a webhook of a batch that it did not try:
/// the processor sends that one on its own (`unsupported`).
caf::error one_by_one();

/// The value a request puts in an event's dedup key while it stores the
/// event: unique per node and request.
std::string pending_token(const std::string& node, uint64_t n);

/// What a request's claim on an event's dedup key read back: its own
/// token means new (store it), another request's pending token means that
/// request is storing it now, anything else means stored before.
accept_outcome dedup_outcome(const std::string& own_token,
                             const std::string& found);

/// The wait before retry number `retry` (1-based) of `delays_s`, with full
/// jitter: `unit` in [0, 1) maps to (0, delay]. Past the schedule: 0.
int64_t retry_delay_ms(const std::vector<uint32_t>& delays_s, uint32_t retry,
                       double unit);

} // namespace streamb
