#include "runtime/cluster/lease.hpp"

#include <utility>

namespace streamb::cluster {

lease::lease(std::string token, int64_t ttl_ms)
  : token_(std::move(token)), ttl_ms_(ttl_ms) {}

void lease::answered(bool ok, int64_t asked_ms) {
  believed_ = ok;
  valid_until_ms_ = ok ? asked_ms + ttl_ms_ : 0;
}

bool lease::held(int64_t now_ms) const {
  return believed_ && now_ms < valid_until_ms_ - ttl_ms_ / 10;
}

void lease::drop() {
  believed_ = false;
  valid_until_ms_ = 0;
}

} // namespace streamb::cluster
