// The coordination paths between two processes over loopback, against raw
// CAF remote one-way messages between the same two processes in the same
// run:
//
//   events    the hub → an agent (SDK) → its response, per event, as many in
//             flight as agents.max_in_flight allows; against raw one-way
//             messages carrying the same coordination_event, and against raw
//             CAF request/response round trips of the same messages with the
//             same window (timed in the child)
//   ws events the same events to an agent on the WebSocket protocol
//             (GET /api/v1/agents/ws; a Beast client in the same child that
//             parses each event frame and answers what it read together in
//             one frame), against the SDK agent's events in the same run
//   samples   call samples an agent sends through the SDK (report_calls,
//             batches of --batch), counted as they reach the hub; against raw
//             one-way messages of the same content to a bare actor
//
//   coordination_bench [--runs R] [--events N] [--messages N] [--batch B]
//                      [--in-flight K]
//
// The parent is a real node (embedded default config, memory store) plus a
// bare sink actor, both published on loopback; a forked child is the agent.
// Each phase is timed in the parent from the command to the child (or the
// first publish) until the last message is counted, with the same polling
// for every phase. Prints "name value" lines, then the ratios (medians).

#include "bridges/agent_client.hpp"
#include "runtime/app/node.hpp"
#include "runtime/config/config.hpp"
#include "runtime/messages.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/websocket/stream.hpp>
#include <boost/json.hpp>
#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/io/middleman.hpp>
#include <caf/io/publish.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/send.hpp>
#include <caf/typed_event_based_actor.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <future>
#include <string>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <vector>

using namespace streamb;
using clock_type = std::chrono::steady_clock;

