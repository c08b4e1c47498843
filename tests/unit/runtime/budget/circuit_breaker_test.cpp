#include "runtime/budget/circuit_breaker.hpp"

#include "runtime/messages.hpp"
#include "tests/unit/runtime/budget/sim_clock.hpp"

#include <catch2/catch.hpp>

using namespace streamb;
using namespace streamb::budget;
using namespace streamb::budget::test;

namespace {

const int64_t t0 = utc_ms(2024, 6, 1, 12);

// error_rate 0.5 over the last 10 calls, 30 s open, 3 probes.
circuit_breaker make() {
  return circuit_breaker{0.5, 10, 30, 3};
}

void feed(circuit_breaker& b, status_class x, int n, int64_t now) {
  for (int i = 0; i < n; ++i)
    b.record(x, now);
}

} // namespace

TEST_CASE("a breaker opens on a burst of 5xx once it has min_calls",
          "[budget]") {
  auto b = make();
  feed(b, status_class::server_error, 9, t0);
  CHECK(b.state() == breaker_state::closed); // 9 calls: too few to judge
  CHECK(b.allow(t0));
  b.record(status_class::server_error, t0);
  CHECK(b.state() == breaker_state::open);
  CHECK_FALSE(b.allow(t0));
  CHECK(b.times_opened() == 1);
}

TEST_CASE("a breaker judges the ratio over the last min_calls calls",
          "[budget]") {
  auto b = make();
  feed(b, status_class::ok, 6, t0);
  feed(b, status_class::timeout, 4, t0);
  CHECK(b.state() == breaker_state::closed); // 4 of 10
  CHECK(b.failures() == 4);
  b.record(status_class::network, t0);     // an ok leaves, a failure comes
  CHECK(b.state() == breaker_state::open); // 5 of the last 10
}

TEST_CASE("client errors and 429s are not failures", "[budget]") {
  auto b = make();
  feed(b, status_class::client_error, 10, t0);
  feed(b, status_class::rate_limited, 10, t0);
  CHECK(b.state() == breaker_state::closed);
  CHECK(b.failures() == 0);
  CHECK(b.calls() == 10);
}

TEST_CASE("open, then half-open after the cool-down, closed by good probes",
          "[budget]") {
  auto b = make();
  sim_clock clock{t0};
  feed(b, status_class::server_error, 10, clock.now);
  REQUIRE(b.state() == breaker_state::open);
  CHECK(b.wait_ms(clock.now) == seconds(30));
  clock.advance(seconds(30) - 1);
  CHECK_FALSE(b.allow(clock.now));
  CHECK(b.wait_ms(clock.now) == 1);
  clock.advance(1);
  CHECK(b.wait_ms(clock.now) == 0);
  // Three probes go out, the fourth caller waits.
  CHECK(b.allow(clock.now));
  CHECK(b.state() == breaker_state::half_open);
  CHECK(b.allow(clock.now));
  CHECK(b.allow(clock.now));
  CHECK_FALSE(b.allow(clock.now));
  feed(b, status_class::ok, 2, clock.now);
  CHECK(b.state() == breaker_state::half_open);
  b.record(status_class::ok, clock.now);
  CHECK(b.state() == breaker_state::closed);
  CHECK(b.allow(clock.now));
  // Closed with a clean slate: one failure does not reopen it.
  b.record(status_class::server_error, clock.now);
  CHECK(b.state() == breaker_state::closed);
  CHECK(b.calls() == 1);
}

TEST_CASE("a failed probe reopens the breaker for a fresh cool-down",
          "[budget]") {
  auto b = make();
  sim_clock clock{t0};
  feed(b, status_class::server_error, 10, clock.now);
  clock.advance(seconds(30));
  CHECK(b.allow(clock.now));
  b.record(status_class::ok, clock.now);
  clock.advance(seconds(2));
  CHECK(b.allow(clock.now));
  b.record(status_class::server_error, clock.now);
  CHECK(b.state() == breaker_state::open);
  CHECK(b.times_opened() == 2);
  CHECK(b.wait_ms(clock.now) == seconds(30));
  CHECK_FALSE(b.allow(clock.now + seconds(29)));
  CHECK(b.allow(clock.now + seconds(30)));
  CHECK(b.state() == breaker_state::half_open);
}

TEST_CASE("outcomes arriving while open are ignored", "[budget]") {
  auto b = make();
  feed(b, status_class::server_error, 10, t0);
  feed(b, status_class::ok, 50, t0 + seconds(1));
  CHECK(b.state() == breaker_state::open);
  CHECK_FALSE(b.allow(t0 + seconds(1)));
}

TEST_CASE("probes that never report get another round after open_s",
          "[budget]") {
  auto b = make();
  sim_clock clock{t0};
  feed(b, status_class::server_error, 10, clock.now);
  clock.advance(seconds(30));
  for (int i = 0; i < 3; ++i)
    CHECK(b.allow(clock.now));
  CHECK_FALSE(b.allow(clock.now + seconds(29)));
  CHECK(b.wait_ms(clock.now + seconds(29)) == seconds(1));
  CHECK(b.allow(clock.now + seconds(30)));
  CHECK(b.state() == breaker_state::half_open);
}

TEST_CASE("error_rate 0 disables the breaker", "[budget]") {
  circuit_breaker b{0.0, 10, 30, 3};
  feed(b, status_class::server_error, 100, t0);
  CHECK(b.state() == breaker_state::closed);
  CHECK(b.allow(t0));
}

TEST_CASE("a reconfigured breaker keeps its state and its newest outcomes",
          "[budget]") {
  auto b = make();
  feed(b, status_class::ok, 6, t0);
  feed(b, status_class::server_error, 3, t0);
  // min_calls 10 -> 4: the newest four (1 ok, 3 failures) stay.
  b.reconfigure(0.5, 4, 30, 3);
  CHECK(b.calls() == 4);
  CHECK(b.failures() == 3);
  CHECK(b.state() == breaker_state::closed); // judged at the next outcome
  b.record(status_class::server_error, t0);
  CHECK(b.state() == breaker_state::open);
  // Open stays open; the cool-down is the new one, from when it opened.
  b.reconfigure(0.5, 4, 60, 3);
  CHECK(b.state() == breaker_state::open);
  CHECK(b.wait_ms(t0 + 30'000) == 30'000);
  CHECK(b.allow(t0 + 60'000));
  // A disabled breaker closes.
  b.reconfigure(0, 4, 60, 3);
  CHECK(b.state() == breaker_state::closed);
  CHECK(b.allow(t0 + 60'000));
}
