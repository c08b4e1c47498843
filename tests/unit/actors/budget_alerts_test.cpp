// The budget controller's announcements: configured levels and throttle,
// each announced once a month even across restarts, and the predictive
// alert when the month-end forecast crosses the budget.

#include "actors/budget_controller.hpp"

#include "actors/store_actor.hpp"
#include "runtime/core/actor_wall_clock.hpp"
#include "runtime/core/wall_time.hpp"
#include "runtime/metrics/metric_rollup.hpp"
#include "tests/unit/actor_fixture.hpp"
#include "tests/unit/runtime/store/switchable_backend.hpp"

#include <boost/json.hpp>

#include <cstdio>
#include <ctime>
#include <memory>

using namespace streamb;
using namespace std::chrono_literals;

namespace {

using event_log = std::shared_ptr<std::vector<coordination_event>>;

event_sink_actor::behavior_type capture(event_sink_actor::pointer,
                                        event_log out) {
  return {
    [out](publish_atom, coordination_event& ev) { out->push_back(ev); },
  };
}

service_config stripe(double budget_usd) {
  service_config svc;
  svc.name = "stripe";
  svc.budget_usd_month = budget_usd;
  svc.limits.burst = {1000, 1000};
  svc.limits.reserved_share = 0;
  return svc;
}

admission_request costing(double usd, uint8_t priority = 2) {
  admission_request r;
  r.priority = static_cast<budget::priority>(priority);
  r.cost_micros = static_cast<int64_t>(usd * 1e6);
  return r;
}

struct fixture : test::actor_fixture {
  std::shared_ptr<store::testing::switchable_backend>
    db = std::make_shared<store::testing::switchable_backend>();
  store_actor store = sys().spawn(store_service,
                                  std::shared_ptr<store::backend>{db});
  event_log events = std::make_shared<std::vector<coordination_event>>();
  event_sink_actor sink = sys().spawn(capture, events);
  std::vector<budget_controller_actor> controllers;

  budget_controller_actor spawn(service_config svc) {
    budget_controller_settings settings;
    settings.events = sink;
    auto hdl = sys().spawn(budget_controller, std::move(svc), settings, store);
    sched.run();
    controllers.push_back(hdl);
    return hdl;
  }

  void stop(const budget_controller_actor& c) {
    self->send_exit(c, caf::exit_reason::user_shutdown);
    sched.run();
  }

  ~fixture() {
    for (auto& c : controllers)
      self->send_exit(c, caf::exit_reason::user_shutdown);
    self->send_exit(sink, caf::exit_reason::user_shutdown);
    self->send_exit(store, caf::exit_reason::user_shutdown);
  }

  /// The payload's "event" of every cost_alert so far, with its level.
  std::vector<std::string> announced() {
    std::vector<std::string> out;
    for (auto& ev : *events) {
      auto v = boost::json::parse(ev.payload).as_object();
      std::string what{v.at("event").as_string()};
      if (what == "level_reached")
        what += ":"
          + std::to_string(
                  static_cast<int>(v.at("levelPercent").to_number<double>()));
      else if (what == "mode_changed")
        what += ":" + std::string{v.at("to").as_string()};
      out.push_back(what);
    }
    return out;
  }
};

using strings = std::vector<std::string>;

} // namespace

TEST_CASE_METHOD(fixture,
                 "levels reached this month are not announced again "
                 "after a restart") {
  auto a = spawn(stripe(100));
  CHECK(ask<admission_decision>(a, admit_atom_v, costing(80)).granted);
  CHECK(announced() == strings{"level_reached:75"});
  stop(a);
  auto b = spawn(stripe(100));
  advance(3s); // a spend refresh: 80 USD seen again
  CHECK(announced() == strings{"level_reached:75"});
  CHECK(ask<admission_decision>(b, admit_atom_v, costing(14)).granted);
  CHECK(announced() == strings{"level_reached:75", "level_reached:90"});
}

