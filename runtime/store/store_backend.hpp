#pragma once

// The store interface: everything streamb persists goes through these calls.
// The interface is shaped for Redis 7 and has two implementations: in memory
// (memory_backend, the embedded default, not durable) and on Redis via hiredis.
// Both keep the semantics written here, and one behavioural suite
// (tests/unit/store/backend_suite.hpp) runs against both, so any decision made
// here is a contract for the Redis backend too:
//
// - Calls are synchronous and may block (a network round trip for Redis). The
//   store actor that owns a backend is detached for that reason. A backend is
//   nevertheless safe to call from several threads at once.
// - Keys are given without the configured prefix; a backend may prepend one,
//   and `keys` reports them back without it.
// - A key holds one type: string, hash or stream. Using it as another type
//   fails with error_code::store_error, as Redis' WRONGTYPE does. `set` and
//   `del` work on any type.
// - Expired keys are invisible to every call. A key given ttl_ms at time t is
//   gone from t + ttl_ms on (Redis drops it one millisecond later; the suite
//   does not depend on that millisecond). The memory backend reads time only
//   from its injected clock; Redis uses the server's clock, so the tests move
//   time through their fixture.
// - Negative or overflowing TTLs and malformed stream IDs fail with
//   error_code::invalid_argument; a missing consumer group (or the stream it
//   would live on) fails with error_code::not_found.
// - Stream IDs are Redis' "ms-seq" strings. Where an ID is an argument, "ms"
//   alone stands for "ms-0" (start bounds, MINID) or "ms-<max>" (end bounds).

#include <caf/expected.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace streamb::store {

/// A source of time in milliseconds since the epoch; injected for tests.
using clock_fn = std::function<int64_t()>;

/// Reads the system clock in milliseconds since the epoch.
inline int64_t wall_clock_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch())
    .count();
}

/// Field-value pairs of a hash or a stream entry.
using field_list = std::vector<std::pair<std::string, std::string>>;

/// The value of the first field `name` of `xs`, or "" when there is none.
inline std::string find_field(const field_list& xs, std::string_view name) {
  for (auto& [field, value] : xs)
    if (field == name)
      return value;
  return {};
}

/// One stream entry: its "ms-seq" ID and its fields in the order added.
struct stream_entry {
  std::string id;
  field_list fields;
};

inline bool operator==(const stream_entry& x, const stream_entry& y) {
  return x.id == y.id && x.fields == y.fields;
}

inline bool operator!=(const stream_entry& x, const stream_entry& y) {
  return !(x == y);
}

/// How to cap a stream (exact, not `~`): keep at most `max_len` entries, or
/// drop entries with an ID below `min_id`. 0 / empty means no limit; setting
/// both is an invalid_argument, because Redis accepts only one per command.
/// A stream cannot be trimmed to zero entries with MAXLEN (0 means none).
struct stream_trim {
  uint64_t max_len = 0;
  std::string min_id;
};

/// One entry of a consumer group's pending list (XPENDING, extended form).
struct pending_entry {
  std::string id;
  /// The consumer that owns the entry now.
  std::string consumer;
  /// Milliseconds since the last delivery.
  int64_t idle_ms = 0;
  /// How often the entry was delivered: 1 after XREADGROUP, +1 per claim.
  uint64_t delivery_count = 0;
};

/// One write of a batch (see backend::write); `what` says which members
/// matter. Build them with the factories below.
struct write_op {
  enum class kind : uint8_t {
    set,      // key, value, ttl_ms
    set_nx,   // key, value, ttl_ms
    del,      // key
    expire,   // key, ttl_ms
    incr_by,  // key, number (delta), ttl_ms
    hset,     // key, fields
    hincr_by, // key, value (the field), number (delta)
    xadd,     // key (the stream), fields, trim
    get,      // key: reads inside the batch (e.g. after a SET NX)
    xack,     // key (the stream), value (the group), fields' names (ids)
    xdel,     // key (the stream), fields' names (ids)
  };
  kind what = kind::set;
  std::string key;
  std::string value;
  int64_t number = 0;
  int64_t ttl_ms = 0;
  field_list fields;
  stream_trim trim;

