#include "actors/agent_gateway.hpp"

#include "runtime/core/error_code.hpp"
#include "runtime/core/log.hpp"

#include <caf/scheduled_actor.hpp>

namespace streamb {

coordination_gateway_actor::behavior_type
agent_gateway(coordination_gateway_actor::pointer self,
              coordination_hub_actor hub, cluster::cluster_state_ptr cluster) {
  // Peers may send any message to a published actor, exit messages too: the
  // gateway ends with the hub and ignores every exit message. One of reason
  // `kill` cannot be ignored (CAF 0.17); the hub then publishes a new one.
  self->monitor(hub);
  self->set_exit_handler([](caf::exit_msg&) {});
  self->set_down_handler([self, hub](caf::down_msg& dm) {
    if (dm.source == hub.address())
      self->quit(dm.reason);
  });
  // Error messages a peer sends are dropped on purpose: a hostile peer
  // must not be able to fill the log (the hub logs what agents do).
  self->set_error_handler([](caf::error&) {});
  self->set_default_handler(caf::drop);
  return {
    [self, hub](agent_reg_atom a, agent_registration& reg,
                agent_endpoint_actor& endpoint) {
      return self->delegate(hub, a, std::move(reg), std::move(endpoint));
    },
    [self, hub](heartbeat_atom a, std::string& session) {
      return self->delegate(hub, a, std::move(session));
    },
    [self, hub](respond_atom a, std::string& session,
                std::vector<event_response>& rs) {
      self->send(hub, a, std::move(session), std::move(rs));
    },
    [self, hub](record_atom a, std::string& session, std::string& service,
                call_samples& xs) {
      self->send(hub, a, std::move(session), std::move(service), std::move(xs));
    },
    [self, hub](leave_atom a, std::string& session) {
      self->send(hub, a, std::move(session));
    },
    [cluster](
      cluster_atom, const std::string& peer, const std::string& secret,
      caf::strong_actor_ptr& peer_gateway) -> caf::result<cluster_directory> {
      if (!cluster)
        return caf::make_error(error_code::unsupported,
                               "this node is not in a cluster");
      if (!cluster->secret_matches(secret)) {
        // Named, not the secret: an operator sees who knocks.
        log_warning("cluster",
                    "refused peer '" + peer.substr(0, 64)
                      + "': wrong cluster secret");
        return caf::make_error(error_code::unauthorized,
                               "wrong cluster secret");
      }
      cluster->offer_gateway(peer, std::move(peer_gateway));
      return cluster->directory();
    },
  };
}

} // namespace streamb
