#pragma once

// In a cluster, what the node's routes, hub and advisor hold instead of a
// service's monitor or budget controller: it passes every message on to
// the service's owner (its actor here, or on a peer over CAF's remote
// messaging) with the original sender and request id, so the owner answers
// the asker directly. With no owner reachable a request gets `unavailable`
// with the reason.

#include "runtime/messages.hpp"
#include "runtime/metrics/ingest_backlog.hpp"

#include <caf/actor.hpp>
#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/event_based_actor.hpp>

#include <memory>
#include <string>

namespace streamb {

/// `backlog`: the samples the routes counted for this service (null for a
/// budget router); released here for samples that leave the node.
caf::behavior service_router(caf::event_based_actor* self, std::string service,
                             std::shared_ptr<ingest_backlog> backlog);

/// Points a router at `target` (null: nobody), `local` when it runs on this
/// node; `why` says where the owner is (for the errors of an empty target).
struct router_target {
  caf::strong_actor_ptr target;
  bool local = false;
  std::string why;
};

void retarget(const caf::actor& router, router_target x);

} // namespace streamb

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(streamb::router_target)