  static write_op make_set(std::string key, std::string value,
                           int64_t ttl_ms = 0) {
    return {kind::set, std::move(key), std::move(value), 0, ttl_ms, {}, {}};
  }
  static write_op make_set_nx(std::string key, std::string value,
                              int64_t ttl_ms = 0) {
    return {kind::set_nx, std::move(key), std::move(value), 0, ttl_ms, {}, {}};
  }
  static write_op make_del(std::string key) {
    return {kind::del, std::move(key), {}, 0, 0, {}, {}};
  }
  static write_op make_expire(std::string key, int64_t ttl_ms) {
    return {kind::expire, std::move(key), {}, 0, ttl_ms, {}, {}};
  }
  static write_op make_incr_by(std::string key, int64_t delta,
                               int64_t ttl_ms = 0) {
    return {kind::incr_by, std::move(key), {}, delta, ttl_ms, {}, {}};
  }
  static write_op make_hset(std::string key, field_list fields) {
    return {kind::hset, std::move(key), {}, 0, 0, std::move(fields), {}};
  }
  static write_op make_hincr_by(std::string key, std::string field,
                                int64_t delta) {
    return {kind::hincr_by, std::move(key), std::move(field), delta, 0, {}, {}};
  }
  static write_op make_get(std::string key) {
    return {kind::get, std::move(key), {}, 0, 0, {}, {}};
  }
  static write_op make_xack(std::string stream, std::string group,
                            const std::vector<std::string>& ids) {
    field_list xs;
    for (auto& id : ids)
      xs.emplace_back(id, std::string{});
    return {
      kind::xack, std::move(stream), std::move(group), 0, 0, std::move(xs), {}};
  }
  static write_op make_xdel(std::string stream,
                            const std::vector<std::string>& ids) {
    field_list xs;
    for (auto& id : ids)
      xs.emplace_back(id, std::string{});
    return {kind::xdel, std::move(stream), {}, 0, 0, std::move(xs), {}};
  }
  static write_op make_xadd(std::string stream, field_list fields,
                            stream_trim trim = {}) {
    return {kind::xadd,        std::move(stream), {}, 0, 0,
            std::move(fields), std::move(trim)};
  }
};

/// The outcome of one write_op, as the single call would return it.
struct write_result {
  /// Set when this op failed (e.g. WRONGTYPE); the other ops still ran.
  caf::error error;
  /// set, set_nx: 1 when written, 0 when NX found the key; del, expire: 1
  /// when the key existed; incr_by, hincr_by: the new value; hset: the
  /// number of new fields; get: 1 when the key exists; xack: the number
  /// acknowledged (0, not an error, for a missing group).
  int64_t integer = 0;
  /// xadd: the new entry's ID; get: the value.
  std::string text;
};

/// The store interface; each call maps to one Redis command (or a short
/// MULTI block where noted).
class backend {
public:
  virtual ~backend() = default;

  // -- connection -------------------------------------------------------------

  /// PING: whether the store answers.
  virtual caf::expected<caf::unit_t> ping() = 0;

  // -- strings and expiry -----------------------------------------------------

  /// GET key: the value, or nullopt when the key does not exist.
  virtual caf::expected<std::optional<std::string>>
  get(const std::string& key) = 0;

  /// SET key value [PX ttl_ms]: replaces the key whatever its type. Without a
  /// TTL (0) any previous expiry is cleared, as SET without KEEPTTL does.
  virtual caf::expected<caf::unit_t>
  set(const std::string& key, const std::string& value, int64_t ttl_ms = 0) = 0;

  /// SET key value NX [PX ttl_ms]: true when the key was missing and is now
  /// set; false, leaving it untouched, when it exists. Used for dedup and
  /// idempotency keys.
  virtual caf::expected<bool>
  set_nx(const std::string& key, const std::string& value, int64_t ttl_ms = 0)
    = 0;

  /// DEL key: whether the key existed.
  virtual caf::expected<bool> del(const std::string& key) = 0;

