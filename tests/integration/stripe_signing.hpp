#pragma once

// Stripe-Signature headers made at test time, for webhooks through the real
// binary.

#include "runtime/core/crypto.hpp"
#include "runtime/core/hex.hpp"
#include "runtime/core/wall_time.hpp"

#include <catch2/catch.hpp>

#include <cstdint>
#include <string>

namespace streamb::test {

/// "t=<t>,v1=<hex HMAC-SHA256 of t.body>".
inline std::string stripe_signature(const std::string& secret,
                                    const std::string& body, int64_t t) {
  auto ts = std::to_string(t);
  auto mac = hmac_sha256(secret, {ts, ".", body});
  REQUIRE(mac);
  return "t=" + ts + ",v1=" + to_hex(*mac);
}

inline int64_t now_s() {
  return epoch_ms_now() / 1000;
}

/// A Stripe event of `type` with id `id`.
inline std::string stripe_event(const std::string& id,
                                const std::string& type = "charge.succeeded") {
  return R"({"id":")" + id + R"(","object":"event","type":")" + type
    + R"(","data":{"object":{"amount":1200}}})";
}

} // namespace streamb::test
