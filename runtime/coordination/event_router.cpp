#include "runtime/coordination/event_router.hpp"

#include <algorithm>

namespace streamb {

namespace {

// An agent's answer is kept in the event record up to this size.
constexpr std::size_t max_response_bytes = 16 * 1024;

std::size_t queue_index(budget::priority priority) {
  return std::min<std::size_t>(static_cast<std::size_t>(priority),
                               budget::priority_count - 1);
}

} // namespace

event_router::event_router(router_settings settings, agent_registry& agents)
  : settings_(std::move(settings)), agents_(agents) {
  // nop
}

// -- new events ---------------------------------------------------------------

std::vector<delivery_target> event_router::route(const coordination_event& ev,
                                                 std::string& why) const {
  std::vector<delivery_target> units;
  // Checked by the hub before; anything else reads as "every role".
  auto target = delivery_target::parse(ev.target).value_or(delivery_target{});
  if (target.kind == delivery_target::kind_t::agent) {
    auto a = agents_.find(target.name);
    if (a == nullptr)
      why = "no agent named '" + target.name + "' has registered";
    else if (!a->subscribes(ev.type))
      why = "agent '" + target.name + "' does not subscribe to " + ev.type;
    else
      units.push_back(target);
    return units;
  }
  // Agents that are away count: their role's events wait for them.
  auto wanted = target.kind == delivery_target::kind_t::role ? target.name
                                                             : std::string{};
  std::set<std::string> roles;
  for (auto& [name, a] : agents_.all())
    if (a.subscribes(ev.type) && (wanted.empty() || a.role == wanted))
      roles.insert(a.role);
  for (auto& r : roles)
    units.push_back(delivery_target::role(r));
  if (units.empty())
    why = wanted.empty()
      ? "no agent subscribes to " + ev.type
      : "no agent of role '" + wanted + "' subscribes to " + ev.type;
  return units;
}

routed_event event_router::open(coordination_event ev, int64_t now_ms,
                                std::string_view unrouted_note) {
  if (ev.id.empty())
    ev.id = settings_.node + "-" + std::to_string(now_ms) + "-"
      + std::to_string(++next_event_);
  if (ev.created_ms == 0)
    ev.created_ms = now_ms;
  auto& counters = types_[ev.type];
  ++counters.counts.sent;
  routed_event result;
  std::string why;
  auto targets = route(ev, why);
  if (targets.empty()) {
    ++counters.counts.unrouted;
    result.record.event = std::move(ev);
    result.record.state = event_state::unrouted;
    result.record.detail = why;
    result.record.detail += unrouted_note;
    result.record.finished_ms = now_ms;
    remember_finished(result.record);
    return result;
  }
  auto& oe = open_[ev.id];
  open_bytes_ += ev.payload.size();
  oe.record.event = std::move(ev);
  oe.record.state = event_state::queued;
  for (auto& t : targets) {
    delivery_unit u;
    u.target = t;
    oe.units.push_back(std::move(u));
    result.units.push_back(t.to_unit());
  }
  oe.units_left = oe.units.size();
  result.record = oe.record;
  return result;
}

void event_router::start(const std::string& id, std::string open_entry,
                         int64_t now_ms) {
  auto i = open_.find(id);
  if (i == open_.end())
    return;
  i->second.open_entry = std::move(open_entry);
  start_units(i->second, now_ms);
}

void event_router::abandon(const std::string& id) {
  auto i = open_.find(id);
  if (i == open_.end())
    return;
  --types_[i->second.record.event.type].counts.sent;
  open_bytes_ -= i->second.record.event.payload.size();
  open_.erase(i);
}

bool event_router::recover(coordination_event ev,
                           const std::vector<unit_target>& units,
                           std::string open_entry, int64_t now_ms) {
  // Open already, or finished while its removal from the store waited.
  if (open_.count(ev.id) > 0 || finished_.count(ev.id) > 0)
    return false;
  auto id = ev.id;
  auto& oe = open_[id];
  open_bytes_ += ev.payload.size();
  oe.record.event = std::move(ev);
  oe.record.state = event_state::queued;
  oe.record.detail = "recovered after a restart of node " + settings_.node;
  for (auto& t : units) {
    delivery_unit u;
    u.target = delivery_target::from_unit(t);
    oe.units.push_back(std::move(u));
  }
  oe.units_left = oe.units.size();
  oe.open_entry = std::move(open_entry);
  ++types_[oe.record.event.type].counts.sent;
  start_units(oe, now_ms);
  return true;
}

void event_router::start_units(open_event& oe, int64_t now_ms) {
  for (std::size_t i = 0; i < oe.units.size(); ++i)
    enqueue(oe.record.event.id, i, false, now_ms);
}

void event_router::enqueue(const std::string& event_id, std::size_t unit,
                           bool front, int64_t now_ms) {
  auto& oe = open_.at(event_id);
  auto& u = oe.units[unit];
  u.queued_since_ms = now_ms;
  auto& q = queues_[u.target][queue_index(oe.record.event.priority)];
  if (front)
    q.emplace_front(event_id, unit);
  else
    q.emplace_back(event_id, unit);
}

// -- dispatch -----------------------------------------------------------------

// A critical unit goes before a normal one wherever both could go; a queue
// whose agents are all busy or away is not looked into.
outbox event_router::dispatch(int64_t now_ms) {
  outbox out;
  std::map<delivery_target, uint64_t> free;
  for (auto& [target, q] : queues_)
    if (auto n = agents_.free_slots(target); n > 0)
      free.emplace(target, n);
  if (free.empty())
    return out;
  for (std::size_t p = 0; p < 4; ++p) {
    for (auto& [target, slots] : free) {
      auto& q = queues_[target][p];
      for (auto i = q.begin(); i != q.end() && slots > 0;) {
        auto e = open_.find(i->first);
        if (e == open_.end() || e->second.units[i->second].done) {
          i = q.erase(i);
          continue;
        }
        auto& oe = e->second;
        auto& u = oe.units[i->second];
        if (auto a = agents_.pick(u.target, oe.record.event.type, u.tried)) {
          auto unit = i->second;
          i = q.erase(i);
          send(oe, unit, *a, now_ms, out);
          // An agent may serve two targets (its role and its name).
          slots = std::min(slots - 1, agents_.free_slots(target));
        } else {
          ++i; // no free agent of the target subscribes to this type
        }
      }
    }
  }
  return out;
}

void event_router::send(open_event& oe, std::size_t unit, registered_agent& a,
                        int64_t now_ms, outbox& out) {
  auto& u = oe.units[unit];
  ++u.attempts;
  auto seq = ++next_delivery_;
  u.in_flight = seq;
  ++a.in_flight;
  ++a.counts.delivered;
  if (oe.record.state == event_state::queued)
    oe.record.state = event_state::delivering;
  event_delivery d;
  d.agent = a.name;
  d.unit = u.target.to_string();
  d.attempt = u.attempts;
  d.sent_ms = now_ms;
  d.status = delivery_status::in_flight;
  oe.record.deliveries.push_back(std::move(d));
  flight f;
  f.event_id = oe.record.event.id;
  f.unit = unit;
  f.agent = a.name;
  f.delivery = oe.record.deliveries.size() - 1;
  f.sent_ms = now_ms;
  in_flight_.emplace(seq, std::move(f));
  deadlines_.emplace(now_ms + response_timeout_ms(oe.record.event.type), seq);
  auto ev = oe.record.event;
  ev.attempt = u.attempts;
  ev.delivery = seq;
  out[a.name].push_back(std::move(ev));
}

int64_t event_router::response_timeout_ms(const std::string& type) const {
  auto& agents = settings_.agents;
  auto i = agents.response_timeouts_s.find(type);
  auto s = i != agents.response_timeouts_s.end() ? i->second
                                                 : agents.response_timeout_s;
  return int64_t{s} * 1000;
}

// -- outcomes of deliveries ---------------------------------------------------

std::optional<event_router::flight> event_router::take_flight(uint64_t seq) {
  auto i = in_flight_.find(seq);
  if (i == in_flight_.end())
    return std::nullopt;
  auto f = std::move(i->second);
  in_flight_.erase(i);
  if (auto a = agents_.find(f.agent); a && a->in_flight > 0)
    --a->in_flight;
  if (auto e = open_.find(f.event_id); e != open_.end())
    e->second.units[f.unit].in_flight = 0;
  return f;
}

event_delivery* event_router::delivery_of(const flight& f) {
  auto e = open_.find(f.event_id);
  if (e == open_.end() || f.delivery >= e->second.record.deliveries.size())
    return nullptr;
  return &e->second.record.deliveries[f.delivery];
}

finished_events event_router::answer(const std::string& agent, event_response r,
                                     int64_t now_ms) {
  finished_events out;
  auto i = in_flight_.find(r.delivery);
  // Late (timed out, or the agent was dropped) or not this agent's.
  if (i == in_flight_.end() || i->second.agent != agent
      || i->second.event_id != r.event_id)
    return out;
  auto f = take_flight(r.delivery);
  bool ok = r.status == answer_status::ok;
  if (auto a = agents_.find(f->agent)) {
    a->last_seen_ms = now_ms;
    a->response_us.record(
      static_cast<uint64_t>(std::max<int64_t>(now_ms - f->sent_ms, 0) * 1000));
    if (ok)
      ++a->counts.answered;
    else
      ++a->counts.failed;
  }
  if (auto d = delivery_of(*f)) {
    d->answered_ms = now_ms;
    d->status = ok ? delivery_status::ok : delivery_status::failed;
    d->response = r.payload.size() > max_response_bytes
      ? std::string{"(truncated)"}
      : std::move(r.payload);
  }
  if (ok)
    unit_finished(f->event_id, f->unit, true, {}, now_ms, out);
  else
    delivery_failed(*f, "agent " + f->agent + " answered failed", now_ms, out);
  return out;
}

void event_router::delivery_error(uint64_t seq, delivery_status status,
                                  const std::string& why, int64_t now_ms,
                                  finished_events& out) {
  auto f = take_flight(seq);
  if (!f)
    return;
  if (auto a = agents_.find(f->agent))
    ++a->counts.timed_out;
  if (auto d = delivery_of(*f))
    d->status = status;
  delivery_failed(*f, why, now_ms, out);
}

// A delivery ended without an "ok": the unit goes to the front of its queue
// for another agent, or fails after its last attempt.
void event_router::delivery_failed(const flight& f, const std::string& why,
                                   int64_t now_ms, finished_events& out) {
  auto i = open_.find(f.event_id);
  if (i == open_.end())
    return;
  auto& u = i->second.units[f.unit];
  u.tried.insert(f.agent);
  if (u.attempts < settings_.agents.max_attempts) {
    enqueue(f.event_id, f.unit, true, now_ms);
    return;
  }
  unit_finished(f.event_id, f.unit, false,
                std::to_string(u.attempts) + " attempts, last: " + why, now_ms,
                out);
}

finished_events event_router::expire(int64_t now_ms) {
  finished_events out;
  while (!deadlines_.empty() && deadlines_.top().first <= now_ms) {
    auto seq = deadlines_.top().second;
    deadlines_.pop();
    if (in_flight_.count(seq) > 0)
      delivery_error(seq, delivery_status::timeout, "no answer in time", now_ms,
                     out);
  }
  // Answered deliveries leave their entries behind until their deadline:
  // drop them when they are most of the heap.
  if (deadlines_.size() > 1024 && deadlines_.size() > 4 * in_flight_.size()) {
    decltype(deadlines_) live;
    while (!deadlines_.empty()) {
      if (in_flight_.count(deadlines_.top().second) > 0)
        live.push(deadlines_.top());
      deadlines_.pop();
    }
    deadlines_ = std::move(live);
  }
  return out;
}

finished_events event_router::expire_undeliverable(int64_t now_ms) {
  finished_events out;
  auto limit_s = settings_.agents.undeliverable_after_s;
  auto limit_ms = int64_t{limit_s} * 1000;
  std::vector<std::pair<std::string, std::size_t>> expired;
  for (auto& [target, qs] : queues_)
    for (auto& q : qs)
      for (auto i = q.begin(); i != q.end();) {
        auto e = open_.find(i->first);
        if (e == open_.end() || e->second.units[i->second].done) {
          i = q.erase(i);
        } else if (now_ms - e->second.units[i->second].queued_since_ms
                   > limit_ms) {
          expired.push_back(*i);
          i = q.erase(i);
        } else {
          ++i;
        }
      }
  for (auto& [id, unit] : expired)
    unit_finished(id, unit, false,
                  "no_agent: no live agent took it within "
                    + std::to_string(limit_s) + " s",
                  now_ms, out);
  return out;
}

finished_events event_router::disconnect(const std::string& agent,
                                         int64_t now_ms) {
  finished_events out;
  agents_.disconnect(agent);
  std::vector<uint64_t> lost;
  for (auto& [seq, f] : in_flight_)
    if (f.agent == agent)
      lost.push_back(seq);
  // Newest first: each goes to the front of its queue, so the oldest ends
  // up first, as it was sent.
  std::sort(lost.begin(), lost.end(), std::greater<>{});
  for (auto seq : lost)
    delivery_error(seq, delivery_status::disconnected,
                   "agent " + agent + " disconnected", now_ms, out);
  if (auto a = agents_.find(agent))
    a->in_flight = 0;
  return out;
}

// -- outcomes of events -------------------------------------------------------

void event_router::unit_finished(const std::string& event_id, std::size_t unit,
                                 bool ok, const std::string& why,
                                 int64_t now_ms, finished_events& out) {
  auto i = open_.find(event_id);
  if (i == open_.end())
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
    oe.record.detail += u.target.to_string() + ": " + why;
  }
  if (--oe.units_left == 0)
    finish(oe, now_ms, out);
}

