// Admission forwarded to the owning node against raw CAF remote
// request/response between the same two processes (issue 17). This process
// plays a node that does not own the service: it joins a running node's
// cluster as a peer (cluster secret), takes the owner's budget controller
// from its directory and asks, with `window` requests in flight each:
//
//   raw        ping to the remote budget controller (a handler that answers
//              true at once): CAF's remote request/response, nothing else;
//   forwarded  admit through a service_router pointed at it, as the routes
//              of a non-owner node do (one more local hop, the router's own
//              request over BASP, the admission decision itself).
//
//   cluster_bench --port ACTOR_PORT --secret S [--service stripe]
//                 [--seconds 3] [--window 16] [--runs 3] [--tls CERT,KEY,CA]
// Prints "name value" lines with the medians and the ratio.
//
// With --peer-port PORT (a second node of the same cluster, "b"): events
// instead. An agent (the C++ SDK, in this process) connects to the first
// node ("a") and answers every event at once; clients send events to a's
// hub (same node) or to b's hub, which hands them to a's (other node), and
// the agent's answers per second are compared.

#include "actors/actor_port.hpp"
#include "actors/service_router.hpp"
#include "bridges/agent_client.hpp"
#include "runtime/messages.hpp"

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/io/middleman.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/send.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <vector>

using namespace streamb;
using clock_type = std::chrono::steady_clock;

