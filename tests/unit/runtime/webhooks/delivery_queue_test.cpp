// The webhook processor's in-memory queue (runtime/webhooks/delivery_queue):
// critical first, the in-flight limit, each entry held once.

#include "runtime/webhooks/delivery_queue.hpp"

#include <catch2/catch.hpp>

using namespace streamb;

namespace {

webhook_event event(const std::string& entry, bool critical = false,
                    uint32_t attempts = 0) {
  webhook_event x;
  x.id = "stripe:" + entry;
  x.service = "stripe";
  x.critical = critical;
  x.entry_id = entry;
  x.attempts = attempts;
  return x;
}

std::vector<std::string> drain(delivery_queue& q) {
  std::vector<std::string> ids;
  while (auto ev = q.next()) {
    ids.push_back(ev->entry_id);
    q.finished();
  }
  return ids;
}

} // namespace

TEST_CASE("critical events go out before normal ones, each in arrival order") {
  delivery_queue q{4};
  q.take(event("1-0"), false);
  q.take(event("2-0"), false);
  q.take(event("1-0", true), false);
  q.take(event("3-0"), false);
  q.take(event("2-0", true), false);
  CHECK(drain(q)
        == std::vector<std::string>{"1-0", "2-0", "1-0", "2-0", "3-0"});
}

TEST_CASE("at most max_in_flight events are out until one comes back") {
  delivery_queue q{2};
  for (auto id : {"1-0", "2-0", "3-0"})
    q.take(event(id), false);
  REQUIRE(q.next());
  REQUIRE(q.next());
  CHECK_FALSE(q.next());
  CHECK(q.in_flight() == 2);
  CHECK(q.waiting() == 1);
  CHECK(q.waiting_by_service()
        == std::map<std::string, uint64_t>{{"stripe", 1}});
  q.finished();
  auto third = q.next();
  REQUIRE(third);
  CHECK(third->entry_id == "3-0");
}

TEST_CASE("an entry read again while held is not taken twice; once released "
          "it may be") {
  delivery_queue q{8};
  CHECK(q.take(event("7-0"), false));
  CHECK_FALSE(q.take(event("7-0"), true));  // a claim read it again
  CHECK(q.take(event("7-0", true), false)); // another stream's entry id
  CHECK(q.held() == 2);
  auto ev = q.next();
  REQUIRE(ev);
  q.finished();
  q.release(*ev);
  CHECK(q.held() == 1);
  CHECK(q.take(event("7-0", true), true));
}

TEST_CASE("a recovered entry never tried here counts as tried once, so its "
          "history is checked before it goes out") {
  delivery_queue q{8};
  q.take(event("1-0"), true);
  q.take(event("2-0", false, 3), true);
  q.take(event("3-0"), false);
  std::vector<uint32_t> attempts;
  while (auto ev = q.next())
    attempts.push_back(ev->attempts);
  CHECK(attempts == std::vector<uint32_t>{1, 3, 0});
}

TEST_CASE("a retry that came due goes back behind its queue, still held") {
  delivery_queue q{8};
  q.take(event("1-0"), false);
  q.take(event("2-0"), false);
  auto first = q.next();
  REQUIRE(first);
  q.finished();
  q.requeue(*first);
  CHECK(q.held() == 2);
  CHECK(drain(q) == std::vector<std::string>{"2-0", "1-0"});
}
