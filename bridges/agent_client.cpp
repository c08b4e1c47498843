#include "bridges/agent_client.hpp"

#include "actors/actor_port.hpp"

#include "runtime/core/error_text.hpp"
#include "runtime/core/log.hpp"

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/after.hpp>
#include <caf/io/middleman.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/send.hpp>
#include <caf/typed_event_based_actor.hpp>

#include <algorithm>

namespace streamb {

namespace {

// Hands each event to the client's worker thread with the gateway that sent
// it (the answer goes back there, also after a reconnect elsewhere).
agent_endpoint_actor::behavior_type
endpoint_behavior(agent_endpoint_actor::pointer self, agent_client* client) {
  return {
    [self, client](assign_atom, std::vector<coordination_event>& evs) {
      auto reply_to = caf::actor_cast<coordination_gateway_actor>(
        self->current_sender());
      for (auto& ev : evs)
        client->enqueue(agent_client::pending_event{std::move(ev), reply_to});
    },
    [client](leave_atom, const std::string&) { client->end_session(); },
  };
}

} // namespace

void agent_client::prepare(caf::actor_system_config& cfg,
                           const actor_tls_config& tls) {
  register_message_types(cfg);
  cfg.load<caf::io::middleman>();
  configure_actor_tls(cfg, tls);
}

agent_client::agent_client(caf::actor_system& sys, agent_options opts,
                           event_callback on_event,
                           connection_callback on_connection)
  : sys_(sys), opts_(std::move(opts)), on_event_(std::move(on_event)),
    on_connection_(std::move(on_connection)) {
  endpoint_ = sys_.spawn(endpoint_behavior, this);
}

agent_client::~agent_client() {
  stop();
  caf::anon_send_exit(endpoint_, caf::exit_reason::user_shutdown);
}

void agent_client::start() {
  if (thread_.joinable())
    return;
  stopping_ = false;
  {
    std::lock_guard<std::mutex> guard{work_mtx_};
    work_stop_ = false;
  }
  worker_ = std::thread{[this] { work(); }};
  thread_ = std::thread{[this] { run(); }};
}

void agent_client::stop() {
  stopping_ = true;
  cv_.notify_all();
  if (thread_.joinable())
    thread_.join();
  {
    std::lock_guard<std::mutex> guard{work_mtx_};
    work_stop_ = true;
    // Not answered: the hub delivers them again elsewhere or after a
    // reconnect.
    work_.clear();
  }
  work_cv_.notify_all();
  if (worker_.joinable())
    worker_.join();
}

void agent_client::enqueue(pending_event x) {
  {
    std::lock_guard<std::mutex> guard{work_mtx_};
    if (work_stop_)
      return;
    work_.push_back(std::move(x));
  }
  work_cv_.notify_one();
}

void agent_client::work() {
  // Answers ready within this long of the first unsent one go back as one
  // message; a slow callback's answer goes back as soon as it is there.
  constexpr auto batch_window = std::chrono::milliseconds{2};
  constexpr int64_t slow_callback_us = 200;
  int64_t callback_ema_us = 0;
  auto to_us = [](auto d) {
    return std::chrono::duration_cast<std::chrono::microseconds>(d).count();
  };
  std::vector<event_response> out;
  coordination_gateway_actor out_to;
  auto first = std::chrono::steady_clock::now();
  auto flush = [&] {
    if (out.empty())
      return;
    std::string session;
    {
      std::lock_guard<std::mutex> guard{mtx_};
      session = session_;
    }
    if (out_to)
      caf::anon_send(out_to, respond_atom_v, std::move(session),
                     std::move(out));
    out.clear();
  };
  for (;;) {
    pending_event x;
    {
      std::unique_lock<std::mutex> guard{work_mtx_};
      if (work_.empty() && !out.empty()) {
        guard.unlock();
        flush();
        continue;
      }
      work_cv_.wait(guard, [&] { return work_stop_ || !work_.empty(); });
      if (work_stop_)
        return;
      x = std::move(work_.front());
      work_.pop_front();
    }
    event_response r;
    auto started = std::chrono::steady_clock::now();
    try {
      r = on_event_(x.event);
    } catch (const std::exception& e) {
      r.status = answer_status::failed;
      r.payload = std::string{"agent callback threw: "} + e.what();
    }
    r.event_id = x.event.id;
    r.delivery = x.event.delivery;
    if (!out.empty() && x.reply_to != out_to)
      flush();
    if (out.empty()) {
      out_to = x.reply_to;
      first = std::chrono::steady_clock::now();
    }
    out.push_back(std::move(r));
    // Batch only while callbacks are fast: an answer never waits for more
    // than the window, or for a slow callback after it.
    auto now = std::chrono::steady_clock::now();
    callback_ema_us = (callback_ema_us * 7 + to_us(now - started)) / 8;
    if (now - first >= batch_window || callback_ema_us > slow_callback_us)
      flush();
  }
}

bool agent_client::wait_registered(std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> guard{mtx_};
  return cv_.wait_for(guard, timeout, [&] {
    return registered_ || refused_ || stopping_;
  }) && registered_;
}

bool agent_client::connected() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return registered_;
}