namespace {

using sink_actor = caf::typed_actor<
  caf::reacts_to<record_atom, std::string, std::string, call_samples>,
  caf::reacts_to<assign_atom, coordination_event>>;

sink_actor::behavior_type sink(sink_actor::pointer,
                               std::atomic<uint64_t>* count) {
  return {
    [count](record_atom, const std::string&, const std::string&,
            const call_samples&) { count->fetch_add(1); },
    [count](assign_atom, const coordination_event&) { count->fetch_add(1); },
  };
}

/// The baseline of a round trip: CAF request/response with the same
/// messages the hub and the SDK exchange.
using echo_actor = caf::typed_actor<
  caf::replies_to<assign_atom, coordination_event>::with<event_response>>;

echo_actor::behavior_type echo() {
  return {
    [](assign_atom, const coordination_event& ev) {
      return event_response{ev.id, answer_status::ok, "", ev.delivery};
    },
  };
}

struct options {
  int runs = 3;
  uint64_t events = 20000;
  uint64_t messages = 20000;
  std::size_t batch = 100;
  uint32_t in_flight = 64;
};

call_samples make_batch(std::size_t n) {
  call_samples xs;
  for (std::size_t i = 0; i < n; ++i) {
    call_sample x;
    x.endpoint = "/directions/v5";
    x.latency_us = 20'000 + i;
    x.http_status = 200;
    x.timestamp_ms = 1795766822519;
    xs.push_back(x);
  }
  return xs;
}

coordination_event make_event(uint64_t i) {
  coordination_event ev;
  ev.id = "bench-" + std::to_string(i);
  ev.type = "system_optimization";
  ev.priority = budget::priority::normal;
  ev.source = "bench";
  ev.created_ms = 1795766822519;
  ev.payload
    = R"({"service":"maps","action":"lower_sustained_limit","to":900})";
  return ev;
}

// -- the child: the agent -----------------------------------------------------

/// An agent on the WebSocket protocol: registers, then answers every event
/// frame (ok, no result), the frames it has read together in one answer
/// frame, as a client library does. Runs until the node closes.
void ws_agent(uint16_t http_port, std::atomic<bool>* registered) {
  namespace asio = boost::asio;
  namespace beast = boost::beast;
  namespace json = boost::json;
  try {
    asio::io_context ioc;
    beast::websocket::stream<asio::ip::tcp::socket> ws{ioc};
    ws.next_layer().connect({asio::ip::make_address("127.0.0.1"), http_port});
    ws.set_option(beast::websocket::stream_base::decorator(
      [](beast::websocket::request_type&) {}));
    ws.handshake("127.0.0.1", "/api/v1/agents/ws");
    ws.text(true);
    ws.write(asio::buffer(
      std::string{R"({"v":1,"op":"register","name":"ws-agent","role":"ws",)"
                  R"("subscriptions":["performance_optimization"]})"}));
    beast::flat_buffer in;
    std::string out;
    for (;;) {
      out.clear();
      do {
        ws.read(in);
        auto frame = json::parse(beast::buffers_to_string(in.data()));
        in.consume(in.size());
        auto& obj = frame.as_object();
        auto op = obj.at("op").as_string();
        if (op == "welcome") {
          *registered = true;
          continue;
        }
        if (op != "event")
          continue;
        out += out.empty() ? R"({"v":1,"op":"answer","answers":[)" : ",";
        out += json::serialize(json::object{{"eventId", obj.at("id")},
                                            {"delivery", obj.at("delivery")},
                                            {"status", "ok"}});
      } while (ws.next_layer().available() > 0);
      if (!out.empty()) {
        out += "]}";
        ws.write(asio::buffer(out));
      }
    }
  } catch (const std::exception&) {
    // The node closed the connection: the bench is over.
  }
}

/// Keeps `window` requests in flight to `echo` until `total` are answered.
struct driver_state {
  echo_actor echo;
  uint64_t sent = 0;
  uint64_t done = 0;
  uint64_t total = 0;
  std::promise<void>* finished = nullptr;
};

using driver_actor = caf::typed_actor<caf::reacts_to<start_atom, uint64_t>>;

void request_one(driver_actor::stateful_pointer<driver_state> self) {
  auto& st = self->state;
  auto ev = make_event(st.sent++);
  self->request(st.echo, caf::infinite, assign_atom_v, std::move(ev))
    .then(
      [self](event_response&) {
        auto& st = self->state;
        if (++st.done == st.total) {
          st.finished->set_value();
          self->quit();
        } else if (st.sent < st.total) {
          request_one(self);
        }
      },
      [self](caf::error&) {
        self->state.finished->set_value();
        self->quit();
      });
}

driver_actor::behavior_type
driver(driver_actor::stateful_pointer<driver_state> self, echo_actor echo,
       uint64_t total, std::promise<void>* finished) {
  self->state.echo = std::move(echo);
  self->state.total = total;
  self->state.finished = finished;
  return {
    [self](start_atom, uint64_t window) {
      for (uint64_t i = 0; i < window && self->state.sent < self->state.total;
           ++i)
        request_one(self);
    },
  };
}

int agent_main(int cmd_fd, int ack_fd, uint16_t hub_port, uint16_t sink_port,
               uint16_t echo_port, uint16_t http_port, const options& opts) {
  caf::actor_system_config cfg;
  agent_client::prepare(cfg);
  caf::actor_system sys{cfg};
  agent_options ao;
  ao.port = hub_port;
  ao.name = "bench-agent";
  ao.role = "bench";
  ao.subscriptions = {"system_optimization"};
  agent_client agent{sys, ao, [](const coordination_event& ev) {
                       return event_response{ev.id, answer_status::ok, ""};
                     }};
  agent.start();
  auto raw = sys.middleman().remote_actor<sink_actor>("127.0.0.1", sink_port);
  auto echo_hdl = sys.middleman().remote_actor<echo_actor>("127.0.0.1",
                                                           echo_port);
  std::atomic<bool> ws_registered{false};
  std::thread ws_thread{ws_agent, http_port, &ws_registered};
  ws_thread.detach();
  for (int i = 0; i < 1000 && !ws_registered; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds{10});
  if (!agent.wait_registered(std::chrono::seconds{10}) || !raw || !echo_hdl
      || !ws_registered) {
    std::fprintf(stderr, "agent: cannot connect\n");
    return 1;
  }
  auto batch = make_batch(opts.batch);
  auto id = agent.agent_id();
  (void)!write(ack_fd, "r", 1);
  char cmd = 0;
  while (read(cmd_fd, &cmd, 1) == 1) {
    switch (cmd) {
      case 's': // raw samples
        for (uint64_t i = 0; i < opts.messages; ++i)
          caf::anon_send(*raw, record_atom_v, id, std::string{"stripe"}, batch);
        break;
      case 'e': // raw events
        for (uint64_t i = 0; i < opts.messages; ++i)
          caf::anon_send(*raw, assign_atom_v, make_event(i));
        break;
      case 'k': // samples through the SDK
        for (uint64_t i = 0; i < opts.messages; ++i)
          agent.report_calls("stripe", batch);
        break;
      case 'r': { // raw request/response, timed here
        std::promise<void> finished;
        auto done = finished.get_future();
        auto start = clock_type::now();
        auto d = sys.spawn(driver, *echo_hdl, opts.events, &finished);
        caf::anon_send(d, start_atom_v, uint64_t{opts.in_flight});
        done.wait();
        double seconds = std::chrono::duration<double>(clock_type::now()
                                                       - start)
                           .count();
        (void)!write(ack_fd, &seconds, sizeof(seconds));
        break;
      }
      case 'q': agent.stop(); return 0;
    }
  }
  return 0;
}

// -- the parent: node + sink --------------------------------------------------

template <class Predicate>
double time_until(clock_type::time_point start, Predicate done) {
  auto deadline = start + std::chrono::seconds{120};
  while (!done()) {
    if (clock_type::now() > deadline)
      return -1;
    std::this_thread::sleep_for(std::chrono::milliseconds{1});
  }
  return std::chrono::duration<double>(clock_type::now() - start).count();
}

double median(std::vector<double> xs) {
  std::sort(xs.begin(), xs.end());
  return xs.empty() ? 0 : xs[xs.size() / 2];
}

} // namespace

