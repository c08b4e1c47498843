#include "runtime/budget/admission_queue.hpp"

#include "runtime/budget/reserved_share.hpp"
#include "runtime/budget/token_bucket.hpp"
#include "tests/unit/runtime/budget/sim_clock.hpp"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

using namespace streamb::budget;
using namespace streamb::budget::test;

namespace {

const int64_t t0 = utc_ms(2024, 6, 1, 12);
const int64_t far = t0 + hours(1);

// Hands out grants as the bucket refills, one pop loop per step, the way
// the budget controller does on each tick.
struct granter {
  admission_queue& q;
  token_bucket& bucket;
  std::vector<uint64_t> granted;
  std::vector<int64_t> granted_at;

  void run(int64_t now) {
    auto fits = [&](const waiting_request& r) {
      return bucket.can_take(r.units, now);
    };
    while (auto r = q.pop_next(fits)) {
      REQUIRE(bucket.try_take(r->units, now));
      granted.push_back(r->id);
      granted_at.push_back(now);
    }
  }
};

} // namespace

TEST_CASE("with the bucket empty, critical is granted first, then high, "
          "normal, low, FIFO within a priority",
          "[budget]") {
  token_bucket bucket{1, 1};
  REQUIRE(bucket.try_take(1, t0)); // empty
  admission_queue q;
  auto low1 = q.push(priority::low, 1, far, t0);
  auto normal1 = q.push(priority::normal, 1, far, t0);
  auto high1 = q.push(priority::high, 1, far, t0);
  auto critical1 = q.push(priority::critical, 1, far, t0);
  auto low2 = q.push(priority::low, 1, far, t0);
  auto high2 = q.push(priority::high, 1, far, t0);
  auto critical2 = q.push(priority::critical, 1, far, t0);
  CHECK(q.size() == 7);
  CHECK(q.peek()->id == critical1);

  granter g{q, bucket, {}, {}};
  g.run(t0);
  CHECK(g.granted.empty()); // nothing fits yet
  for (int s = 1; s <= 10; ++s)
    g.run(t0 + seconds(s));
  CHECK(g.granted
        == std::vector<uint64_t>{critical1, critical2, high1, high2, normal1,
                                 low1, low2});
  // One token per second: one grant per second, in that order.
  for (size_t i = 0; i < g.granted_at.size(); ++i)
    CHECK(g.granted_at[i] == t0 + seconds(static_cast<int64_t>(i) + 1));
  CHECK(q.empty());
}

TEST_CASE("a big low request does not hold up higher priorities", "[budget]") {
  token_bucket bucket{5, 1};
  REQUIRE(bucket.try_take(5, t0));
  admission_queue q;
  auto big_low = q.push(priority::low, 5, far, t0);
  auto normal = q.push(priority::normal, 1, far, t0 + 10);
  auto high = q.push(priority::high, 1, far, t0 + 20);
  granter g{q, bucket, {}, {}};
  for (int s = 1; s <= 10; ++s)
    g.run(t0 + seconds(s));
  CHECK(g.granted == std::vector<uint64_t>{high, normal, big_low});
  CHECK(
    g.granted_at
    == std::vector<int64_t>{t0 + seconds(1), t0 + seconds(2), t0 + seconds(7)});
}

TEST_CASE("a waiting critical request is not starved by smaller normal ones",
          "[budget]") {
  token_bucket bucket{3, 1};
  REQUIRE(bucket.try_take(3, t0));
  admission_queue q;
  auto critical = q.push(priority::critical, 3, far, t0);
  auto normal = q.push(priority::normal, 1, far, t0);
  granter g{q, bucket, {}, {}};
  for (int s = 1; s <= 4; ++s)
    g.run(t0 + seconds(s));
  // The normal request does not take the tokens the critical one is
  // accumulating; it goes after.
  CHECK(g.granted == std::vector<uint64_t>{critical, normal});
  CHECK(g.granted_at == std::vector<int64_t>{t0 + seconds(3), t0 + seconds(4)});
}

