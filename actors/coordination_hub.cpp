#include "actors/coordination_hub.hpp"

#include "runtime/coordination/agent_token.hpp"
#include "runtime/core/audit.hpp"
#include "runtime/core/crypto.hpp"
#include "runtime/core/hex.hpp"
#include "runtime/budget/priority.hpp"
#include "runtime/core/log.hpp"
#include "runtime/auth/api_key.hpp"
#include "runtime/core/valid_name.hpp"
#include "runtime/core/wall_time.hpp"

#include <boost/json.hpp>

#include <caf/io/publish.hpp>
#include <caf/io/unpublish.hpp>
#include <caf/send.hpp>


#include <algorithm>
#include <cctype>

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

} // namespace coordination_keys

bool hub_agent::subscribes(const std::string& type) const {
  return std::find(subscriptions.begin(), subscriptions.end(), type)
    != subscriptions.end();
}

namespace {

using state_t = hub_agent::state_t;
using clock_type = std::chrono::steady_clock;

int64_t steady_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
           clock_type::now().time_since_epoch())
    .count();
}

// An agent's answer is kept in the event record up to this size.
constexpr std::size_t max_response_bytes = 16 * 1024;

const char* to_string(state_t x) {
  switch (x) {
    case state_t::active: return "active";
    case state_t::stale: return "stale";
    case state_t::disconnected: return "disconnected";
  }
  return "unknown";
}

int64_t now_ms(coordination_hub_pointer self) {
  return self->state.settings.now_ms();
}

std::string agent_id(const std::string& name) {
  return "agent-" + name;
}


std::string unit_name(const unit_target& t) {
  return t.agent.empty() ? "role:" + t.role : "agent:" + t.agent;
}

std::chrono::milliseconds response_timeout(coordination_hub_pointer self,
                                           const std::string& type) {
  auto& agents = self->state.settings.agents;
  auto i = agents.response_timeouts_s.find(type);
  auto s = i != agents.response_timeouts_s.end() ? i->second
                                                 : agents.response_timeout_s;
  return std::chrono::seconds{s};
}

int64_t retention_ms(coordination_hub_pointer self) {
  return int64_t{self->state.settings.agents.event_retention_h} * 3600 * 1000;
}

// -- store writes -------------------------------------------------------------

void flush_writes(coordination_hub_pointer self);

/// Queues a write; `flush` false leaves it for the next op, so that ops of
/// one change land in one batch.
void buffer_write(coordination_hub_pointer self, store::write_op op,
                  std::string opened_event = {}, bool flush = true) {
  auto& st = self->state;
  st.write_buffer.push_back(std::move(op));
  st.buffered_opens.push_back(std::move(opened_event));
  if (flush)
    flush_writes(self);
}