void event_router::finish(open_event& oe, int64_t now_ms,
                          finished_events& out) {
  auto& rec = oe.record;
  rec.finished_ms = now_ms;
  bool all_ok = std::all_of(oe.units.begin(), oe.units.end(),
                            [](auto& u) { return u.ok; });
  rec.state = all_ok ? event_state::completed : event_state::failed;
  auto& counters = types_[rec.event.type];
  if (all_ok) {
    ++counters.counts.completed;
    counters.latency_us.record(static_cast<uint64_t>(
      std::max<int64_t>(now_ms - rec.event.created_ms, 0) * 1000));
  } else {
    ++counters.counts.failed;
  }
  out.push_back({rec, std::move(oe.open_entry)});
  auto id = rec.event.id;
  open_bytes_ -= oe.record.event.payload.size();
  remember_finished(std::move(rec));
  open_.erase(id);
}

void event_router::remember_finished(event_record rec) {
  auto id = rec.event.id;
  auto size = rec.event.payload.size();
  auto [i, added] = finished_.try_emplace(id);
  if (added)
    finished_order_.push_back(id);
  else
    finished_bytes_ -= i->second.event.payload.size();
  i->second = std::move(rec);
  finished_bytes_ += size;
  // Bounded in count and in bytes (payloads are up to 256 KiB each); the
  // store keeps what is evicted here.
  while (
    !finished_order_.empty()
    && (finished_order_.size() > settings_.finished_kept
        || finished_bytes_ > settings_.agents.max_finished_payload_bytes)) {
    auto j = finished_.find(finished_order_.front());
    if (j != finished_.end()) {
      finished_bytes_ -= j->second.event.payload.size();
      finished_.erase(j);
    }
    finished_order_.pop_front();
  }
}