TEST_CASE_METHOD(fixture,
                 "a throttle announced before a restart is not "
                 "announced again") {
  auto a = spawn(stripe(100));
  CHECK(ask<admission_decision>(a, admit_atom_v, costing(96, 0)).granted);
  CHECK(announced()
        == strings{"level_reached:75", "level_reached:90", "level_reached:95",
                   "mode_changed:throttled"});
  stop(a);
  events->clear();
  auto b = spawn(stripe(100));
  advance(3s);
  CHECK(announced().empty());
  // Still throttled: normal priority is refused.
  auto d = ask<admission_decision>(b, admit_atom_v, costing(0.01));
  CHECK_FALSE(d.granted);
  CHECK(d.reason == budget::denial_reason::budget_throttle);
}

TEST_CASE_METHOD(fixture,
                 "alert levels and the throttle level come from the "
                 "service's config") {
  auto svc = stripe(100);
  svc.alert_levels_bp = {5000};
  svc.throttle_bp = 8000;
  auto c = spawn(svc);
  CHECK(ask<admission_decision>(c, admit_atom_v, costing(60)).granted);
  CHECK(announced() == strings{"level_reached:50"});
  // 60 + 25 would pass 80 %: refused for normal priority.
  auto d = ask<admission_decision>(c, admit_atom_v, costing(25));
  CHECK_FALSE(d.granted);
  CHECK(d.reason == budget::denial_reason::budget_throttle);
  CHECK(ask<admission_decision>(c, admit_atom_v, costing(25, 0)).granted);
  CHECK(announced()
        == strings{"level_reached:50", "level_reached:80",
                   "mode_changed:throttled"});
  auto s = ask<budget_status>(c, budget_atom_v);
  CHECK(s.throttle_bp == 8000);
  SECTION("a reload moves the levels") {
    events->clear();
    svc.alert_levels_bp = {5000, 9900};
    svc.throttle_bp = 9000;
    CHECK(ask<bool>(c, reconfig_atom_v,
                    std::make_shared<const service_config>(svc),
                    std::string{"operator:ops"}));
    // 85 USD is under the new 90 % throttle: normal again; 99 % not reached.
    CHECK(announced() == strings{"mode_changed:normal"});
  }
}

TEST_CASE_METHOD(fixture,
                 "a month-end forecast over budget is announced once, "
                 "while spend is still under it") {
  auto now = epoch_ms(sched.clock());
  auto secs = static_cast<std::time_t>(now / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  if (tm.tm_mday == 1) {
    WARN("skipped on the 1st of a month: no full day to forecast from");
    return;
  }
  // 100 USD on every full day so far; the budget is 1 cent above the spend.
  write_ops ops;
  auto month = utc_month(now);
  int64_t spent = 0;
  for (int d = 1; d < tm.tm_mday; ++d) {
    char field[16];
    std::snprintf(field, sizeof(field), "%02d", d);
    ops.push_back(store::write_op::make_hincr_by("budget:days:stripe:" + month,
                                                 field, 100'000'000));
    spent += 100'000'000;
  }
  ops.push_back(
    store::write_op::make_incr_by("budget:spend:stripe:" + month, spent));
  ask<write_results>(store, write_atom_v, ops);
  auto c = spawn(stripe(static_cast<double>(spent) / 1e6 + 0.01));
  auto s = ask<budget_status>(c, budget_atom_v);
  CHECK(s.spend_micros < s.budget_micros);
  CHECK(s.forecast_micros > s.budget_micros);
  // Spend is 1 cent under the budget: every level but 100 % is reached too.
  auto forecasts = [this] {
    std::vector<coordination_event> out;
    for (auto& ev : *events)
      if (ev.payload.find("forecast_over_budget") != std::string::npos)
        out.push_back(ev);
    return out;
  };
  REQUIRE(forecasts().size() == 1);
  auto payload = boost::json::parse(forecasts()[0].payload).as_object();
  CHECK(payload.at("forecastLowUsd").to_number<double>()
        <= payload.at("forecastUsd").to_number<double>());
  CHECK(payload.at("forecastHighUsd").to_number<double>()
        >= payload.at("forecastUsd").to_number<double>());
  advance(61s); // the minute check
  ask<budget_status>(c, budget_atom_v);
  CHECK(forecasts().size() == 1);
  stop(c);
  spawn(stripe(static_cast<double>(spent) / 1e6 + 0.01));
  advance(61s);
  CHECK(forecasts().size() == 1); // latched in the store for the month
}
