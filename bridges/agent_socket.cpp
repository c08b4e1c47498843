#include "bridges/agent_socket.hpp"

#include "bridges/agent_frames.hpp"
#include "bridges/call_sample_parser.hpp"
#include "runtime/auth/api_key.hpp"
#include "runtime/core/crypto.hpp"
#include "runtime/core/error_code.hpp"
#include "runtime/core/error_text.hpp"
#include "runtime/core/wall_time.hpp"

#include <caf/actor_cast.hpp>
#include <caf/actor_system.hpp>
#include <caf/exit_reason.hpp>
#include <caf/send.hpp>
#include <caf/typed_event_based_actor.hpp>

namespace streamb {

namespace {

/// Frames read from the client and not yet handled by the actor; past it
/// the connection stops reading, so a fast client cannot fill the mailbox.
constexpr int max_backlog = 64;

/// Frames one connection may send per second; past it the connection
/// stops reading until the next second. Each frame becomes at most one
/// message to the hub: this bounds what one agent can make the hub do (the
/// backlog above already makes a client wait for the actor). 2 000 paced
/// an agent that answers a few events per frame at ~17 k events/s against
/// the hub's ~44 k (docs/BENCHMARKS.md, "WebSocket agent vs CAF agent").
constexpr int max_frames_per_second = 20000;

/// A connection that has not registered this long is closed: an idle
/// socket must not hold one of agents.max_websocket_agents.
constexpr auto register_within = std::chrono::seconds{30};

/// What the connection and the actor share: the sink appears when the
/// WebSocket handshake is done, before the first frame is read.
struct socket_shared {
  std::shared_ptr<stream_sink> sink;
  std::atomic<int> backlog{0};

