#include "runtime/cluster/cluster_state.hpp"

#include <catch2/catch.hpp>

using namespace streamb::cluster;

TEST_CASE("a peer learns the node's services only with the cluster secret") {
  cluster_state st{"a", {"stripe"}, "a-cluster-secret-0123"};
  CHECK(st.secret_matches("a-cluster-secret-0123"));
  CHECK_FALSE(st.secret_matches("a-cluster-secret-0124"));
  CHECK_FALSE(st.secret_matches(""));
  // A node without a secret answers no peer, not even one sending none.
  cluster_state open{"b", {"stripe"}, ""};
  CHECK_FALSE(open.secret_matches(""));
  CHECK_FALSE(open.secret_matches("anything"));
}

TEST_CASE("only a service with a reachable owner takes calls") {
  cluster_state st{"a", {"stripe", "maps"}, "a-cluster-secret-0123"};
  CHECK_FALSE(st.reachable(0)); // nothing known yet
  st.set_owner(0, {"stripe", "b", true, false});
  CHECK(st.reachable(0));
  CHECK(st.owner(0).node == "b");
  CHECK_FALSE(st.reachable(1));
  CHECK_FALSE(st.reachable(7)); // not a service: never reachable
}
