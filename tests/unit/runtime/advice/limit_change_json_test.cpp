// A limit change as the advisor stores it (runtime/advice/limit_change_json):
// what is written reads back, and what this node cannot act on is refused.

#include "runtime/advice/limit_change_json.hpp"

#include <boost/json.hpp>
#include <catch2/catch.hpp>

using namespace streamb;

namespace {

limit_change applied_change() {
  limit_change x;
  x.id = "chg-1-1";
  x.service = "stripe";
  x.limit = budget::limit_tier::daily;
  x.before = 1000;
  x.after = 610;
  x.confidence = 0.9;
  x.status = advice::change_status::applied;
  x.at_ms = 1'700'000'000'000;
  x.who = "operator:alice";
  x.evidence = {{"peakDay", 480}};
  return x;
}

std::string with(const char* key, const char* value) {
  auto obj = advice::to_json(applied_change());
  obj[key] = value;
  return boost::json::serialize(obj);
}

} // namespace

TEST_CASE("a stored limit change reads back with its tier and status") {
  auto text = boost::json::serialize(advice::to_json(applied_change()));
  auto back = advice::limit_change_from_json(text);
  REQUIRE(back);
  CHECK(back->limit == budget::limit_tier::daily);
  CHECK(back->status == advice::change_status::applied);
  CHECK(back->before == 1000);
  CHECK(back->after == 610);
  CHECK(back->who == "operator:alice");
}

TEST_CASE("a stored limit change with an unknown status or tier, or the "
          "burst tier, is refused") {
  CHECK_FALSE(advice::limit_change_from_json(with("status", "half-applied")));
  CHECK_FALSE(advice::limit_change_from_json(with("limit", "weekly")));
  CHECK_FALSE(advice::limit_change_from_json(with("limit", "burst")));
  CHECK_FALSE(advice::limit_change_from_json("not json"));
}
