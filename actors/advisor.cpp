#include "actors/advisor.hpp"

#include "runtime/wall_time.hpp"

#include <caf/typed_response_promise.hpp>

#include <memory>

namespace streamb {

namespace {

constexpr auto ask_timeout = std::chrono::seconds{5};

/// The answers collected for one advise request.
struct gathering {
  std::vector<advisor_inputs> inputs;
  std::size_t missing = 0;
  caf::error failure;
  caf::typed_response_promise<recommendations> promise;

  void done_one() {
    if (--missing > 0)
      return;
    if (failure) {
      promise.deliver(failure);
      return;
    }
    recommendations all;
    for (auto& in : inputs) {
      auto xs = recommend(in);
      all.insert(all.end(), xs.begin(), xs.end());
    }
    promise.deliver(std::move(all));
  }
};

} // namespace

advisor_actor::behavior_type
advisor(advisor_pointer self, std::vector<std::string> services,
        std::vector<service_monitor_actor> monitors,
        std::vector<budget_controller_actor> budgets) {
  self->state.services = std::move(services);
  self->state.monitors = std::move(monitors);
  self->state.budgets = std::move(budgets);
  return {
    [=](advise_atom) -> caf::result<recommendations> {
      auto& st = self->state;
      auto g = std::make_shared<gathering>();
      g->promise = self->make_response_promise<recommendations>();
      g->inputs.resize(st.services.size());
      g->missing = 2 * st.services.size();
      auto days_left = static_cast<double>(
                         ms_until_next_utc_month(epoch_ms_now()))
        / (24.0 * 3600 * 1000);
      if (g->missing == 0)
        return recommendations{};
      for (std::size_t i = 0; i < st.services.size(); ++i) {
        g->inputs[i].days_left = days_left;
        self->request(st.monitors[i], ask_timeout, profile_atom_v)
          .then(
            [g, i](usage_profile& p) {
              g->inputs[i].usage = std::move(p);
              g->done_one();
            },
            [g](caf::error& err) {
              g->failure = err;
              g->done_one();
            });
        self->request(st.budgets[i], ask_timeout, budget_atom_v)
          .then(
            [g, i](budget_status& b) {
              auto& in = g->inputs[i];
              in.sustained_limit = b.sustained_limit;
              in.sustained_window_s = b.sustained_window_s;
              in.daily_limit = b.daily_limit;
              in.budget = std::move(b);
              g->done_one();
            },
            [g](caf::error& err) {
              g->failure = err;
              g->done_one();
            });
      }
      return g->promise;
    },
  };
}

} // namespace streamb