TEST_CASE("deadlines expire with a Retry-After that counts the requests "
          "ahead",
          "[budget]") {
  token_bucket bucket{5, 1};
  REQUIRE(bucket.try_take(5, t0));
  admission_queue q;
  auto high = q.push(priority::high, 2, t0 + seconds(60), t0);
  auto low = q.push(priority::low, 3, t0 + 1500, t0);
  CHECK(q.next_deadline_ms() == t0 + 1500);

  granter g{q, bucket, {}, {}};
  auto now = t0 + 1500;
  g.run(now); // 1.5 tokens: the high request (2) does not fit yet
  CHECK(g.granted.empty());
  CHECK(q.expire(now - 1).empty());
  auto expired = q.expire(now);
  REQUIRE(expired.size() == 1);
  CHECK(expired[0].id == low);
  CHECK(expired[0].arrival_ms == t0);
  CHECK(q.next_deadline_ms() == t0 + seconds(60));
  // 2 units wait ahead of it; 5 tokens are there at t0 + 5 s.
  auto ahead = q.units_ahead(expired[0]);
  CHECK(ahead == 2);
  auto retry_after = bucket.wait_ms(ahead + expired[0].units, now);
  CHECK(retry_after == 3500);
  // And it is honest: the high request is served, and at the retry the low
  // one's 3 units are there.
  g.run(t0 + seconds(2));
  CHECK(g.granted == std::vector<uint64_t>{high});
  CHECK_FALSE(bucket.can_take(3, now + retry_after - 1));
  CHECK(bucket.can_take(3, now + retry_after));
}

TEST_CASE("expire returns requests in service order, remove and sizes",
          "[budget]") {
  admission_queue q;
  auto a = q.push(priority::low, 1, t0 + 100, t0);
  auto b = q.push(priority::critical, 1, t0 + 300, t0);
  auto c = q.push(priority::normal, 1, t0 + 200, t0);
  auto d = q.push(priority::normal, 1, t0 + 900, t0);
  CHECK(q.size(priority::normal) == 2);
  CHECK(q.remove(d));
  CHECK_FALSE(q.remove(d));
  auto out = q.expire(t0 + 500);
  REQUIRE(out.size() == 3);
  CHECK(out[0].id == b);
  CHECK(out[1].id == c);
  CHECK(out[2].id == a);
  CHECK(q.empty());
  CHECK_FALSE(q.next_deadline_ms());
  CHECK(q.peek() == nullptr);
}

TEST_CASE("the reserved share is headroom only critical and high may use",
          "[budget]") {
  reserved_share share{0.2};
  CHECK(share.held_back(priority::critical, 10) == 0);
  CHECK(share.held_back(priority::high, 10) == 0);
  CHECK(share.held_back(priority::normal, 10) == 2);
  CHECK(share.held_back(priority::low, 7) == 2); // ceil(1.4)
  // 3 of 10 free: the last 2 are reserved.
  CHECK(share.admits(priority::normal, 1, 3, 10));
  CHECK_FALSE(share.admits(priority::normal, 2, 3, 10));
  CHECK(share.admits(priority::high, 3, 3, 10));
  CHECK(share.admits(priority::critical, 3, 3, 10));
  // A disabled tier (capacity 0) admits everything.
  CHECK(share.admits(priority::low, 100, 0, 0));
  CHECK(reserved_share{0.0}.held_back(priority::low, 10) == 0);
}

TEST_CASE("with a reserved share, normal traffic waits for the reserve to "
          "stay free",
          "[budget]") {
  reserved_share share{0.2};
  token_bucket bucket{10, 1};
  REQUIRE(bucket.try_take(7, t0)); // 3 left
  auto normal_wait = [&](uint64_t units, int64_t now) {
    return bucket.wait_ms(
      units + share.held_back(priority::normal, bucket.capacity()), now);
  };
  CHECK(normal_wait(1, t0) == 0);
  CHECK(normal_wait(2, t0) == 1000);
  CHECK(normal_wait(9, t0) == never_ms); // would need the reserve
  CHECK(bucket.wait_ms(9, t0) == 6000);  // a critical one just waits

  admission_queue q;
  auto normal = q.push(priority::normal, 2, far, t0);
  auto fits = [&](const waiting_request& r) {
    return share.admits(r.prio, r.units, bucket.available(t0),
                        bucket.capacity());
  };
  CHECK_FALSE(q.pop_next(fits));
  auto high = q.push(priority::high, 3, far, t0);
  auto first = q.pop_next(fits);
  REQUIRE(first);
  CHECK(first->id == high); // the high request may use the reserve
  CHECK(q.peek()->id == normal);
}

TEST_CASE("priorities have names", "[budget]") {
  CHECK(std::string{to_string(priority::critical)} == "critical");
  CHECK(parse_priority("low") == priority::low);
  CHECK_FALSE(parse_priority("urgent"));
}
