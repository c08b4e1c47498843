#include "actors/actor_port.hpp"

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/io/middleman.hpp>
#include <caf/io/publish.hpp>
#include <caf/openssl/manager.hpp>
#include <caf/openssl/publish.hpp>
#include <caf/openssl/remote_actor.hpp>

namespace streamb {

void configure_actor_tls(caf::actor_system_config& cfg,
                         const actor_tls_config& tls) {
  if (!tls.enabled())
    return;
  // With a certificate, key and CA, CAF's session requires a valid
  // certificate on both sides (SSL_VERIFY_FAIL_IF_NO_PEER_CERT).
  cfg.load<caf::openssl::manager>();
  cfg.openssl_certificate = tls.cert_file;
  cfg.openssl_key = tls.key_file;
  cfg.openssl_cafile = tls.ca_file;
}

caf::expected<uint16_t>
publish_gateway(const coordination_gateway_actor& gateway,
                const std::string& host, uint16_t port, bool tls) {
  if (tls)
    return caf::openssl::publish(gateway, port, host.c_str(), true);
  return caf::io::publish(gateway, port, host.c_str(), true);
}

caf::expected<coordination_gateway_actor>
connect_gateway(caf::actor_system& sys, const std::string& host, uint16_t port,
                bool tls) {
  if (tls)
    return caf::openssl::remote_actor<coordination_gateway_actor>(sys, host,
                                                                  port);
  return sys.middleman().remote_actor<coordination_gateway_actor>(host, port);
}

} // namespace streamb