namespace {

struct run_state {
  std::atomic<uint64_t> done{0};
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> failed{0};
};

template <class Reply, class... Ts>
void loop_requests(caf::event_based_actor* self, caf::actor hdl,
                   std::shared_ptr<run_state> st, Ts... xs) {
  if (st->stop)
    return;
  self->request(hdl, caf::infinite, xs...)
    .then(
      [=](Reply&) {
        ++st->done;
        loop_requests<Reply>(self, hdl, st, xs...);
      },
      [=](caf::error& err) {
        if (st->failed++ == 0)
          std::fprintf(stderr, "cluster_bench: first failure: %s\n",
                       caf::to_string(err).c_str());
        // A hub at its open-events cap refuses until the agent catches up:
        // keep offering (counted), as a client with retries would.
        loop_requests<Reply>(self, hdl, st, xs...);
      });
}

template <class Start>
double measure(caf::actor_system& sys, int seconds, int window, Start start) {
  auto st = std::make_shared<run_state>();
  std::vector<caf::actor> clients;
  for (int i = 0; i < window; ++i)
    clients.push_back(
      sys.spawn([=](caf::event_based_actor* self) { start(self, st); }));
  auto t0 = clock_type::now();
  std::this_thread::sleep_for(std::chrono::seconds{seconds});
  auto n = st->done.load();
  auto dt = std::chrono::duration<double>(clock_type::now() - t0).count();
  st->stop = true;
  std::this_thread::sleep_for(std::chrono::milliseconds{300});
  for (auto& c : clients)
    caf::anon_send_exit(c, caf::exit_reason::user_shutdown);
  if (st->failed > 0)
    std::fprintf(stderr, "cluster_bench: %llu requests failed\n",
                 static_cast<unsigned long long>(st->failed.load()));
  return static_cast<double>(n) / dt;
}

double median(std::vector<double> xs) {
  std::sort(xs.begin(), xs.end());
  return xs[xs.size() / 2];
}

/// The directory of the node at `port` (as peer "bench").
bool directory_of(caf::actor_system& sys, uint16_t port,
                  const std::string& secret, bool tls, cluster_directory& out) {
  auto gw = connect_gateway(sys, "127.0.0.1", port, tls);
  if (!gw) {
    std::fprintf(stderr, "cluster_bench: cannot connect to %u: %s\n",
                 static_cast<unsigned>(port), sys.render(gw.error()).c_str());
    return false;
  }
  caf::scoped_actor self{sys};
  bool ok = false;
  self
    ->request(*gw, std::chrono::seconds{5}, cluster_atom_v,
              std::string{"bench"}, secret, caf::strong_actor_ptr{})
    .receive(
      [&](cluster_directory& d) {
        out = std::move(d);
        ok = true;
      },
      [&](caf::error& err) {
        std::fprintf(stderr, "cluster_bench: directory: %s\n",
                     sys.render(err).c_str());
      });
  return ok;
}

coordination_event bench_event() {
  coordination_event ev;
  ev.type = "system_optimization";
  ev.priority = budget::priority::normal;
  ev.source = "bench";
  ev.payload = R"({"service":"maps","action":"lower_sustained_limit"})";
  return ev;
}

/// Agent answers per second while `window` clients keep sending events to
/// `hub` (each waits for the hub's "stored" before sending the next).
double events_per_s(caf::actor_system& sys, int seconds, int window,
                    caf::actor hub, std::atomic<uint64_t>& answered) {
  auto st = std::make_shared<run_state>();
  std::vector<caf::actor> clients;
  auto ev = bench_event();
  for (int i = 0; i < window; ++i)
    clients.push_back(sys.spawn([=](caf::event_based_actor* self) {
      loop_requests<std::string>(self, hub, st, assign_atom_v, ev);
    }));
  std::this_thread::sleep_for(std::chrono::milliseconds{500}); // warm-up
  auto n0 = answered.load();
  auto t0 = clock_type::now();
  std::this_thread::sleep_for(std::chrono::seconds{seconds});
  auto n = answered.load() - n0;
  auto dt = std::chrono::duration<double>(clock_type::now() - t0).count();
  st->stop = true;
  std::this_thread::sleep_for(std::chrono::milliseconds{500});
  for (auto& c : clients)
    caf::anon_send_exit(c, caf::exit_reason::user_shutdown);
  if (st->failed > 0)
    std::fprintf(stderr, "cluster_bench: %llu events refused\n",
                 static_cast<unsigned long long>(st->failed.load()));
  return static_cast<double>(n) / dt;
}

int run_events(caf::actor_system& sys, uint16_t port_a, uint16_t port_b,
               const std::string& secret, const actor_tls_config& tls_cfg,
               int seconds, int window, int runs) {
  bool tls = tls_cfg.enabled();
  cluster_directory a;
  cluster_directory b;
  if (!directory_of(sys, port_a, secret, tls, a)
      || !directory_of(sys, port_b, secret, tls, b) || !a.hub || !b.hub)
    return 1;
  std::atomic<uint64_t> answered{0};
  agent_options ao;
  ao.port = port_a;
  ao.name = "bench-agent";
  ao.role = "bench";
  ao.subscriptions = {"system_optimization"};
  ao.tls = tls_cfg;
  agent_client agent{sys, ao, [&](const coordination_event& ev) {
                       ++answered;
                       return event_response{ev.id, answer_status::ok, ""};
                     }};
  agent.start();
  if (!agent.wait_registered(std::chrono::seconds{10})) {
    std::fprintf(stderr, "cluster_bench: the agent did not register\n");
    return 1;
  }
  // b learns what a's agents take with a heartbeat.
  std::this_thread::sleep_for(std::chrono::seconds{2});
  auto hub_a = caf::actor_cast<caf::actor>(a.hub);
  auto hub_b = caf::actor_cast<caf::actor>(b.hub);
  std::vector<double> same, other;
  for (int r = 0; r < runs; ++r) {
    same.push_back(events_per_s(sys, seconds, window, hub_a, answered));
    other.push_back(events_per_s(sys, seconds, window, hub_b, answered));
  }
  std::printf("agent on %s; events sent to %s (same node) and %s (other "
              "node), window %d, %d runs of %d s\n",
              a.node.c_str(), a.node.c_str(), b.node.c_str(), window, runs,
              seconds);
  for (std::size_t i = 0; i < same.size(); ++i)
    std::printf("run %zu same_node_events_per_s %.0f other_node_events_per_s "
                "%.0f\n",
                i, same[i], other[i]);
  auto s = median(same);
  auto o = median(other);
  std::printf("same_node_events_per_s %.0f\n", s);
  std::printf("other_node_events_per_s %.0f\n", o);
  std::printf("ratio %.2f\n", o / s);
  agent.stop();
  return 0;
}

} // namespace

