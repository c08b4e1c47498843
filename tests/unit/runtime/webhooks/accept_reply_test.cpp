// The answer a webhook request carries to the processor
// (runtime/webhooks/accept_reply): called once, and never left unanswered.

#include "runtime/webhooks/accept_reply.hpp"

#include <caf/sec.hpp>

#include <catch2/catch.hpp>

#include <optional>
#include <thread>
#include <vector>

using namespace streamb;

namespace {

/// Records every call of a reply's callback.
struct calls {
  std::vector<caf::expected<accept_outcomes>> got;

  accept_reply make() {
    return accept_reply{[this](caf::expected<accept_outcomes> x) {
      got.push_back(std::move(x));
    }};
  }
};

} // namespace

TEST_CASE("an accept reply answers once, whichever copy delivers") {
  calls c;
  auto reply = c.make();
  auto copy = reply;
  copy.deliver(accept_outcomes{accept_outcome::stored});
  reply.deliver(accept_outcomes{accept_outcome::duplicate});
  reply.deliver(caf::make_error(error_code::store_unavailable));
  REQUIRE(c.got.size() == 1);
  REQUIRE(c.got.front());
  CHECK(*c.got.front() == accept_outcomes{accept_outcome::stored});
}

TEST_CASE("an accept reply dropped unanswered answers receiver down, once") {
  calls c;
  {
    auto reply = c.make();
    auto copy = reply;
    CHECK(c.got.empty()); // one copy alive: no answer yet
  }
  REQUIRE(c.got.size() == 1);
  REQUIRE_FALSE(c.got.front());
  CHECK(c.got.front().error() == caf::sec::request_receiver_down);
}

TEST_CASE("an answered accept reply says nothing more when dropped") {
  calls c;
  {
    auto reply = c.make();
    reply.deliver(caf::make_error(error_code::store_unavailable));
  }
  REQUIRE(c.got.size() == 1);
  CHECK(c.got.front().error()
        == caf::make_error(error_code::store_unavailable));
}

TEST_CASE("an accept reply delivered from two threads at once answers once") {
  std::atomic<int> n{0};
  for (int round = 0; round < 200; ++round) {
    n = 0;
    accept_reply reply{[&n](caf::expected<accept_outcomes>) { ++n; }};
    std::thread a{[reply] { reply.deliver(accept_outcomes{}); }};
    std::thread b{[reply] { reply.deliver(accept_outcomes{}); }};
    a.join();
    b.join();
    CHECK(n == 1);
  }
}

TEST_CASE("a default accept reply is empty and ignores a delivery") {
  accept_reply none;
  CHECK_FALSE(none);
  none.deliver(accept_outcomes{}); // nothing to call, no crash
  calls c;
  CHECK(c.make());
}
