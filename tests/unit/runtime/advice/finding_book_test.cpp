#include "runtime/advice/finding_book.hpp"

#include <catch2/catch.hpp>

using namespace streamb;

namespace {

agent_finding finding(std::string service, std::string title, int64_t at) {
  agent_finding f;
  f.service = std::move(service);
  f.title = std::move(title);
  f.category = "database";
  f.agent = "db-1";
  f.event_id = "ev-" + std::to_string(at);
  f.at_ms = at;
  return f;
}

} // namespace

TEST_CASE("the finding book keeps the newest per service and title, newest "
          "first, as agent_finding recommendations") {
  advice::finding_book book{3, 1000};
  book.add(finding("stripe", "a", 1));
  book.add(finding("stripe", "b", 2));
  book.add(finding("stripe", "a", 3)); // said again: refreshed
  auto xs = book.list(10);
  REQUIRE(xs.size() == 2);
  CHECK(xs[0].action == "a");
  CHECK(xs[0].source == "agent:db-1 event:ev-3");
  CHECK(xs[0].kind == advice::recommendation_kind::agent_finding);
  CHECK(xs[0].action_type == advice::action_type::advice);
  CHECK(xs[0].category == "database");
  CHECK(xs[0].found_ms == 3);
  CHECK(xs[1].action == "b");
  CHECK(xs[0].id != xs[1].id);
}

TEST_CASE("the finding book holds at most per_service per service and "
          "forgets what is older than its age") {
  advice::finding_book book{2, 1000};
  book.add(finding("stripe", "a", 1));
  book.add(finding("stripe", "b", 2));
  book.add(finding("stripe", "c", 3)); // a goes
  book.add(finding("twilio", "x", 4));
  auto xs = book.list(10);
  REQUIRE(xs.size() == 3);
  CHECK(xs[0].action == "x");
  CHECK(xs[1].action == "c");
  CHECK(xs[2].action == "b");
  CHECK(book.list(1004).size() == 1); // only x (at 4) is within 1000 ms
  CHECK(book.list(5000).empty());
  CHECK(book.size() == 0);
}