  /// PEXPIRE key ttl_ms: whether the key exists. A TTL <= 0 deletes the key.
  virtual caf::expected<bool>
  expire(const std::string& key, int64_t ttl_ms) = 0;

  /// If key holds exactly `value`: PEXPIRE key ttl_ms (a TTL <= 0 deletes
  /// it), atomically (a Lua script in Redis). Whether it held the value.
  /// Renews or gives up a lease only while this holder still has it.
  virtual caf::expected<bool> expire_if(const std::string& key,
                                        const std::string& value,
                                        int64_t ttl_ms)
    = 0;

  /// PTTL key: remaining milliseconds, -1 without expiry, -2 when missing.
  virtual caf::expected<int64_t> ttl_ms(const std::string& key) = 0;

  /// INCRBY key delta, plus PEXPIRE key ttl_ms NX when ttl_ms > 0 (one MULTI):
  /// the new value. A missing key counts from 0; an expiry is set only if the
  /// key has none, so a window counter keeps its first deadline. A value that
  /// is not a canonical 64-bit integer, or an overflow, is a store_error.
  virtual caf::expected<int64_t>
  incr_by(const std::string& key, int64_t delta, int64_t ttl_ms = 0) = 0;

  // -- hashes -----------------------------------------------------------------

  /// HSET key field value ...: the number of fields that were new. An empty
  /// list changes nothing and returns 0. Keeps the key's expiry.
  virtual caf::expected<uint64_t>
  hset(const std::string& key, const field_list& fields) = 0;

  /// HGET key field: the value, or nullopt when the key or field is missing.
  virtual caf::expected<std::optional<std::string>>
  hget(const std::string& key, const std::string& field) = 0;

  /// HGETALL key: all fields sorted by field name; empty when missing.
  virtual caf::expected<field_list> hgetall(const std::string& key) = 0;

  /// HINCRBY key field delta: the new value; store_error when the field holds
  /// no integer or the sum overflows.
  virtual caf::expected<int64_t>
  hincr_by(const std::string& key, const std::string& field, int64_t delta) = 0;

  /// HDEL key field: whether the field existed. Removing the last field
  /// removes the key, as in Redis.
  virtual caf::expected<bool>
  hdel(const std::string& key, const std::string& field) = 0;

  // -- streams ----------------------------------------------------------------

  /// XADD stream [MAXLEN n | MINID id] * field value ...: the new entry's ID.
  /// IDs are strictly increasing per stream, also within one millisecond, when
  /// the clock goes backwards and after trimming: the next ID is "now-0" if
  /// now is past the last ID's ms, else the last ID with seq + 1. Trimming
  /// runs after the add. An empty field list is an invalid_argument.
  virtual caf::expected<std::string> xadd(const std::string& stream,
                                          const field_list& fields,
                                          const stream_trim& trim = {})
    = 0;

  /// XLEN stream: the number of entries; 0 when missing.
  virtual caf::expected<uint64_t> xlen(const std::string& stream) = 0;

  /// XRANGE stream start end [COUNT count]: entries in ascending ID order with
  /// start <= id <= end; "-" and "+" are the extremes, "(id" excludes id.
  /// count 0 returns all. Empty when the stream is missing.
  virtual caf::expected<std::vector<stream_entry>>
  xrange(const std::string& stream, const std::string& start,
         const std::string& end, uint64_t count = 0)
    = 0;

  /// XREVRANGE stream end start [COUNT count]: as xrange, newest first.
  virtual caf::expected<std::vector<stream_entry>>
  xrevrange(const std::string& stream, const std::string& end,
            const std::string& start, uint64_t count = 0)
    = 0;

  /// XTRIM stream MAXLEN n | MINID id: the number of entries removed. A trim
  /// with no limit removes nothing. The stream key stays, even when empty.
  virtual caf::expected<uint64_t>
  xtrim(const std::string& stream, const stream_trim& trim) = 0;

