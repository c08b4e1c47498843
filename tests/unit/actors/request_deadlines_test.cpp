// Request timeouts an actor keeps itself (actors/request_deadlines.hpp): a
// request past its deadline gets request_timeout once, at the first expire
// after the deadline; an answer in time clears the deadline; a late answer
// is dropped.

#include "actors/request_deadlines.hpp"

#include "tests/unit/actor_fixture.hpp"

#include <caf/event_based_actor.hpp>
#include <caf/response_promise.hpp>
#include <caf/send.hpp>
#include <caf/type_id.hpp>

#include <memory>
#include <vector>

using namespace streamb;
using namespace std::chrono_literals;

namespace {

/// Keeps each request open until told (`tick`), then answers all.
caf::behavior holder(caf::event_based_actor* self, int) {
  using promise = caf::typed_response_promise<int32_t>;
  auto open = std::make_shared<std::vector<promise>>();
  return {
    [=](int32_t) -> caf::result<int32_t> {
      auto rp = self->make_response_promise<int32_t>();
      open->push_back(rp);
      return rp;
    },
    [=](caf::tick_atom) {
      for (auto& rp : *open)
        rp.deliver(int32_t{7});
      open->clear();
    },
  };
}

/// What the asking actor saw, in order: the answer or the error's text.
struct seen {
  std::vector<std::string> events;
  request_deadlines* deadlines = nullptr;
};

/// Asks `target` on every int, with a 1 s deadline; expires on `timeout`.
caf::behavior asking(caf::event_based_actor* self, caf::actor target,
                     std::shared_ptr<seen> log) {
  auto deadlines = std::make_shared<request_deadlines>();
  log->deadlines = deadlines.get();
  return {
    [=](int32_t x) {
      request_watched(self, *deadlines, 1000ms, target, x)
        .then([log](int32_t y) { log->events.push_back(std::to_string(y)); },
              [log](caf::error& err) {
                log->events.push_back(err == caf::sec::request_timeout
                                        ? "timeout"
                                        : caf::to_string(err));
              });
    },
    [=](caf::timeout_atom) { deadlines->expire(self); },
  };
}

} // namespace

TEST_CASE_METHOD(test::actor_fixture,
                 "a request past its deadline times out once at the next "
                 "expire; an answer in time clears its deadline") {
  auto target = sys().spawn(holder, 0);
  auto log = std::make_shared<seen>();
  auto me = sys().spawn(asking, target, log);
  caf::anon_send(me, int32_t{1});
  sched.run();
  REQUIRE(log->deadlines->open() == 1);
  // Before the deadline, expiring does nothing.
  advance(900ms);
  caf::anon_send(me, caf::timeout_atom_v);
  sched.run();
  CHECK(log->events.empty());
  // After it: one timeout, and the deadline is gone.
  advance(200ms);
  caf::anon_send(me, caf::timeout_atom_v);
  sched.run();
  REQUIRE(log->events == std::vector<std::string>{"timeout"});
  CHECK(log->deadlines->open() == 0);
  // The late answer finds no handler: nothing more is seen.
  caf::anon_send(target, caf::tick_atom_v);
  sched.run();
  CHECK(log->events.size() == 1);
  // An answer in time clears the deadline; a later expire finds nothing.
  caf::anon_send(me, int32_t{2});
  sched.run();
  caf::anon_send(target, caf::tick_atom_v);
  sched.run();
  CHECK(log->events.back() == "7");
  CHECK(log->deadlines->open() == 0);
  advance(5s);
  caf::anon_send(me, caf::timeout_atom_v);
  sched.run();
  CHECK(log->events.size() == 2);
  for (auto& h : {target, me})
    caf::anon_send_exit(h, caf::exit_reason::user_shutdown);
}
