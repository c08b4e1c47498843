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
  auto who = tickets.redeem(*t, 2000, ticket_scope::streams);
  REQUIRE(who);
  CHECK(who->who.id == "k1");
  CHECK(who->who.r == role::viewer);
  // Used up.
  CHECK(!tickets.redeem(*t, 2000, ticket_scope::streams));
  CHECK(tickets.open() == 0);
  // Unknown, or a near miss of a real one.
  auto u = tickets.issue(viewer_key(), 1000);
  REQUIRE(u);
  auto wrong = *u;
  wrong.back() = wrong.back() == '0' ? '1' : '0';
  CHECK(!tickets.redeem(wrong, 2000, ticket_scope::streams));
  CHECK(!tickets.redeem("", 2000, ticket_scope::streams));
  CHECK(tickets.redeem(
    *u, 2000, ticket_scope::streams)); // the near miss did not use it up
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
  CHECK(!tickets.redeem(*a, 30'000, ticket_scope::streams));
  CHECK(!tickets.redeem(*b, 30'000, ticket_scope::streams));
}

TEST_CASE("an agent ticket opens the agents' socket only, and names its key") {
  stream_tickets tickets{10, 30'000};
  identity agent{"k2", "browser-agent", role::agent, true};
  auto t = tickets.issue(agent, 0, ticket_scope::agent_socket, "hash-of-k2");
  REQUIRE(t);
  auto grant = tickets.redeem(*t, 1, ticket_scope::agent_socket);
  REQUIRE(grant);
  CHECK(grant->who.id == "k2");
  CHECK(grant->key_hash == "hash-of-k2");
  // Shown at the other door, each kind is refused and spent.
  auto a = tickets.issue(agent, 0, ticket_scope::agent_socket, "hash-of-k2");
  REQUIRE(a);
  CHECK(!tickets.redeem(*a, 1, ticket_scope::streams));
  CHECK(!tickets.redeem(*a, 1, ticket_scope::agent_socket));
  auto s = tickets.issue(viewer_key(), 0);
  REQUIRE(s);
  CHECK(!tickets.redeem(*s, 1, ticket_scope::agent_socket));
  CHECK(!tickets.redeem(*s, 1, ticket_scope::streams));
}
