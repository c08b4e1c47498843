// The advisor with real monitors and budget controllers on a memory store:
// the observation window read back from the store, cost/optimize as a dry
// run, applying only confident changes, and undoing them.

#include "actors/advisor.hpp"

#include "actors/budget_controller.hpp"
#include "actors/service_monitor.hpp"
#include "actors/store_actor.hpp"
#include "runtime/advice/usage_store.hpp"
#include "runtime/core/actor_wall_clock.hpp"
#include "runtime/core/audit.hpp"
#include "runtime/core/wall_time.hpp"
#include "tests/unit/actor_fixture.hpp"
#include "tests/unit/runtime/store/switchable_backend.hpp"

#include <memory>

using namespace streamb;
using namespace std::chrono_literals;

namespace {

service_config stripe() {
  service_config svc;
  svc.name = "stripe";
  svc.limits.sustained = {1000, 60};
  svc.limits.reserved_share = 0.2;
  return svc;
}

struct fixture : test::actor_fixture {
  std::shared_ptr<store::testing::switchable_backend>
    db = std::make_shared<store::testing::switchable_backend>();
  store_actor store = sys().spawn(store_service,
                                  std::shared_ptr<store::backend>{db});
  budget_controller_actor budget;
  service_monitor_actor monitor;
  advisor_actor adv;