  std::shared_ptr<stream_sink> get() const {
    return std::atomic_load(&sink);
  }
};

struct agent_socket_state {
  agent_socket_settings settings;
  std::shared_ptr<socket_shared> shared;
  /// The hub's session while registered; empty otherwise.
  std::string session;
  bool registering = false;
  /// The hub hands out waiting events as it registers the agent, before
  /// its welcome arrives here: they go out after the welcome.
  std::vector<coordination_event> early;
  /// A leave that came while registering: sent once the welcome is in.
  bool leave_after_register = false;
  /// A heartbeat asked of the hub and not yet answered: more are dropped.
  bool heartbeat_pending = false;
  bool ever_registered = false;
  static inline const char* name = "agent_socket";
};

using agent_socket_pointer = agent_socket_actor::stateful_pointer<
  agent_socket_state>;

void push(agent_socket_pointer self, std::string frame) {
  auto sink = self->state.shared->get();
  if (!sink)
    return;
  auto r = sink->push(make_stream_message("", "", std::move(frame)));
  // A client too slow for its queue is cut: end now, so that the hub
  // reroutes its events at once rather than when the socket closes.
  if (r != push_result::queued)
    self->quit(caf::exit_reason::remote_link_unreachable);
}

void refuse(agent_socket_pointer self, frame_error e) {
  ++self->state.settings.stats->frames_refused;
  push(self, error_frame(e));
}

std::string code_of(const caf::error& e) {
  if (e.category() == caf::atom("streamb"))
    return to_string(static_cast<error_code>(e.code()));
  return e == caf::sec::request_timeout ? "timeout" : "unavailable";
}

int64_t timeout_ms(const agents_config& cfg, const std::string& type) {
  auto i = cfg.response_timeouts_s.find(type);
  auto s = i == cfg.response_timeouts_s.end() ? cfg.response_timeout_s
                                              : i->second;
  return int64_t{s} * 1000;
}

void send_events(agent_socket_pointer self,
                 std::vector<coordination_event> evs) {
  auto& st = self->state;
  if (st.session.empty()) {
    // Only while registering: the hub hands out what waited for the agent
    // before its welcome arrives here. Otherwise the session ended and
    // these deliveries time out to other agents.
    if (!st.registering)
      return;
    for (auto& ev : evs)
      if (st.early.size() < st.settings.agents.max_in_flight)
        st.early.push_back(std::move(ev));
    return;
  }
  auto now = epoch_ms_now();
  for (auto& ev : evs) {
    ++st.settings.stats->events_out;
    push(self, event_frame(ev, now + timeout_ms(st.settings.agents, ev.type)));
  }
}

void on_register(agent_socket_pointer self, agent_registration& reg) {
  auto& st = self->state;
  if (st.registering || !st.session.empty())
    return refuse(self,
                  {st.registering ? "register_pending" : "already_registered",
                   "this connection is registered (or registering) "
                   "already; send leave first",
                   "register"});
  if (!st.settings.connection_key.empty()) {
    if (reg.token.empty())
      reg.token = st.settings.connection_key;
    else if (!equal_constant_time(reg.token, st.settings.connection_key))
      return refuse(self,
                    {"unauthorized",
                     "the token must be the key this connection was "
                     "opened with",
                     "register"});
  } else if (!st.settings.connection_key_hash.empty()
             && !equal_constant_time(auth::key_hash(reg.token),
                                     st.settings.connection_key_hash)) {
    return refuse(self,
                  {"unauthorized",
                   "the token must be the key the ticket was asked "
                   "for with",
                   "register"});
  }
  st.registering = true;
  self
    ->request(st.settings.hub, std::chrono::seconds{10}, agent_reg_atom_v,
              std::move(reg), caf::actor_cast<agent_endpoint_actor>(self))
    .then(
      [self](agent_welcome& w) {
        auto& st = self->state;
        st.registering = false;
        st.ever_registered = true;
        st.session = w.session;
        push(self, welcome_frame(w));
        send_events(self, std::exchange(st.early, {}));
        if (std::exchange(st.leave_after_register, false))
          self->send(st.settings.hub, leave_atom_v,
                     std::exchange(st.session, {}));
      },
      [self](caf::error& e) {
        auto& st = self->state;
        st.registering = false;
        st.leave_after_register = false;
        st.early.clear(); // their deliveries time out and go elsewhere
        refuse(self, {code_of(e), error_text(e), "register"});
      });
}

bool registered(agent_socket_pointer self, const char* op) {
  if (!self->state.session.empty())
    return true;
  refuse(self, {"not_registered", "send register first", op});
  return false;
}

void on_report(agent_socket_pointer self, const std::string& samples) {
  auto& st = self->state;
  parsed_batch batch;
  if (auto err = parse_call_batch(samples, batch_format::json_array,
                                  st.settings.services, epoch_ms_now(), batch))
    return refuse(self,
                  {err->code, err->message + " (" + err->path + ")", "report"});
  for (std::size_t i = 0; i < batch.by_service.size(); ++i) {
    ingest_backlog* b = i < st.settings.backlogs.size()
      ? st.settings.backlogs[i].get()
      : nullptr;
    if (!batch.by_service[i].empty() && b && b->queued() > b->limit())
      return refuse(self,
                    {"busy",
                     "the monitor of " + st.settings.services[i]
                       + " is behind (its ingest backlog is full): "
                         "send the report again later",
                     "report"});
  }
  for (std::size_t i = 0; i < batch.by_service.size(); ++i)
    if (!batch.by_service[i].empty())
      self->send(st.settings.hub, record_atom_v, st.session,
                 st.settings.services[i], std::move(batch.by_service[i]));
}

void on_frame(agent_socket_pointer self, const std::string& text) {
  auto& st = self->state;
  --st.shared->backlog;
  ++st.settings.stats->frames_in;
  agent_frame f;
  if (auto err = parse_agent_frame(text, f))
    return refuse(self, std::move(*err));
  switch (f.op) {
    case agent_op::register_: return on_register(self, f.registration);
    case agent_op::heartbeat:
      if (!registered(self, "heartbeat") || st.heartbeat_pending)
        return;
      st.heartbeat_pending = true;
      self
        ->request(st.settings.hub, std::chrono::seconds{10}, heartbeat_atom_v,
                  st.session)
        .then(
          [self](bool known) {
            self->state.heartbeat_pending = false;
            if (known)
              return;
            // The hub forgot this registration (it restarted, or declared
            // the agent gone): register again.
            self->state.session.clear();
            refuse(self,
                   {"not_registered",
                    "the node no longer knows this registration: "
                    "register again",
                    "heartbeat"});
          },
          [self](caf::error&) {
            // The hub is busy or stopping; the next heartbeat tells.
            self->state.heartbeat_pending = false;
          });
      return;
    case agent_op::answer:
      // An agent never has more deliveries in flight than this.
      if (f.answers.size() > st.settings.agents.max_in_flight)
        return refuse(self,
                      {"invalid_frame",
                       "more answers than deliveries can be in flight "
                       "(agents.max_in_flight)",
                       "answer"});
      if (registered(self, "answer"))
        self->send(st.settings.hub, respond_atom_v, st.session,
                   std::move(f.answers));
      return;
    case agent_op::report:
      if (registered(self, "report"))
        on_report(self, f.samples);
      return;
    case agent_op::leave:
      if (st.registering)
        st.leave_after_register = true;
      else if (registered(self, "leave"))
        self->send(st.settings.hub, leave_atom_v,
                   std::exchange(st.session, {}));
      return;
  }
}

agent_socket_actor::behavior_type
agent_socket(agent_socket_pointer self, agent_socket_settings settings,
             std::shared_ptr<socket_shared> shared) {
  auto& st = self->state;
  st.settings = std::move(settings);
  st.shared = std::move(shared);
  // The route counted the connection open before spawning (so that a burst
  // of upgrades cannot pass the cap); the actor's end uncounts it.
  ++st.settings.stats->opened;
  self->attach_functor([stats = st.settings.stats, shared = st.shared,
                        key = st.settings.counted_key] {
    --stats->open;
    stats->release_key(key);
    // The hub is gone or the client too slow: close the connection.
    if (auto sink = shared->get(); sink && !sink->gone())
      sink->close("the agent's session ended");
  });
  self->monitor(st.settings.hub);
  // Not registered in time: the connection is closed (the actor ends).
  self->delayed_send(self, register_within, reg_due_atom_v);
  self->set_down_handler([self](caf::down_msg& dm) { self->quit(dm.reason); });
  return {
    [self](ws_frame_atom, const std::string& text) { on_frame(self, text); },
    [self](assign_atom, std::vector<coordination_event>& evs) {
      send_events(self, std::move(evs));
    },
    [self](reg_due_atom) {
      auto& st = self->state;
      // Only a connection that never registered is closed.
      if (st.ever_registered || st.registering)
        return;
      push(
        self,
        error_frame({"register_timeout", "no register frame within 30 s", ""}));
      if (auto sink = st.shared->get())
        sink->close("register within 30 s");
    },
    [self](leave_atom, const std::string& reason) {
      // The node ended the registration (its key was revoked): tell the
      // client and close.
      self->state.session.clear();
      self->state.early.clear();
      push(self, leave_frame(reason));
      if (auto sink = self->state.shared->get())
        sink->close(reason);
    },
  };
}

class socket_listener : public stream_listener {
public:
  socket_listener(agent_socket_actor actor,
                  std::shared_ptr<socket_shared> shared)
    : actor_(std::move(actor)), shared_(std::move(shared)) {
    // nop
  }

