// HTTP delivery endpoints: coordination events published to the hub of a
// real node (in this process, memory store) and delivered to one endpoint
// (deliveries.endpoints: its queue in the store, its keep-alive connections, a
// Standard Webhooks signature per request), timed from the first publish
// until the endpoint counted every 2xx. bench/run_deliveries compares it
// with a plain load generator (wrk) against the same receiver in the same
// run.
//
//   delivery_bench --url URL [--events N] [--runs R] [--in-flight K]
//                  [--direct 1]   (to the endpoint itself, without the hub)
//                  [--warmup W]   (W events delivered before the timed runs,
//                                  default 2000: connections open, the heap
//                                  grown, as in a node that has been running)
//
// Prints "run N deliveries_per_s X" lines, then the median.

#include "runtime/app/node.hpp"
#include "runtime/app/scheduler_tuning.hpp"
#include "runtime/config/config.hpp"
#include "runtime/deliveries/outbound.hpp"
#include "runtime/messages.hpp"

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/io/middleman.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/send.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

using namespace streamb;
using clock_type = std::chrono::steady_clock;

int main(int argc, char** argv) {
  std::string url;
  uint64_t events = 20000;
  int runs = 3;
  uint32_t in_flight = 8;
  bool direct = false;
  uint64_t warmup = 2000;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string flag = argv[i];
    std::string v = argv[i + 1];
    if (flag == "--url")
      url = v;
    else if (flag == "--events")
      events = std::strtoull(v.c_str(), nullptr, 10);
    else if (flag == "--runs")
      runs = std::atoi(v.c_str());
    else if (flag == "--warmup")
      warmup = std::strtoull(v.c_str(), nullptr, 10);
    else if (flag == "--direct")
      direct = v == "1";
    else if (flag == "--in-flight")
      in_flight = static_cast<uint32_t>(std::atoi(v.c_str()));
    else {
      std::fprintf(stderr, "unknown option %s\n", flag.c_str());
      return 2;
    }
  }
  if (url.empty()) {
    std::fprintf(stderr,
                 "usage: delivery_bench --url URL [--events N] "
                 "[--runs R] [--in-flight K]\n");
    return 2;
  }
  auto cfg_node = load_config_file("config/streamb.json");
  cfg_node.node.http.port = 0;
  cfg_node.node.actor.port = 0;
  cfg_node.store.memory_max_keys = 10'000'000;
  cfg_node.agents.max_open_events = 10'000'000;
  delivery_endpoint_config e;
  e.name = "bench";
  e.url = url;
  e.secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
  e.events = {"system_optimization"};
  e.max_in_flight = in_flight;
  e.max_queued = static_cast<uint32_t>(events * 2);
  cfg_node.deliveries.endpoints.push_back(e);
  caf::actor_system_config cfg;
  // Scheduled as `streamb run` schedules it.
  tune_scheduler(cfg);
  register_message_types(cfg);
  cfg.load<caf::io::middleman>();
  caf::actor_system sys{cfg};
  node n{sys, cfg_node};
  if (!n.start())
    return 1;
  auto hub = n.hub();
  auto endpoint = n.endpoints().at(0);
  caf::scoped_actor self{sys};
  auto delivered = [&] {
    uint64_t x = 0;
    self->request(endpoint, std::chrono::seconds{5}, wh_stats_atom_v)
      .receive([&](endpoint_stats& s) { x = s.delivered; }, [](caf::error&) {});
    return x;
  };
  uint64_t done = 0;
  // Publishes `count` events named after `tag`; returns once the endpoint
  // counted every 2xx (or after 300 s).
  auto deliver_all = [&](const std::string& tag, uint64_t count) {
    for (uint64_t i = 0; i < count; ++i) {
      coordination_event ev;
      ev.id = "bench-" + tag + "-" + std::to_string(i);
      ev.type = "system_optimization";
      ev.source = "bench";
      ev.created_ms = 1795766822519;
      ev.payload
        = R"({"service":"maps","action":"lower_sustained_limit","to":900})";
      if (direct)
        caf::anon_send(endpoint, deliver_atom_v, outbound_event(ev));
      else
        caf::anon_send(hub, publish_atom_v, std::move(ev));
    }
    done += count;
    auto deadline = clock_type::now() + std::chrono::seconds{300};
    while (delivered() < done && clock_type::now() < deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds{2});
  };
  deliver_all("warmup", warmup);
  std::vector<double> rates;
  for (int run = 0; run < runs; ++run) {
    auto start = clock_type::now();
    deliver_all(std::to_string(run), events);
    auto s = std::chrono::duration<double>(clock_type::now() - start).count();
    rates.push_back(static_cast<double>(events) / s);
    std::printf("run %d deliveries_per_s %.0f\n", run + 1, rates.back());
    std::fflush(stdout);
  }
  std::sort(rates.begin(), rates.end());
  std::printf("deliveries_per_s %.0f\n", rates[rates.size() / 2]);
  n.stop();
  return 0;
}
