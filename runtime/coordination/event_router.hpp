#pragma once

// Where coordination events go and what becomes of them: routing by event
// type and target, one delivery unit per role (or per named agent), queues
// by priority across all roles, the in-flight limit of each agent, response
// deadlines, retries on another agent of the role, and the outcome of each
// event.
//
// Pure: every call that needs the time takes it (epoch ms of the hub's one
// clock), and calls return what the hub must do (events to send, events
// that ended) instead of doing it. The agents themselves live in the
// agent_registry the router is given.

#include "runtime/config/config.hpp"
#include "runtime/coordination/agent_registry.hpp"
#include "runtime/coordination/coordination_codec.hpp"
#include "runtime/coordination/delivery_target.hpp"
#include "runtime/messages.hpp"
#include "runtime/metrics/histogram.hpp"

#include <array>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <queue>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace streamb {

/// One delivery target of an event: a role or an agent, tried up to
/// agents.max_attempts times.
struct delivery_unit {
  delivery_target target;
  uint32_t attempts = 0;
  std::set<std::string> tried; // agents that failed it
  /// The delivery in flight (its sequence number); 0 when none.
  uint64_t in_flight = 0;
  bool done = false;
  bool ok = false;
  int64_t queued_since_ms = 0;
};

/// An event the router has not finished.
struct open_event {
  event_record record;
  std::vector<delivery_unit> units;
  std::size_t units_left = 0;
  /// The entry in the open-events stream; empty while not (or not yet)
  /// stored, and for events that are not stored (webhooks).
  std::string open_entry;
};

/// Events for each agent from one dispatch round: one message per agent.
using outbox = std::map<std::string, std::vector<coordination_event>>;

/// An event that ended: the hub stores its record and removes its entry
/// from the open-events stream.
struct finished_event {
  event_record record; // completed or failed
  std::string open_entry;

  bool ok() const {
    return record.state == event_state::completed;
  }
};

using finished_events = std::vector<finished_event>;

/// A new event after routing: "queued" with its units, or "unrouted" with
/// the reason in record.detail.
struct routed_event {
  event_record record;
  /// What the open-events stream keeps; empty when unrouted.
  std::vector<unit_target> units;

  bool routed() const {
    return !units.empty();
  }

  const std::string& id() const {
    return record.event.id;
  }
};

/// Counts of one event type.
struct event_type_counters {
  event_type_counts counts;
  histogram latency_us; // creation to outcome, of completed events
};

struct router_settings {
  /// Names generated event ids and recovered events.
  std::string node = "local";
  agents_config agents;
  /// Finished events answered from memory.
  std::size_t finished_kept = 2000;
};

class event_router {
public:
  event_router(router_settings settings, agent_registry& agents);

  /// Routes a new event (filling in its id and creation time when empty)
  /// and keeps it open until start() or abandon(); an unrouted event is
  /// finished at once, `unrouted_note` added to its record's detail.
  routed_event open(coordination_event ev, int64_t now_ms,
                    std::string_view unrouted_note = {});

  /// Queues the units of an open event: it is stored under `open_entry`
  /// (empty: not stored). Takes effect at the next dispatch.
  void start(const std::string& id, std::string open_entry, int64_t now_ms);

  /// Forgets an open event that was never started: its sender learned that
  /// it was not taken.
  void abandon(const std::string& id);

  /// Reopens and starts an event a previous run stored; false when it is
  /// open or finished already.
  bool recover(coordination_event ev, const std::vector<unit_target>& units,
               std::string open_entry, int64_t now_ms);

  /// Hands queued units to free agents, priority by priority across all
  /// queues.
  outbox dispatch(int64_t now_ms);

  /// An answer of `agent`; ignored when late or not for this agent.
  finished_events answer(const std::string& agent, event_response r,
                         int64_t now_ms);

  /// Deliveries past their deadline fail (and are tried again elsewhere).
  finished_events expire(int64_t now_ms);

  /// Units that found no free live agent for agents.undeliverable_after_s
  /// fail.
  finished_events expire_undeliverable(int64_t now_ms);

  /// Ends the agent's session in the registry; its deliveries in flight go
  /// to others.
  finished_events disconnect(const std::string& agent, int64_t now_ms);

  /// Why a new event cannot be opened now (agents.max_open_events,
  /// agents.max_open_payload_bytes), or nullopt.
  std::optional<std::string> refuse_new(const coordination_event& ev) const;

  /// Whether `ev` would find an agent (live or away) now; opens nothing.
  bool routable(const coordination_event& ev) const {
    std::string why;
    return !route(ev, why).empty();
  }

  /// Payload bytes of the open events.
  std::size_t open_payload_bytes() const {
    return open_bytes_;
  }

  const open_event* find_open(const std::string& id) const;

  /// The record of an open event or of one finished recently.
  std::optional<event_record> find(const std::string& id) const;

  const std::map<std::string, event_type_counters>& counters() const {
    return types_;
  }

  std::vector<event_type_stats> stats() const;

  /// Units waiting for an agent.
  uint64_t queued() const;

  /// Deliveries waiting for an answer.
  std::size_t in_flight() const {
    return in_flight_.size();
  }

private:
  struct flight {
    std::string event_id;
    std::size_t unit = 0;
    std::string agent;
    std::size_t delivery = 0; // index into the record's deliveries
    int64_t sent_ms = 0;
  };

  /// Units waiting for an agent, by priority: (event id, unit index).
  using unit_queue = std::array<std::deque<std::pair<std::string, std::size_t>>,
                                4>;

  std::vector<delivery_target> route(const coordination_event& ev,
                                     std::string& why) const;
  void enqueue(const std::string& event_id, std::size_t unit, bool front,
               int64_t now_ms);
  void start_units(open_event& oe, int64_t now_ms);
  std::optional<flight> take_flight(uint64_t seq);
  event_delivery* delivery_of(const flight& f);
  void send(open_event& oe, std::size_t unit, registered_agent& a,
            int64_t now_ms, outbox& out);
  void delivery_error(uint64_t seq, delivery_status status,
                      const std::string& why, int64_t now_ms,
                      finished_events& out);
  void delivery_failed(const flight& f, const std::string& why, int64_t now_ms,
                       finished_events& out);
  void unit_finished(const std::string& event_id, std::size_t unit, bool ok,
                     const std::string& why, int64_t now_ms,
                     finished_events& out);
  void finish(open_event& oe, int64_t now_ms, finished_events& out);
  void remember_finished(event_record rec);
  int64_t response_timeout_ms(const std::string& type) const;

  const router_settings settings_;
  agent_registry& agents_;
  std::unordered_map<std::string, open_event> open_;
  // Keyed by who serves the units, so that a backlog for a role nobody
  // serves now costs nothing when others are served.
  std::map<delivery_target, unit_queue> queues_;
  std::unordered_map<uint64_t, flight> in_flight_;
  /// (deadline, delivery): the earliest on top; entries whose delivery
  /// ended are skipped when they come up.
  std::priority_queue<std::pair<int64_t, uint64_t>,
                      std::vector<std::pair<int64_t, uint64_t>>, std::greater<>>
    deadlines_;
  uint64_t next_delivery_ = 0;
  uint64_t next_event_ = 0;
  std::size_t open_bytes_ = 0;
  std::unordered_map<std::string, event_record> finished_;
  std::deque<std::string> finished_order_;
  std::size_t finished_bytes_ = 0;
  std::map<std::string, event_type_counters> types_;
};

} // namespace streamb