int main(int argc, char** argv) {
  uint16_t port = 0;
  uint16_t peer_port = 0;
  std::string secret;
  std::string service = "stripe";
  std::string tls_arg;
  int seconds = 3;
  int window = 16;
  int runs = 3;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string k = argv[i];
    std::string v = argv[i + 1];
    if (k == "--port")
      port = static_cast<uint16_t>(std::stoi(v));
    else if (k == "--peer-port")
      peer_port = static_cast<uint16_t>(std::stoi(v));
    else if (k == "--secret")
      secret = v;
    else if (k == "--service")
      service = v;
    else if (k == "--seconds")
      seconds = std::stoi(v);
    else if (k == "--window")
      window = std::stoi(v);
    else if (k == "--runs")
      runs = std::stoi(v);
    else if (k == "--tls")
      tls_arg = v;
  }
  actor_tls_config tls;
  if (!tls_arg.empty()) {
    auto a = tls_arg.find(',');
    auto b = tls_arg.find(',', a + 1);
    tls = {tls_arg.substr(0, a), tls_arg.substr(a + 1, b - a - 1),
           tls_arg.substr(b + 1)};
  }
  caf::actor_system_config cfg;
  register_message_types(cfg);
  cfg.load<caf::io::middleman>();
  configure_actor_tls(cfg, tls);
  caf::actor_system sys{cfg};
  if (peer_port != 0)
    return run_events(sys, port, peer_port, secret, tls, seconds, window, runs);
  cluster_directory dir;
  if (!directory_of(sys, port, secret, tls.enabled(), dir))
    return 1;
  caf::strong_actor_ptr budget;
  for (std::size_t i = 0; i < dir.services.size(); ++i)
    if (dir.services[i] == service)
      budget = dir.budgets[i];
  if (!budget) {
    std::fprintf(stderr, "cluster_bench: node '%s' does not own %s\n",
                 dir.node.c_str(), service.c_str());
    return 1;
  }
  auto remote = caf::actor_cast<caf::actor>(budget);
  auto router = sys.spawn(service_router, service,
                          std::shared_ptr<ingest_backlog>{});
  retarget(router, router_target{budget, false, dir.node});
  admission_request call;
  call.priority = budget::priority::normal;
  call.cost_micros = 0;
  std::vector<double> raw, forwarded;
  for (int r = 0; r < runs; ++r) {
    raw.push_back(measure(sys, seconds, window, [&](auto* self, auto st) {
      loop_requests<bool>(self, remote, st, ping_atom_v);
    }));
    forwarded.push_back(measure(sys, seconds, window, [&](auto* self, auto st) {
      loop_requests<admission_decision>(self, router, st, admit_atom_v, call);
    }));
  }
  std::printf("owner %s, window %d, %d runs of %d s, medians%s\n",
              dir.node.c_str(), window, runs, seconds,
              tls.enabled() ? ", mutual TLS" : "");
  for (std::size_t i = 0; i < raw.size(); ++i)
    std::printf("run %zu raw_per_s %.0f forwarded_admission_per_s %.0f\n", i,
                raw[i], forwarded[i]);
  auto a = median(raw);
  auto f = median(forwarded);
  std::printf("raw_remote_request_response_per_s %.0f\n", a);
  std::printf("forwarded_admission_per_s %.0f\n", f);
  std::printf("ratio %.2f\n", f / a);
  caf::anon_send_exit(router, caf::exit_reason::user_shutdown);
}
