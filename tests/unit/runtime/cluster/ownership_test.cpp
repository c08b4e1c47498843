#include "runtime/cluster/ownership.hpp"

#include <catch2/catch.hpp>

using namespace streamb::cluster;

namespace {

const std::vector<std::string> order{"a", "b", "c"};

peer_view up(std::string name, std::vector<std::string> owns = {}) {
  return {std::move(name), true, 0, std::move(owns), {}};
}

peer_view down(std::string name, int64_t since_ms) {
  return {std::move(name), false, since_ms, {}, "refused"};
}

} // namespace

TEST_CASE("the first live node of a placement owns the service") {
  // Everyone up, nobody owns it yet: a takes it, b and c wait for a.
  auto at_a = choose_owner("stripe", order, "a", false, {up("b"), up("c")},
                           1000, 3000);
  CHECK(at_a.owner == "a");
  CHECK(at_a.here);
  auto at_b = choose_owner("stripe", order, "b", false, {up("a"), up("c")},
                           1000, 3000);
  CHECK(at_b.owner == "a");
  CHECK_FALSE(at_b.here);
  // a took it: b and c route to a.
  auto routed = choose_owner("stripe", order, "c", false,
                             {up("a", {"stripe"}), up("b")}, 1000, 3000);
  CHECK(routed.owner == "a");
  CHECK_FALSE(routed.here);
}

TEST_CASE("a dead node's service moves on only after the failover delay") {
  // a unreachable since t=1000: b waits until t=4000, then takes it.
  auto early = choose_owner("stripe", order, "b", false,
                            {down("a", 1000), up("c")}, 3999, 3000);
  CHECK(early.owner.empty());
  CHECK_FALSE(early.here);
  auto late = choose_owner("stripe", order, "b", false,
                           {down("a", 1000), up("c")}, 4000, 3000);
  CHECK(late.owner == "b");
  CHECK(late.here);
  // c sees the same and routes to b, which is alive.
  auto at_c = choose_owner("stripe", order, "c", false,
                           {down("a", 1000), up("b")}, 4000, 3000);
  CHECK(at_c.owner == "b");
  CHECK_FALSE(at_c.here);
  // With b dead too (for long enough), c takes it.
  auto last = choose_owner("stripe", order, "c", false,
                           {down("a", 1000), down("b", 500)}, 4000, 3000);
  CHECK(last.owner == "c");
  CHECK(last.here);
}

TEST_CASE("a returning node does not take its service back") {
  // b owns stripe since a died; a comes back and routes to b.
  auto at_a = choose_owner("stripe", order, "a", false,
                           {up("b", {"stripe"}), up("c")}, 9000, 3000);
  CHECK(at_a.owner == "b");
  CHECK_FALSE(at_a.here);
  // b keeps it although a, earlier in the placement, is alive again.
  auto at_b = choose_owner("stripe", order, "b", true, {up("a"), up("c")}, 9000,
                           3000);
  CHECK(at_b.owner == "b");
  CHECK(at_b.here);
}

TEST_CASE("a node that just started takes nothing until it has heard from "
          "the nodes of the placement or their failover delay is over") {
  // a restarts at t=9000 (peers not heard from count as down since then)
  // while b owns stripe: a waits instead of taking it as first in line...
  auto starting = choose_owner("stripe", order, "a", false,
                               {down("b", 9000), down("c", 9000)}, 9100, 3000);
  CHECK(starting.owner.empty());
  CHECK_FALSE(starting.here);
  // ...hears from b, which owns it, and routes there.
  auto heard = choose_owner("stripe", order, "a", false,
                            {up("b", {"stripe"}), down("c", 9000)}, 9200, 3000);
  CHECK(heard.owner == "b");
  CHECK_FALSE(heard.here);
  // Alone after the delay (b and c really are down), it takes it.
  auto alone = choose_owner("stripe", order, "a", false,
                            {down("b", 9000), down("c", 9000)}, 12000, 3000);
  CHECK(alone.owner == "a");
  CHECK(alone.here);
  // A node later in the placement that it has not heard from makes it wait
  // too: it may be the one that owns the service.
  auto later = choose_owner("stripe", order, "a", false,
                            {up("b"), down("c", 9000)}, 9100, 3000);
  CHECK(later.owner.empty());
}

TEST_CASE("of two owners the earlier in the placement keeps the service") {
  // a and b both took it while they could not see each other.
  auto at_b = choose_owner("stripe", order, "b", true,
                           {up("a", {"stripe"}), up("c")}, 9000, 3000);
  CHECK(at_b.owner == "a");
  CHECK_FALSE(at_b.here);
  auto at_a = choose_owner("stripe", order, "a", true,
                           {up("b", {"stripe"}), up("c")}, 9000, 3000);
  CHECK(at_a.owner == "a");
  CHECK(at_a.here);
}

TEST_CASE("a node outside a service's placement never takes it") {
  auto x = choose_owner("stripe", {"a", "b"}, "c", false,
                        {down("a", 0), down("b", 0)}, 100000, 3000);
  CHECK(x.owner.empty());
  CHECK_FALSE(x.here);
}

TEST_CASE("with failback a returning node takes its service back") {
  // b owns stripe since a died; a is back.
  auto at_b = choose_owner("stripe", order, "b", true, {up("a"), up("c")}, 9000,
                           3000, true);
  CHECK(at_b.owner == "a");
  CHECK_FALSE(at_b.here);
  auto at_a = choose_owner("stripe", order, "a", false,
                           {up("b", {"stripe"}), up("c")}, 9000, 3000, true);
  CHECK(at_a.owner == "a");
  CHECK(at_a.here);
  // A dead first node is still passed over only after its delay.
  auto waiting = choose_owner("stripe", order, "b", false,
                              {down("a", 8000), up("c")}, 9000, 3000, true);
  CHECK(waiting.owner.empty());
}
