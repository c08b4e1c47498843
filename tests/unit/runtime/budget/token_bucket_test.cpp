#include "runtime/budget/token_bucket.hpp"

#include "tests/unit/runtime/budget/sim_clock.hpp"

#include <catch2/catch.hpp>

using namespace streamb::budget;
using namespace streamb::budget::test;

namespace {

const int64_t t0 = utc_ms(2024, 6, 1, 12);

} // namespace

TEST_CASE("a full bucket grants a burst of its capacity, then refills",
          "[budget]") {
  token_bucket b{5, 1}; // 5 tokens, 1 per second
  sim_clock clock{t0};
  for (int i = 0; i < 5; ++i)
    CHECK(b.try_take(1, clock.now));
  CHECK_FALSE(b.try_take(1, clock.now));
  CHECK(b.available(clock.now) == 0);
  CHECK(b.wait_ms(1, clock.now) == 1000);
  clock.advance(999);
  CHECK_FALSE(b.try_take(1, clock.now));
  CHECK(b.wait_ms(1, clock.now) == 1);
  clock.advance(1);
  CHECK(b.try_take(1, clock.now));
  CHECK_FALSE(b.try_take(1, clock.now));
}

TEST_CASE("a bucket never holds more than its capacity after idling",
          "[budget]") {
  token_bucket b{5, 1};
  CHECK(b.try_take(5, t0));
  CHECK(b.available(t0 + hours(1)) == 5);
  CHECK(b.try_take(5, t0 + hours(1)));
  CHECK_FALSE(b.try_take(1, t0 + hours(1)));
}

TEST_CASE("wait_ms is the exact time until the units fit", "[budget]") {
  token_bucket b{10, 4}; // one token per 250 ms
  CHECK(b.try_take(10, t0));
  CHECK(b.wait_ms(3, t0) == 750);
  CHECK_FALSE(b.can_take(3, t0 + 749));
  CHECK(b.can_take(3, t0 + 750));
  CHECK(b.wait_ms(3, t0 + 750) == 0);
  // Partially refilled: 1 token at +250, 2 more needed.
  CHECK(b.wait_ms(3, t0 + 250) == 500);
}

TEST_CASE("more units than the capacity never fit", "[budget]") {
  token_bucket b{5, 1};
  CHECK(b.wait_ms(6, t0) == never_ms);
  CHECK_FALSE(b.try_take(6, t0));
  CHECK(b.available(t0) == 5); // a refused request takes nothing
}

TEST_CASE("fractional refill is exact over many small steps", "[budget]") {
  // 0.7 tokens per second: 1/0.7 s per token is not a whole number of ms,
  // so rounding each step would drift. Step one bucket every 3 ms (and one
  // every 7 ms) for 1000 s, the other once: both hold exactly 700 tokens.
  token_bucket stepped{1000, 0.7};
  token_bucket stepped7{1000, 0.7};
  token_bucket once{1000, 0.7};
  for (auto* b : {&stepped, &stepped7, &once})
    REQUIRE(b->try_take(1000, t0));
  for (int64_t t = t0; t <= t0 + seconds(1000); t += 3)
    stepped.try_take(0, t);
  for (int64_t t = t0; t <= t0 + seconds(1000); t += 7)
    stepped7.try_take(0, t);
  auto end = t0 + seconds(1000);
  CHECK(stepped.available(end) == 700);
  CHECK(stepped7.available(end) == 700);
  CHECK(once.available(end) == 700);
  // 700 tokens exactly, no fraction: the 701st needs 1/0.7 s = 1428.57 ms.
  CHECK(stepped.wait_ms(701, end) == 1429);
  CHECK(stepped7.wait_ms(701, end) == 1429);
  CHECK(once.wait_ms(701, end) == 1429);
}

TEST_CASE("a fractional capacity rounds down to whole grants", "[budget]") {
  token_bucket b{2.5, 0.5};
  CHECK(b.capacity() == 2);
  CHECK(b.try_take(2, t0));
  CHECK(b.wait_ms(3, t0) == never_ms);
  // 0.5 left; 0.5 more in 1 s makes one token.
  CHECK(b.wait_ms(1, t0) == 1000);
}

TEST_CASE("put_back returns an unused grant up to the capacity", "[budget]") {
  token_bucket b{5, 1};
  CHECK(b.try_take(4, t0));
  b.put_back(2, t0);
  CHECK(b.available(t0) == 3);
  b.put_back(10, t0);
  CHECK(b.available(t0) == 5);
}

TEST_CASE("a clock that goes back refills nothing", "[budget]") {
  token_bucket b{5, 1};
  CHECK(b.try_take(5, t0 + seconds(10)));
  CHECK(b.available(t0) == 0);
  CHECK_FALSE(b.try_take(1, t0));
  CHECK(b.available(t0 + seconds(11)) == 1);
}

TEST_CASE("a bucket configured with zeros does not limit", "[budget]") {
  token_bucket b{0, 0};
  CHECK_FALSE(b.limited());
  CHECK(b.try_take(1'000'000, t0));
  CHECK(b.wait_ms(1'000'000, t0) == 0);
}

TEST_CASE("a reconfigured bucket keeps the tokens taken from it", "[budget]") {
  token_bucket b{25, 1};
  CHECK(b.try_take(10, t0));
  b.reconfigure(10, 1, t0); // lowered: the 10 taken use it all
  CHECK(b.capacity() == 10);
  CHECK(b.available(t0) == 0);
  CHECK(b.wait_ms(1, t0) == 1000);
  b.reconfigure(30, 2, t0); // raised: the 20 extra tokens at once
  CHECK(b.available(t0) == 20);
  CHECK(b.try_take(20, t0));
  CHECK(b.wait_ms(1, t0) == 500); // at the new rate
  CHECK(b.available(t0 + hours(1)) == 30);
}

TEST_CASE("a bucket enabled by a reconfigure starts full", "[budget]") {
  token_bucket b{0, 0};
  CHECK_FALSE(b.limited());
  b.reconfigure(5, 1, t0);
  CHECK(b.limited());
  CHECK(b.available(t0) == 5);
  b.reconfigure(0, 0, t0);
  CHECK_FALSE(b.limited());
  CHECK(b.try_take(100, t0));
}
