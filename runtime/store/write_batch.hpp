#pragma once

// What both backends share for backend::write: the argument checks that must
// pass before anything is written, and running one op through the single
// calls (the memory backend's way; Redis sends them as MULTI ... EXEC).

#include "runtime/store/store_backend.hpp"

#include <caf/error.hpp>

#include <string_view>

namespace streamb::store {

/// invalid_argument for a negative TTL, or one that overflows past `now_ms`
/// (the memory backend's clock, or ours standing in for Redis').
caf::error check_ttl(int64_t ttl_ms, int64_t now_ms);

/// invalid_argument when `op` would be refused as a whole call: a negative or
/// overflowing TTL (expire accepts <= 0: it deletes), an XADD without fields,
/// both trim limits, or a MINID or an XACK / XDEL ID that is no stream ID.
caf::error check_write_op(const write_op& op, int64_t now_ms);

/// Whether `id` is a stream ID: "ms" or "ms-seq", both decimal.
bool is_stream_id(std::string_view id);

/// Runs `op` through the single call of `db` and packs its outcome.
write_result apply_write_op(backend& db, const write_op& op);

} // namespace streamb::store
