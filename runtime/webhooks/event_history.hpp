#pragma once

// What the store keeps of each webhook event for the operator (the hash
// webhooks:event:<id>): the fields each step of its life writes, and how a
// recovered entry's history says it needs no second delivery. Times are
// ISO-8601 UTC; attempt_NN fields record every try.

#include "runtime/messages.hpp"
#include "runtime/store/store_backend.hpp"

#include <cstdint>
#include <string>

namespace streamb::event_history {

/// "attempt_03": zero-padded so that the history sorts by attempt.
std::string attempt_field(uint32_t n);

/// Verified and stored in its queue by `node`.
store::field_list queued(const webhook_event& ev, const std::string& node);

/// Handed to the subscriber and taken, on try `attempts`, at `now_ms`.
store::field_list delivered(uint32_t attempts, int64_t now_ms);

/// Try `attempts` failed for `why`; the next one is due at `next_ms`.
store::field_list retrying(uint32_t attempts, const std::string& why,
                           int64_t now_ms, int64_t next_ms);

/// The last try failed for `why`: moved to the dead letters.
store::field_list dead_lettered(uint32_t attempts, const std::string& why,
                                int64_t now_ms);

/// Queued again from its dead letter.
store::field_list replayed();

/// Whether a history says the event reached an end (delivered or
/// dead-lettered): its queue entry only needs acknowledging.
bool finished(const store::field_list& history);

} // namespace streamb::event_history
