#pragma once

// The in-memory store: the embedded default for a first run and the reference
// the Redis backend is tested against. Not durable.

#include "runtime/store/store_backend.hpp"

#include <memory>
#include <mutex>

namespace streamb::store {

/// Keeps every key in process memory behind one mutex; Redis semantics.
class memory_backend final : public backend {
public:
  /// `now_ms` is the only source of time (TTLs, stream IDs, idle times);
  /// past `max_keys` keys (0: no cap) a call that adds one fails with
  /// error_code::capacity.
  explicit memory_backend(clock_fn now_ms = wall_clock_ms,
                          std::size_t max_keys = 0);

  ~memory_backend() override;

  memory_backend(const memory_backend&) = delete;
  memory_backend& operator=(const memory_backend&) = delete;

  caf::expected<caf::unit_t> ping() override;

  caf::expected<std::optional<std::string>>
  get(const std::string& key) override;

  caf::expected<caf::unit_t> set(const std::string& key,
                                 const std::string& value,
                                 int64_t ttl_ms = 0) override;

  caf::expected<bool> set_nx(const std::string& key, const std::string& value,
                             int64_t ttl_ms = 0) override;

  caf::expected<bool> del(const std::string& key) override;

  caf::expected<bool> expire(const std::string& key, int64_t ttl_ms) override;

  caf::expected<bool> expire_if(const std::string& key,
                                const std::string& value,
                                int64_t ttl_ms) override;
  caf::expected<int64_t> ttl_ms(const std::string& key) override;

  caf::expected<int64_t> incr_by(const std::string& key, int64_t delta,
                                 int64_t ttl_ms = 0) override;

  caf::expected<uint64_t> hset(const std::string& key,
                               const field_list& fields) override;

  caf::expected<std::optional<std::string>>
  hget(const std::string& key, const std::string& field) override;

  caf::expected<field_list> hgetall(const std::string& key) override;

  caf::expected<int64_t> hincr_by(const std::string& key,
                                  const std::string& field,
                                  int64_t delta) override;

  caf::expected<bool> hdel(const std::string& key,
                           const std::string& field) override;

  caf::expected<std::string> xadd(const std::string& stream,
                                  const field_list& fields,
                                  const stream_trim& trim = {}) override;

  caf::expected<uint64_t> xlen(const std::string& stream) override;

  caf::expected<std::vector<stream_entry>> xrange(const std::string& stream,
                                                  const std::string& start,
                                                  const std::string& end,
                                                  uint64_t count = 0) override;

  caf::expected<std::vector<stream_entry>>
  xrevrange(const std::string& stream, const std::string& end,
            const std::string& start, uint64_t count = 0) override;

  caf::expected<uint64_t> xtrim(const std::string& stream,
                                const stream_trim& trim) override;

  caf::expected<uint64_t> xdel(const std::string& stream,
                               const std::vector<std::string>& ids) override;

  caf::expected<bool> xgroup_create(const std::string& stream,
                                    const std::string& group,
                                    const std::string& start_id) override;

  caf::expected<std::vector<stream_entry>>
  xreadgroup(const std::string& stream, const std::string& group,
             const std::string& consumer, uint64_t count = 0) override;

  caf::expected<uint64_t> xack(const std::string& stream,
                               const std::string& group,
                               const std::vector<std::string>& ids) override;

  caf::expected<uint64_t> xpending_count(const std::string& stream,
                                         const std::string& group) override;

  caf::expected<std::vector<pending_entry>>
  xpending(const std::string& stream, const std::string& group,
           uint64_t count = 0) override;

  caf::expected<std::vector<stream_entry>>
  xautoclaim(const std::string& stream, const std::string& group,
             const std::string& consumer, int64_t min_idle_ms,
             uint64_t count = 0) override;

  caf::expected<std::vector<write_result>>
  write(const std::vector<write_op>& ops) override;

  caf::expected<std::vector<std::string>>
  keys(const std::string& prefix) override;

private:
  /// The keyspace; defined in the .cpp so this header stays light.
  struct state;

  /// Guards state_ and every call of now_ms_: each call runs under it whole,
  /// so every call is atomic, as a Redis command is. Recursive because
  /// `write` holds it across the single calls it makes.
  std::recursive_mutex mtx_;
  clock_fn now_ms_;
  std::unique_ptr<state> state_;
};

} // namespace streamb::store
