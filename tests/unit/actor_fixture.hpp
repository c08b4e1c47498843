#pragma once

// Deterministic actor tests in Catch2 (see STYLE.md): CAF's testing
// scheduler runs jobs only when told and its clock moves only when advanced.

#include "runtime/messages.hpp"

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/scheduler/test_coordinator.hpp>
#include <caf/scoped_actor.hpp>

#include <catch2/catch.hpp>

#include <optional>
#include <string>

namespace streamb::test {

class actor_fixture {
public:
  actor_fixture()
    : sys_(prepare(cfg_)),
      sched(dynamic_cast<caf::scheduler::test_coordinator&>(sys_.scheduler())),
      self(sys_) {
    // nop
  }

  ~actor_fixture() {
    // Timers the actors re-arm would keep them (and the system) alive.
    sched.clock().cancel_all();
    sched.run();
  }

  caf::actor_system& sys() {
    return sys_;
  }

  /// Moves simulated time and runs what became due.
  void advance(caf::timespan d) {
    sched.clock().advance_time(d);
    sched.run();
  }

  /// Asks `hdl` and returns its answer, or fails the test.
  template <class T, class Handle, class... Ts>
  T ask(const Handle& hdl, Ts&&... xs) {
    std::optional<T> result;
    std::string failure;
    auto rh = self->request(hdl, caf::infinite, std::forward<Ts>(xs)...);
    sched.run();
    rh.receive([&](T& x) { result = std::move(x); },
               [&](caf::error& err) { failure = caf::to_string(err); });
    INFO(failure);
    REQUIRE(result);
    return std::move(*result);
  }

private:
  static caf::actor_system_config& prepare(caf::actor_system_config& cfg) {
    cfg.set("scheduler.policy", caf::atom("testing"));
    cfg.set("logger.verbosity", caf::atom("quiet"));
    register_message_types(cfg);
    return cfg;
  }

  caf::actor_system_config cfg_;
  caf::actor_system sys_;

public:
  caf::scheduler::test_coordinator& sched;
  caf::scoped_actor self;
};

} // namespace streamb::test