/// The outcome of a finished event, kept for agents.event_retention_h.
void record_write(coordination_hub_pointer self, const event_record& rec,
                  bool flush = true) {
  buffer_write(
    self,
    store::write_op::make_set(coordination_keys::event(rec.event.id),
                              boost::json::serialize(record_to_json(rec)),
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

void on_stored(coordination_hub_pointer self, const std::string& id,
               const std::string& entry);
void on_store_refused(coordination_hub_pointer self, const std::string& id,
                      const caf::error& err);
void dispatch(coordination_hub_pointer self);

void flush_writes(coordination_hub_pointer self) {
  auto& st = self->state;
  if (st.writing || st.write_buffer.empty())
    return;
  st.writing = true;
  auto ops = std::move(st.write_buffer);
  auto opens = std::move(st.buffered_opens);
  st.write_buffer.clear();
  st.buffered_opens.clear();
  // Records and outcomes are retried once at the next write if the store
  // refused them; an open event's XADD is answered to its sender instead.
  auto retry = std::make_shared<write_ops>();
  for (std::size_t i = 0; i < ops.size(); ++i)
    if (opens[i].empty())
      retry->push_back(ops[i]);
  self->request(st.store, std::chrono::seconds{10}, write_atom_v, ops)
    .then(
      [self, opens](write_results& rs) {
        self->state.writing = false;
        for (std::size_t i = 0; i < opens.size(); ++i) {
          if (opens[i].empty())
            continue;
          if (i >= rs.size())
            on_store_refused(self, opens[i],
                             caf::make_error(error_code::store_error,
                                             "the store answered fewer "
                                             "results than writes"));
          else if (rs[i].error)
            on_store_refused(self, opens[i], rs[i].error);
          else
            on_stored(self, opens[i], rs[i].text);
        }
        // Everything this batch stored goes out together.
        dispatch(self);
        flush_writes(self);
      },
      [self, opens, retry](caf::error& err) {
        auto& st = self->state;
        st.writing = false;
        log_warning("coordination_hub",
                    "store write failed: " + caf::to_string(err));
        for (auto& id : opens)
          if (!id.empty())
            on_store_refused(self, id, err);
        dispatch(self);
        // Outcome records wait for the next write, within bounds: the events
        // themselves are finished and the open-stream entries stay, so a
        // restart delivers them again rather than losing them.
        if (st.write_buffer.size() < 10000)
          for (auto& op : *retry) {
            st.write_buffer.push_back(std::move(op));
            st.buffered_opens.emplace_back();
          }
      });
}

// -- agents -------------------------------------------------------------------

agent_status status_of(const hub_agent& a, uint32_t max_in_flight) {
  agent_status x;
  x.id = a.id;
  x.name = a.name;
  x.role = a.role;
  x.subscriptions = a.subscriptions;
  x.state = to_string(a.state);
  x.registered_ms = a.registered_ms;
  x.last_heartbeat_ms = a.last_heartbeat_ms;
  x.last_seen_ms = a.last_seen_ms;
  x.in_flight = a.in_flight;
  x.max_in_flight = max_in_flight;
  x.delivered = a.delivered;
  x.answered = a.answered;
  x.failed = a.failed;
  x.timed_out = a.timed_out;
  x.p50_ms = a.response_us->quantile(0.50) / 1000.0;
  x.p95_ms = a.response_us->quantile(0.95) / 1000.0;
  x.samples_reported = a.samples_reported;
  x.samples_rejected = a.samples_rejected;
  return x;
}

hub_agent* find_agent(coordination_hub_pointer self, const std::string& name) {
  auto i = self->state.agents.find(name);
  return i == self->state.agents.end() ? nullptr : &i->second;
}

// -- events -------------------------------------------------------------------

/// The units of a new event, or why it has none.
std::vector<unit_target> route(coordination_hub_pointer self,
                               const coordination_event& ev, std::string& why) {
  auto& agents = self->state.agents;
  std::vector<unit_target> units;
  if (ev.target.rfind("agent:", 0) == 0) {
    auto name = ev.target.substr(6);
    auto a = find_agent(self, name);
    if (a == nullptr)
      why = "no agent named '" + name + "' has registered";
    else if (!a->subscribes(ev.type))
      why = "agent '" + name + "' does not subscribe to " + ev.type;
    else
      units.push_back({{}, name});
    return units;
  }
  std::set<std::string> roles;
  auto wanted = ev.target.rfind("role:", 0) == 0 ? ev.target.substr(5)
                                                 : std::string{};
  for (auto& [name, a] : agents)
    if (a.subscribes(ev.type) && (wanted.empty() || a.role == wanted))
      roles.insert(a.role);
  for (auto& r : roles)
    units.push_back({r, {}});
  if (units.empty())
    why = wanted.empty()
      ? "no agent subscribes to " + ev.type
      : "no agent of role '" + wanted + "' subscribes to " + ev.type;
  return units;
}

delivery_unit make_unit(const unit_target& t) {
  delivery_unit u;
  u.target = t;
  return u;
}

void remember_finished(coordination_hub_pointer self, event_record rec) {
  auto& st = self->state;
  auto id = rec.event.id;
  if (st.finished.count(id) == 0)
    st.finished_order.push_back(id);
  st.finished[id] = std::move(rec);
  while (st.finished_order.size() > st.settings.finished_kept) {
    st.finished.erase(st.finished_order.front());
    st.finished_order.pop_front();
  }
}

void finish(coordination_hub_pointer self, open_event& oe) {
  auto& st = self->state;
  auto& rec = oe.record;
  auto now = now_ms(self);
  rec.finished_ms = now;
  bool all_ok = std::all_of(oe.units.begin(), oe.units.end(),
                            [](auto& u) { return u.ok; });
  rec.state = all_ok ? "completed" : "failed";
  auto& counters = st.types[rec.event.type];
  if (all_ok) {
    ++counters.completed;
    counters.latency_us->record(static_cast<uint64_t>(
      std::max<int64_t>(now - rec.event.created_ms, 0) * 1000));
  } else {
    ++counters.failed;
  }
  record_write(self, rec, oe.open_entry.empty());
  if (!oe.open_entry.empty())
    buffer_write(self,
                 store::write_op::make_xdel(
                   coordination_keys::open_events(st.settings.node),
                   {oe.open_entry}));
  for (auto& p : oe.webhook_promises)
    p.deliver(all_ok);
  auto id = rec.event.id;
  remember_finished(self, std::move(rec));
  st.open.erase(id);
}

void unit_finished(coordination_hub_pointer self, const std::string& event_id,
                   std::size_t unit, bool ok, const std::string& why) {
  auto i = self->state.open.find(event_id);
  if (i == self->state.open.end())
    return;
  auto& oe = i->second;
  auto& u = oe.units[unit];
  if (u.done)
    return;
  u.done = true;
  u.ok = ok;
  if (!ok && !why.empty()) {
    if (!oe.record.detail.empty())
      oe.record.detail += "; ";
    oe.record.detail += unit_name(u.target) + ": " + why;
  }
  if (--oe.units_left == 0)
    finish(self, oe);
}

void enqueue(coordination_hub_pointer self, const std::string& event_id,
             std::size_t unit, bool front) {
  auto& st = self->state;
  auto& oe = st.open.at(event_id);
  auto& u = oe.units[unit];
  u.queued_since_ms = now_ms(self);
  auto& q = st.queues[unit_name(u.target)]
                     [std::min<std::size_t>(oe.record.event.priority, 3)];
  if (front)
    q.emplace_front(event_id, unit);
  else
    q.emplace_back(event_id, unit);
}

/// A delivery ended without an "ok": try another agent or give up.
void delivery_failed(coordination_hub_pointer self, const std::string& event_id,
                     std::size_t unit, const std::string& agent,
                     const std::string& why) {
  auto i = self->state.open.find(event_id);
  if (i == self->state.open.end())
    return;
  auto& u = i->second.units[unit];
  u.tried.insert(agent);
  if (u.attempts < self->state.settings.agents.max_attempts) {
    enqueue(self, event_id, unit, true);
    return;
  }
  unit_finished(self, event_id, unit, false,
                std::to_string(u.attempts) + " attempts, last: " + why);
}

/// Ends the delivery `seq` (if still in flight) and returns its data.
std::optional<coordination_hub_state::flight>
take_flight(coordination_hub_pointer self, uint64_t seq) {
  auto& st = self->state;
  auto i = st.in_flight.find(seq);
  if (i == st.in_flight.end())
    return std::nullopt;
  auto f = std::move(i->second);
  st.in_flight.erase(i);
  if (auto a = find_agent(self, f.agent); a && a->in_flight > 0)
    --a->in_flight;
  if (auto e = st.open.find(f.event_id); e != st.open.end())
    e->second.units[f.unit].in_flight = 0;
  return f;
}

event_delivery* delivery_of(coordination_hub_pointer self,
                            const coordination_hub_state::flight& f) {
  auto e = self->state.open.find(f.event_id);
  if (e == self->state.open.end()
      || f.delivery >= e->second.record.deliveries.size())
    return nullptr;
  return &e->second.record.deliveries[f.delivery];
}

void on_answer(coordination_hub_pointer self, uint64_t seq, event_response& r) {
  auto f = take_flight(self, seq);
  if (!f)
    return; // late: the delivery timed out or the agent was dropped
  auto now = now_ms(self);
  auto elapsed_us = steady_us() - f->sent_us;
  bool ok = r.status == "ok";
  if (auto a = find_agent(self, f->agent)) {
    a->last_seen_ms = now;
    a->response_us->record(
      static_cast<uint64_t>(std::max<int64_t>(elapsed_us, 0)));
    if (ok)
      ++a->answered;
    else
      ++a->failed;
  }
  if (auto d = delivery_of(self, *f)) {
    d->answered_ms = now;
    d->status = ok ? "ok" : "failed";
    d->response = r.payload.size() > max_response_bytes
      ? std::string{"(truncated)"}
      : std::move(r.payload);
  }
  if (ok)
    unit_finished(self, f->event_id, f->unit, true, {});
  else
    delivery_failed(self, f->event_id, f->unit, f->agent,
                    "agent " + f->agent + " answered failed");
}

void on_delivery_error(coordination_hub_pointer self, uint64_t seq,
                       const std::string& status, const std::string& why) {
  auto f = take_flight(self, seq);
  if (!f)
    return;
  if (auto a = find_agent(self, f->agent))
    ++a->timed_out;
  if (auto d = delivery_of(self, *f))
    d->status = status;
  delivery_failed(self, f->event_id, f->unit, f->agent, why);
}

/// The least busy live agent for a unit, preferring agents that have not
/// failed it yet; nullptr when every candidate is full or none is live.
hub_agent* pick(coordination_hub_pointer self, const coordination_event& ev,
                const delivery_unit& u) {
  auto max = self->state.settings.agents.max_in_flight;
  hub_agent* best = nullptr;
  bool best_tried = true;
  for (auto& [name, a] : self->state.agents) {
    if (a.state != state_t::active || a.in_flight >= max
        || !a.subscribes(ev.type))
      continue;
    if (!u.target.agent.empty() ? name != u.target.agent
                                : a.role != u.target.role)
      continue;
    bool tried = u.tried.count(name) > 0;
    if (best == nullptr || (best_tried && !tried)
        || (tried == best_tried && a.in_flight < best->in_flight)) {
      best = &a;
      best_tried = tried;
    }
  }
  return best;
}

/// Events for one agent, sent as one message at the end of a dispatch.
using outbox = std::map<std::string, std::vector<coordination_event>>;

void send_delivery(coordination_hub_pointer self, open_event& oe,
                   std::size_t unit, hub_agent& a, outbox& out) {
  auto& st = self->state;
  auto& u = oe.units[unit];
  ++u.attempts;
  auto seq = ++st.next_delivery;
  u.in_flight = seq;
  ++a.in_flight;
  ++a.delivered;
  auto now = now_ms(self);
  if (oe.record.state == "queued")
    oe.record.state = "delivering";
  event_delivery d;
  d.agent = a.name;
  d.unit = unit_name(u.target);
  d.attempt = u.attempts;
  d.sent_ms = now;
  d.status = "in_flight";
  oe.record.deliveries.push_back(std::move(d));
  coordination_hub_state::flight f;
  f.event_id = oe.record.event.id;
  f.unit = unit;
  f.agent = a.name;
  f.delivery = oe.record.deliveries.size() - 1;
  f.sent_us = steady_us();
  auto deadline = f.sent_us
    + std::chrono::duration_cast<std::chrono::microseconds>(
        response_timeout(self, oe.record.event.type))
        .count();
  st.in_flight.emplace(seq, std::move(f));
  st.deadlines.emplace(deadline, seq);
  auto ev = oe.record.event;
  ev.attempt = u.attempts;
  ev.delivery = seq;
  out[a.name].push_back(std::move(ev));
}

void send_outbox(coordination_hub_pointer self, outbox& out) {
  auto& st = self->state;
  for (auto& [name, events] : out) {
    auto a = find_agent(self, name);
    if (a == nullptr || !a->endpoint)
      continue; // its deliveries time out
    if (st.gateway)
      caf::send_as(st.gateway, a->endpoint, coord_event_atom_v,
                   std::move(events));
    else
      self->send(a->endpoint, coord_event_atom_v, std::move(events));
  }
}

void expire_deliveries(coordination_hub_pointer self) {
  auto& st = self->state;
  auto now = steady_us();
  while (!st.deadlines.empty() && st.deadlines.top().first <= now) {
    auto seq = st.deadlines.top().second;
    st.deadlines.pop();
    if (st.in_flight.count(seq) > 0)
      on_delivery_error(self, seq, "timeout", "no answer in time");
  }
  // Answered deliveries leave their entries behind until their deadline:
  // drop them when they are most of the heap.
  if (st.deadlines.size() > 1024
      && st.deadlines.size() > 4 * st.in_flight.size()) {
    decltype(st.deadlines) live;
    while (!st.deadlines.empty()) {
      if (st.in_flight.count(st.deadlines.top().second) > 0)
        live.push(st.deadlines.top());
      st.deadlines.pop();
    }
    st.deadlines = std::move(live);
  }
}

/// Free delivery slots of the live agents that serve `key` ("role:R" or
/// "agent:N").
uint64_t free_slots(coordination_hub_pointer self, const std::string& key) {
  auto& st = self->state;
  auto max = st.settings.agents.max_in_flight;
  auto matches = [&](const hub_agent& a) {
    return key.rfind("role:", 0) == 0
      ? key.compare(5, std::string::npos, a.role) == 0
      : key.compare(6, std::string::npos, a.name) == 0;
  };
  uint64_t free = 0;
  for (auto& [name, a] : st.agents)
    if (a.state == state_t::active && a.in_flight < max && matches(a))
      free += max - a.in_flight;
  return free;
}

/// Hands queued units to free agents: priority by priority across all
/// queues, so a critical unit goes before a normal one wherever both could
/// go; a queue whose agents are all busy or away is not looked into.
void dispatch(coordination_hub_pointer self) {
  auto& st = self->state;
  std::map<std::string, uint64_t> free;
  for (auto& [key, q] : st.queues)
    if (auto n = free_slots(self, key); n > 0)
      free.emplace(key, n);
  if (free.empty())
    return;
  outbox out;
  for (std::size_t p = 0; p < 4; ++p) {
    for (auto& [key, slots] : free) {
      auto& q = st.queues[key][p];
      for (auto i = q.begin(); i != q.end() && slots > 0;) {
        auto e = st.open.find(i->first);
        if (e == st.open.end() || e->second.units[i->second].done) {
          i = q.erase(i);
          continue;
        }
        auto& oe = e->second;
        if (auto a = pick(self, oe.record.event, oe.units[i->second])) {
          auto unit = i->second;
          i = q.erase(i);
          send_delivery(self, oe, unit, *a, out);
          // An agent may serve two keys (its role and its name).
          slots = std::min(slots - 1, free_slots(self, key));
        } else {
          ++i; // no free agent of the key subscribes to this type
        }
      }
    }
  }
  send_outbox(self, out);
}

/// Starts routing an event that is stored (or needs no storing); callers
/// that start several pass `now` false and dispatch once after.
void start_delivery(coordination_hub_pointer self, open_event& oe,
                    bool now = true) {
  auto id = oe.record.event.id;
  for (std::size_t i = 0; i < oe.units.size(); ++i)
    enqueue(self, id, i, false);
  if (now)
    dispatch(self);
}

void on_stored(coordination_hub_pointer self, const std::string& id,
               const std::string& entry) {
  auto i = self->state.open.find(id);
  if (i == self->state.open.end())
    return;
  auto& oe = i->second;
  oe.open_entry = entry;
  for (auto& p : oe.stored_promises)
    p.deliver(id);
  oe.stored_promises.clear();
  start_delivery(self, oe, false);
}

void on_store_refused(coordination_hub_pointer self, const std::string& id,
                      const caf::error& err) {
  auto i = self->state.open.find(id);
  if (i == self->state.open.end())
    return;
  auto& oe = i->second;
  if (!oe.stored_promises.empty()) {
    // The sender learns that the event was not taken; nothing was routed.
    for (auto& p : oe.stored_promises)
      p.deliver(caf::make_error(error_code::store_unavailable,
                                "the event could not be stored: "
                                  + caf::to_string(err)));
    --self->state.types[oe.record.event.type].sent;
    self->state.open.erase(i);
    return;
  }
  // An alert from the node itself: deliver it anyway, it is not durable.
  log_warning("coordination_hub",
              "event " + id
                + " delivered without being stored: " + caf::to_string(err));
  start_delivery(self, oe, false);
}

/// Takes a new event: routes it, stores it (unless `durable` is false:
/// webhooks, whose queue is the processor's) and delivers it.
std::string take_event(coordination_hub_pointer self, coordination_event ev,
                       bool durable, open_event*& out) {
  auto& st = self->state;
  out = nullptr;
  if (ev.id.empty())
    ev.id = st.settings.node + "-" + std::to_string(now_ms(self)) + "-"
      + std::to_string(++st.next_event);
  if (ev.created_ms == 0)
    ev.created_ms = now_ms(self);
  auto& counters = st.types[ev.type];
  ++counters.sent;
  std::string why;
  auto units = route(self, ev, why);
  if (units.empty()) {
    ++counters.unrouted;
    event_record rec;
    rec.event = std::move(ev);
    rec.state = "unrouted";
    rec.detail = why;
    rec.finished_ms = now_ms(self);
    // A webhook nobody subscribes to goes to the node's log; the processor
    // keeps its history, so no record here.
    if (durable)
      record_write(self, rec);
    auto id = rec.event.id;
    remember_finished(self, std::move(rec));
    return id;
  }
  auto id = ev.id;
  auto& oe = st.open[id];
  oe.record.event = std::move(ev);
  oe.record.state = "queued";
  for (auto& u : units)
    oe.units.push_back(make_unit(u));
  oe.units_left = oe.units.size();
  out = &oe;
  if (durable) {
    buffer_write(self,
                 store::write_op::make_xadd(
                   coordination_keys::open_events(st.settings.node),
                   {{"event", encode_open_event(oe.record.event, units)}}),
                 id);
    // No record yet: while open, the hub answers from memory, and after a
    // restart from this entry.
  }
  return id;
}

caf::error check_event(const coordination_event& ev) {
  if (!is_coordination_event_type(ev.type))
    return caf::make_error(error_code::invalid_argument,
                           "unknown event type '" + ev.type + "'");
  if (ev.priority > 3)
    return caf::make_error(error_code::invalid_argument,
                           "priority must be critical, high, normal or low");
  if (!ev.target.empty() && ev.target.rfind("agent:", 0) != 0
      && ev.target.rfind("role:", 0) != 0)
    return caf::make_error(error_code::invalid_argument,
                           "target must be \"agent:NAME\" or \"role:ROLE\"");
  return {};
}

void publish_internal(coordination_hub_pointer self, coordination_event ev) {
  if (auto err = check_event(ev)) {
    log_warning("coordination_hub",
                "dropped an internal event: " + caf::to_string(err));
    return;
  }
  open_event* oe = nullptr;
  auto id = take_event(self, std::move(ev), true, oe);
  if (oe == nullptr) {
    auto i = self->state.finished.find(id);
    log_info("coordination_hub",
             "event " + id + " not routed: "
               + (i != self->state.finished.end() ? i->second.detail
                                                  : std::string{}));
  }
}


void disconnect(coordination_hub_pointer self, hub_agent& a,
                const std::string& why);

/// Ends the registrations whose key was revoked or expired: the agent is
/// told (it registers again, and is refused), and its deliveries in flight
/// go to others. Checked when the credentials change, and once a second for
/// expiries.
void end_revoked_registrations(coordination_hub_pointer self) {
  auto& st = self->state;
  if (!st.settings.credentials)
    return;
  auto generation = st.settings.credentials->generation();
  if (generation == st.credentials_seen && st.ticks % 10 != 0)
    return;
  st.credentials_seen = generation;
  auto creds = st.settings.credentials->current();
  auto now = epoch_ms_now();
  for (auto& [name, a] : st.agents) {
    if (a.session.empty() || creds->agent_key_valid(a.key_id, a.key_hash, now))
      continue;
    log_warning("coordination_hub",
                "agent " + name + ": its key " + a.key_id
                  + " is revoked or expired; registration ended");
    audit(self, "agent:" + name + " key " + a.key_id, "agent.revoked", name,
          "ok", "key " + a.key_id + " no longer valid; disconnected");
    if (a.endpoint && st.gateway)
      caf::send_as(st.gateway, a.endpoint, leave_atom_v,
                   std::string{"key revoked"});
    disconnect(self, a, "its key was revoked");
  }
}

// -- timers -------------------------------------------------------------------

void tick(coordination_hub_pointer self) {
  auto& st = self->state;
  auto now = now_ms(self);
  auto silent_ms = int64_t{st.settings.agents.heartbeat_interval_s}
    * st.settings.agents.missed_heartbeats * 1000;
  auto now_us = steady_us();
  for (auto& [name, a] : st.agents)
    if (a.state == state_t::active
        && now_us - a.last_heartbeat_us > silent_ms * 1000) {
      a.state = state_t::stale;
      log_warning("coordination_hub",
                  "agent " + name + " is stale: no heartbeat for "
                    + std::to_string((now_us - a.last_heartbeat_us) / 1000)
                    + " ms");
    }
  expire_deliveries(self);
  end_revoked_registrations(self);
  // Units that found no free live agent for too long fail; checked once a
  // second, since it walks the queues.
  if (++st.ticks % 10 != 0) {
    flush_writes(self);
    dispatch(self);
    self->delayed_send(self, st.settings.tick_interval, hub_tick_atom_v);
    return;
  }
  auto limit_ms = int64_t{st.settings.agents.undeliverable_after_s} * 1000;
  std::vector<std::pair<std::string, std::size_t>> expired;
  for (auto& [key, qs] : st.queues)
    for (auto& q : qs)
      for (auto i = q.begin(); i != q.end();) {
        auto e = st.open.find(i->first);
        if (e == st.open.end() || e->second.units[i->second].done) {
          i = q.erase(i);
        } else if (now - e->second.units[i->second].queued_since_ms
                   > limit_ms) {
          expired.push_back(*i);
          i = q.erase(i);
        } else {
          ++i;
        }
      }
  for (auto& [id, unit] : expired)
    unit_finished(self, id, unit, false,
                  "no_agent: no live agent took it within "
                    + std::to_string(st.settings.agents.undeliverable_after_s)
                    + " s");
  flush_writes(self);
  dispatch(self);
  self->delayed_send(self, st.settings.tick_interval, hub_tick_atom_v);
}

void recover_open_events(coordination_hub_pointer self) {
  auto& st = self->state;
  self
    ->request(st.store, std::chrono::seconds{10}, xrange_atom_v,
              coordination_keys::open_events(st.settings.node),
              std::string{"-"}, std::string{"+"}, uint64_t{0})
    .then(
      [self](stream_entries& xs) {
        auto& st = self->state;
        std::size_t recovered = 0;
        for (auto& x : xs) {
          auto decoded = decode_open_event(
            store::find_field(x.fields, "event"));
          if (!decoded) {
            log_warning("coordination_hub",
                        "open event " + x.id + " is unreadable; dropped");
            buffer_write(self,
                         store::write_op::make_xdel(
                           coordination_keys::open_events(st.settings.node),
                           {x.id}));
            continue;
          }
          auto& [ev, units] = *decoded;
          // Open already, or finished while its XDEL waited for a write.
          if (st.open.count(ev.id) > 0 || st.finished.count(ev.id) > 0)
            continue;
          auto id = ev.id;
          auto& oe = st.open[id];
          oe.record.event = std::move(ev);
          oe.record.state = "queued";
          oe.record.detail = "recovered after a restart of node "
            + st.settings.node;
          for (auto& u : units)
            oe.units.push_back(make_unit(u));
          oe.units_left = oe.units.size();
          oe.open_entry = x.id;
          ++st.types[oe.record.event.type].sent;
          start_delivery(self, oe, false);
          ++recovered;
        }
        dispatch(self);
        if (recovered > 0)
          log_info("coordination_hub",
                   "recovered " + std::to_string(recovered)
                     + " unfinished events from the store");
      },
      [self](caf::error& err) {
        log_warning("coordination_hub",
                    "cannot read unfinished events yet: " + caf::to_string(err)
                      + "; trying again in 1 s");
        self->delayed_send(self, std::chrono::seconds{1}, recover_atom_v);
      });
}

/// Agents this node knew before a restart: disconnected until they
/// register again, but known, so that events for them wait for them.
void recover(coordination_hub_pointer self) {
  auto& st = self->state;
  self
    ->request(st.store, std::chrono::seconds{10}, hgetall_atom_v,
              coordination_keys::known_agents(st.settings.node))
    .then(
      [self](store::field_list& fs) {
        auto& st = self->state;
        for (auto& [name, text] : fs) {
          boost::json::error_code ec;
          auto v = boost::json::parse(text, ec);
          if (ec || !v.is_object() || st.agents.count(name) > 0)
            continue;
          auto& obj = v.get_object();
          auto& a = st.agents[name];
          a.id = agent_id(name);
          a.name = name;
          a.state = state_t::disconnected;
          if (auto r = obj.if_contains("role"); r && r->is_string())
            a.role = std::string{r->get_string()};
          if (auto xs = obj.if_contains("subscriptions"); xs && xs->is_array())
            for (auto& x : xs->get_array())
              if (x.is_string())
                a.subscriptions.emplace_back(x.get_string());
          if (auto t = obj.if_contains("registeredAt"); t && t->is_int64())
            a.registered_ms = t->get_int64();
        }
        recover_open_events(self);
      },
      [self](caf::error& err) {
        log_warning("coordination_hub",
                    "cannot read known agents yet: " + caf::to_string(err)
                      + "; trying again in 1 s");
        self->delayed_send(self, std::chrono::seconds{1}, recover_atom_v);
      });
}

// -- registration
// ---------------------------------------------------------------

std::string new_session() {
  return to_hex(random_bytes(16));
}

/// The agent is gone (connection dropped, left, replaced): its session ends
/// and its deliveries in flight go to other agents now.
void disconnect(coordination_hub_pointer self, hub_agent& a,
                const std::string& why) {
  auto& st = self->state;
  a.state = state_t::disconnected;
  st.sessions.erase(a.session);
  a.session.clear();
  log_warning("coordination_hub", "agent " + a.name + " disconnected: " + why);
  std::vector<uint64_t> lost;
  for (auto& [seq, f] : st.in_flight)
    if (f.agent == a.name)
      lost.push_back(seq);
  for (auto seq : lost)
    on_delivery_error(self, seq, "disconnected",
                      "agent " + a.name + " disconnected");
  a.in_flight = 0;
}

hub_agent* agent_of_session(coordination_hub_pointer self,
                            const std::string& session) {
  auto i = self->state.sessions.find(session);
  return i == self->state.sessions.end() ? nullptr
                                         : find_agent(self, i->second);
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
  auto who = "agent:" + reg.name;
  std::string key_id = "anonymous";
  std::string why_refused;
  if (st.settings.credentials) {
    auto creds = st.settings.credentials->current();
    auto checked = creds->authenticate_agent(reg.token, epoch_ms_now());
    if (checked)
      key_id = checked.who->id;
    else
      why_refused = std::string{auth::to_string(checked.why)};
  } else if (!agent_token_matches(reg.token, st.settings.agents.token_sha256)) {
    why_refused = "invalid";
  }
  if (!why_refused.empty()) {
    ++st.refused_registrations;
    // At most 10 log lines and audit records a minute, the next one saying
    // how many were left out: whoever reaches the port cannot flood the
    // audit trail.
    auto at = steady_us();
    if (at - st.refusal_window_us >= 60'000'000) {
      st.refusal_window_us = at;
      st.refusals_in_window = 0;
    }
    if (st.refusals_in_window < 10) {
      ++st.refusals_in_window;
      auto detail = "token " + why_refused + " (role " + reg.role + ")";
      if (st.unaudited_refusals > 0)
        detail += "; " + std::to_string(st.unaudited_refusals)
                  + " more refused registration(s) not recorded before it";
      log_warning("coordination_hub", "refused the registration of agent '"
                                        + reg.name + "': " + detail);
      audit(self, who, "agent.register", reg.name, "denied", detail);
      st.unaudited_refusals = 0;
    } else {
      ++st.unaudited_refusals;
    }
    // A store that has not answered yet may hold the agent's key: retry.
    return caf::make_error(why_refused == "unavailable"
                             ? error_code::unavailable
                             : error_code::unauthorized,
                           "agent token " + why_refused);
  }
  who += " key " + key_id;
  auto now = now_ms(self);
  auto& a = st.agents[reg.name];
  if (a.endpoint && a.endpoint != endpoint) {
    if (a.state == state_t::active)
      return caf::make_error(error_code::conflict,
                             "an agent named '" + reg.name + "' is live");
    // A stale process is replaced: what it holds goes to others now.
    self->demonitor(a.endpoint.address());
    if (a.state != state_t::disconnected)
      disconnect(self, a, "replaced by a new registration");
  }
  bool known = !a.id.empty();
  st.sessions.erase(a.session);
  a.session = new_session();
  st.sessions[a.session] = reg.name;
  a.id = agent_id(reg.name);
  a.name = reg.name;
  a.role = reg.role;
  a.subscriptions = reg.subscriptions;
  a.endpoint = endpoint;
  a.key_id = key_id;
  a.key_hash = reg.token.empty() ? std::string{} : auth::key_hash(reg.token);
  a.state = state_t::active;
  if (a.registered_ms == 0)
    a.registered_ms = now;
  a.last_heartbeat_ms = now;
  a.last_heartbeat_us = steady_us();
  a.last_seen_ms = now;
  self->monitor(endpoint);
  log_info("coordination_hub",
           std::string{known ? "agent re-registered: " : "agent registered: "}
             + reg.name + " (role " + reg.role + ")");
  boost::json::array subs;
  for (auto& x : a.subscriptions)
    subs.emplace_back(x);
  auto key = coordination_keys::known_agents(st.settings.node);
  buffer_write(self,
               store::write_op::make_hset(
                 key,
                 {{reg.name,
                   boost::json::serialize(
                     boost::json::object{{"role", a.role},
                                         {"subscriptions", std::move(subs)},
                                         {"registeredAt", a.registered_ms}})}}),
               {}, false);
  // Agents not seen for a month are forgotten with the hash.
  buffer_write(
    self, store::write_op::make_expire(key, int64_t{30} * 24 * 3600 * 1000), {},
    false);
  audit(self, who, "agent.register", reg.name, "ok", "role " + reg.role);
  dispatch(self);
  return agent_welcome{
    a.id,
    int64_t{st.settings.agents.heartbeat_interval_s} * 1000,
    st.settings.node,
    a.session,
  };
}

/// The published gateway died (a peer can kill it): publish a new one on
/// the same endpoint; agents reconnect by themselves.
void replace_gateway(coordination_hub_pointer self) {
  auto& st = self->state;
  log_warning("coordination_hub",
              "the agent gateway died; publishing a new one on "
                + st.gateway_host + ":" + std::to_string(st.gateway_port));
  // The dead gateway still holds the port.
  if (auto done = caf::io::unpublish(st.gateway, st.gateway_port); !done)
    log_warning("coordination_hub",
                "unpublishing the dead gateway: "
                  + caf::to_string(done.error()));
  auto g = self->system().spawn(agent_gateway,
                                caf::actor_cast<coordination_hub_actor>(self));
  auto published = caf::io::publish(g, st.gateway_port, st.gateway_host.c_str(),
                                    true);
  if (!published) {
    log_error("coordination_hub",
              "cannot publish the agent gateway: "
                + caf::to_string(published.error()));
    caf::anon_send_exit(g, caf::exit_reason::user_shutdown);
    st.gateway = nullptr;
    return;
  }
  st.gateway = g;
  self->monitor(g);
}

void on_down(coordination_hub_pointer self, const caf::down_msg& dm) {
  if (self->state.gateway && dm.source == self->state.gateway.address()) {
    replace_gateway(self);
    return;
  }
  for (auto& [name, a] : self->state.agents)
    if (a.endpoint && a.state != state_t::disconnected
        && a.endpoint.address() == dm.source)
      disconnect(self, a, caf::to_string(dm.reason));
  dispatch(self);
}

std::string webhook_payload(const webhook_event& ev) {
  boost::json::error_code ec;
  auto body = boost::json::parse(ev.payload, ec);
  boost::json::object obj{{"webhook", ev.id},
                          {"service", ev.service},
                          {"type", ev.type},
                          {"critical", ev.critical},
                          {"receivedAt", ev.received_ms},
                          {"attempt", ev.attempts}};
  obj["body"] = ec ? boost::json::value(ev.payload) : std::move(body);
  return boost::json::serialize(obj);
}

} // namespace

coordination_hub_actor::behavior_type
coordination_hub(coordination_hub_pointer self,
                 coordination_hub_settings settings, store_actor store) {
  auto& st = self->state;
  st.settings = std::move(settings);
  if (!st.settings.now_ms)
    st.settings.now_ms = epoch_ms_now;
  st.store = std::move(store);
  self->set_down_handler([self](caf::down_msg& dm) { on_down(self, dm); });
  self->send(self, recover_atom_v);
  self->delayed_send(self, st.settings.tick_interval, hub_tick_atom_v);
  return {
    [self](agent_reg_atom, agent_registration& reg,
           agent_endpoint_actor& endpoint) -> caf::result<agent_welcome> {
      return on_register(self, reg, endpoint);
    },
    [self](heartbeat_atom, const std::string& session) {
      auto a = agent_of_session(self, session);
      if (a == nullptr || a->session != session)
        return false; // not registered (any more): register again
      auto now = now_ms(self);
      a->last_heartbeat_ms = now;
      a->last_heartbeat_us = steady_us();
      a->last_seen_ms = now;
      if (a->state == state_t::stale) {
        a->state = state_t::active;
        log_info("coordination_hub", "agent " + a->name + " is active again");
        dispatch(self);
      }
      return true;
    },
    [self](respond_atom, const std::string& session,
           std::vector<event_response>& rs) {
      auto a = agent_of_session(self, session);
      if (a == nullptr)
        return;
      auto name = a->name;
      for (auto& r : rs) {
        auto i = self->state.in_flight.find(r.delivery);
        // Late (timed out, or the agent was dropped) or not this agent's.
        if (i == self->state.in_flight.end() || i->second.agent != name
            || i->second.event_id != r.event_id)
          continue;
        on_answer(self, r.delivery, r);
      }
      dispatch(self);
    },
    [self](leave_atom, const std::string& session) {
      if (auto a = agent_of_session(self, session)) {
        disconnect(self, *a, "left");
        dispatch(self);
      }
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
           call_samples& xs) {
      auto& st = self->state;
      // Only a registered agent reports calls.
      auto a = agent_of_session(self, session);
      if (a == nullptr)
        return;
      static const service_routes none;
      auto& routes = st.settings.services ? *st.settings.services : none;
      auto i = std::find(routes.names.begin(), routes.names.end(), service);
      if (i == routes.names.end()) {
        if (a != nullptr) {
          if (a->samples_rejected == 0)
            log_warning("coordination_hub",
                        "agent " + a->name
                          + " reports calls of unknown "
                            "service '"
                          + service + "'; counted as rejected");
          a->samples_rejected += xs.size();
        }
        return;
      }
      auto idx = static_cast<std::size_t>(i - routes.names.begin());
      if (a != nullptr)
        a->samples_reported += xs.size();
      if (idx < routes.backlogs.size() && routes.backlogs[idx])
        routes.backlogs[idx]->add(xs.size());
      caf::anon_send(routes.monitors[idx], record_atom_v, std::move(xs));
    },
    [self](coord_event_atom,
           coordination_event& ev) -> caf::result<std::string> {
      if (auto err = check_event(ev))
        return err;
      open_event* oe = nullptr;
      auto id = take_event(self, std::move(ev), true, oe);
      if (oe == nullptr)
        return id; // not routed: the record says why
      auto rp = self->make_response_promise<std::string>();
      oe->stored_promises.push_back(rp);
      return rp;
    },
    [self](publish_atom, coordination_event& ev) {
      publish_internal(self, std::move(ev));
    },
    [self](agents_atom) {
      auto& st = self->state;
      coordination_status x;
      for (auto& [name, a] : st.agents)
        x.agents.push_back(status_of(a, st.settings.agents.max_in_flight));
      for (auto& [type, c] : st.types) {
        event_type_stats t;
        t.type = type;
        t.sent = c.sent;
        t.completed = c.completed;
        t.failed = c.failed;
        t.unrouted = c.unrouted;
        t.p50_ms = c.latency_us->quantile(0.50) / 1000.0;
        t.p95_ms = c.latency_us->quantile(0.95) / 1000.0;
        x.types.push_back(std::move(t));
      }
      for (auto& [key, qs] : st.queues)
        for (auto& q : qs)
          x.queued += q.size();
      x.in_flight = st.in_flight.size();
      x.refused_registrations = st.refused_registrations;
      return x;
    },
    [self](event_atom, const std::string& id) -> caf::result<event_record> {
      auto& st = self->state;
      if (auto i = st.open.find(id); i != st.open.end())
        return i->second.record;
      if (auto i = st.finished.find(id); i != st.finished.end())
        return i->second;
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
    },
    [self](deliver_atom, webhook_event& wh) -> caf::result<bool> {
      auto& st = self->state;
      auto id = "webhook:" + wh.id;
      if (auto i = st.open.find(id); i != st.open.end()) {
        // The processor retried while the first delivery is still going.
        auto rp = self->make_response_promise<bool>();
        i->second.webhook_promises.push_back(rp);
        return rp;
      }
      coordination_event ev;
      ev.id = id;
      ev.type = "webhook";
      ev.priority = wh.critical ? 0 : 2;
      ev.source = "webhook:" + wh.service;
      ev.created_ms = now_ms(self);
      ev.payload = webhook_payload(wh);
      open_event* oe = nullptr;
      take_event(self, std::move(ev), false, oe);
      if (oe != nullptr) {
        auto rp = self->make_response_promise<bool>();
        oe->webhook_promises.push_back(rp);
        start_delivery(self, *oe);
        return rp;
      }
      // No agent wants webhooks: the node's log takes them, as before agents.
      if (!st.settings.fallback)
        return true;
      auto rp = self->make_response_promise<bool>();
      self
        ->request(st.settings.fallback, std::chrono::seconds{10},
                  deliver_atom_v, std::move(wh))
        .then([rp](bool ok) mutable { rp.deliver(ok); },
              [rp](caf::error& err) mutable { rp.deliver(std::move(err)); });
      return rp;
    },
    [self](alerts_atom, const service_alert& x) {
      coordination_event ev;
      ev.type = "performance_optimization";
      // The monitor's priority: raised at normal, escalated while open.
      ev.priority = std::min<uint8_t>(x.priority, 3);
      ev.source = "monitor:" + x.service;
      boost::json::object payload{{"service", x.service},
                                  {"metric", x.metric},
                                  {"kind", x.kind},
                                  {"state", x.state},
                                  {"value", x.value},
                                  {"threshold", x.threshold},
                                  {"active", x.active},
                                  {"since", x.since_ms}};
      if (x.kind == "anomaly")
        payload["expected"] = boost::json::object{{"low", x.expected_low},
                                                  {"mean", x.expected_mean},
                                                  {"high", x.expected_high}};
      ev.payload = boost::json::serialize(payload);
      publish_internal(self, std::move(ev));
    },
    [self](hub_tick_atom) { tick(self); },
    [self](recover_atom) { recover(self); },
    [](ping_atom) { return true; },
  };
}

} // namespace streamb

namespace streamb {

coordination_gateway_actor::behavior_type
agent_gateway(coordination_gateway_actor::pointer self,
              coordination_hub_actor hub) {
  // Peers may send any message to a published actor, exit messages too: the
  // gateway ends with the hub and ignores every exit message. One of reason
  // `kill` cannot be ignored (CAF 0.17); the hub then publishes a new one.
  self->monitor(hub);
  self->set_exit_handler([](caf::exit_msg&) {});
  self->set_down_handler([self, hub](caf::down_msg& dm) {
    if (dm.source == hub.address())
      self->quit(dm.reason);
  });
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
  };
}

} // namespace streamb
