#pragma once

// The C++ agent SDK. An agent is a process of its own: it connects to a
// streamb node's coordination hub (a CAF remote actor), registers, sends
// heartbeats, hands every event to the user's callback and returns the
// callback's answer, and reconnects (with capped backoff) and re-registers
// when the connection drops or the node restarts. A user writes only the
// callback:
//
//   caf::actor_system_config cfg;
//   streamb::agent_client::prepare(cfg);
//   caf::actor_system sys{cfg};
//   streamb::agent_options opts{"127.0.0.1", 4242, "db-1", "database",
//                               {"database_coordination"}};
//   streamb::agent_client agent{sys, opts, [](const auto& ev) {
//     return streamb::event_response{ev.id, "ok", R"({"done":true})"};
//   }};
//   agent.start();

#include "runtime/messages.hpp"

#include <caf/fwd.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace streamb {

struct agent_options {
  std::string host = "127.0.0.1";
  uint16_t port = 4242;
  /// Further nodes of a cluster (host, port) to try, in order, after
  /// host:port: a connection that fails or drops moves to the next one.
  std::vector<std::pair<std::string, uint16_t>> more_nodes;
  std::string name;
  std::string role;
  std::vector<std::string> subscriptions;
  std::string token;
  /// The node's actor port is on mutual TLS (node.actor.tls): this agent's
  /// certificate, key and the CA the node's certificate is signed by. Give
  /// the same to `prepare`.
  actor_tls_config tls;
  /// Waits between connection attempts: doubling from the first, capped.
  std::chrono::milliseconds first_backoff{100};
  std::chrono::milliseconds max_backoff{2000};
};

/// Called for every event, one at a time, on a thread of the agent's own
/// (it may block; heartbeats go on meanwhile). Its answer goes back to the hub;
/// an exception becomes a "failed" answer with the exception's message.
using event_callback = std::function<event_response(const coordination_event&)>;

/// What happened to the connection, for logs and tests.
enum class agent_connection_event {
  registered,   // detail: the agent id
  disconnected, // detail: why
  refused,      // detail: the hub's error; no retry (e.g. a wrong token)
};

using connection_callback = std::function<void(agent_connection_event,
                                               const std::string&)>;

class agent_client {
public:
  /// Registers the message types and loads the middleman: call on the
  /// config before constructing the actor system.
  static void prepare(caf::actor_system_config& cfg,
                      const actor_tls_config& tls = {});

  agent_client(caf::actor_system& sys, agent_options opts,
               event_callback on_event, connection_callback on_connection = {});
  ~agent_client();

  agent_client(const agent_client&) = delete;
  agent_client& operator=(const agent_client&) = delete;

  /// Starts connecting in the background.
  void start();

  /// Tells the hub it leaves (its deliveries go to other agents at once)
  /// and stops reconnecting. Idempotent.
  void stop();

  /// Waits until registered (true) or `timeout`, a refusal or stop (false).
  bool wait_registered(std::chrono::milliseconds timeout);

  /// True while registered with a live connection.
  bool connected() const;

  /// The id the hub gave; empty before the first registration.
  std::string agent_id() const;

  /// Reports call samples of `service` to the node, one way (no answer, no
  /// backpressure). False, and nothing sent, while not connected.
  bool report_calls(const std::string& service, call_samples xs);

  /// An event and the gateway to answer to; the endpoint actor queues them
  /// for the worker thread.
  struct pending_event {
    coordination_event event;
    coordination_gateway_actor reply_to;
  };

  /// Called by the endpoint actor (not for users).
  void enqueue(pending_event x);

  /// Called by the endpoint when the node ends this registration (its key
  /// was revoked): the client registers again at once, and stops if refused.
  void end_session() {
    session_ended_ = true;
  }

private:
  void run();
  void work();
  void notify(agent_connection_event what, const std::string& detail);

  caf::actor_system& sys_;
  agent_options opts_;
  event_callback on_event_;
  connection_callback on_connection_;
  agent_endpoint_actor endpoint_;
  std::thread thread_;
  // The callback runs here, not in an actor: it may block, and a detached
  // actor that was exported to a remote node can keep CAF 0.17's actor
  // system from shutting down.
  std::thread worker_;
  std::mutex work_mtx_;
  std::condition_variable work_cv_;
  std::deque<pending_event> work_; // guarded by work_mtx_
  bool work_stop_ = false;         // guarded by work_mtx_
  std::atomic<bool> stopping_{false};
  std::atomic<bool> session_ended_{false};
  mutable std::mutex mtx_;
  std::condition_variable cv_;
  coordination_gateway_actor gateway_; // guarded by mtx_
  std::string agent_id_;               // guarded by mtx_
  std::string session_;                // guarded by mtx_
  bool registered_ = false;            // guarded by mtx_
  bool refused_ = false;               // guarded by mtx_
};

} // namespace streamb
