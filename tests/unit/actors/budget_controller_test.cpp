// The budget controller under CAF's test scheduler: the limits refill on the
// simulated clock; spend is reserved in a memory store.

#include "actors/budget_controller.hpp"

#include "actors/store_actor.hpp"
#include "runtime/core/actor_wall_clock.hpp"
#include "runtime/core/audit.hpp"
#include "runtime/core/wall_time.hpp"
#include "runtime/metrics/metric_rollup.hpp"
#include "tests/unit/actor_fixture.hpp"
#include "tests/unit/runtime/store/switchable_backend.hpp"

#include <map>
#include <memory>
#include <optional>

using namespace streamb;
using namespace std::chrono_literals;

namespace {

constexpr uint8_t critical = 0;
constexpr uint8_t high = 1;
constexpr uint8_t normal = 2;
constexpr uint8_t low = 3;

service_config stripe(double budget_usd, bool hard_cap) {
  service_config svc;
  svc.name = "stripe";
  svc.budget_usd_month = budget_usd;
  svc.hard_cap = hard_cap;
  svc.limits.burst = {4, 1}; // 4 tokens, 1 per second
  svc.limits.reserved_share = 0;
  svc.breaker.error_rate = 0.5;
  svc.breaker.min_calls = 10;
  svc.breaker.open_s = 30;
  svc.breaker.half_open_probes = 2;
  return svc;
}

admission_request ask_for(uint8_t priority, double cost_usd = 0,
                          int64_t wait_ms = 0) {
  admission_request r;
  r.priority = static_cast<budget::priority>(priority);
  r.cost_micros = static_cast<int64_t>(cost_usd * 1e6);
  r.wait_ms = wait_ms;
  return r;
}

struct fixture : test::actor_fixture {
  std::shared_ptr<store::testing::switchable_backend>
    db = std::make_shared<store::testing::switchable_backend>();
  store_actor store = sys().spawn(store_service,
                                  std::shared_ptr<store::backend>{db});
  std::vector<budget_controller_actor> controllers;

  budget_controller_actor spawn(service_config svc) {
    budget_controller_settings settings;
    settings.node = "node-" + std::to_string(controllers.size());
    auto hdl = sys().spawn(budget_controller, std::move(svc), settings, store);
    sched.run();
    controllers.push_back(hdl);
    return hdl;
  }

  ~fixture() {
    for (auto& c : controllers)
      self->send_exit(c, caf::exit_reason::user_shutdown);
    self->send_exit(store, caf::exit_reason::user_shutdown);
  }

  admission_decision admit(const budget_controller_actor& c,
                           admission_request r) {
    return ask<admission_decision>(c, admit_atom_v, r);
  }

  std::vector<audit_record> audit_records(const std::string& action) {
    std::vector<audit_record> result;
    auto entries = db->inner.xrange(audit_stream, "-", "+");
    REQUIRE(entries);
    for (auto& e : *entries) {
      auto x = audit_from_entry(e);
      if (x.action == action)
        result.push_back(std::move(x));
    }
    return result;
  }

  std::vector<std::string> audited(const std::string& action) {
    std::vector<std::string> outcomes;
    for (auto& x : audit_records(action))
      outcomes.push_back(x.outcome);
    return outcomes;
  }

  /// The controller's answer to new settings: whether anything changed.
  bool reconfigure(const budget_controller_actor& c, service_config svc) {
    return ask<bool>(c, reconfig_atom_v,
                     std::make_shared<const service_config>(std::move(svc)),
                     std::string{"operator:ops"});
  }
};

} // namespace

