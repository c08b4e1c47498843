#pragma once

// Stripe-Signature headers made at test time, for webhooks through the real
// binary.

#include "runtime/core/crypto.hpp"
#include "runtime/core/hex.hpp"
#include "runtime/core/wall_time.hpp"

#include <catch2/catch.hpp>
#include <httplib.h>

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

/// POSTs the Stripe event `id`, signed now with `secret`, to the node.
inline httplib::Result post_stripe_event(httplib::Client& client,
                                         const std::string& secret,
                                         const std::string& id) {
  auto body = stripe_event(id);
  httplib::Headers headers{
    {"Stripe-Signature", stripe_signature(secret, body, now_s())}};
  return client.Post("/webhooks/stripe", headers, body, "application/json");
}

} // namespace streamb::test