  /// Stores `days` full past days of traffic: 10 calls a minute, 5 % of
  /// them refused with 429.
  void store_history(int days) {
    auto today = advice::day_of(epoch_ms(sched.clock()));
    write_ops ops;
    for (int i = 1; i <= days; ++i) {
      auto key = advice::usage_key("stripe", today - i);
      ops.push_back(store::write_op::make_hincr_by(key, "calls", 14'400));
      ops.push_back(store::write_op::make_hincr_by(key, "rate_limited", 720));
      for (int m = 0; m < 1440; ++m)
        ops.push_back(
          store::write_op::make_hincr_by(key, "m" + std::to_string(m), 10));
    }
    ask<write_results>(store, write_atom_v, ops);
  }

  void start() {
    budget = sys().spawn(budget_controller, stripe(),
                         budget_controller_settings{}, store);
    monitor_settings ms;
    ms.observation_days = 7;
    monitor = sys().spawn(service_monitor, stripe(), ms, alert_sink_actor{},
                          std::shared_ptr<ingest_backlog>{}, store, budget);
    advisor_settings as;
    as.advice.observation_days = 7;
    adv = sys().spawn(advisor, std::vector<std::string>{"stripe"},
                      std::vector<service_monitor_actor>{monitor},
                      std::vector<budget_controller_actor>{budget}, as, store);
    sched.run();
  }

  ~fixture() {
    for (auto hdl : {caf::actor_cast<caf::actor>(adv),
                     caf::actor_cast<caf::actor>(monitor),
                     caf::actor_cast<caf::actor>(budget),
                     caf::actor_cast<caf::actor>(store)})
      self->send_exit(hdl, caf::exit_reason::user_shutdown);
  }

  limit_changes optimize(bool apply, double min_confidence = 0) {
    optimize_request r;
    r.apply = apply;
    r.min_confidence = min_confidence;
    r.who = "operator:ops";
    return ask<limit_changes>(adv, optimize_atom_v, r);
  }

  uint64_t sustained_limit() {
    return ask<budget_status>(budget, budget_atom_v).sustained_limit;
  }

  std::size_t audited(const std::string& action) {
    auto entries = db->inner.xrange(audit_stream, "-", "+");
    REQUIRE(entries);
    std::size_t n = 0;
    for (auto& e : *entries)
      if (audit_from_entry(e).action == action)
        ++n;
    return n;
  }
};

} // namespace

TEST_CASE_METHOD(fixture,
                 "a week of history read back from the store makes "
                 "a confident, bounded limit change") {
  store_history(7);
  start();
  auto dry = optimize(false);
  REQUIRE(dry.size() == 1);
  auto& c = dry[0];
  CHECK(c.status == advice::change_status::planned);
  CHECK(c.limit == budget::limit_tier::sustained);
  CHECK(c.before == 1000);
  // Peak: 20 calls in two minutes; * 1.5 headroom / 0.8 unreserved = 38.
  CHECK(c.after == 38);
  CHECK(c.confidence >= 0.8);
  CHECK(sustained_limit() == 1000); // a dry run changes nothing
  auto applied = optimize(true);
  REQUIRE(applied.size() == 1);
  CHECK(applied[0].status == advice::change_status::applied);
  CHECK_FALSE(applied[0].id.empty());
  CHECK(sustained_limit() == 38);
  CHECK(audited("advisor.apply") == 1);
  SECTION("one call undoes it") {
    auto undone = ask<limit_change>(adv, undo_atom_v, applied[0].id,
                                    std::string{"operator:ops"});
    CHECK(undone.status == advice::change_status::undone);
    CHECK(sustained_limit() == 1000);
    CHECK(audited("advisor.undo") == 1);
    // Twice is a conflict, not a second change.
    auto rh = self->request(adv, caf::infinite, undo_atom_v, applied[0].id,
                            std::string{"operator:ops"});
    sched.run();
    rh.receive([](limit_change&) { FAIL("undone twice"); },
               [](caf::error& err) {
                 CHECK(err == caf::make_error(error_code::conflict));
               });
  }
  SECTION("a limit changed since is not undone") {
    ask<budget_status>(budget, set_limit_atom_v, budget::limit_tier::sustained,
                       uint64_t{500}, std::string{"operator:other"});
    auto rh = self->request(adv, caf::infinite, undo_atom_v, applied[0].id,
                            std::string{"operator:ops"});
    sched.run();
    rh.receive([](limit_change&) { FAIL("undid a newer decision"); },
               [](caf::error& err) {
                 CHECK(err == caf::make_error(error_code::conflict));
               });
    CHECK(sustained_limit() == 500);
  }
  SECTION("the change survives a restart of the advisor, for undo") {
    self->send_exit(adv, caf::exit_reason::user_shutdown);
    sched.run();
    advisor_settings as;
    adv = sys().spawn(advisor, std::vector<std::string>{"stripe"},
                      std::vector<service_monitor_actor>{monitor},
                      std::vector<budget_controller_actor>{budget}, as, store);
    sched.run();
    auto xs = ask<limit_changes>(adv, changes_atom_v);
    REQUIRE(xs.size() == 1);
    CHECK(xs[0].id == applied[0].id);
    ask<limit_change>(adv, undo_atom_v, applied[0].id,
                      std::string{"operator:ops"});
    CHECK(sustained_limit() == 1000);
  }
}

TEST_CASE_METHOD(fixture, "without enough history nothing is applied") {
  store_history(1); // one day of seven
  start();
  auto xs = optimize(true);
  REQUIRE(xs.size() == 1);
  CHECK(xs[0].status == advice::change_status::skipped);
  CHECK(xs[0].reason.find("confidence") != std::string::npos);
  CHECK(sustained_limit() == 1000);
  CHECK(audited("advisor.apply") == 0);
}

TEST_CASE_METHOD(fixture, "a caller may ask for more confidence, never less") {
  store_history(7);
  start();
  CHECK(optimize(true, 0.9999)[0].status == advice::change_status::skipped);
  CHECK(sustained_limit() == 1000);
  CHECK(optimize(true, 0.0)[0].status == advice::change_status::applied);
}

TEST_CASE_METHOD(fixture, "undo of an unknown change is not found") {
  start();
  auto rh = self->request(adv, caf::infinite, undo_atom_v,
                          std::string{"chg-1-1"}, std::string{"operator:ops"});
  sched.run();
  rh.receive([](limit_change&) { FAIL("undid nothing"); },
             [](caf::error& err) {
               CHECK(err == caf::make_error(error_code::not_found));
             });
}
