#pragma once

// Deliveries to one HTTP endpoint: coordination events and verified
// webhooks POSTed as JSON, signed with the Standard Webhooks scheme, kept
// in the endpoint's own queue in the store until a 2xx answer, retried on
// the endpoint's schedule with full jitter, then dead-lettered.
//
// Store keys (per node, so that two nodes never send one entry twice):
//   deliveries:<node>:<endpoint>:queue   stream: what waits for a 2xx
//   deliveries:<node>:<endpoint>:dead    stream: dead letters (last 10 000)

#include "runtime/config/config.hpp"
#include "runtime/messages.hpp"

#include <caf/fwd.hpp>

#include <string>

namespace streamb {

struct delivery_endpoint_settings {
  std::string node = "local";
  delivery_endpoint_config endpoint;
  /// Replays are audited; records older than this are trimmed.
  int64_t audit_retention_ms = int64_t{90} * 24 * 3600 * 1000;
};

/// Spawns the endpoint's actor; it reads back what a previous run left in
/// its queue and sends it again (at least once).
delivery_endpoint_actor spawn_delivery_endpoint(caf::actor_system& sys,
                                                delivery_endpoint_settings s,
                                                store_actor store);

} // namespace streamb
