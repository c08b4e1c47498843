// Asks that never wait (bridges/ask.hpp): the callback gets the answer, the
// actor's error or the timeout, exactly once; a batch calls back once with
// every answer in.

#include "bridges/ask.hpp"

#include "tests/unit/actor_fixture.hpp"

#include <caf/typed_event_based_actor.hpp>

#include <deque>

using namespace streamb;
using namespace std::chrono_literals;

namespace {

using doubler_actor = caf::typed_actor<caf::replies_to<int32_t>::with<int32_t>>;

// The unused arguments: CAF 0.17 dereferences an empty argument tuple for
// function actors spawned without arguments (UBSan reports it).
doubler_actor::behavior_type doubler(int) {
  return {[](int32_t x) { return x * 2; }};
}

/// Keeps every request open and never answers.
doubler_actor::behavior_type silent(doubler_actor::pointer self, int) {
  return {[self](int32_t) -> caf::result<int32_t> {
    return self->make_response_promise<int32_t>();
  }};
}

/// Answers every request `delay` late.
caf::behavior late(caf::event_based_actor* self,
                   std::chrono::milliseconds delay) {
  using open_request = std::pair<caf::typed_response_promise<int32_t>, int32_t>;
  auto open = std::make_shared<std::deque<open_request>>();
  return {
    [=](int32_t x) -> caf::result<int32_t> {
      auto rp = self->make_response_promise<int32_t>();
      open->emplace_back(rp, x);
      self->delayed_send(self, delay, caf::tick_atom_v);
      return rp;
    },
    [=](caf::tick_atom) {
      auto [rp, x] = open->front();
      open->pop_front();
      rp.deliver(x * 2);
    },
  };
}

struct ask_fixture : test::actor_fixture {
  http_context ctx;

  ask_fixture() {
    ctx.system = &sys();
    ctx.askers = std::make_shared<asker_pool>(sys(), 2);
  }

  ~ask_fixture() {
    ctx.askers->stop();
    sched.run();
  }
};

} // namespace

TEST_CASE_METHOD(ask_fixture, "ask_then calls back once with the answer") {
  auto hdl = sys().spawn(doubler, 0);
  int calls = 0;
  caf::expected<int32_t> got = caf::sec::none;
  ask_then<int32_t>(
    ctx, 1000ms, hdl,
    [&](caf::expected<int32_t> x) {
      ++calls;
      got = std::move(x);
    },
    int32_t{21});
  CHECK(calls == 0); // nothing ran yet: the route's thread is free
  sched.run();
  CHECK(calls == 1);
  REQUIRE(got);
  CHECK(*got == 42);
  caf::anon_send_exit(hdl, caf::exit_reason::user_shutdown);
}

TEST_CASE_METHOD(ask_fixture,
                 "ask_then calls back with request_timeout when the actor "
                 "does not answer in time, and with an error when it is "
                 "gone") {
  auto quiet = sys().spawn(silent, 0);
  int calls = 0;
  caf::expected<int32_t> got = 0;
  ask_then<int32_t>(
    ctx, 500ms, quiet,
    [&](caf::expected<int32_t> x) {
      ++calls;
      got = std::move(x);
    },
    int32_t{1});
  sched.run();
  CHECK(calls == 0);
  advance(600ms);
  CHECK(calls == 1);
  CHECK(got.error() == caf::sec::request_timeout);
  caf::anon_send_exit(quiet, caf::exit_reason::user_shutdown);
  sched.run();
  // The actor is gone now: the ask fails at once, not at the timeout.
  ask_then<int32_t>(
    ctx, 10s, quiet,
    [&](caf::expected<int32_t> x) {
      ++calls;
      got = std::move(x);
    },
    int32_t{1});
  sched.run();
  CHECK(calls == 2);
  CHECK(!got);
}

TEST_CASE_METHOD(ask_fixture,
                 "an answer that arrives after the timeout is dropped: the "
                 "callback runs once, with request_timeout; answers in time "
                 "cancel their deadline") {
  auto slow = sys().spawn(late, 800ms);
  int calls = 0;
  caf::expected<int32_t> got = 0;
  ask_then<int32_t>(
    ctx, 500ms, slow,
    [&](caf::expected<int32_t> x) {
      ++calls;
      got = std::move(x);
    },
    int32_t{1});
  sched.run();
  advance(600ms);
  CHECK(calls == 1);
  CHECK(got.error() == caf::sec::request_timeout);
  advance(400ms); // the late answer comes now and finds no handler
  CHECK(calls == 1);
  // An answer in time: no timeout follows it, however long we wait.
  auto quick = sys().spawn(late, 100ms);
  ask_then<int32_t>(
    ctx, 500ms, quick,
    [&](caf::expected<int32_t> x) {
      ++calls;
      got = std::move(x);
    },
    int32_t{4});
  sched.run();
  advance(200ms);
  CHECK(calls == 2);
  REQUIRE(got);
  CHECK(*got == 8);
  advance(2s);
  CHECK(calls == 2);
  for (auto& h : {slow, quick})
    caf::anon_send_exit(h, caf::exit_reason::user_shutdown);
}

TEST_CASE_METHOD(ask_fixture,
                 "an async batch calls back once, with every answer and every "
                 "error in its place") {
  auto a = sys().spawn(doubler, 0);
  auto b = sys().spawn(doubler, 0);
  auto quiet = sys().spawn(silent, 0);
  struct answers {
    caf::expected<int32_t> x = unanswered<int32_t>();
    caf::expected<int32_t> y = unanswered<int32_t>();
    caf::expected<int32_t> z = unanswered<int32_t>();
  };
  auto st = std::make_shared<answers>();
  int calls = 0;
  async_batch batch{500ms};
  batch.add(st->x, a, int32_t{1});
  batch.add(st->y, b, int32_t{2});
  batch.add(st->z, quiet, int32_t{3});
  std::move(batch).run(ctx, [&calls, st] { ++calls; });
  sched.run();
  CHECK(calls == 0); // one answer is still out
  advance(600ms);
  CHECK(calls == 1);
  REQUIRE(st->x);
  CHECK(*st->x == 2);
  REQUIRE(st->y);
  CHECK(*st->y == 4);
  CHECK(st->z.error() == caf::sec::request_timeout);
  // An empty batch calls back too.
  std::move(async_batch{1s}).run(ctx, [&calls] { ++calls; });
  sched.run();
  CHECK(calls == 2);
  for (auto& h : {a, b, quiet})
    caf::anon_send_exit(h, caf::exit_reason::user_shutdown);
}

TEST_CASE_METHOD(ask_fixture, "after stop, asks are dropped, not sent") {
  auto hdl = sys().spawn(doubler, 0);
  ctx.askers->stop();
  sched.run();
  int calls = 0;
  ask_then<int32_t>(
    ctx, 1000ms, hdl, [&](caf::expected<int32_t>) { ++calls; }, int32_t{1});
  sched.run();
  CHECK(calls == 0);
  caf::anon_send_exit(hdl, caf::exit_reason::user_shutdown);
}
