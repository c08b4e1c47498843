#include "runtime/cluster/lease.hpp"
#include "runtime/store/memory_backend.hpp"

#include <catch2/catch.hpp>

#include <memory>

using namespace streamb;

namespace {

/// One node's try at the lease against a shared store, as the housekeeper
/// makes it: SET NX when it does not hold it, expire_if when it does.
bool try_lease(store::backend& db, cluster::lease& l, int64_t now_ms) {
  auto ok = l.next() == cluster::lease::step::acquire
    ? db.set_nx("lease", l.token(), l.ttl_ms())
    : db.expire_if("lease", l.token(), l.ttl_ms());
  REQUIRE(ok);
  l.answered(*ok, now_ms);
  return l.held(now_ms);
}

} // namespace

TEST_CASE("of nodes trying for a lease exactly one holds it, and another "
          "takes it once the holder stops renewing") {
  int64_t now = 1'000;
  store::memory_backend db{[&now] { return now; }};
  cluster::lease a{"a 1", 3000}, b{"b 1", 3000}, c{"c 1", 3000};
  CHECK(try_lease(db, a, now));
  CHECK_FALSE(try_lease(db, b, now));
  CHECK_FALSE(try_lease(db, c, now));
  // a renews every 500 ms; b and c keep trying and keep failing.
  for (int i = 0; i < 20; ++i) {
    now += 500;
    CHECK(try_lease(db, a, now));
    CHECK_FALSE(try_lease(db, b, now));
    CHECK_FALSE(try_lease(db, c, now));
  }
  // a dies: nobody holds it until its TTL runs out, then the first to try.
  auto died = now;
  while (!try_lease(db, b, now)) {
    CHECK_FALSE(try_lease(db, c, now));
    now += 500;
  }
  CHECK(now - died >= 3000);
  CHECK(now - died <= 3500);
  CHECK_FALSE(try_lease(db, c, now));
  // a comes back with a new token: b keeps it.
  cluster::lease a2{"a 2", 3000};
  CHECK_FALSE(try_lease(db, a2, now));
  CHECK(try_lease(db, b, now));
}

TEST_CASE("a holder that could not renew stops its jobs before the store's "
          "expiry and cannot renew a lease another node took meanwhile") {
  int64_t now = 0;
  store::memory_backend db{[&now] { return now; }};
  cluster::lease a{"a 1", 3000}, b{"b 1", 3000};
  CHECK(try_lease(db, a, now));
  // The store does not answer a for a while (a paused, or a partition):
  // a asks nothing and learns nothing.
  now += 1000;
  CHECK(a.held(now));
  now += 1800;
  CHECK_FALSE(a.held(now)); // within the last tenth of the TTL: stopped
  now += 300;               // the key has expired in the store
  CHECK(try_lease(db, b, now));
  // a is back: its renewal finds b's token and fails; a stays out.
  CHECK_FALSE(try_lease(db, a, now));
  CHECK(a.next() == cluster::lease::step::acquire);
  CHECK_FALSE(try_lease(db, a, now));
  CHECK(try_lease(db, b, now + 500));
}

TEST_CASE("a lease given back is taken by the next node at once") {
  int64_t now = 0;
  store::memory_backend db{[&now] { return now; }};
  cluster::lease a{"a 1", 60'000}, b{"b 1", 60'000};
  CHECK(try_lease(db, a, now));
  CHECK_FALSE(try_lease(db, b, now));
  REQUIRE(db.expire_if("lease", a.token(), 0));
  a.drop();
  CHECK_FALSE(a.held(now));
  CHECK(try_lease(db, b, now + 1));
}