TEST_CASE_METHOD(fixture,
                 "with the bucket empty, waiting requests are "
                 "granted critical first, then by arrival") {
  auto c = spawn(stripe(0, false));
  for (int i = 0; i < 4; ++i)
    CHECK(admit(c, ask_for(normal)).granted);
  auto denied = admit(c, ask_for(normal));
  CHECK_FALSE(denied.granted);
  CHECK(denied.reason == budget::denial_reason::burst);
  CHECK(denied.retry_after_ms > 0);
  CHECK(denied.retry_after_ms <= 1000);
  // Queue one of each, lowest first; each may wait 10 s.
  std::vector<std::pair<std::string, admission_decision>> order;
  using handle_t = decltype(self->request(c, caf::infinite, admit_atom_v,
                                          ask_for(low)));
  std::vector<std::pair<std::string, handle_t>> pending;
  for (auto [name, p] :
       {std::pair{"low", low}, std::pair{"normal", normal},
        std::pair{"high", high}, std::pair{"critical", critical}})
    pending.emplace_back(name,
                         self->request(c, caf::infinite, admit_atom_v,
                                       ask_for(p, 0, 10'000)));
  sched.run();
  // One token per second: one grant per second, most urgent first.
  for (int second = 0; second < 4; ++second)
    advance(1s);
  for (auto& [name, h] : pending)
    h.receive(
      [&, n = name](admission_decision& d) {
        CHECK(d.granted);
        order.emplace_back(n, d);
      },
      [](caf::error& err) { FAIL(caf::to_string(err)); });
  REQUIRE(order.size() == 4);
  // The waits say the order: critical waited least.
  std::map<std::string, int64_t> waited;
  for (auto& [n, d] : order)
    waited[n] = d.waited_ms;
  CHECK(waited["critical"] < waited["high"]);
  CHECK(waited["high"] < waited["normal"]);
  CHECK(waited["normal"] < waited["low"]);
}

TEST_CASE_METHOD(fixture,
                 "a queued request past its deadline gets a "
                 "burst denial with a retry-after") {
  auto c = spawn(stripe(0, false));
  for (int i = 0; i < 4; ++i)
    CHECK(admit(c, ask_for(normal)).granted);
  auto h = self->request(c, caf::infinite, admit_atom_v,
                         ask_for(normal, 0, 300));
  sched.run();
  advance(300ms);
  advance(10ms);
  h.receive(
    [](admission_decision& d) {
      CHECK_FALSE(d.granted);
      CHECK(d.reason == budget::denial_reason::burst);
      CHECK(d.retry_after_ms > 0);
      CHECK(d.retry_after_ms <= 1000);
    },
    [](caf::error& err) { FAIL(caf::to_string(err)); });
}

TEST_CASE_METHOD(fixture,
                 "spend crossing 75, 90, 95 and 100 % alerts once "
                 "each, throttles to critical, then caps, and an "
                 "override lifts it and is audited") {
  auto svc = stripe(100, true);
  svc.limits.burst = {0, 0};
  auto c = spawn(svc);
  CHECK(admit(c, ask_for(normal, 74)).granted);
  CHECK(admit(c, ask_for(normal, 2)).granted);  // 76 %
  CHECK(admit(c, ask_for(normal, 15)).granted); // 91 %
  CHECK(admit(c, ask_for(normal, 4)).granted);  // 95 %: still within
  auto throttled = admit(c, ask_for(normal, 1));
  CHECK_FALSE(throttled.granted);
  CHECK(throttled.reason == budget::denial_reason::budget_throttle);
  CHECK(throttled.retry_after_ms > 0);
  CHECK(admit(c, ask_for(critical, 5)).granted); // 100 %
  auto capped = admit(c, ask_for(critical, 1));
  CHECK_FALSE(capped.granted);
  CHECK(capped.reason == budget::denial_reason::hard_cap);
  auto status = ask<budget_status>(c, budget_atom_v);
  CHECK(status.spend_micros == 100'000'000);
  CHECK(status.mode == budget::budget_mode::capped);
  CHECK(status.reached_levels_bp
        == std::vector<uint32_t>{7500, 9000, 9500, 10000});
  CHECK(audited("budget.mode")
        == std::vector<std::string>{"throttled", "capped"});
  // The operator lifts the cap for the rest of the month.
  auto lifted = ask<budget_status>(c, override_atom_v, budget::budget_override::lift,
                                   std::string{"operator@test"});
  CHECK(lifted.override_mode == budget::budget_override::lift);
  CHECK(admit(c, ask_for(normal, 1)).granted);
  CHECK(audited("budget.override") == std::vector<std::string>{"lift"});
}

TEST_CASE_METHOD(fixture,
                 "two controllers on one store never reserve past "
                 "what the budget allows") {
  auto svc = stripe(50, false);
  svc.limits.burst = {0, 0};
  auto a = spawn(svc);
  auto b = spawn(svc);
  using handle_t = decltype(self->request(a, caf::infinite, admit_atom_v,
                                          ask_for(normal)));
  std::vector<handle_t> pending;
  for (int i = 0; i < 100; ++i) {
    pending.push_back(
      self->request(a, caf::infinite, admit_atom_v, ask_for(normal, 1)));
    pending.push_back(
      self->request(b, caf::infinite, admit_atom_v, ask_for(normal, 1)));
  }
  sched.run();
  int granted = 0;
  for (auto& h : pending)
    h.receive([&](admission_decision& d) { granted += d.granted ? 1 : 0; },
              [](caf::error& err) { FAIL(caf::to_string(err)); });
  // Normal priority stops at 95 % of 50 USD: 47 calls of 1 USD.
  CHECK(granted == 47);
  auto spend = db->inner.get("budget:spend:stripe:"
                             + utc_month(epoch_ms(sched.clock())));
  REQUIRE(spend);
  CHECK(spend->value_or("") == "47000000");
}

TEST_CASE_METHOD(fixture,
                 "the breaker opens on a burst of server errors, "
                 "half-opens after the cool-down and closes on "
                 "healthy probes") {
  auto c = spawn(stripe(0, false));
  self->send(
    c, spend_atom_v,
    call_spend{0, std::vector<status_class>(10, status_class::server_error)});
  sched.run();
  auto open = admit(c, ask_for(normal));
  CHECK_FALSE(open.granted);
  CHECK(open.reason == budget::denial_reason::circuit_open);
  CHECK(open.retry_after_ms > 0);
  CHECK(open.retry_after_ms <= 30'000);
  advance(30s);
  CHECK(admit(c, ask_for(normal)).granted);       // probe 1
  CHECK(admit(c, ask_for(normal)).granted);       // probe 2
  CHECK_FALSE(admit(c, ask_for(normal)).granted); // no more probes
  self->send(c, spend_atom_v,
             call_spend{0, std::vector<status_class>(2, status_class::ok)});
  sched.run();
  CHECK(ask<budget_status>(c, budget_atom_v).breaker
        == budget::breaker_state::closed);
  CHECK(admit(c, ask_for(normal)).granted);
}

TEST_CASE_METHOD(fixture, "a call's reported cost replaces its reservation") {
  auto svc = stripe(100, false);
  svc.limits.burst = {0, 0};
  auto c = spawn(svc);
  CHECK(admit(c, ask_for(normal, 10)).granted);
  CHECK(ask<budget_status>(c, budget_atom_v).reserved_micros == 10'000'000);
  self->send(c, spend_atom_v,
             call_spend{3'000'000,
                        std::vector<status_class>{status_class::ok}});
  sched.run();
  auto s = ask<budget_status>(c, budget_atom_v);
  CHECK(s.reserved_micros == 0);
  CHECK(s.spend_micros == 3'000'000);
}

TEST_CASE_METHOD(fixture,
                 "with the store down a call that costs money is "
                 "refused as store_unavailable and gives its token "
                 "back, and a free call still goes") {
  auto svc = stripe(100, false);
  svc.limits.burst = {1, 0.001}; // one token, next one in 1000 s
  auto c = spawn(svc);
  db->down = true;
  auto paid = admit(c, ask_for(normal, 1));
  CHECK_FALSE(paid.granted);
  CHECK(paid.reason == budget::denial_reason::store_unavailable);
  CHECK(paid.retry_after_ms > 0);
  // The token the refused call took came back: the free call gets it.
  CHECK(admit(c, ask_for(normal, 0)).granted);
  db->down = false;
  CHECK(ask<budget_status>(c, budget_atom_v).spend_micros == 0);
}

TEST_CASE_METHOD(fixture,
                 "a limit change names sustained or daily, and is "
                 "audited") {
  auto c = spawn(stripe(0, false));
  std::optional<caf::error> refused;
  auto rh = self->request(c, caf::infinite, set_limit_atom_v,
                          budget::limit_tier::burst, uint64_t{5},
                          std::string{"test"});
  sched.run();
  rh.receive([](budget_status&) {},
             [&](caf::error& err) { refused = std::move(err); });
  REQUIRE(refused);
  CHECK(*refused == caf::make_error(error_code::invalid_argument));
  auto s = ask<budget_status>(c, set_limit_atom_v, budget::limit_tier::sustained,
                              uint64_t{7}, std::string{"test"});
  CHECK(s.sustained_limit == 7);
  CHECK(audited("budget.set_limit") == std::vector<std::string>{"ok"});
}

// -- reconfiguration (config reload) ------------------------------------------

TEST_CASE_METHOD(fixture,
                 "a lowered burst capacity refuses the next call that the "
                 "old one admitted, and the change is audited") {
  auto svc = stripe(50, false);
  svc.limits.burst = {25, 1};
  auto c = spawn(svc);
  for (int i = 0; i < 10; ++i)
    CHECK(admit(c, ask_for(normal)).granted); // 15 of 25 left
  svc.limits.burst.capacity = 10;
  svc.budget_usd_month = 80;
  CHECK(reconfigure(c, svc));
  // The 10 calls of this burst still count: nothing is left of 10.
  auto d = admit(c, ask_for(normal));
  CHECK_FALSE(d.granted);
  CHECK(d.reason == budget::denial_reason::burst);
  CHECK(d.retry_after_ms > 0);
  CHECK(d.retry_after_ms <= 1000);
  auto records = audit_records("budget.reconfigure");
  REQUIRE(records.size() == 1);
  CHECK(records[0].who == "operator:ops");
  CHECK(records[0].subject == "stripe");
  CHECK(records[0].detail
        == "budget_usd_month 50 -> 80, limits.burst.capacity 25 -> 10");
  CHECK(ask<budget_status>(c, budget_atom_v).budget_micros == 80'000'000);
  // The bucket refills at its rate up to the new capacity.
  advance(1s);
  CHECK(admit(c, ask_for(normal)).granted);
}

TEST_CASE_METHOD(fixture,
                 "a raised budget ends throttling and a lowered one starts "
                 "it again, with the month's spend kept") {
  auto svc = stripe(100, false);
  svc.limits.burst = {0, 0};
  auto c = spawn(svc);
  CHECK(admit(c, ask_for(normal, 95)).granted); // 95 %: throttled now
  CHECK(admit(c, ask_for(normal, 1)).reason == budget::denial_reason::budget_throttle);
  svc.budget_usd_month = 200;
  CHECK(reconfigure(c, svc));
  auto raised = ask<budget_status>(c, budget_atom_v);
  CHECK(raised.mode == budget::budget_mode::normal);
  CHECK(raised.spend_micros == 95'000'000);
  CHECK(raised.budget_micros == 200'000'000);
  // Levels the spend no longer reaches are armed again.
  CHECK(raised.reached_levels_bp.empty());
  CHECK(admit(c, ask_for(normal, 1)).granted); // 96 of 200
  svc.budget_usd_month = 100;
  CHECK(reconfigure(c, svc));
  auto lowered = ask<budget_status>(c, budget_atom_v);
  CHECK(lowered.mode == budget::budget_mode::throttled);
  CHECK(lowered.spend_micros == 96'000'000);
  CHECK(lowered.reached_levels_bp == std::vector<uint32_t>{7500, 9000, 9500});
  CHECK(admit(c, ask_for(normal, 1)).reason == budget::denial_reason::budget_throttle);
  CHECK(admit(c, ask_for(critical, 1)).granted);
  CHECK(audited("budget.mode")
        == std::vector<std::string>{"throttled", "normal", "throttled"});
  auto records = audit_records("budget.reconfigure");
  REQUIRE(records.size() == 2);
  CHECK(records[0].detail == "budget_usd_month 100 -> 200");
  CHECK(records[1].detail == "budget_usd_month 200 -> 100");
}

TEST_CASE_METHOD(fixture,
                 "an unchanged config, or one changing only what the "
                 "controller does not use, replies false and audits "
                 "nothing") {
  auto svc = stripe(50, false);
  auto c = spawn(svc);
  CHECK_FALSE(reconfigure(c, svc));
  svc.alerts.p95_ms = 123; // the monitor's business
  CHECK_FALSE(reconfigure(c, svc));
  CHECK(audit_records("budget.reconfigure").empty());
  svc.hard_cap = true;
  CHECK(reconfigure(c, svc));
  CHECK(audited("budget.reconfigure") == std::vector<std::string>{"ok"});
}

TEST_CASE_METHOD(fixture,
                 "a lowered daily limit keeps today's calls and a raised "
                 "sustained limit keeps the window's") {
  auto svc = stripe(0, false);
  svc.limits.burst = {0, 0};
  svc.limits.daily.limit = 10;
  svc.limits.sustained = {5, 60};
  auto c = spawn(svc);
  for (int i = 0; i < 5; ++i)
    CHECK(admit(c, ask_for(normal)).granted);
  CHECK(admit(c, ask_for(normal)).reason == budget::denial_reason::sustained);
  svc.limits.daily.limit = 7;
  svc.limits.sustained.limit = 100;
  CHECK(reconfigure(c, svc));
  CHECK(admit(c, ask_for(normal)).granted);
  CHECK(admit(c, ask_for(normal)).granted);
  CHECK(admit(c, ask_for(normal)).reason == budget::denial_reason::daily); // 7 today
  auto s = ask<budget_status>(c, budget_atom_v);
  CHECK(s.daily_limit == 7);
  CHECK(s.sustained_limit == 100);
}

TEST_CASE_METHOD(fixture,
                 "an open breaker stays open through a reconfigure, with "
                 "the new cool-down") {
  auto svc = stripe(0, false);
  auto c = spawn(svc);
  self->send(
    c, spend_atom_v,
    call_spend{0, std::vector<status_class>(10, status_class::server_error)});
  sched.run();
  svc.breaker.open_s = 60;
  CHECK(reconfigure(c, svc));
  CHECK(ask<budget_status>(c, budget_atom_v).breaker
        == budget::breaker_state::open);
  advance(30s);
  CHECK(admit(c, ask_for(normal)).reason == budget::denial_reason::circuit_open);
  advance(30s);
  CHECK(admit(c, ask_for(normal)).granted); // a probe
}

TEST_CASE_METHOD(fixture, "a reconfigure for another service is refused") {
  auto c = spawn(stripe(0, false));
  auto other = stripe(0, false);
  other.name = "twilio";
  std::optional<caf::error> refused;
  auto rh = self->request(c, caf::infinite, reconfig_atom_v,
                          std::make_shared<const service_config>(other),
                          std::string{"test"});
  sched.run();
  rh.receive([](bool) { FAIL("expected an error"); },
             [&](caf::error& err) { refused = std::move(err); });
  REQUIRE(refused);
  CHECK(*refused == caf::make_error(error_code::invalid_argument));
}
