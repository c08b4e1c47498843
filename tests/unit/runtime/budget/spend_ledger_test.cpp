#include "runtime/budget/spend_ledger.hpp"

#include <catch2/catch.hpp>

using namespace streamb::budget;

TEST_CASE("a reported call settles the oldest open grant: its estimate out, "
          "its actual cost in",
          "[budget]") {
  spend_ledger x;
  x.open(100, 60'000);
  x.open(200, 61'000);
  x.open(300, 62'000);
  CHECK(x.reserved_micros() == 600);
  x.settle(2, 250); // the first two estimated 300 together
  CHECK(x.open_grants() == 1);
  CHECK(x.reserved_micros() == 300);
  CHECK(x.take_delta() == -50);
  CHECK(x.take_delta() == 0); // told once
  // More calls than open grants: their cost still counts.
  x.settle(3, 400);
  CHECK(x.open_grants() == 0);
  CHECK(x.reserved_micros() == 0);
  CHECK(x.take_delta() == 100);
}

TEST_CASE("a grant no call settled gives its estimate back when it expires",
          "[budget]") {
  spend_ledger x;
  x.open(100, 60'000);
  x.open(200, 70'000);
  x.expire(59'999);
  CHECK(x.open_grants() == 2);
  x.expire(60'000);
  CHECK(x.open_grants() == 1);
  CHECK(x.reserved_micros() == 200);
  CHECK(x.take_delta() == -100);
  x.clear();
  CHECK(x.reserved_micros() == 0);
  CHECK(x.open_grants() == 0);
  CHECK(x.take_delta() == 0);
}
