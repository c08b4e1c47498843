#pragma once

// The node's actor port, plain or over mutual TLS (caf_openssl): one place
// that knows which CAF calls publish and connect, for the node, the hub
// (which republishes a gateway that died), cluster peers and agents.

#include "runtime/config/config.hpp"
#include "runtime/messages.hpp"

#include <caf/expected.hpp>
#include <caf/fwd.hpp>

#include <cstdint>
#include <string>

namespace streamb {

/// Loads CAF's OpenSSL manager with this node's certificate, key and CA
/// (before the actor system starts); a no-op without `tls`.
void configure_actor_tls(caf::actor_system_config& cfg,
                         const actor_tls_config& tls);

/// Publishes `gateway` on host:port; over TLS when `tls`, where a client
/// without a certificate signed by the CA never reaches BASP.
caf::expected<uint16_t>
publish_gateway(const coordination_gateway_actor& gateway,
                const std::string& host, uint16_t port, bool tls);

/// Connects to a node's gateway (blocking).
caf::expected<coordination_gateway_actor>
connect_gateway(caf::actor_system& sys, const std::string& host, uint16_t port,
                bool tls);

} // namespace streamb
