// The audit record's stream encoding (runtime/core/audit.hpp), written and
// read back through the in-memory store as the node does.

#include "runtime/core/audit.hpp"

#include "runtime/store/memory_backend.hpp"

#include <catch2/catch.hpp>

using namespace streamb;

namespace {

audit_record record_at(int64_t at_ms, std::string action) {
  audit_record x;
  x.at_ms = at_ms;
  x.node = "n1";
  x.who = "operator:alice";
  x.action = std::move(action);
  x.subject = "stripe";
  x.outcome = "ok";
  x.detail = "limits.sustained.limit 1000 -> 610";
  return x;
}

} // namespace

TEST_CASE("an audit record written to the store reads back field by field, "
          "with its stream id") {
  int64_t now = 1'000'000;
  store::memory_backend db{[&] { return now; }};
  auto x = record_at(now, "advisor.apply");
  auto rs = db.write({audit_write(x, 3'600'000)});
  REQUIRE(rs);
  REQUIRE(rs->size() == 1);
  REQUIRE_FALSE((*rs)[0].error);
  auto entries = db.xrange(audit_stream, "-", "+");
  REQUIRE(entries);
  REQUIRE(entries->size() == 1);
  auto back = audit_from_entry(entries->at(0));
  CHECK(back.id == entries->at(0).id);
  CHECK_FALSE(back.id.empty());
  CHECK(back.at_ms == x.at_ms);
  CHECK(back.node == x.node);
  CHECK(back.who == x.who);
  CHECK(back.action == x.action);
  CHECK(back.subject == x.subject);
  CHECK(back.outcome == x.outcome);
  CHECK(back.detail == x.detail);
}

TEST_CASE("each audit write trims records older than the retention") {
  int64_t now = 10'000;
  store::memory_backend db{[&] { return now; }};
  REQUIRE(db.write({audit_write(record_at(now, "old"), 5'000)}));
  now = 20'000;
  REQUIRE(db.write({audit_write(record_at(now, "new"), 5'000)}));
  auto entries = db.xrange(audit_stream, "-", "+");
  REQUIRE(entries);
  REQUIRE(entries->size() == 1);
  CHECK(audit_from_entry(entries->at(0)).action == "new");
}

TEST_CASE("an audit entry with missing or foreign fields reads as empty "
          "fields, not an error") {
  store::stream_entry e{"5-0", {{"action", "x"}, {"unknown", "y"}}};
  auto back = audit_from_entry(e);
  CHECK(back.id == "5-0");
  CHECK(back.action == "x");
  CHECK(back.at_ms == 0);
  CHECK(back.who.empty());
}
