#include "actors/coordination_hub.hpp"

#include "actors/actor_port.hpp"

#include "runtime/auth/api_key.hpp"
#include "runtime/coordination/agent_findings.hpp"
#include "runtime/coordination/agent_token.hpp"
#include "runtime/coordination/coordination_codec.hpp"
#include "runtime/coordination/event_check.hpp"
#include "runtime/coordination/event_types.hpp"
#include "runtime/coordination/known_agents.hpp"
#include "runtime/coordination/node_events.hpp"
#include "runtime/core/actor_wall_clock.hpp"
#include "runtime/core/audit.hpp"
#include "runtime/core/crypto.hpp"
#include "runtime/core/error_text.hpp"
#include "runtime/core/hex.hpp"
#include "runtime/core/log.hpp"
#include "runtime/core/valid_name.hpp"
#include "runtime/deliveries/outbound.hpp"
#include "runtime/webhooks/webhook_queue.hpp"

#include <boost/json.hpp>

#include <caf/io/publish.hpp>
#include <caf/io/unpublish.hpp>
#include <caf/send.hpp>

#include <algorithm>

namespace streamb {

namespace coordination_keys {

std::string open_events(const std::string& node) {
  return "coord:open:" + node;
}

std::string event(const std::string& id) {
  return "coord:event:" + id;
}

std::string known_agents(const std::string& node) {
  return "coord:agents:" + node;
}

std::string adopt_lease(const std::string& node) {
  return "coord:adopt:" + node;
}

} // namespace coordination_keys

namespace {

constexpr const char* component = "coordination_hub";

int64_t now_ms(coordination_hub_pointer self) {
  return self->state.settings.now_ms();
}

int64_t retention_ms(coordination_hub_pointer self) {
  return int64_t{self->state.settings.agents.event_retention_h} * 3600 * 1000;
}

// -- store writes -------------------------------------------------------------

void on_stored(coordination_hub_pointer self, const std::string& id,
               const std::string& entry);
void on_store_refused(coordination_hub_pointer self, const std::string& id,
                      const caf::error& err);
void dispatch(coordination_hub_pointer self);

using hub_write = coordination_hub_state::hub_write;

/// Writes waiting behind the one in flight. A burst of 20 000 published
/// events (the benchmark) queues about as many opens; below that bound a
/// burst loses durability, past it a store that stays slow costs memory
/// (a queued open is about 0.5 KB: 100 000 of them about 50 MB).
constexpr std::size_t max_queued_writes = 100'000;

store_batcher<hub_write> make_writer(coordination_hub_pointer self) {
  using batch = std::vector<hub_write>;
  store_batcher<hub_write>::handlers h;
  h.make_ops = [](const batch& xs) {
    write_ops ops;
    ops.reserve(xs.size());
    for (auto& x : xs)
      ops.push_back(x.op);
    return ops;
  };
  h.stored = [self](batch& xs, write_results& rs) {
    for (std::size_t i = 0; i < xs.size(); ++i) {
      auto& id = xs[i].opened_event;
      if (id.empty())
        continue;
      if (rs[i].error)
        on_store_refused(self, id, rs[i].error);
      else
        on_stored(self, id, rs[i].text);
    }
    // Everything this batch stored goes out together.
    dispatch(self);
    return true;
  };
  // Outcome records and audit entries are sent again with the next batch:
  // the events themselves are finished and their open-stream entries stay,
  // so a restart delivers them again rather than losing them. An open
  // event's XADD is answered to its sender instead.
  h.keep = [](const hub_write& x) { return x.opened_event.empty(); };
  h.refused = [self](batch& xs, const caf::error& err, bool first) {
    if (first)
      log_warning(component, "store write failed: " + error_text(err));
    for (auto& x : xs)
      if (!x.opened_event.empty())
        on_store_refused(self, x.opened_event, err);
    dispatch(self);
  };
  // A sender waiting for its event to be stored learns that it was not.
  h.dropped = [self](hub_write& x) {
    if (!x.opened_event.empty())
      on_store_refused(self, x.opened_event,
                       caf::make_error(error_code::store_unavailable,
                                       "too many store writes waiting"));
  };
  return store_batcher<hub_write>{component, on_refusal::keep_if,
                                  max_queued_writes, std::move(h)};
}

void flush_writes(coordination_hub_pointer self) {
  auto& st = self->state;
  st.writer->flush(self, st.store, std::chrono::seconds{10});
}

/// Queues a write; `flush` false leaves it for the next op, so that ops of
/// one change land in one batch.
void buffer_write(coordination_hub_pointer self, store::write_op op,
                  std::string opened_event = {}, bool flush = true) {
  self->state.writer->push(hub_write{std::move(op), std::move(opened_event)});
  if (flush)
    flush_writes(self);
}

/// The outcome of a finished event, kept for agents.event_retention_h.
void record_write(coordination_hub_pointer self, const event_record& rec,
                  bool flush = true) {
  buffer_write(self,
               store::write_op::make_set(coordination_keys::event(rec.event.id),
                                         record_to_text(rec),
                                         retention_ms(self)),
               {}, flush);
}

void audit(coordination_hub_pointer self, std::string who, std::string action,
           std::string subject, std::string outcome, std::string detail) {
  audit_record x;
  x.at_ms = now_ms(self);
  x.node = self->state.settings.node;
  x.who = std::move(who);
  x.action = std::move(action);
  x.subject = std::move(subject);
  x.outcome = std::move(outcome);
  x.detail = std::move(detail);
  buffer_write(self, audit_write(x, self->state.settings.audit_retention_ms));
}

// -- what the router decided --------------------------------------------------

// -- what the observer hears --------------------------------------------------

void observe_event(coordination_hub_pointer self,
                   const coordination_event& ev) {
  if (auto& obs = self->state.observer)
    self->send(obs, publish_atom_v, ev);
}

/// Tells the observer of every agent whose state changed since it last
/// heard (registered, stale, back, disconnected).
void observe_agents(coordination_hub_pointer self) {
  auto& st = self->state;
  if (!st.observer)
    return;
  auto& all = st.agents->all();
  for (auto& [name, a] : all) {
    auto i = st.observed_states.find(name);
    if (i != st.observed_states.end() && i->second == a.state)
      continue;
    st.observed_states[name] = a.state;
    self->send(st.observer, agents_atom_v, st.agents->status(a));
  }
  // Names the registry forgot.
  if (st.observed_states.size() > all.size())
    for (auto i = st.observed_states.begin(); i != st.observed_states.end();)
      i = all.count(i->first) == 0 ? st.observed_states.erase(i) : std::next(i);
}

/// What the answers of a finished event found, for the advisor and the
/// streams.
void observe_findings(coordination_hub_pointer self, const event_record& rec) {
  auto& st = self->state;
  if (!st.observer || !st.settings.services)
    return;
  agent_findings found;
  for (auto& d : rec.deliveries) {
    if (d.status != delivery_status::ok || d.response.empty())
      continue;
    auto xs = findings_in_answer(d.response, rec.event, d.agent,
                                 st.settings.services->names, d.answered_ms);
    found.insert(found.end(), std::make_move_iterator(xs.begin()),
                 std::make_move_iterator(xs.end()));
  }
  if (!found.empty())
    self->send(st.observer, finding_atom_v, std::move(found));
}

/// Stores the outcomes of finished events, drops them from the open-events
/// stream and answers the webhook deliveries waiting for them.
void apply(coordination_hub_pointer self, finished_events xs) {
  auto& st = self->state;
  if (xs.empty())
    return;
  for (auto& x : xs) {
    observe_findings(self, x.record);
    record_write(self, x.record, false);
    if (!x.open_entry.empty())
      buffer_write(self,
                   store::write_op::make_xdel(
                     coordination_keys::open_events(st.settings.node),
                     {x.open_entry}),
                   {}, false);
    if (auto i = st.webhook_promises.find(x.record.event.id);
        i != st.webhook_promises.end()) {
      for (auto& p : i->second)
        p.deliver(x.ok());
      st.webhook_promises.erase(i);
    }
  }
  flush_writes(self);
}

/// Sends what one dispatch round handed out: one message per agent, as the
/// gateway.
void send_outbox(coordination_hub_pointer self, outbox out) {
  auto& st = self->state;
  for (auto& [name, events] : out) {
    auto i = st.endpoints.find(name);
    if (i == st.endpoints.end() || !i->second)
      continue; // its deliveries time out
    if (st.gateway)
      caf::send_as(st.gateway, i->second, assign_atom_v, std::move(events));
    else
      self->send(i->second, assign_atom_v, std::move(events));
  }
}

void dispatch(coordination_hub_pointer self) {
  send_outbox(self, self->state.router->dispatch(now_ms(self)));
}

/// The agent is gone (connection dropped, left, replaced): its session ends
/// and its deliveries in flight go to other agents now.
void disconnect(coordination_hub_pointer self, const std::string& name,
                const std::string& why) {
  log_warning(component, "agent " + name + " disconnected: " + why);
  apply(self, self->state.router->disconnect(name, now_ms(self)));
}

// -- events -------------------------------------------------------------------

/// Routes a new event and, unless `durable` is false (webhooks, whose queue
/// is the processor's), stores it: in the open-events stream while routed,
/// as a record when not.
/// The roles here that would take `ev` when none of their agents has a
/// free delivery slot now (the event would wait); empty when one has room,
/// when none takes it, or when it names an agent (which stays its own).
std::vector<std::string> busy_roles(coordination_hub_pointer self,
                                    const coordination_event& ev) {
  auto target = delivery_target::parse(ev.target).value_or(delivery_target{});
  if (target.kind == delivery_target::kind_t::agent)
    return {};
  auto wanted = target.kind == delivery_target::kind_t::role ? target.name
                                                             : std::string{};
  auto& agents = *self->state.agents;
  std::vector<std::string> roles;
  for (auto& kv : agents.all()) {
    auto& a = kv.second;
    if (!a.subscribes(ev.type) || (!wanted.empty() && a.role != wanted))
      continue;
    if (a.state == agent_state::active && a.in_flight < agents.max_in_flight())
      return {};
    if (std::find(roles.begin(), roles.end(), a.role) == roles.end())
      roles.push_back(a.role);
  }
  return roles;
}

bool contains(const std::vector<std::string>& xs, const std::string& x) {
  return std::find(xs.begin(), xs.end(), x) != xs.end();
}

/// How many HTTP delivery endpoints take events of `type`.
std::size_t endpoints_taking(coordination_hub_pointer self,
                             const std::string& type) {
  std::size_t n = 0;
  for (auto& e : self->state.settings.endpoints)
    if (contains(e.event_types, type))
      ++n;
  return n;
}

routed_event take_event(coordination_hub_pointer self, coordination_event ev,
                        bool durable, std::size_t endpoints = 0) {
  auto& st = self->state;
  // No agent may have it but endpoints do: the record says where it went
  // (the endpoints' own stats say how that went).
  auto note = endpoints == 0
    ? std::string{}
    : "; handed to " + std::to_string(endpoints) + " HTTP endpoint(s)";
  auto routed = st.router->open(std::move(ev), now_ms(self), note);
  if (!durable)
    return routed;
  if (!routed.routed()) {
    record_write(self, routed.record);
    return routed;
  }
  // No record yet: while open, the hub answers from memory, and after a
  // restart from this entry.
  buffer_write(
    self,
    store::write_op::make_xadd(
      coordination_keys::open_events(st.settings.node),
      {{"event", encode_open_event(routed.record.event, routed.units)}}),
    routed.id());
  return routed;
}

void on_stored(coordination_hub_pointer self, const std::string& id,
               const std::string& entry) {
  auto& st = self->state;
  if (st.router->find_open(id) == nullptr)
    return;
  if (auto i = st.stored_promises.find(id); i != st.stored_promises.end()) {
    for (auto& p : i->second)
      p.deliver(id);
    st.stored_promises.erase(i);
  }
  if (st.unstored_run > 0) {
    log_info(component,
             "the store takes events again; " + std::to_string(st.unstored_run)
               + " were delivered without being stored");
    st.unstored_run = 0;
  }
  st.router->start(id, entry, now_ms(self));
}

void on_store_refused(coordination_hub_pointer self, const std::string& id,
                      const caf::error& err) {
  auto& st = self->state;
  if (st.router->find_open(id) == nullptr)
    return;
  if (auto i = st.stored_promises.find(id); i != st.stored_promises.end()) {
    // The sender learns that the event was not taken; nothing was routed.
    for (auto& p : i->second)
      p.deliver(
        caf::make_error(error_code::store_unavailable,
                        "the event could not be stored: " + error_text(err)));
    st.stored_promises.erase(i);
    st.router->abandon(id);
    return;
  }
  // An alert from the node itself: deliver it anyway, it is not durable.
  if (st.unstored_run++ == 0)
    log_warning(component,
                "event " + id + " delivered without being stored ("
                  + error_text(err)
                  + "); the next ones are counted until the store "
                    "takes events again");
  st.router->start(id, {}, now_ms(self));
}

/// Hands a new event to the endpoints that take its type. Each keeps it
/// in its own queue and retries on its own: what one refuses (its queue is
/// full) it counts; nothing here waits.
void to_endpoints(coordination_hub_pointer self, const coordination_event& ev) {
  for (auto& e : self->state.settings.endpoints)
    if (contains(e.event_types, ev.type))
      caf::anon_send(e.endpoint, deliver_atom_v, outbound_event(ev));
}

void publish_internal(coordination_hub_pointer self, coordination_event ev) {
  if (auto why = event_error(ev)) {
    log_warning(component, "dropped an internal event: " + *why);
    return;
  }
  auto endpoints = endpoints_taking(self, ev.type);
  auto routed = take_event(self, std::move(ev), true, endpoints);
  observe_event(self, routed.record.event);
  to_endpoints(self, routed.record.event);
  // An event only endpoints take is routine; a line each would flood the
  // log (and cost a write per event).
  if (!routed.routed() && endpoints == 0)
    log_info(component,
             "event " + routed.id() + " not routed: " + routed.record.detail);
}

/// Hands a webhook to the agents that subscribe to webhooks, or when none
/// does and no endpoint took it, to the node's log.
void route_webhook(coordination_hub_pointer self, webhook_event wh,
                   bool endpoints_took_it, caf::typed_response_promise<bool> rp,
                   bool from_peer = false) {
  auto& st = self->state;
  auto id = "webhook:" + wh.id;
  if (st.router->find_open(id) != nullptr) {
    // The processor retried while the first delivery is still going.
    st.webhook_promises[id].push_back(rp);
    return;
  }
  auto now = now_ms(self);
  // Checked first: a webhook that waits for a consumer is offered again
  // every second, and must not leave an unrouted record each time. Routing
  // looks at the type alone; the event (the body parsed and wrapped) is
  // built only for an agent that takes it.
  coordination_event probe;
  probe.type = webhook_event_type;
  if (st.router->routable(probe)
      && take_event(self, webhook_as_event(wh, now), false).routed()) {
    st.webhook_promises[id].push_back(rp);
    st.router->start(id, {}, now);
    dispatch(self);
    return;
  }
  // No agent here wants it: an agent on a cluster peer may (the peer
  // answers whether its agents took it; a webhook from a peer goes no
  // further).
  if (!from_peer && st.settings.cluster)
    if (auto hub = st.settings.cluster->peer_hub_for("webhook")) {
      request_watched(self, st.deadlines, std::chrono::seconds{10},
                      caf::actor_cast<caf::actor>(hub), peer_atom_v,
                      std::move(wh))
        .then([rp](bool ok) mutable { rp.deliver(ok); },
              [rp](caf::error& err) mutable { rp.deliver(std::move(err)); });
      return;
    }
  if (from_peer) {
    rp.deliver(caf::make_error(error_code::no_consumer,
                               "no agent on this node subscribes to "
                               "webhooks"));
    return;
  }
  // No agent wants webhooks: the endpoints have it, or the node's log
  // takes it (webhooks.log_deliveries), or it waits for a consumer.
  if (endpoints_took_it) {
    rp.deliver(true);
    return;
  }
  if (!st.settings.fallback) {
    rp.deliver(caf::make_error(error_code::no_consumer,
                               "no agent subscribes to webhooks and no "
                               "endpoint takes those of "
                                 + wh.service));
    return;
  }
  // Handed on: the subscriber answers the processor itself (one message
  // and one wake-up of the hub less per webhook); the processor's delivery
  // deadline covers a subscriber that does not answer.
  rp.delegate(st.settings.fallback, deliver_atom_v, std::move(wh));
}

/// A webhook is delivered once every endpoint that takes its service has it
/// in its queue (durably) and the agents answered; an endpoint that
/// refuses makes the webhook processor offer it again later (endpoints that
/// took it then get it again: at least once, the same webhook-id).
caf::result<bool> deliver_webhook(coordination_hub_pointer self,
                                  webhook_event& wh) {
  auto rp = self->make_response_promise<bool>();
  std::vector<delivery_endpoint_actor> takers;
  for (auto& e : self->state.settings.endpoints)
    if (contains(e.webhook_services, wh.service))
      takers.push_back(e.endpoint);
  if (takers.empty()) {
    route_webhook(self, std::move(wh), false, rp);
    return rp;
  }
  struct join {
    std::size_t left;
    bool ok = true;
  };
  auto j = std::make_shared<join>(join{takers.size()});
  auto msg = outbound_webhook(wh);
  auto done = [self, j, rp, wh](bool ok) mutable {
    j->ok = j->ok && ok;
    if (--j->left > 0)
      return;
    if (!j->ok)
      rp.deliver(false);
    else
      route_webhook(self, std::move(wh), true, rp);
  };
  for (auto& t : takers)
    request_watched(self, self->state.deadlines, std::chrono::seconds{10}, t,
                    deliver_atom_v, msg)
      .then([done](bool ok) mutable { done(ok); },
            [done](caf::error&) mutable { done(false); });
  return rp;
}

/// Whether `wh` would go to the node's log subscriber: no endpoint takes
/// its service, no agent here or on a cluster peer subscribes to webhooks,
/// and it is not out to agents already.
bool only_the_log_takes(coordination_hub_pointer self,
                        const webhook_event& wh) {
  auto& st = self->state;
  if (!st.settings.fallback)
    return false;
  for (auto& e : st.settings.endpoints)
    if (contains(e.webhook_services, wh.service))
      return false;
  coordination_event probe;
  probe.type = webhook_event_type;
  if (st.router->routable(probe)
      || st.router->find_open("webhook:" + wh.id) != nullptr)
    return false;
  return !(st.settings.cluster && st.settings.cluster->peer_hub_for("webhook"));
}

/// A batch from the webhook processor: handed on whole to the log subscriber
/// when nothing else takes any of it (it answers the processor itself).
/// Otherwise every verdict is `unsupported`, and the processor sends each
/// webhook on its own: one slow agent or endpoint then holds only its own
/// webhook, not the batch.
caf::result<delivery_verdicts> deliver_webhooks(coordination_hub_pointer self,
                                                webhook_events& whs) {
  auto& st = self->state;
  auto only_log = std::all_of(whs.begin(), whs.end(),
                              [self](const webhook_event& wh) {
                                return only_the_log_takes(self, wh);
                              });
  if (whs.empty() || !only_log)
    return delivery_verdicts(whs.size(), one_by_one());
  auto rp = self->make_response_promise<delivery_verdicts>();
  rp.delegate(st.settings.fallback, deliver_atom_v, std::move(whs));
  return rp;
}

caf::result<event_record> find_event(coordination_hub_pointer self,
                                     const std::string& id) {
  auto& st = self->state;
  if (auto rec = st.router->find(id))
    return std::move(*rec);
  auto rp = self->make_response_promise<event_record>();
  self
    ->request(st.store, std::chrono::seconds{5}, kv_get_atom_v,
              coordination_keys::event(id))
    .then(
      [rp, id](bool found, std::string& text) mutable {
        auto rec = found ? decode_record(text) : std::nullopt;
        if (rec)
          rp.deliver(std::move(*rec));
        else
          rp.deliver(caf::make_error(error_code::not_found,
                                     "no event with id '" + id + "'"));
      },
      [rp](caf::error& err) mutable { rp.deliver(std::move(err)); });
  return rp;
}

coordination_status status(coordination_hub_pointer self) {
  auto& st = self->state;
  coordination_status x;
  for (auto& [name, a] : st.agents->all())
    x.agents.push_back(st.agents->status(a));
  x.types = st.router->stats();
  x.queued = st.router->queued();
  x.in_flight = st.router->in_flight();
  x.refused_registrations = st.refused_registrations;
  return x;
}

// -- timers -------------------------------------------------------------------

/// Ends the registrations whose key was revoked or expired: the agent is
/// told (it registers again, and is refused), and its deliveries in flight
/// go to others. Checked when the credentials change, and once a second for
/// expiries.
void end_revoked_registrations(coordination_hub_pointer self, int64_t now) {
  auto& st = self->state;
  if (!st.settings.credentials)
    return;
  auto generation = st.settings.credentials->generation();
  if (generation == st.credentials_seen && st.ticks % 10 != 0)
    return;
  st.credentials_seen = generation;
  auto creds = st.settings.credentials->current();
  std::vector<const registered_agent*> revoked;
  for (auto& [name, a] : st.agents->all())
    if (!a.session.empty()
        && !creds->agent_key_valid(a.key_id, a.key_hash, now))
      revoked.push_back(&a);
  for (auto a : revoked) {
    auto name = a->name;
    auto key_id = a->key_id;
    log_warning(component,
                "agent " + name + ": its key " + key_id
                  + " is revoked or expired; registration ended");
    audit(self, "agent:" + name + " key " + key_id, "agent.revoked", name, "ok",
          "key " + key_id + " no longer valid; disconnected");
    if (auto i = st.endpoints.find(name);
        i != st.endpoints.end() && i->second) {
      std::string why = "the agent's key was revoked or expired";
      if (st.gateway)
        caf::send_as(st.gateway, i->second, leave_atom_v, std::move(why));
      else // WebSocket agents need no gateway
        self->send(i->second, leave_atom_v, std::move(why));
    }
    disconnect(self, name, "its key was revoked");
  }
}

void tick(coordination_hub_pointer self) {
  auto& st = self->state;
  st.deadlines.expire(self);
  auto now = now_ms(self);
  for (auto& x : st.agents->mark_stale(now))
    log_warning(component,
                "agent " + x.name + " is stale: no heartbeat for "
                  + std::to_string(x.silent_ms) + " ms");
  apply(self, st.router->expire(now));
  end_revoked_registrations(self, now);
  // What this node's agents take, for the cluster's other hubs.
  if (st.settings.cluster) {
    std::vector<std::string> types;
    std::map<std::string, uint32_t> spare;
    auto slots = st.agents->max_in_flight();
    for (auto& kv : st.agents->all()) {
      auto& a = kv.second;
      if (a.state == agent_state::disconnected)
        continue;
      for (auto& t : a.subscriptions) {
        if (std::find(types.begin(), types.end(), t) == types.end())
          types.push_back(t);
        if (a.state == agent_state::active && a.in_flight < slots)
          spare[a.role + '\t' + t] += slots - a.in_flight;
      }
    }
    st.settings.cluster->set_local_agent_types(std::move(types),
                                               std::move(spare));
  }
  observe_agents(self);
  // Checked once a second, since it walks the queues.
  if (++st.ticks % 10 == 0)
    apply(self, st.router->expire_undeliverable(now));
  flush_writes(self);
  dispatch(self);
  self->delayed_send(self, st.settings.tick_interval, hub_tick_atom_v);
}

// -- recovery -----------------------------------------------------------------

void recover_open_events(coordination_hub_pointer self) {
  auto& st = self->state;
  self
    ->request(st.store, std::chrono::seconds{10}, xrange_atom_v,
              coordination_keys::open_events(st.settings.node),
              std::string{"-"}, std::string{"+"}, uint64_t{0})
    .then(
      [self](stream_entries& xs) {
        auto& st = self->state;
        auto now = now_ms(self);
        std::size_t recovered = 0;
        for (auto& x : xs) {
          auto decoded = decode_open_event(
            store::find_field(x.fields, "event"));
          if (!decoded) {
            log_warning(component,
                        "open event " + x.id + " is unreadable; dropped");
            buffer_write(self,
                         store::write_op::make_xdel(
                           coordination_keys::open_events(st.settings.node),
                           {x.id}));
            continue;
          }
          auto& [ev, units] = *decoded;
          if (st.router->recover(std::move(ev), units, x.id, now))
            ++recovered;
        }
        dispatch(self);
        if (recovered > 0)
          log_info(component,
                   "recovered " + std::to_string(recovered)
                     + " unfinished events from the store");
      },
      [self](caf::error& err) {
        log_warning(component,
                    "cannot read unfinished events yet: " + error_text(err)
                      + "; trying again in 1 s");
        self->delayed_send(self, std::chrono::seconds{1}, recover_atom_v);
      });
}

/// Agents this node knew before a restart: disconnected until they
/// register again, but known, so that events for them wait for them.
/// Moves the open events of the dead node `dead` into this node's stream
/// (XADD here and XDEL there in one transaction per event) and routes them
/// as after a restart: delivered again, at least once. One survivor does it:
/// the one that sets the lease (SET NX, 60 s); the dead node, restarted,
/// finds its stream emptied.
void adopt_open_events(coordination_hub_pointer self, const std::string& dead) {
  auto& st = self->state;
  if (dead == st.settings.node)
    return;
  write_ops lease{store::write_op::make_set_nx(
    coordination_keys::adopt_lease(dead), st.settings.node, 60'000)};
  self
    ->request(st.store, std::chrono::seconds{10}, write_atom_v,
              std::move(lease))
    .then(
      [self, dead](write_results& rs) {
        if (rs.size() != 1 || rs[0].error || rs[0].integer != 1)
          return; // another survivor has them (or the store is down)
        auto& st = self->state;
        self
          ->request(st.store, std::chrono::seconds{10}, xrange_atom_v,
                    coordination_keys::open_events(dead), std::string{"-"},
                    std::string{"+"}, uint64_t{0})
          .then(
            [self, dead](stream_entries& xs) {
              for (auto& x : xs) {
                auto& st = self->state;
                write_ops move{
                  store::write_op::make_xadd(
                    coordination_keys::open_events(st.settings.node), x.fields),
                  store::write_op::make_xdel(
                    coordination_keys::open_events(dead), {x.id})};
                auto fields = x.fields;
                self
                  ->request(st.store, std::chrono::seconds{10}, write_atom_v,
                            std::move(move))
                  .then(
                    [self, fields](write_results& moved) {
                      if (moved.size() != 2 || moved[0].error)
                        return;
                      auto decoded = decode_open_event(
                        store::find_field(fields, "event"));
                      if (!decoded)
                        return;
                      auto& [ev, units] = *decoded;
                      auto id = ev.id;
                      if (self->state.router->recover(std::move(ev), units,
                                                      moved[0].text,
                                                      now_ms(self))) {
                        log_info(component, "took over open event " + id);
                        dispatch(self);
                      }
                    },
                    [](caf::error&) {});
              }
              if (!xs.empty())
                log_info(component,
                         "taking over " + std::to_string(xs.size())
                           + " open events of node '" + dead + "'");
            },
            [](caf::error&) {});
      },
      [](caf::error& err) {
        log_warning(component,
                    "cannot take over a dead node's events: "
                      + error_text(err));
      });
}

void recover(coordination_hub_pointer self) {
  auto& st = self->state;
  self
    ->request(st.store, std::chrono::seconds{10}, hgetall_atom_v,
              coordination_keys::known_agents(st.settings.node))
    .then(
      [self](store::field_list& fs) {
        for (auto& [name, text] : fs)
          if (auto x = decode_known_agent(text))
            self->state.agents->remember(name, *x);
        recover_open_events(self);
      },
      [self](caf::error& err) {
        log_warning(component,
                    "cannot read known agents yet: " + error_text(err)
                      + "; trying again in 1 s");
        self->delayed_send(self, std::chrono::seconds{1}, recover_atom_v);
      });
}

// -- registration -------------------------------------------------------------

std::string new_session() {
  return to_hex(random_bytes(16));
}

/// Checks the token; returns the key id, or sets `why_refused`.
std::string authenticate(coordination_hub_pointer self,
                         const agent_registration& reg, int64_t now,
                         std::string& why_refused) {
  auto& st = self->state;
  if (st.settings.credentials) {
    auto checked = st.settings.credentials->current()->authenticate_agent(
      reg.token, now);
    if (checked)
      return checked.who->id;
    why_refused = std::string{auth::to_string(checked.why)};
  } else if (!agent_token_matches(reg.token, st.settings.agents.token_sha256)) {
    why_refused = "invalid";
  }
  return "anonymous";
}

caf::error refuse(coordination_hub_pointer self, const agent_registration& reg,
                  const std::string& why_refused, int64_t now) {
  auto& st = self->state;
  ++st.refused_registrations;
  // Whoever reaches the port cannot flood the log or the audit trail: the
  // next record kept says how many were left out.
  if (auto left_out = st.refusals.admit(now)) {
    auto detail = "token " + why_refused + " (role " + reg.role + ")";
    if (*left_out > 0)
      detail += "; " + std::to_string(*left_out)
        + " more refused registration(s) not recorded before it";
    log_warning(component,
                "refused the registration of agent '" + reg.name
                  + "': " + detail);
    audit(self, "agent:" + reg.name, "agent.register", reg.name, "denied",
          detail);
  }
  // A store that has not answered yet may hold the agent's key: retry.
  return caf::make_error(why_refused == "unavailable"
                           ? error_code::unavailable
                           : error_code::unauthorized,
                         "agent token " + why_refused);
}

/// Remembers the agent in the store, so that after a restart events for it
/// wait for it.
void store_known_agent(coordination_hub_pointer self,
                       const registered_agent& a) {
  auto key = coordination_keys::known_agents(self->state.settings.node);
  buffer_write(
    self,
    store::write_op::make_hset(
      key,
      {{a.name,
        encode_known_agent({a.role, a.subscriptions, a.registered_ms})}}),
    {}, false);
  // Agents not seen for a month are forgotten with the hash.
  buffer_write(
    self, store::write_op::make_expire(key, int64_t{30} * 24 * 3600 * 1000), {},
    false);
}

caf::result<agent_welcome> on_register(coordination_hub_pointer self,
                                       agent_registration& reg,
                                       agent_endpoint_actor& endpoint) {
  auto& st = self->state;
  // Checked first: what is audited and logged is a valid name.
  if (!is_valid_name(reg.name) || !is_valid_name(reg.role))
    return caf::make_error(error_code::invalid_argument,
                           "name and role must be 1-64 characters of "
                           "letters, digits, '-', '_' and '.'");
  for (auto& t : reg.subscriptions)
    if (!is_coordination_event_type(t))
      return caf::make_error(error_code::invalid_argument,
                             "unknown event type '" + t.substr(0, 64) + "'");
  if (!endpoint)
    return caf::make_error(error_code::invalid_argument,
                           "the registration carries no endpoint");
  auto now = now_ms(self);
  std::string why_refused;
  auto key_id = authenticate(self, reg, now, why_refused);
  if (!why_refused.empty())
    return refuse(self, reg, why_refused, now);
  auto old = st.endpoints.find(reg.name);
  bool other_process = old != st.endpoints.end() && old->second
    && old->second != endpoint;
  switch (st.agents->admit(reg.name, other_process)) {
    case takeover::refused:
      return caf::make_error(error_code::conflict,
                             "an agent named '" + reg.name + "' is live");
    case takeover::of_stale:
      self->demonitor(old->second.address());
      disconnect(self, reg.name, "replaced by a new registration");
      break;
    case takeover::of_disconnected:
      self->demonitor(old->second.address());
      break;
    case takeover::none: break;
  }
  auto key_hash = reg.token.empty() ? std::string{} : auth::key_hash(reg.token);
  bool known = st.agents->register_agent(
    reg, agent_session{new_session(), key_id, std::move(key_hash)}, now);
  st.endpoints[reg.name] = endpoint;
  self->monitor(endpoint);
  log_info(component,
           std::string{known ? "agent re-registered: " : "agent registered: "}
             + reg.name + " (role " + reg.role + ")");
  auto& a = *st.agents->find(reg.name);
  store_known_agent(self, a);
  audit(self, "agent:" + reg.name + " key " + key_id, "agent.register",
        reg.name, "ok", "role " + reg.role);
  dispatch(self);
  return agent_welcome{
    a.id,
    int64_t{st.settings.agents.heartbeat_interval_s} * 1000,
    st.settings.node,
    a.session,
  };
}

void on_heartbeat_result(coordination_hub_pointer self,
                         const std::string& session, heartbeat_result r) {
  if (r != heartbeat_result::revived)
    return;
  if (auto a = self->state.agents->by_session(session))
    log_info(component, "agent " + a->name + " is active again");
  dispatch(self);
}

void on_samples(coordination_hub_pointer self, const std::string& session,
                const std::string& service, call_samples& xs) {
  auto& st = self->state;
  // Only a registered agent reports calls.
  auto a = st.agents->by_session(session);
  if (a == nullptr)
    return;
  static const service_routes none;
  auto& routes = st.settings.services ? *st.settings.services : none;
  auto i = std::find(routes.names.begin(), routes.names.end(), service);
  if (i == routes.names.end()) {
    if (a->counts.samples_rejected == 0)
      log_warning(component,
                  "agent " + a->name + " reports calls of unknown service '"
                    + service + "'; counted as rejected");
    a->counts.samples_rejected += xs.size();
    return;
  }
  auto idx = static_cast<std::size_t>(i - routes.names.begin());
  a->counts.samples_reported += xs.size();
  if (idx < routes.backlogs.size() && routes.backlogs[idx])
    routes.backlogs[idx]->add(xs.size());
  caf::anon_send(routes.monitors[idx], record_atom_v, std::move(xs));
}

// -- the gateway --------------------------------------------------------------

/// The published gateway died (a peer can kill it): publish a new one on
/// the same endpoint; agents reconnect by themselves.
void replace_gateway(coordination_hub_pointer self) {
  auto& st = self->state;
  log_warning(component,
              "the agent gateway died; publishing a new one on "
                + st.gateway_host + ":" + std::to_string(st.gateway_port));
  // The dead gateway still holds the port.
  if (auto done = caf::io::unpublish(st.gateway, st.gateway_port); !done)
    log_warning(component,
                "unpublishing the dead gateway: " + error_text(done.error()));
  auto g = self->system().spawn(agent_gateway,
                                caf::actor_cast<coordination_hub_actor>(self),
                                st.settings.cluster);
  auto published = publish_gateway(g, st.gateway_host, st.gateway_port,
                                   st.settings.actor_tls);
  if (!published) {
    log_error(component,
              "cannot publish the agent gateway: "
                + error_text(published.error()));
    caf::anon_send_exit(g, caf::exit_reason::user_shutdown);
    st.gateway = nullptr;
    return;
  }
  st.gateway = g;
  self->monitor(g);
}

void on_down(coordination_hub_pointer self, const caf::down_msg& dm) {
  auto& st = self->state;
  if (st.gateway && dm.source == st.gateway.address()) {
    replace_gateway(self);
    return;
  }
  if (st.observer && dm.source == st.observer.address()) {
    // The live streams and the advisor's findings stop: say so, unless
    // the node is stopping.
    if (dm.reason != caf::exit_reason::user_shutdown
        && dm.reason != caf::exit_reason::normal)
      log_error(component,
                "the live-events observer stopped (" + error_text(dm.reason)
                  + "): no more events on the streams, no agent "
                    "findings for the advisor");
    st.observer = nullptr;
    return;
  }
  for (auto& [name, endpoint] : st.endpoints) {
    auto a = st.agents->find(name);
    if (endpoint && endpoint.address() == dm.source && a != nullptr
        && a->state != agent_state::disconnected)
      disconnect(self, name, caf::to_string(dm.reason));
  }
  dispatch(self);
}

} // namespace

coordination_hub_actor::behavior_type
coordination_hub(coordination_hub_pointer self,
                 coordination_hub_settings settings, store_actor store) {
  auto& st = self->state;
  st.settings = std::move(settings);
  if (!st.settings.now_ms)
    st.settings.now_ms = [self] { return epoch_ms(self->clock()); };
  st.store = std::move(store);
  st.writer.emplace(make_writer(self));
  st.writer->watch_with(st.deadlines);
  st.agents = std::make_unique<agent_registry>(st.settings.agents);
  st.router = std::make_unique<event_router>(
    router_settings{st.settings.node, st.settings.agents,
                    st.settings.finished_kept},
    *st.agents);
  self->set_down_handler([self](caf::down_msg& dm) { on_down(self, dm); });
  self->send(self, recover_atom_v);
  self->delayed_send(self, st.settings.tick_interval, hub_tick_atom_v);
  return {
    [self](agent_reg_atom, agent_registration& reg,
           agent_endpoint_actor& endpoint) -> caf::result<agent_welcome> {
      return on_register(self, reg, endpoint);
    },
    [self](heartbeat_atom, const std::string& session) {
      auto r = self->state.agents->heartbeat(session, now_ms(self));
      on_heartbeat_result(self, session, r);
      // false: not registered (any more): register again.
      return r != heartbeat_result::unknown_session;
    },
    [self](respond_atom, const std::string& session,
           std::vector<event_response>& rs) {
      auto a = self->state.agents->by_session(session);
      if (a == nullptr)
        return;
      auto name = a->name;
      for (auto& r : rs)
        apply(self,
              self->state.router->answer(name, std::move(r), now_ms(self)));
      dispatch(self);
    },
    [self](leave_atom, const std::string& session) {
      if (auto a = self->state.agents->by_session(session)) {
        disconnect(self, a->name, "left");
        dispatch(self);
      }
    },
    // Peers ask the gateway, which answers itself; the hub is never
    // published.
    [](cluster_atom, const std::string&, const std::string&,
       const caf::strong_actor_ptr&) -> caf::result<cluster_directory> {
      return caf::make_error(error_code::unsupported,
                             "ask the node's published gateway");
    },
    [self](gateway_atom, coordination_gateway_actor& gateway, std::string& host,
           uint16_t port) {
      auto& st = self->state;
      st.gateway = std::move(gateway);
      st.gateway_host = std::move(host);
      st.gateway_port = port;
      self->monitor(st.gateway);
    },
    [self](record_atom, const std::string& session, const std::string& service,
           call_samples& xs) { on_samples(self, session, service, xs); },
    [self](assign_atom, coordination_event& ev) -> caf::result<std::string> {
      if (auto why = event_error(ev))
        return caf::make_error(error_code::invalid_argument, *why);
      auto& st = self->state;
      // No agent here takes it, one on a cluster peer does; or every agent
      // here that would take it is busy and a peer has agents of the same
      // roles with room: the peer's hub routes it (its id, its record);
      // this node's endpoints still get it.
      caf::strong_actor_ptr peer_hub;
      if (st.settings.cluster) {
        if (!st.router->routable(ev))
          peer_hub = st.settings.cluster->peer_hub_for(ev.type);
        else if (auto roles = busy_roles(self, ev); !roles.empty())
          peer_hub = st.settings.cluster->peer_hub_with_room(roles, ev.type);
      }
      if (auto hub = std::move(peer_hub)) {
        to_endpoints(self, ev);
        observe_event(self, ev);
        auto rp = self->make_response_promise<std::string>();
        self
          ->request(caf::actor_cast<caf::actor>(hub), std::chrono::seconds{10},
                    peer_atom_v, std::move(ev))
          .then([rp](std::string& id) mutable { rp.deliver(std::move(id)); },
                [rp](caf::error& err) mutable { rp.deliver(std::move(err)); });
        return rp;
      }
      if (auto why = self->state.router->refuse_new(ev))
        return caf::make_error(error_code::capacity, *why);
      auto endpoints = endpoints_taking(self, ev.type);
      auto routed = take_event(self, std::move(ev), true, endpoints);
      observe_event(self, routed.record.event);
      to_endpoints(self, routed.record.event);
      if (!routed.routed())
        return routed.id(); // not routed: the record says why
      auto rp = self->make_response_promise<std::string>();
      self->state.stored_promises[routed.id()].push_back(rp);
      return rp;
    },
    [self](publish_atom, coordination_event& ev) {
      publish_internal(self, std::move(ev));
    },
    [self](peer_atom, coordination_event& ev) -> caf::result<std::string> {
      if (auto why = event_error(ev))
        return caf::make_error(error_code::invalid_argument, *why);
      if (auto why = self->state.router->refuse_new(ev))
        return caf::make_error(error_code::capacity, *why);
      auto routed = take_event(self, std::move(ev), true, 0);
      observe_event(self, routed.record.event);
      if (!routed.routed())
        return routed.id();
      auto rp = self->make_response_promise<std::string>();
      self->state.stored_promises[routed.id()].push_back(rp);
      return rp;
    },
    [self](adopt_atom, const std::string& dead) {
      adopt_open_events(self, dead);
    },
    [self](peer_atom, webhook_event& wh) -> caf::result<bool> {
      auto rp = self->make_response_promise<bool>();
      route_webhook(self, std::move(wh), false, rp, true);
      return rp;
    },
    [self](agents_atom) { return status(self); },
    [self](event_atom, const std::string& id) { return find_event(self, id); },
    [self](deliver_atom, webhook_event& wh) {
      return deliver_webhook(self, wh);
    },
    [self](deliver_atom, webhook_events& whs) {
      return deliver_webhooks(self, whs);
    },
    [self](alerts_atom, const service_alert& x) {
      publish_internal(self, alert_as_event(x));
    },
    [self](hub_tick_atom) { tick(self); },
    [self](observe_atom, hub_observer_actor& obs) {
      auto& st = self->state;
      st.observer = std::move(obs);
      st.observed_states.clear();
      self->monitor(st.observer);
      observe_agents(self);
    },
    [self](recover_atom) { recover(self); },
    [](ping_atom) { return true; },
  };
}

} // namespace streamb