std::string agent_client::agent_id() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return agent_id_;
}

bool agent_client::report_calls(const std::string& service, call_samples xs) {
  coordination_gateway_actor gw;
  std::string session;
  {
    std::lock_guard<std::mutex> guard{mtx_};
    if (!registered_)
      return false;
    gw = gateway_;
    session = session_;
  }
  caf::anon_send(gw, record_atom_v, std::move(session), service, std::move(xs));
  return true;
}

void agent_client::notify(agent_connection_event what,
                          const std::string& detail) {
  if (on_connection_)
    on_connection_(what, detail);
}

void agent_client::run() {
  auto backoff = opts_.first_backoff;
  auto sleep_backoff = [&] {
    std::unique_lock<std::mutex> guard{mtx_};
    cv_.wait_for(guard, backoff, [&] { return stopping_.load(); });
    backoff = std::min(backoff * 2, opts_.max_backoff);
  };
  agent_registration reg{opts_.name, opts_.role, opts_.subscriptions,
                         opts_.token};
  // The nodes in order; after a failure or a lost connection, the next one
  // (the whole list before backing off).
  std::vector<std::pair<std::string, uint16_t>> nodes{{opts_.host, opts_.port}};
  nodes.insert(nodes.end(), opts_.more_nodes.begin(), opts_.more_nodes.end());
  std::size_t current = 0;
  std::size_t failed_in_a_row = 0;
  auto next_node = [&] {
    current = (current + 1) % nodes.size();
    if (++failed_in_a_row >= nodes.size()) {
      failed_in_a_row = 0;
      sleep_backoff();
    }
  };
  while (!stopping_) {
    auto gw = connect_gateway(sys_, nodes[current].first, nodes[current].second,
                              opts_.tls.enabled());
    if (!gw) {
      next_node();
      continue;
    }
    caf::scoped_actor self{sys_};
    caf::error refused;
    agent_welcome welcome;
    bool welcomed = false;
    self
      ->request(*gw, std::chrono::seconds{5}, agent_reg_atom_v, reg, endpoint_)
      .receive(
        [&](agent_welcome& w) {
          welcome = std::move(w);
          welcomed = true;
        },
        [&](caf::error& err) { refused = std::move(err); });
    if (!welcomed) {
      // A wrong token or an invalid registration will not get better by
      // trying again; a name still live (the hub has not noticed our old
      // connection drop) or a timeout may.
      if (refused.category() == caf::atom("streamb")
          && (refused.code() == static_cast<uint8_t>(error_code::unauthorized)
              || refused.code()
                == static_cast<uint8_t>(error_code::invalid_argument))) {
        {
          std::lock_guard<std::mutex> guard{mtx_};
          refused_ = true;
        }
        cv_.notify_all();
        notify(agent_connection_event::refused, sys_.render(refused));
        return;
      }
      notify(agent_connection_event::disconnected,
             "registration failed: " + sys_.render(refused));
      next_node();
      continue;
    }
    backoff = opts_.first_backoff;
    failed_in_a_row = 0;
    {
      std::lock_guard<std::mutex> guard{mtx_};
      gateway_ = *gw;
      agent_id_ = welcome.agent_id;
      session_ = welcome.session;
      registered_ = true;
    }
    cv_.notify_all();
    notify(agent_connection_event::registered, welcome.agent_id);
    self->monitor(*gw);
    auto interval = std::chrono::milliseconds{
      std::max<int64_t>(welcome.heartbeat_interval_ms, 100)};
    auto next_beat = std::chrono::steady_clock::now();
    bool down = false;
    bool forgotten = false;
    std::string why;
    session_ended_ = false;
    while (!stopping_ && !down && !forgotten && !session_ended_) {
      auto now = std::chrono::steady_clock::now();
      if (now >= next_beat) {
        // A request: the hub says whether it still knows this registration
        // (it forgets it when it thinks the connection dropped).
        self->request(*gw, interval, heartbeat_atom_v, welcome.session)
          .receive([&](bool known) { forgotten = !known; },
                   [&](caf::error& err) {
                     // The hub judges missed beats; a dropped connection
                     // arrives as a down message and ends this loop.
                     log_warning("agent_client",
                                 "heartbeat unanswered: " + error_text(err));
                   });
        next_beat = now + interval;
      }
      // Short waits: a stop is noticed within 100 ms.
      self->receive(
        [&](caf::down_msg& dm) {
          down = true;
          why = sys_.render(dm.reason);
        },
        caf::after(std::chrono::milliseconds{100}) >> [] {});
    }
    if (stopping_ && !down)
      caf::anon_send(*gw, leave_atom_v, welcome.session);
    {
      std::lock_guard<std::mutex> guard{mtx_};
      registered_ = false;
      gateway_ = nullptr;
    }
    if (down)
      notify(agent_connection_event::disconnected, why);
    else if (forgotten || session_ended_)
      notify(agent_connection_event::disconnected,
             "the node no longer knows this registration; registering again");
  }
}

} // namespace streamb