  /// XDEL stream id ...: the number of `ids` that were entries and are now
  /// deleted (an ID given twice counts once); 0 for a missing stream. Every
  /// ID is checked first: a malformed one is an invalid_argument and deletes
  /// nothing, also on a missing stream (where Redis answers 0 unchecked). An
  /// empty list deletes nothing and returns 0. The stream key stays, even
  /// when empty, and new IDs keep increasing past the deleted ones. As in
  /// Redis, the groups' pending lists keep deleted IDs: XPENDING still counts
  /// them, XACK still acknowledges them, XAUTOCLAIM drops them.
  virtual caf::expected<uint64_t>
  xdel(const std::string& stream, const std::vector<std::string>& ids) = 0;

  // -- consumer groups --------------------------------------------------------

  /// XGROUP CREATE stream group start_id MKSTREAM: true when created; false
  /// when the group exists (Redis: BUSYGROUP). start_id "$" delivers only
  /// entries added later, "0" everything in the stream.
  virtual caf::expected<bool> xgroup_create(const std::string& stream,
                                            const std::string& group,
                                            const std::string& start_id)
    = 0;

  /// XREADGROUP GROUP group consumer [COUNT count] STREAMS stream >: up to
  /// count (0 = all) entries never delivered to the group, oldest first. Each
  /// joins the group's pending list, owned by `consumer`, delivery count 1.
  /// Never blocks.
  virtual caf::expected<std::vector<stream_entry>>
  xreadgroup(const std::string& stream, const std::string& group,
             const std::string& consumer, uint64_t count = 0)
    = 0;

  /// XACK stream group id ...: how many of `ids` were pending and are now
  /// acknowledged. A missing group is not_found even though Redis' XACK
  /// answers 0 (the Redis backend checks with XPENDING when XACK answers 0).
  virtual caf::expected<uint64_t> xack(const std::string& stream,
                                       const std::string& group,
                                       const std::vector<std::string>& ids)
    = 0;

  /// XPENDING stream group (summary form): the number of pending entries.
  virtual caf::expected<uint64_t>
  xpending_count(const std::string& stream, const std::string& group) = 0;

  /// XPENDING stream group - + count: pending entries in ID order with owner,
  /// idle time and delivery count; count 0 returns all.
  virtual caf::expected<std::vector<pending_entry>>
  xpending(const std::string& stream, const std::string& group,
           uint64_t count = 0)
    = 0;

  /// XAUTOCLAIM stream group consumer min_idle_ms 0 [COUNT count], repeated
  /// until the cursor returns to 0-0 or count (0 = all) entries are claimed:
  /// the pending entries idle for at least min_idle_ms, in ID order, now owned
  /// by `consumer` with their delivery count incremented and idle time reset.
  /// Entries trimmed from the stream meanwhile, idle or not, are dropped from
  /// the pending list and not returned (Redis 7.0 checks existence first).
  virtual caf::expected<std::vector<stream_entry>>
  xautoclaim(const std::string& stream, const std::string& group,
             const std::string& consumer, int64_t min_idle_ms,
             uint64_t count = 0)
    = 0;

  // -- batches ----------------------------------------------------------------

  /// Runs `ops` in order as one isolated unit (Redis: MULTI ... EXEC, sent in
  /// one round trip): no other caller's command runs between them, and a lost
  /// connection applies all or none of them. As in Redis, an op that fails at
  /// run time (WRONGTYPE, not an integer, overflow) does not undo or stop
  /// the others; its result carries the error. Arguments are checked first:
  /// any invalid op (negative TTL, both trim limits, an XADD without fields,
  /// a malformed stream ID in XACK or XDEL) fails the whole call with
  /// invalid_argument and nothing is written. An empty batch returns an empty
  /// result. The reply holds one result per op.
  virtual caf::expected<std::vector<write_result>>
  write(const std::vector<write_op>& ops) = 0;

  // -- administration ---------------------------------------------------------

  /// SCAN 0 MATCH <prefix>* (to the end): the live keys starting with
  /// `prefix`, without the store's own prefix, sorted. For tests and admin
  /// tools, not for hot paths.
  virtual caf::expected<std::vector<std::string>>
  keys(const std::string& prefix) = 0;
};

} // namespace streamb::store
