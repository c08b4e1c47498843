#include "runtime/budget/sliding_window.hpp"

#include "tests/unit/runtime/budget/sim_clock.hpp"

#include <catch2/catch.hpp>

#include <vector>

using namespace streamb::budget;
using namespace streamb::budget::test;

namespace {

// On a granule boundary (whole second), so edges are easy to read.
const int64_t t0 = utc_ms(2024, 6, 1, 12);

} // namespace

TEST_CASE("a window of 60 s has 1 s granules by default", "[budget]") {
  sliding_window w{10, seconds(60)};
  CHECK(w.granule_ms() == 1000);
  CHECK(w.capacity() == 10);
}

TEST_CASE("a full window frees a unit one window plus one granule later",
          "[budget]") {
  sliding_window w{10, seconds(60)};
  CHECK(w.try_take(10, t0));
  CHECK_FALSE(w.try_take(1, t0));
  CHECK(w.count(t0) == 10);
  // Taken in granule [t0, t0 + 1 s): counted until t0 + 61 s.
  CHECK(w.wait_ms(1, t0) == seconds(61));
  CHECK_FALSE(w.can_take(1, t0 + seconds(61) - 1));
  CHECK(w.wait_ms(1, t0 + seconds(61) - 1) == 1);
  CHECK(w.can_take(1, t0 + seconds(61)));
  CHECK(w.count(t0 + seconds(61)) == 0);
}

TEST_CASE("a unit taken late in a granule still counts a full window",
          "[budget]") {
  sliding_window w{1, seconds(60)};
  CHECK(w.try_take(1, t0 + 999));
  // Exactly one window after it, it is still counted ...
  CHECK_FALSE(w.can_take(1, t0 + 999 + seconds(60)));
  // ... and leaves at the end of that granule.
  CHECK(w.can_take(1, t0 + seconds(61)));
}

TEST_CASE("the window slides: old units leave while newer ones stay",
          "[budget]") {
  sliding_window w{10, seconds(60)};
  CHECK(w.try_take(5, t0));
  CHECK(w.try_take(5, t0 + seconds(30)));
  CHECK(w.available(t0 + seconds(60)) == 0);
  CHECK(w.available(t0 + seconds(61)) == 5); // the first five left
  CHECK(w.available(t0 + seconds(90)) == 5); // the second five have not
  CHECK(w.available(t0 + seconds(91)) == 10);
}

TEST_CASE("wait_ms waits for the granule whose leaving frees enough",
          "[budget]") {
  sliding_window w{10, seconds(60)};
  CHECK(w.try_take(3, t0));
  CHECK(w.try_take(3, t0 + seconds(10)));
  CHECK(w.try_take(4, t0 + seconds(20)));
  auto now = t0 + seconds(30);
  CHECK(w.wait_ms(3, now) == seconds(31)); // the 3 of t0 leave at +61 s
  CHECK(w.wait_ms(4, now) == seconds(41)); // needs the 3 of +10 s too
  CHECK(w.wait_ms(10, now) == seconds(51));
  CHECK(w.wait_ms(11, now) == never_ms);
  CHECK_FALSE(w.try_take(11, now + hours(1)));
}

TEST_CASE("no exact window ever holds more than the limit", "[budget]") {
  // Greedy clients asking every 137 ms for ten minutes.
  sliding_window w{10, seconds(60)};
  std::vector<int64_t> grants;
  for (int64_t t = t0 + 421; t < t0 + minutes(10); t += 137)
    if (w.try_take(1, t))
      grants.push_back(t);
  REQUIRE(grants.size() >= 90); // ~10 per 61 s over 600 s
  for (size_t i = 0; i < grants.size(); ++i) {
    size_t in_window = 0;
    for (size_t j = i; j < grants.size() && grants[j] < grants[i] + seconds(60);
         ++j)
      ++in_window;
    CHECK(in_window <= 10);
  }
}

TEST_CASE("a window that does not divide by 60 rounds up to whole granules",
          "[budget]") {
  sliding_window w{1, seconds(1)}; // 16 ms granules, 63 of them = 1008 ms
  CHECK(w.granule_ms() == 16);
  CHECK(w.try_take(1, t0));
  CHECK_FALSE(w.can_take(1, t0 + seconds(1)));
  auto wait = w.wait_ms(1, t0);
  CHECK(wait >= seconds(1));
  CHECK(wait <= seconds(1) + 2 * 16);
  CHECK(w.can_take(1, t0 + wait));
}

TEST_CASE("an explicit granule sets the resolution", "[budget]") {
  sliding_window w{2, seconds(10), 5000}; // two granules of 5 s
  CHECK(w.try_take(2, t0 + 4999));
  CHECK(w.wait_ms(1, t0 + 4999) == seconds(15) - 4999);
}

TEST_CASE("a window with limit 0 does not limit", "[budget]") {
  sliding_window w{0, seconds(60)};
  CHECK_FALSE(w.limited());
  CHECK(w.try_take(1'000'000, t0));
  CHECK(w.wait_ms(1'000'000, t0) == 0);
}
