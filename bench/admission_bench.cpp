// Admission decisions/s between two local actors (typed request/response to
// a budget_controller) against a bare CAF request/response pair in the same
// run. Each client keeps `window` requests in flight; the bare server
// answers an int with an int. Prints "name value" lines and the ratios.
//
//   admission_bench [--seconds S] [--window W] [--runs R]
//
// Two paths of the controller are measured: a free call (limits and budget
// checked, nothing reserved) and a call with a cost (its estimate reserved
// in the store: the memory backend, so the store actor's batching is what is
// measured, not Redis).

#include "actors/budget_controller.hpp"
#include "actors/store_actor.hpp"
#include "runtime/messages.hpp"
#include "runtime/store/memory_backend.hpp"

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/send.hpp>
#include <caf/typed_event_based_actor.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <vector>

using namespace streamb;
using clock_type = std::chrono::steady_clock;

namespace {

using bare_actor = caf::typed_actor<caf::replies_to<int>::with<int>>;

bare_actor::behavior_type bare_server() {
  return {[](int x) { return x + 1; }};
}

struct run_state {
  std::atomic<uint64_t> done{0};
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> refused{0};
};

template <class Request>
double measure(caf::actor_system& sys, int seconds, int window,
               Request&& start_one) {
  auto st = std::make_shared<run_state>();
  std::vector<caf::actor> clients;
  for (int i = 0; i < window; ++i)
    clients.push_back(
      sys.spawn([=](caf::event_based_actor* self) { start_one(self, st); }));
  auto t0 = clock_type::now();
  std::this_thread::sleep_for(std::chrono::seconds{seconds});
  auto n = st->done.load();
  auto dt = std::chrono::duration<double>(clock_type::now() - t0).count();
  st->stop = true;
  std::this_thread::sleep_for(std::chrono::milliseconds{200});
  for (auto& c : clients)
    caf::anon_send_exit(c, caf::exit_reason::user_shutdown);
  if (st->refused > 0)
    std::fprintf(stderr, "admission_bench: %llu requests failed\n",
                 static_cast<unsigned long long>(st->refused.load()));
  return static_cast<double>(n) / dt;
}

/// A client actor that sends one request after the other to `hdl`.
template <class Reply, class Handle, class... Ts>
void loop_requests(caf::event_based_actor* self, Handle hdl,
                   std::shared_ptr<run_state> st, Ts... xs) {
  if (st->stop)
    return;
  self->request(hdl, caf::infinite, xs...)
    .then(
      [=](Reply&) {
        ++st->done;
        loop_requests<Reply>(self, hdl, st, xs...);
      },
      [=](caf::error&) { ++st->refused; });
}

service_config free_service() {
  service_config svc;
  svc.name = "bench";
  svc.budget_usd_month = 1e9;
  svc.limits.burst = {0, 0};
  svc.limits.sustained.limit = 0;
  svc.limits.daily.limit = 0;
  svc.breaker.error_rate = 0; // off
  return svc;
}

} // namespace

int main(int argc, char** argv) {
  int seconds = 3;
  int window = 16;
  int runs = 3;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--seconds") == 0)
      seconds = std::atoi(argv[i + 1]);
    else if (std::strcmp(argv[i], "--window") == 0)
      window = std::atoi(argv[i + 1]);
    else if (std::strcmp(argv[i], "--runs") == 0)
      runs = std::atoi(argv[i + 1]);
  }
  caf::actor_system_config cfg;
  register_message_types(cfg);
  cfg.set("logger.verbosity", caf::atom("quiet"));
  caf::actor_system sys{cfg};
  auto bare = sys.spawn(bare_server);
  auto store = sys.spawn<caf::detached>(
    store_service,
    std::shared_ptr<store::backend>{std::make_shared<store::memory_backend>()});
  budget_controller_settings settings;
  settings.refresh_ms = 1000;
  auto budget = sys.spawn(budget_controller, free_service(), settings, store);
  admission_request free_call;
  free_call.priority = budget::priority::normal;
  free_call.cost_micros = 0;
  admission_request paid_call = free_call;
  paid_call.cost_micros = 1; // one micro-dollar, reserved in the store
  std::vector<double> bare_rps, free_rps, paid_rps;
  for (int r = 0; r < runs; ++r) {
    bare_rps.push_back(measure(sys, seconds, window, [&](auto* self, auto st) {
      loop_requests<int>(self, bare, st, 1);
    }));
    free_rps.push_back(measure(sys, seconds, window, [&](auto* self, auto st) {
      loop_requests<admission_decision>(self, budget, st, admit_atom_v,
                                        free_call);
    }));
    paid_rps.push_back(measure(sys, seconds, window, [&](auto* self, auto st) {
      loop_requests<admission_decision>(self, budget, st, admit_atom_v,
                                        paid_call);
    }));
  }
  auto median = [](std::vector<double> xs) {
    std::sort(xs.begin(), xs.end());
    return xs[xs.size() / 2];
  };
  auto b = median(bare_rps);
  auto f = median(free_rps);
  auto p = median(paid_rps);
  std::printf("window %d, %d runs of %d s, medians\n", window, runs, seconds);
  std::printf("bare_request_response_per_s %.0f\n", b);
  std::printf("admission_free_per_s %.0f\n", f);
  std::printf("admission_reserved_per_s %.0f\n", p);
  std::printf("ratio_free %.2f\n", f / b);
  std::printf("ratio_reserved %.2f\n", p / b);
  caf::anon_send_exit(budget, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(store, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(bare, caf::exit_reason::user_shutdown);
}
