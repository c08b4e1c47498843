// One-time stream tickets (runtime/auth/stream_tickets.hpp).

#include "runtime/auth/stream_tickets.hpp"

#include <catch2/catch.hpp>

using namespace streamb;
using namespace streamb::auth;

namespace {

identity viewer_key() {
  return identity{"k1", "dashboard", role::viewer, true};
}

} // namespace

TEST_CASE("a stream ticket opens once, for the identity that asked") {
  stream_tickets tickets{10, 30'000};
  auto t = tickets.issue(viewer_key(), 1000);
  REQUIRE(t);
  CHECK(t->rfind("sbt_", 0) == 0);
  CHECK(tickets.open() == 1);
  auto who = tickets.redeem(*t, 2000);
  REQUIRE(who);
  CHECK(who->id == "k1");
  CHECK(who->r == role::viewer);
  // Used up.
  CHECK(!tickets.redeem(*t, 2000));
  CHECK(tickets.open() == 0);
  // Unknown, or a near miss of a real one.
  auto u = tickets.issue(viewer_key(), 1000);
  REQUIRE(u);
  auto wrong = *u;
  wrong.back() = wrong.back() == '0' ? '1' : '0';
  CHECK(!tickets.redeem(wrong, 2000));
  CHECK(!tickets.redeem("", 2000));
  CHECK(tickets.redeem(*u, 2000)); // the near miss did not use it up
}

TEST_CASE("a stream ticket expires after its ttl, and at most max_open wait") {
  stream_tickets tickets{2, 30'000};
  auto a = tickets.issue(viewer_key(), 0);
  auto b = tickets.issue(viewer_key(), 0);
  REQUIRE(a);
  REQUIRE(b);
  CHECK(!tickets.issue(viewer_key(), 1000)); // full: the caller says 429
  // Expired ones make room, and are gone.
  CHECK(tickets.issue(viewer_key(), 30'000));
  CHECK(!tickets.redeem(*a, 30'000));
  CHECK(!tickets.redeem(*b, 30'000));
}