std::optional<std::string>
event_router::refuse_new(const coordination_event& ev) const {
  auto& a = settings_.agents;
  if (open_.size() >= a.max_open_events)
    return std::to_string(open_.size())
      + " events are open, the most agents.max_open_events allows; "
        "retry once some finish";
  if (open_bytes_ + ev.payload.size() > a.max_open_payload_bytes)
    return "the open events' payloads hold " + std::to_string(open_bytes_)
      + " bytes; this one would pass agents.max_open_payload_bytes ("
      + std::to_string(a.max_open_payload_bytes)
      + "); retry once some "
        "finish";
  return std::nullopt;
}

// -- queries ------------------------------------------------------------------

const open_event* event_router::find_open(const std::string& id) const {
  auto i = open_.find(id);
  return i == open_.end() ? nullptr : &i->second;
}

std::optional<event_record> event_router::find(const std::string& id) const {
  if (auto i = open_.find(id); i != open_.end())
    return i->second.record;
  if (auto i = finished_.find(id); i != finished_.end())
    return i->second;
  return std::nullopt;
}

std::vector<event_type_stats> event_router::stats() const {
  std::vector<event_type_stats> result;
  for (auto& [type, c] : types_) {
    event_type_stats t;
    t.type = type;
    t.counts = c.counts;
    t.p50_ms = c.latency_us.quantile(0.50) / 1000.0;
    t.p95_ms = c.latency_us.quantile(0.95) / 1000.0;
    result.push_back(std::move(t));
  }
  return result;
}

uint64_t event_router::queued() const {
  uint64_t n = 0;
  for (auto& [target, qs] : queues_)
    for (auto& q : qs)
      n += q.size();
  return n;
}

} // namespace streamb