int main(int argc, char** argv) {
  options opts;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string flag = argv[i];
    auto v = std::strtoull(argv[i + 1], nullptr, 10);
    if (flag == "--runs")
      opts.runs = static_cast<int>(v);
    else if (flag == "--events")
      opts.events = v;
    else if (flag == "--messages")
      opts.messages = v;
    else if (flag == "--batch")
      opts.batch = v;
    else if (flag == "--in-flight")
      opts.in_flight = static_cast<uint32_t>(v);
    else {
      std::fprintf(stderr, "unknown option %s\n", flag.c_str());
      return 2;
    }
  }
  int ports_pipe[2], cmd_pipe[2], ack_pipe[2];
  if (pipe(ports_pipe) != 0 || pipe(cmd_pipe) != 0 || pipe(ack_pipe) != 0)
    return 1;
  // Fork before any actor system exists: the child is a process of its own.
  auto pid = fork();
  if (pid == 0) {
    uint16_t ports[4] = {0, 0, 0, 0};
    if (read(ports_pipe[0], ports, sizeof(ports)) != sizeof(ports))
      _exit(1);
    _exit(agent_main(cmd_pipe[0], ack_pipe[1], ports[0], ports[1], ports[2],
                     ports[3], opts));
  }
  auto cfg_node = load_config_file("config/streamb.json");
  cfg_node.node.http.port = 0;
  cfg_node.node.actor.port = 0;
  cfg_node.agents.max_in_flight = opts.in_flight;
  // Every finished event leaves a record: room for all of them.
  cfg_node.store.memory_max_keys = 10'000'000;
  caf::actor_system_config cfg;
  register_message_types(cfg);
  cfg.load<caf::io::middleman>();
  caf::actor_system sys{cfg};
  node n{sys, cfg_node};
  auto http_port = n.start();
  if (!http_port)
    return 1;
  std::atomic<uint64_t> received{0};
  auto sink_hdl = sys.spawn(sink, &received);
  auto sink_port = caf::io::publish(sink_hdl, 0, "127.0.0.1");
  if (!sink_port)
    return 1;
  auto echo_hdl = sys.spawn(echo);
  auto echo_port = caf::io::publish(echo_hdl, 0, "127.0.0.1");
  if (!echo_port)
    return 1;
  uint16_t ports[4] = {n.actor_port(), *sink_port, *echo_port, *http_port};
  (void)!write(ports_pipe[1], ports, sizeof(ports));
  char ack = 0;
  if (read(ack_pipe[0], &ack, 1) != 1)
    return 1;
  auto hub = n.hub();
  caf::scoped_actor self{sys};
  auto status = [&] {
    coordination_status x;
    self->request(hub, std::chrono::seconds{5}, agents_atom_v)
      .receive([&](coordination_status& s) { x = std::move(s); },
               [](caf::error&) {});
    return x;
  };
  auto completed_of = [&](const char* type) {
    for (auto& t : status().types)
      if (t.type == type)
        return t.counts.completed;
    return uint64_t{0};
  };
  auto completed = [&] { return completed_of("system_optimization"); };
  auto reported = [&] {
    auto s = status();
    return s.agents.empty() ? uint64_t{0} : s.agents[0].counts.samples_reported;
  };
  auto raw_phase = [&](char cmd) {
    received = 0;
    auto start = clock_type::now();
    (void)!write(cmd_pipe[1], &cmd, 1);
    auto s = time_until(start, [&] { return received >= opts.messages; });
    return static_cast<double>(opts.messages) / s;
  };
  std::vector<double> raw_samples, raw_events, sdk_samples, hub_events,
    raw_round_trips, ws_events;
  uint64_t done_events = 0;
  uint64_t done_ws_events = 0;
  uint64_t done_samples = 0;
  for (int run = 0; run < opts.runs; ++run) {
    raw_samples.push_back(raw_phase('s') * static_cast<double>(opts.batch));
    {
      auto start = clock_type::now();
      char cmd = 'k';
      (void)!write(cmd_pipe[1], &cmd, 1);
      done_samples += opts.messages * opts.batch;
      auto s = time_until(start, [&] { return reported() >= done_samples; });
      sdk_samples.push_back(static_cast<double>(opts.messages * opts.batch)
                            / s);
    }
    raw_events.push_back(raw_phase('e'));
    {
      char cmd = 'r';
      double seconds = 0;
      (void)!write(cmd_pipe[1], &cmd, 1);
      if (read(ack_pipe[0], &seconds, sizeof(seconds)) != sizeof(seconds))
        return 1;
      raw_round_trips.push_back(static_cast<double>(opts.events) / seconds);
    }
    {
      auto start = clock_type::now();
      for (uint64_t i = 0; i < opts.events; ++i) {
        auto ev = make_event(i);
        ev.id = "run" + std::to_string(run) + "-" + ev.id;
        caf::anon_send(hub, publish_atom_v, std::move(ev));
      }
      done_events += opts.events;
      auto s = time_until(start, [&] { return completed() >= done_events; });
      hub_events.push_back(static_cast<double>(opts.events) / s);
    }
    {
      auto start = clock_type::now();
      for (uint64_t i = 0; i < opts.events; ++i) {
        auto ev = make_event(i);
        ev.type = "performance_optimization";
        ev.id = "ws" + std::to_string(run) + "-" + ev.id;
        caf::anon_send(hub, publish_atom_v, std::move(ev));
      }
      done_ws_events += opts.events;
      auto s = time_until(start, [&] {
        return completed_of("performance_optimization") >= done_ws_events;
      });
      ws_events.push_back(static_cast<double>(opts.events) / s);
    }
    std::printf("run %d: raw_samples/s %.0f sdk_samples/s %.0f raw_events/s "
                "%.0f raw_round_trips/s %.0f hub_events/s %.0f "
                "ws_events/s %.0f\n",
                run + 1, raw_samples.back(), sdk_samples.back(),
                raw_events.back(), raw_round_trips.back(), hub_events.back(),
                ws_events.back());
    std::fflush(stdout);
  }
  char quit = 'q';
  (void)!write(cmd_pipe[1], &quit, 1);
  int st = 0;
  waitpid(pid, &st, 0);
  auto rs = median(raw_samples), ss = median(sdk_samples);
  auto re = median(raw_events), he = median(hub_events);
  std::printf("raw_remote_samples_per_s %.0f\n", rs);
  std::printf("sdk_samples_per_s %.0f\n", ss);
  std::printf("raw_remote_events_per_s %.0f\n", re);
  auto rr = median(raw_round_trips);
  std::printf("raw_remote_round_trips_per_s %.0f\n", rr);
  std::printf("hub_events_per_s %.0f\n", he);
  auto we = median(ws_events);
  std::printf("ws_agent_events_per_s %.0f\n", we);
  std::printf("ratio_ws_to_caf_agent_events %.2f\n", we / he);
  std::printf("ratio_sdk_samples %.2f\n", ss / rs);
  std::printf("ratio_hub_events %.2f\n", he / re);
  std::printf("ratio_hub_events_to_round_trips %.2f\n", he / rr);
  std::printf("batch %zu in_flight %u events %llu messages %llu runs %d\n",
              opts.batch, opts.in_flight,
              static_cast<unsigned long long>(opts.events),
              static_cast<unsigned long long>(opts.messages), opts.runs);
  caf::anon_send_exit(sink_hdl, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(echo_hdl, caf::exit_reason::user_shutdown);
  n.stop();
  return 0;
}
