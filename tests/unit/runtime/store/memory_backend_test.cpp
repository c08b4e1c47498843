#include "runtime/store/memory_backend.hpp"

#include "runtime/core/error_code.hpp"

#include "tests/unit/runtime/store/backend_suite.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

using streamb::store::backend;
using streamb::store::memory_backend;
using streamb::store::stream_entry;
using streamb::store::testing::get_or_nil;
using streamb::store::testing::ids_of;
using streamb::store::testing::ok;

namespace {

/// A memory backend on a fake clock that only the test moves. Atomic because
/// the suite's concurrency sections read it from several threads.
struct memory_fixture {
  std::atomic<int64_t> now{1'700'000'000'000};
  memory_backend backend_{[this] { return now.load(); }};

  backend& store() {
    return backend_;
  }

  void advance_ms(int64_t ms) {
    now += ms;
  }
};

} // namespace

TEST_CASE("the memory backend keeps the store's Redis semantics",
          "[store][memory]") {
  streamb::store::testing::run_backend_suite<memory_fixture>();
}

// What follows needs a clock the test controls exactly.

TEST_CASE("a key expires exactly when its TTL has passed", "[store][memory]") {
  memory_fixture fx;
  auto& st = fx.store();
  CHECK(ok(st.set_nx("dedup:evt_1", "1", 1'000)));
  fx.advance_ms(999);
  CHECK(ok(st.ttl_ms("dedup:evt_1")) == 1);
  CHECK_FALSE(ok(st.set_nx("dedup:evt_1", "2", 1'000)));
  fx.advance_ms(1);
  CHECK(ok(st.ttl_ms("dedup:evt_1")) == -2);
  CHECK(get_or_nil(st, "dedup:evt_1") == "(nil)");
  CHECK(ok(st.set_nx("dedup:evt_1", "3", 1'000)));
  CHECK(ok(st.ttl_ms("dedup:evt_1")) == 1'000);
}

TEST_CASE("stream ids come from the injected clock and never go backwards",
          "[store][memory]") {
  memory_fixture fx;
  auto& st = fx.store();
  fx.now = 1'000;
  CHECK(ok(st.xadd("x", {{"n", "0"}})) == "1000-0");
  CHECK(ok(st.xadd("x", {{"n", "1"}})) == "1000-1");
  fx.now = 500;
  CHECK(ok(st.xadd("x", {{"n", "2"}})) == "1000-2");
  fx.now = 2'000;
  CHECK(ok(st.xadd("x", {{"n", "3"}})) == "2000-0");
  // Each stream counts on its own.
  CHECK(ok(st.xadd("y", {{"n", "0"}})) == "2000-0");
  fx.now = 0;
  CHECK(ok(st.xadd("z", {{"n", "0"}})) == "0-1");
  CHECK(ok(st.xrange("x", "1000", "1000"))
        == std::vector<stream_entry>{{"1000-0", {{"n", "0"}}},
                                     {"1000-1", {{"n", "1"}}},
                                     {"1000-2", {{"n", "2"}}}});
  CHECK(ids_of(ok(st.xrange("x", "(1000-1", "+")))
        == std::vector<std::string>{"1000-2", "2000-0"});
}

TEST_CASE("idle times and TTLs follow the injected clock exactly",
          "[store][memory]") {
  memory_fixture fx;
  auto& st = fx.store();
  ok(st.xadd("x", {{"n", "0"}}));
  CHECK(ok(st.xgroup_create("x", "g", "0")));
  ok(st.xreadgroup("x", "g", "c1"));
  fx.advance_ms(70);
  auto pending = ok(st.xpending("x", "g"));
  REQUIRE(pending.size() == 1);
  CHECK(pending[0].idle_ms == 70);
  CHECK(ok(st.xautoclaim("x", "g", "c2", 71)).empty());
  CHECK(ok(st.xautoclaim("x", "g", "c2", 70)).size() == 1);
  // A clock that went backwards shows as idle 0 and claims nothing.
  fx.advance_ms(-10);
  pending = ok(st.xpending("x", "g"));
  REQUIRE(pending.size() == 1);
  CHECK(pending[0].idle_ms == 0);
  CHECK(ok(st.xautoclaim("x", "g", "c3", 0)).empty());
  ok(st.set("k", "v", 250));
  fx.advance_ms(100);
  CHECK(ok(st.ttl_ms("k")) == 150);
  CHECK(ok(st.incr_by("n", 1, 300)) == 1);
  fx.advance_ms(299);
  CHECK(ok(st.incr_by("n", 1, 300)) == 2);
  CHECK(ok(st.ttl_ms("n")) == 1);
}

TEST_CASE("many keys expiring at once stay invisible until reclaimed",
          "[store][memory]") {
  // One call reclaims a bounded number of expired keys; the rest must still
  // look gone to every call in the meantime.
  memory_fixture fx;
  auto& st = fx.store();
  for (int i = 0; i < 1'000; ++i)
    ok(st.set("k" + std::to_string(i), "v", 10));
  ok(st.set("stay", "v"));
  fx.advance_ms(10);
  CHECK(ok(st.keys("")) == std::vector<std::string>{"stay"});
  CHECK(get_or_nil(st, "k999") == "(nil)");
  CHECK(ok(st.set_nx("k500", "again")));
  CHECK(ok(st.keys("k")) == std::vector<std::string>{"k500"});
}

TEST_CASE("a memory backend without a clock uses the wall clock",
          "[store][memory]") {
  memory_backend st;
  auto before = streamb::store::wall_clock_ms();
  auto id = ok(st.xadd("x", {{"n", "0"}}));
  auto after = streamb::store::wall_clock_ms();
  auto ms = static_cast<int64_t>(streamb::store::testing::split_id(id).first);
  CHECK(ms >= before);
  CHECK(ms <= after);
}

TEST_CASE("a memory store at memory_max_keys refuses new keys and keeps "
          "serving the ones it has",
          "[store][memory]") {
  int64_t now = 1'000;
  streamb::store::memory_backend b{[&now] { return now; }, 3};
  REQUIRE(b.set("a", "1"));
  REQUIRE(b.hset("h", {{"f", "v"}}));
  REQUIRE(b.xadd("s", {{"f", "v"}}));
  auto full = b.set_nx("d", "1");
  REQUIRE_FALSE(full);
  CHECK(full.error() == caf::make_error(streamb::error_code::capacity));
  CHECK_FALSE(b.incr_by("n", 1));
  CHECK_FALSE(b.hset("h2", {{"f", "v"}}));
  CHECK_FALSE(b.xadd("s2", {{"f", "v"}}));
  // Existing keys still take writes.
  CHECK(b.set("a", "2"));
  CHECK(b.hset("h", {{"g", "w"}}));
  CHECK(b.xadd("s", {{"f", "w"}}));
  // A key that goes makes room.
  REQUIRE(b.del("a"));
  CHECK(b.set_nx("d", "1"));
}
