#include "actors/service_router.hpp"

#include "runtime/core/error_code.hpp"

#include <caf/event_based_actor.hpp>
#include <caf/mailbox_element.hpp>
#include <caf/make_message.hpp>
#include <caf/message_view.hpp>
#include <caf/send.hpp>

namespace streamb {

namespace {

struct router_state {
  std::string service;
  std::shared_ptr<ingest_backlog> backlog;
  router_target to;
};

// A sample batch that leaves the node (or is dropped) is no longer queued
// here: the owner's monitor counts it in its own node's backlog.
void release_samples(router_state& st, caf::message_view& x) {
  auto& xs = x.content();
  if (st.backlog && xs.match_elements<record_atom, call_samples>())
    st.backlog->release(xs.get_as<call_samples>(1).size());
}

caf::error no_owner(const router_state& st) {
  return caf::make_error(error_code::unavailable,
                         "no node that owns '" + st.service
                           + "' is reachable: " + st.to.why);
}

// Passes the current request on to the owner. Here: as it is (the owner
// answers the asker, priority kept). On a peer: as a request of the
// router's own at normal priority whose answer the router hands back,
// because CAF 0.17 loses the answer to a high-priority request that an
// event-based actor sent over BASP (measured: it never arrives).
template <class T, class... Ts>
caf::result<T> relay(caf::event_based_actor* self, router_state& st, Ts... xs) {
  if (!st.to.target)
    return no_owner(st);
  if (st.to.local) {
    auto* el = self->current_mailbox_element();
    st.to.target->enqueue(std::move(el->sender), el->mid,
                          caf::make_message(std::move(xs)...), self->context());
    return caf::delegated<T>{};
  }
  auto rp = self->make_response_promise<T>();
  // A peer that vanishes answers nothing: the deadline frees the promise.
  self
    ->request(caf::actor_cast<caf::actor>(st.to.target),
              std::chrono::seconds{10}, std::move(xs)...)
    .then([rp](T& x) mutable { rp.deliver(std::move(x)); },
          [rp](caf::error& err) mutable { rp.deliver(std::move(err)); });
  return rp;
}

} // namespace

caf::behavior service_router(caf::event_based_actor* self, std::string service,
                             std::shared_ptr<ingest_backlog> backlog) {
  auto st = std::make_shared<router_state>();
  st->service = std::move(service);
  st->backlog = std::move(backlog);
  st->to.why = "no owner known yet";
  self->set_default_handler(
    [st](caf::scheduled_actor* s,
         caf::message_view& x) -> caf::result<caf::message> {
      // One-way messages (call samples, spend): passed on as they are.
      if (!st->to.target) {
        release_samples(*st, x);
        return no_owner(*st);
      }
      auto* el = s->current_mailbox_element();
      auto sender = std::move(el->sender);
      if (!st->to.local) {
        release_samples(*st, x);
        // As the router: the owner's monitor tells samples from a peer
        // (counted in this node's backlog) from its own node's.
        sender = s->ctrl();
      }
      st->to.target->enqueue(std::move(sender), el->mid,
                             x.move_content_to_message(), s->context());
      return caf::delegated<caf::message>{};
    });
  using caf::result;
  return {
    [st](owner_atom, router_target& x) { st->to = std::move(x); },
    // The requests of a service monitor and a budget controller.
    [self, st](metrics_atom a, metrics_window w) -> result<service_metrics> {
      return relay<service_metrics>(self, *st, a, w);
    },
    [self, st](totals_atom a) -> result<call_totals> {
      return relay<call_totals>(self, *st, a);
    },
    [self, st](profile_atom a) -> result<usage_profile> {
      return relay<usage_profile>(self, *st, a);
    },
    [self, st](ping_atom a) -> result<bool> {
      return relay<bool>(self, *st, a);
    },
    // Settings and the history flush stay with each node's own actors (a
    // shared pointer cannot cross machines anyway).
    [self, st](flush_atom a) -> result<bool> {
      if (st->to.target && !st->to.local)
        return true;
      return relay<bool>(self, *st, a);
    },
    [self, st](reconfig_atom a, service_config_ptr& x,
               std::string& who) -> result<bool> {
      if (st->to.target && !st->to.local)
        return false;
      return relay<bool>(self, *st, a, std::move(x), std::move(who));
    },
    [self, st](admit_atom a,
               admission_request& x) -> result<admission_decision> {
      return relay<admission_decision>(self, *st, a, std::move(x));
    },
    [self, st](budget_atom a) -> result<budget_status> {
      return relay<budget_status>(self, *st, a);
    },
    [self, st](override_atom a, budget::budget_override x,
               std::string& who) -> result<budget_status> {
      return relay<budget_status>(self, *st, a, x, std::move(who));
    },
    [self, st](set_limit_atom a, budget::limit_tier tier, uint64_t value,
               std::string& who) -> result<budget_status> {
      return relay<budget_status>(self, *st, a, tier, value, std::move(who));
    },
  };
}

void retarget(const caf::actor& router, router_target x) {
  caf::anon_send(router, owner_atom_v, std::move(x));
}

} // namespace streamb
