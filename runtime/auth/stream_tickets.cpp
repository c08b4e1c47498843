#include "runtime/auth/stream_tickets.hpp"

#include "runtime/core/crypto.hpp"
#include "runtime/core/hex.hpp"

namespace streamb::auth {

stream_tickets::stream_tickets(std::size_t max_open, int64_t ttl_ms)
  : max_open_(max_open), ttl_ms_(ttl_ms) {
  // nop
}

void stream_tickets::purge_locked(int64_t now_ms) {
  for (auto i = by_hash_.begin(); i != by_hash_.end();)
    i = i->second.expires_ms <= now_ms ? by_hash_.erase(i) : std::next(i);
}

std::optional<std::string> stream_tickets::issue(identity who, int64_t now_ms,
                                                 ticket_scope scope,
                                                 std::string key_hash) {
  std::lock_guard<std::mutex> guard{mtx_};
  if (by_hash_.size() >= max_open_)
    purge_locked(now_ms);
  if (by_hash_.size() >= max_open_)
    return std::nullopt;
  auto ticket = "sbt_" + to_hex(random_bytes(24));
  by_hash_[sha256_hex(ticket)] = entry{
    ticket_grant{std::move(who), std::move(key_hash)}, scope, now_ms + ttl_ms_};
  return ticket;
}

std::optional<ticket_grant> stream_tickets::redeem(std::string_view ticket,
                                                   int64_t now_ms,
                                                   ticket_scope scope) {
  if (ticket.size() > 128)
    return std::nullopt;
  std::lock_guard<std::mutex> guard{mtx_};
  auto i = by_hash_.find(sha256_hex(ticket));
  if (i == by_hash_.end())
    return std::nullopt;
  auto found = std::move(i->second);
  by_hash_.erase(i);
  // Used up either way: a ticket shown where it does not belong is spent.
  if (found.expires_ms <= now_ms || found.scope != scope)
    return std::nullopt;
  return std::move(found.grant);
}

std::size_t stream_tickets::open() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return by_hash_.size();
}

} // namespace streamb::auth
