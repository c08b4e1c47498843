#pragma once

// The Redis store: the durable backend, shared by the nodes of a cluster, on
// hiredis' blocking API. It keeps the contract written in store_backend.hpp
// and passes the same behavioural suite as memory_backend.
//
// One connection serves every caller, one round trip at a time, behind a
// mutex: the store actor that owns the backend is detached and makes one call
// at a time anyway, and one connection keeps the order of a caller's commands
// without any pool logic. The connection is opened lazily and dropped on the
// first I/O error or timeout, because a blocking hiredis context cannot be
// trusted after one (a late reply would answer the next command). Later calls
// reconnect, at most once per backoff interval, which doubles from
// `backoff_min` to `backoff_max` while Redis stays away and is reset by the
// first round trip that succeeds. In between, calls fail at once with
// error_code::store_unavailable. One round trip thus waits at most
// `connect_timeout` plus `command_timeout` (plus a DNS lookup for a host
// name, and the time other threads hold the connection); `keys` and
// `xautoclaim` may take several round trips.

#include "runtime/store/store_backend.hpp"

#include <caf/expected.hpp>

#include <chrono>
#include <memory>
#include <string>

namespace streamb::store {

/// Where Redis is and how long to wait for it.
struct redis_options {
  std::string host = "127.0.0.1";
  int port = 6379;
  /// Selected on every new connection.
  int db = 0;
  /// AUTH on every new connection when `password` is set: `AUTH password`
  /// (the default user), or `AUTH username password` (an ACL user). Never
  /// logged.
  std::string username;
  std::string password;
  /// Prepended to every key, so that several deployments can share one
  /// database and `keys` can list ours alone.
  std::string prefix = "streamb:";
  /// Bounds the TCP connect (not a DNS lookup, which hiredis does blocking).
  std::chrono::milliseconds connect_timeout{1000};
  /// Bounds each read and write of a round trip; a timeout drops the
  /// connection.
  std::chrono::milliseconds command_timeout{1000};
  /// The least and the most time between two connection attempts.
  std::chrono::milliseconds backoff_min{50};
  std::chrono::milliseconds backoff_max{5000};
};

/// Parses `redis://[[user]:password@]host[:port][/db]` (host may be a
/// bracketed IPv6 address; user and password percent-encoded); everything
/// else (other schemes, a user without a password, queries, an empty port
/// or database) is an error_code::invalid_argument naming what is wrong.
/// Error messages never repeat credentials.
caf::expected<redis_options> parse_redis_url(const std::string& url);

/// The options for a store config: `url` parsed, then `password` (and
/// `username`) from the config when set, and `prefix`. Credentials in both
/// the URL and the config are an error (which to use would be a guess).
caf::expected<redis_options> redis_options_for(const std::string& url,
                                               const std::string& username,
                                               const std::string& password,
                                               const std::string& prefix);

/// The store on a Redis 7 server, safe to call from several threads.
class redis_backend final : public backend {
public:
  /// Connects on the first call, not here: a node starts while Redis is down.
  explicit redis_backend(redis_options opts);

  ~redis_backend() override;

  redis_backend(const redis_backend&) = delete;
  redis_backend& operator=(const redis_backend&) = delete;

  // -- health -----------------------------------------------------------------

  /// Whether a connection is open. It is opened by the first call, so a fresh
  /// backend reports false. Never waits for a running call.
  bool connected() const;

  /// The most recent reason the store was unavailable (connect or I/O error,
  /// timeout, or a server that is loading, read-only, ...); kept after
  /// recovery for diagnosis; empty if there was none. Never waits for a
  /// running call.
  std::string last_error() const;

  const redis_options& options() const {
    return opts_;
  }

  // -- backend ----------------------------------------------------------------

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
  /// The hiredis context, its mutex and the reconnect state; defined in the
  /// .cpp so that hiredis stays out of this header.
  class connection;

  /// `key` under the configured prefix.
  std::string key(const std::string& key) const {
    return opts_.prefix + key;
  }

  const redis_options opts_;
  std::unique_ptr<connection> conn_;
};

} // namespace streamb::store