  ~socket_listener() override {
    end();
  }

  void on_message(std::string text) override {
    if (!actor_)
      return;
    ++shared_->backlog;
    ++frames_this_second_;
    caf::anon_send(actor_, ws_frame_atom_v, std::move(text));
  }

  bool ready() const override {
    auto now = std::chrono::steady_clock::now();
    if (now - second_started_ >= std::chrono::seconds{1}) {
      second_started_ = now;
      frames_this_second_ = 0;
    }
    return shared_->backlog < max_backlog
      && frames_this_second_ < max_frames_per_second;
  }

  void on_closed() override {
    end();
  }

private:
  /// As when a CAF agent's connection drops: the hub marks the agent
  /// disconnected and reroutes what it had in flight.
  void end() {
    if (auto a = std::exchange(actor_, nullptr))
      caf::anon_send_exit(a, caf::exit_reason::remote_link_unreachable);
  }

  agent_socket_actor actor_;
  std::shared_ptr<socket_shared> shared_;
  // Only the connection's io thread calls on_message and ready().
  mutable std::chrono::steady_clock::time_point second_started_{};
  mutable int frames_this_second_ = 0;
};

} // namespace

agent_socket_link open_agent_socket(caf::actor_system& sys,
                                    agent_socket_settings settings) {
  auto shared = std::make_shared<socket_shared>();
  auto actor = sys.spawn(agent_socket, std::move(settings), shared);
  agent_socket_link link;
  link.listener = std::make_shared<socket_listener>(actor, shared);
  link.attach = [shared](std::shared_ptr<stream_sink> sink) {
    std::atomic_store(&shared->sink, std::move(sink));
    return true;
  };
  return link;
}

} // namespace streamb
