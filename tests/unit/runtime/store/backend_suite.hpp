#pragma once

// The behavioural suite every store backend must pass: the Redis semantics
// promised in runtime/store/store_backend.hpp, written once. A backend's test
// file runs it with a fixture:
//
//   struct my_fixture {
//     /// A fresh, empty keyspace for each fixture object (a unique key
//     /// prefix will do for Redis).
//     streamb::store::backend& store();
//     /// Lets `ms` milliseconds pass for the store: a fake clock moves, or
//     /// the test sleeps when the store keeps its own time (Redis).
//     void advance_ms(int64_t ms);
//   };
//
//   TEST_CASE("the my backend keeps the store's Redis semantics") {
//     streamb::store::testing::run_backend_suite<my_fixture>();
//   }
//
// Catch2 runs the test case once per SECTION, so every section gets a fresh
// fixture. Assertions about time hold on a real clock too: TTLs are checked
// against ranges, never a boundary millisecond, and waits stay short. What
// only a fake clock can show (exact boundaries, a clock going backwards)
// belongs in the backend's own test file.

#include "runtime/core/error_code.hpp"
#include "runtime/store/store_backend.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <limits>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace streamb::store::testing {

// -- helpers ------------------------------------------------------------------

/// "value" for a result, the streamb error code's name for a failure: reads
/// well in a CHECK and in its failure message.
template <class T>
std::string outcome(const caf::expected<T>& x) {
  if (x)
    return "value";
  const auto& err = x.error();
  if (err.category() != caf::atom("streamb"))
    return "foreign error " + caf::to_string(err);
  return to_string(static_cast<error_code>(err.code()));
}

/// The value of a result that must hold one.
template <class T>
T ok(caf::expected<T> x) {
  if (!x)
    FAIL("store call failed: " << outcome(x) << ": "
                               << caf::to_string(x.error()));
  return std::move(*x);
}

inline void ok(const caf::expected<caf::unit_t>& x) {
  if (!x)
    FAIL("store call failed: " << outcome(x) << ": "
                               << caf::to_string(x.error()));
}

/// outcome() for one result of a batch.
inline std::string outcome(const write_result& x) {
  if (!x.error)
    return "value";
  if (x.error.category() != caf::atom("streamb"))
    return "foreign error " + caf::to_string(x.error);
  return to_string(static_cast<error_code>(x.error.code()));
}

/// The results of a batch that must run; fails the test on an op's error.
inline std::vector<write_result> ok_batch(backend& st,
                                          const std::vector<write_op>& ops) {
  auto results = ok(st.write(ops));
  REQUIRE(results.size() == ops.size());
  for (size_t i = 0; i < results.size(); ++i) {
    CAPTURE(i);
    CHECK(outcome(results[i]) == "value");
  }
  return results;
}

/// A batch that shows whether another caller's op ran inside it: counters a
/// and b are incremented at its start and again at its end, with `noise`
/// increments of a hash in between. See ran_whole.
inline std::vector<write_op> isolation_probe(int noise) {
  std::vector<write_op> ops{write_op::make_incr_by("a", 1),
                            write_op::make_incr_by("b", 1)};
  for (int i = 0; i < noise; ++i)
    ops.push_back(write_op::make_hincr_by("noise", std::to_string(i % 8), 1));
  ops.push_back(write_op::make_incr_by("a", 1));
  ops.push_back(write_op::make_incr_by("b", 1));
  return ops;
}

/// Whether the results of an isolation_probe show it ran whole: a == b at
/// its start (no other batch between the first two ops), and each counter's
/// second increment right after its first (none in the middle).
inline bool ran_whole(const std::vector<write_result>& r) {
  if (r.size() < 4)
    return false;
  auto n = r.size();
  for (auto i : {size_t{0}, size_t{1}, n - 2, n - 1})
    if (r[i].error)
      return false;
  return r[0].integer == r[1].integer && r[n - 2].integer == r[0].integer + 1
    && r[n - 1].integer == r[1].integer + 1;
}

/// GET as redis-cli shows it: the value, or "(nil)".
inline std::string get_or_nil(backend& st, const std::string& key) {
  auto value = ok(st.get(key));
  return value ? *value : "(nil)";
}

inline std::string hget_or_nil(backend& st, const std::string& key,
                               const std::string& field) {
  auto value = ok(st.hget(key, field));
  return value ? *value : "(nil)";
}

inline std::vector<std::string>
ids_of(const std::vector<stream_entry>& entries) {
  std::vector<std::string> result;
  for (auto& x : entries)
    result.push_back(x.id);
  return result;
}

/// Splits "ms-seq"; fails the test on anything else.
inline std::pair<uint64_t, uint64_t> split_id(const std::string& id) {
  auto dash = id.find('-');
  if (dash == std::string::npos || dash == 0 || dash + 1 == id.size())
    FAIL("not a stream ID: " << id);
  return {std::stoull(id.substr(0, dash)), std::stoull(id.substr(dash + 1))};
}

/// Adds `n` entries with a field "n" = 0, 1, ...; returns their IDs.
inline std::vector<std::string> add_entries(backend& st,
                                            const std::string& stream, int n) {
  std::vector<std::string> result;
  for (int i = 0; i < n; ++i)
    result.push_back(ok(st.xadd(stream, {{"n", std::to_string(i)}})));
  return result;
}

// -- the suite ----------------------------------------------------------------

template <class Fixture>
void run_backend_suite() {
  Fixture fixture;
  backend& st = fixture.store();
  auto advance_ms = [&fixture](int64_t ms) { fixture.advance_ms(ms); };

  // -- strings and expiry -----------------------------------------------------

  SECTION("ping answers") {
    ok(st.ping());
  }

  SECTION("get of a missing key is nil and get returns what set stored") {
    CHECK(get_or_nil(st, "k") == "(nil)");
    ok(st.set("k", "v"));
    CHECK(get_or_nil(st, "k") == "v");
    ok(st.set("k", ""));
    CHECK(get_or_nil(st, "k") == "");
  }

  SECTION("set replaces a key of any type and clears an earlier expiry") {
    ok(st.hset("k", {{"f", "v"}}));
    CHECK(ok(st.expire("k", 10'000)));
    ok(st.set("k", "v2"));
    CHECK(get_or_nil(st, "k") == "v2");
    CHECK(ok(st.ttl_ms("k")) == -1);
    ok(st.set("k", "v3", 10'000));
    auto ttl = ok(st.ttl_ms("k"));
    CHECK(ttl > 0);
    CHECK(ttl <= 10'000);
  }

  SECTION("set_nx sets only a missing key, which is settable again after its "
          "TTL") {
    CHECK(ok(st.set_nx("dedup:1", "first", 200)));
    CHECK_FALSE(ok(st.set_nx("dedup:1", "second", 200)));
    CHECK(get_or_nil(st, "dedup:1") == "first");
    auto ttl = ok(st.ttl_ms("dedup:1"));
    CHECK(ttl > 0);
    CHECK(ttl <= 200);
    advance_ms(250);
    CHECK(get_or_nil(st, "dedup:1") == "(nil)");
    CHECK(ok(st.set_nx("dedup:1", "third", 200)));
    CHECK(get_or_nil(st, "dedup:1") == "third");
  }

  SECTION("set_nx without a TTL keeps the key for good") {
    CHECK(ok(st.set_nx("k", "v")));
    CHECK(ok(st.ttl_ms("k")) == -1);
  }

  SECTION("del and expire report whether the key existed and ttl_ms follows "
          "PTTL") {
    CHECK(ok(st.ttl_ms("k")) == -2);
    CHECK_FALSE(ok(st.expire("k", 1000)));
    CHECK_FALSE(ok(st.del("k")));
    ok(st.set("k", "v"));
    CHECK(ok(st.ttl_ms("k")) == -1);
    CHECK(ok(st.expire("k", 10'000)));
    auto ttl = ok(st.ttl_ms("k"));
    CHECK(ttl > 0);
    CHECK(ttl <= 10'000);
    CHECK(ok(st.del("k")));
    CHECK(ok(st.ttl_ms("k")) == -2);
    CHECK_FALSE(ok(st.del("k")));
  }

  SECTION("expire with a TTL of zero or less deletes the key") {
    ok(st.set("a", "v"));
    ok(st.set("b", "v"));
    CHECK(ok(st.expire("a", 0)));
    CHECK(ok(st.expire("b", -5)));
    CHECK(get_or_nil(st, "a") == "(nil)");
    CHECK(get_or_nil(st, "b") == "(nil)");
    CHECK(ok(st.keys("")).empty());
  }

  SECTION("expire_if renews or deletes a key only while it holds the value "
          "(a lease)") {
    CHECK(ok(st.set_nx("lease", "n1 a", 200)));
    CHECK_FALSE(ok(st.expire_if("lease", "n2 b", 10'000)));
    CHECK(ok(st.ttl_ms("lease")) <= 200);
    CHECK(ok(st.expire_if("lease", "n1 a", 10'000)));
    CHECK(ok(st.ttl_ms("lease")) > 200);
    CHECK_FALSE(ok(st.expire_if("lease", "n2 b", 0)));
    CHECK(get_or_nil(st, "lease") == "n1 a");
    CHECK(ok(st.expire_if("lease", "n1 a", 0)));
    CHECK(get_or_nil(st, "lease") == "(nil)");
    CHECK_FALSE(ok(st.expire_if("lease", "n1 a", 10'000)));
    CHECK(get_or_nil(st, "lease") == "(nil)");
  }

  SECTION("negative TTLs are invalid arguments") {
    CHECK(outcome(st.set("k", "v", -1)) == "invalid_argument");
    CHECK(outcome(st.set_nx("k", "v", -1)) == "invalid_argument");
    CHECK(outcome(st.incr_by("k", 1, -1)) == "invalid_argument");
    CHECK(ok(st.keys("")).empty());
  }

  SECTION("expired keys are invisible to every operation") {
    ok(st.set("s", "v", 100));
    ok(st.set("n", "41", 100));
    ok(st.hset("h", {{"f", "v"}}));
    CHECK(ok(st.expire("h", 100)));
    ok(st.xadd("x", {{"f", "v"}}));
    CHECK(ok(st.xgroup_create("x", "g", "0")));
    CHECK(ok(st.expire("x", 100)));
    advance_ms(150);
    CHECK(get_or_nil(st, "s") == "(nil)");
    CHECK(ok(st.ttl_ms("s")) == -2);
    CHECK_FALSE(ok(st.expire("s", 1000)));
    CHECK_FALSE(ok(st.del("s")));
    CHECK(ok(st.incr_by("n", 1)) == 1);
    CHECK(ok(st.ttl_ms("n")) == -1);
    CHECK(ok(st.hgetall("h")).empty());
    CHECK(hget_or_nil(st, "h", "f") == "(nil)");
    CHECK(ok(st.xlen("x")) == 0);
    CHECK(ok(st.xrange("x", "-", "+")).empty());
    CHECK(outcome(st.xreadgroup("x", "g", "c")) == "not_found");
    CHECK(ok(st.keys("")) == std::vector<std::string>{"n"});
    // The old type is gone with the key.
    ok(st.hset("s", {{"f", "v"}}));
    CHECK(ok(st.set_nx("x", "v")));
  }

  // -- counters ---------------------------------------------------------------

  SECTION("incr_by counts from zero and returns the new value") {
    CHECK(ok(st.incr_by("spend", 1'500'000)) == 1'500'000);
    CHECK(ok(st.incr_by("spend", -500'000)) == 1'000'000);
    CHECK(get_or_nil(st, "spend") == "1000000");
    ok(st.set("other", "-7"));
    CHECK(ok(st.incr_by("other", 0)) == -7);
  }

  SECTION("incr_by sets the expiry only when the key has none") {
    CHECK(ok(st.incr_by("window", 1, 1'000)) == 1);
    auto first = ok(st.ttl_ms("window"));
    CHECK(first > 0);
    CHECK(first <= 1'000);
    advance_ms(50);
    CHECK(ok(st.incr_by("window", 1, 1'000)) == 2);
    auto second = ok(st.ttl_ms("window"));
    CHECK(second > 0);
    CHECK(second <= 950);
    // A counter made without a TTL gets one from its next increment.
    CHECK(ok(st.incr_by("plain", 1)) == 1);
    CHECK(ok(st.ttl_ms("plain")) == -1);
    CHECK(ok(st.incr_by("plain", 1, 10'000)) == 2);
    CHECK(ok(st.ttl_ms("plain")) > 0);
    // And the window's counter is gone once its first deadline passed.
    advance_ms(1'000);
    CHECK(ok(st.incr_by("window", 1, 1'000)) == 1);
  }

  SECTION("incr_by on a value that is not an integer fails with store_error "
          "and leaves it") {
    for (auto bad :
         {"abc", "1.5", "", " 1", "01", "+1", "-0", "99999999999999999999"}) {
      CAPTURE(bad);
      ok(st.set("k", bad));
      CHECK(outcome(st.incr_by("k", 1)) == "store_error");
      CHECK(get_or_nil(st, "k") == bad);
    }
  }

  SECTION("incr_by that would overflow fails with store_error and leaves the "
          "value") {
    constexpr auto max = std::numeric_limits<int64_t>::max();
    constexpr auto min = std::numeric_limits<int64_t>::min();
    CHECK(ok(st.incr_by("k", max)) == max);
    CHECK(outcome(st.incr_by("k", 1)) == "store_error");
    CHECK(ok(st.incr_by("k", 0)) == max);
    CHECK(ok(st.incr_by("m", min)) == min);
    CHECK(outcome(st.incr_by("m", -1)) == "store_error");
    CHECK(get_or_nil(st, "m") == std::to_string(min));
  }

  SECTION("incr_by from 8 threads of 10 000 increments each loses none") {
    constexpr int threads = 8;
    constexpr int increments = 10'000;
    // Catch2's assertions are not thread-safe: workers only count failures.
    std::atomic<int> failures{0};
    std::vector<std::thread> workers;
    for (int t = 0; t < threads; ++t)
      workers.emplace_back([&st, &failures] {
        for (int i = 0; i < increments; ++i)
          if (!st.incr_by("total", 3, 60'000))
            ++failures;
      });
    for (auto& w : workers)
      w.join();
    CHECK(failures.load() == 0);
    CHECK(get_or_nil(st, "total") == std::to_string(3 * threads * increments));
  }

  SECTION("concurrent set_nx lets exactly one writer win per key") {
    constexpr int threads = 8;
    constexpr int keys = 1'000;
    std::atomic<int> wins{0};
    std::atomic<int> failures{0};
    std::vector<std::thread> workers;
    for (int t = 0; t < threads; ++t)
      workers.emplace_back([&st, &wins, &failures, t] {
        for (int i = 0; i < keys; ++i) {
          auto won = st.set_nx("dedup:" + std::to_string(i),
                               "writer " + std::to_string(t), 60'000);
          if (!won)
            ++failures;
          else if (*won)
            ++wins;
        }
      });
    for (auto& w : workers)
      w.join();
    CHECK(failures.load() == 0);
    CHECK(wins.load() == keys);
    CHECK(ok(st.keys("dedup:")).size() == static_cast<size_t>(keys));
  }

  // -- types ------------------------------------------------------------------

  SECTION("using a key as another type fails with store_error like "
          "WRONGTYPE") {
    ok(st.set("s", "1"));
    ok(st.hset("h", {{"f", "1"}}));
    ok(st.xadd("x", {{"f", "1"}}));
    // A string is not a hash or a stream.
    CHECK(outcome(st.hset("s", {{"f", "v"}})) == "store_error");
    CHECK(outcome(st.hget("s", "f")) == "store_error");
    CHECK(outcome(st.hgetall("s")) == "store_error");
    CHECK(outcome(st.hincr_by("s", "f", 1)) == "store_error");
    CHECK(outcome(st.hdel("s", "f")) == "store_error");
    CHECK(outcome(st.xadd("s", {{"f", "v"}})) == "store_error");
    CHECK(outcome(st.xlen("s")) == "store_error");
    CHECK(outcome(st.xgroup_create("s", "g", "0")) == "store_error");
    // A hash is not a string or a stream.
    CHECK(outcome(st.get("h")) == "store_error");
    CHECK(outcome(st.incr_by("h", 1)) == "store_error");
    CHECK(outcome(st.xrange("h", "-", "+")) == "store_error");
    CHECK(outcome(st.xtrim("h", {1, ""})) == "store_error");
    CHECK(outcome(st.xdel("h", {"1-1"})) == "store_error");
    CHECK(outcome(st.xdel("h", {})) == "store_error");
    // A stream is not a string or a hash.
    CHECK(outcome(st.get("x")) == "store_error");
    CHECK(outcome(st.incr_by("x", 1)) == "store_error");
    CHECK(outcome(st.hgetall("x")) == "store_error");
    CHECK(outcome(st.xreadgroup("s", "g", "c")) == "store_error");
    CHECK(outcome(st.xpending_count("h", "g")) == "store_error");
    // Nothing changed; set_nx, ttl_ms, expire and del take any type.
    CHECK(get_or_nil(st, "s") == "1");
    CHECK(ok(st.hgetall("h")) == field_list{{"f", "1"}});
    CHECK(ok(st.xlen("x")) == 1);
    CHECK_FALSE(ok(st.set_nx("h", "v")));
    CHECK(ok(st.ttl_ms("x")) == -1);
    CHECK(ok(st.expire("x", 10'000)));
    CHECK(ok(st.del("h")));
    CHECK(ok(st.del("x")));
  }

  // -- hashes -----------------------------------------------------------------

  SECTION("hset counts new fields and hgetall returns every field sorted by "
          "name") {
    CHECK(ok(st.hset("agent", {{"role", "db"}, {"b", "2"}, {"a", "1"}})) == 3);
    CHECK(ok(st.hset("agent", {{"role", "perf"}, {"c", "3"}})) == 1);
    CHECK(hget_or_nil(st, "agent", "role") == "perf");
    CHECK(hget_or_nil(st, "agent", "zzz") == "(nil)");
    CHECK(hget_or_nil(st, "nobody", "role") == "(nil)");
    CHECK(ok(st.hgetall("agent"))
          == field_list{{"a", "1"}, {"b", "2"}, {"c", "3"}, {"role", "perf"}});
    CHECK(ok(st.hgetall("nobody")).empty());
  }

  SECTION("hset with no fields changes nothing") {
    CHECK(ok(st.hset("h", {})) == 0);
    CHECK(ok(st.keys("")).empty());
  }

  SECTION("hincr_by creates and increments a field and rejects a "
          "non-integer field") {
    CHECK(ok(st.hincr_by("stats", "received", 5)) == 5);
    CHECK(ok(st.hincr_by("stats", "received", -2)) == 3);
    CHECK(hget_or_nil(st, "stats", "received") == "3");
    ok(st.hset("stats", {{"name", "stripe"}}));
    CHECK(outcome(st.hincr_by("stats", "name", 1)) == "store_error");
    CHECK(hget_or_nil(st, "stats", "name") == "stripe");
    ok(st.hset("stats",
               {{"big", std::to_string(std::numeric_limits<int64_t>::max())}}));
    CHECK(outcome(st.hincr_by("stats", "big", 1)) == "store_error");
  }

  SECTION("hdel removes a field and removing the last field removes the "
          "key") {
    ok(st.hset("h", {{"a", "1"}, {"b", "2"}}));
    CHECK(ok(st.hdel("h", "a")));
    CHECK_FALSE(ok(st.hdel("h", "a")));
    CHECK_FALSE(ok(st.hdel("missing", "a")));
    CHECK(ok(st.keys("")) == std::vector<std::string>{"h"});
    CHECK(ok(st.hdel("h", "b")));
    CHECK(ok(st.keys("")).empty());
    CHECK(ok(st.ttl_ms("h")) == -2);
  }

  SECTION("writing to a hash keeps its expiry") {
    ok(st.hset("h", {{"a", "1"}}));
    CHECK(ok(st.expire("h", 10'000)));
    ok(st.hset("h", {{"b", "2"}}));
    ok(st.hincr_by("h", "c", 1));
    CHECK(ok(st.hdel("h", "a")));
    CHECK(ok(st.ttl_ms("h")) > 0);
  }

  // -- streams ----------------------------------------------------------------

  SECTION("xadd returns strictly increasing ids, also within one "
          "millisecond") {
    auto ids = add_entries(st, "events", 1000);
    for (size_t i = 1; i < ids.size(); ++i) {
      CAPTURE(ids[i - 1], ids[i]);
      CHECK(split_id(ids[i - 1]) < split_id(ids[i]));
    }
    CHECK(ok(st.xlen("events")) == 1000);
    auto entries = ok(st.xrange("events", "-", "+"));
    CHECK(ids_of(entries) == ids);
    REQUIRE(entries.size() == 1000);
    CHECK(entries[7].fields == field_list{{"n", "7"}});
  }

  SECTION("an entry keeps its fields in the order given") {
    field_list fields{{"z", "1"}, {"a", "2"}, {"z", "3"}};
    auto id = ok(st.xadd("x", fields));
    auto entries = ok(st.xrange("x", id, id));
    REQUIRE(entries.size() == 1);
    CHECK(entries[0] == stream_entry{id, fields});
  }

  SECTION("an entry without fields is an invalid argument") {
    CHECK(outcome(st.xadd("x", {})) == "invalid_argument");
    CHECK(ok(st.keys("")).empty());
  }

  SECTION("stream ids keep increasing after the stream was trimmed empty") {
    auto ids = add_entries(st, "x", 3);
    auto [ms, seq] = split_id(ids.back());
    CHECK(ok(st.xtrim("x", {0, std::to_string(ms + 1)})) == 3);
    CHECK(ok(st.xlen("x")) == 0);
    CHECK(ok(st.keys("")) == std::vector<std::string>{"x"});
    auto next = ok(st.xadd("x", {{"n", "3"}}));
    CHECK(split_id(next) > std::make_pair(ms, seq));
  }

  SECTION("xadd with MAXLEN keeps only the newest entries") {
    std::vector<std::string> ids;
    for (int i = 0; i < 10; ++i)
      ids.push_back(ok(st.xadd("x", {{"n", std::to_string(i)}}, {3, ""})));
    CHECK(ok(st.xlen("x")) == 3);
    CHECK(ids_of(ok(st.xrange("x", "-", "+")))
          == std::vector<std::string>(ids.end() - 3, ids.end()));
    CHECK(ok(st.xtrim("x", {1, ""})) == 2);
    CHECK(ids_of(ok(st.xrange("x", "-", "+")))
          == std::vector<std::string>{ids.back()});
    CHECK(ok(st.xtrim("x", {1, ""})) == 0);
  }

  SECTION("xtrim with MINID removes the entries below the id and counts "
          "them") {
    auto ids = add_entries(st, "x", 5);
    CHECK(ok(st.xtrim("x", {0, ids[2]})) == 2);
    CHECK(ids_of(ok(st.xrange("x", "-", "+")))
          == std::vector<std::string>(ids.begin() + 2, ids.end()));
    CHECK(ok(st.xtrim("x", {0, ids[2]})) == 0);
    // xadd trims after adding.
    auto id = ok(st.xadd("x", {{"n", "5"}}, {0, ids[4]}));
    CHECK(ids_of(ok(st.xrange("x", "-", "+")))
          == std::vector<std::string>{ids[4], id});
    CHECK(ok(st.xtrim("missing", {0, ids[4]})) == 0);
    CHECK(ok(st.xtrim("x", {})) == 0);
  }

  SECTION("xdel removes the entries it names and counts those that were "
          "there") {
    auto ids = add_entries(st, "x", 5);
    using strings = std::vector<std::string>;
    // An ID given twice counts once; one that is no entry counts nothing.
    CHECK(ok(st.xdel("x", {ids[1], ids[3], ids[1], "1-1"})) == 2);
    CHECK(ids_of(ok(st.xrange("x", "-", "+")))
          == strings{ids[0], ids[2], ids[4]});
    CHECK(ids_of(ok(st.xrevrange("x", "+", "-")))
          == strings{ids[4], ids[2], ids[0]});
    CHECK(ok(st.xrange("x", ids[1], ids[1])).empty());
    CHECK(ok(st.xlen("x")) == 3);
    CHECK(ok(st.xdel("x", {ids[1]})) == 0);
    CHECK(ok(st.xdel("x", {})) == 0);
    CHECK(ok(st.xdel("x", {ids[4]})) == 1);
    CHECK(ids_of(ok(st.xrange("x", "-", "+"))) == strings{ids[0], ids[2]});
  }

  SECTION("xdel on a missing stream deletes 0 and a stream deleted empty "
          "keeps its key and its ids") {
    CHECK(ok(st.xdel("missing", {"1-1", "2"})) == 0);
    CHECK(ok(st.xdel("missing", {})) == 0);
    CHECK(ok(st.keys("")).empty());
    auto ids = add_entries(st, "x", 3);
    CHECK(ok(st.xdel("x", ids)) == 3);
    CHECK(ok(st.xlen("x")) == 0);
    CHECK(ok(st.xrange("x", "-", "+")).empty());
    CHECK(ok(st.keys("")) == std::vector<std::string>{"x"});
    auto next = ok(st.xadd("x", {{"n", "3"}}));
    CHECK(split_id(next) > split_id(ids.back()));
  }

  SECTION("xdel with a malformed id is an invalid argument and deletes "
          "nothing") {
    auto ids = add_entries(st, "x", 2);
    for (auto bad : {"nope", "", "-", "+", "1-", "-1", "1-2-3",
                     "18446744073709551616-0"}) {
      CAPTURE(bad);
      CHECK(outcome(st.xdel("x", {ids[0], bad})) == "invalid_argument");
      // Also on a missing stream, where Redis itself would answer 0.
      CHECK(outcome(st.xdel("missing", {bad})) == "invalid_argument");
    }
    CHECK(ids_of(ok(st.xrange("x", "-", "+"))) == ids);
    CHECK(ok(st.keys("")) == std::vector<std::string>{"x"});
  }

  SECTION("MAXLEN and MINID together are an invalid argument") {
    auto ids = add_entries(st, "x", 3);
    CHECK(outcome(st.xtrim("x", {1, ids[1]})) == "invalid_argument");
    CHECK(outcome(st.xadd("x", {{"n", "3"}}, {1, ids[1]}))
          == "invalid_argument");
    CHECK(ok(st.xlen("x")) == 3);
  }

  SECTION("xrange and xrevrange are inclusive, honour count and take - + and "
          "exclusive bounds") {
    auto ids = add_entries(st, "x", 5);
    using strings = std::vector<std::string>;
    CHECK(ids_of(ok(st.xrange("x", "-", "+"))) == ids);
    CHECK(ids_of(ok(st.xrange("x", ids[1], ids[3])))
          == strings{ids[1], ids[2], ids[3]});
    CHECK(ids_of(ok(st.xrange("x", "-", "+", 2))) == strings{ids[0], ids[1]});
    CHECK(ids_of(ok(st.xrange("x", "(" + ids[1], "(" + ids[4])))
          == strings{ids[2], ids[3]});
    CHECK(ids_of(ok(st.xrange("x", ids[3], ids[1]))).empty());
    CHECK(ids_of(ok(st.xrevrange("x", "+", "-")))
          == strings{ids[4], ids[3], ids[2], ids[1], ids[0]});
    CHECK(ids_of(ok(st.xrevrange("x", ids[3], ids[1], 2)))
          == strings{ids[3], ids[2]});
    CHECK(ids_of(ok(st.xrevrange("x", "(" + ids[3], "-")))
          == strings{ids[2], ids[1], ids[0]});
    CHECK(ids_of(ok(st.xrevrange("x", ids[1], ids[3]))).empty());
    CHECK(ok(st.xrange("missing", "-", "+")).empty());
    CHECK(ok(st.xrevrange("missing", "+", "-")).empty());
    CHECK(ok(st.xlen("missing")) == 0);
  }

  SECTION("a bare millisecond bound covers every sequence of that "
          "millisecond") {
    auto ids = add_entries(st, "x", 5);
    auto ms = std::to_string(split_id(ids[2]).first);
    auto entries = ids_of(ok(st.xrange("x", ms, ms)));
    CHECK(std::find(entries.begin(), entries.end(), ids[2]) != entries.end());
    for (auto& id : entries)
      CHECK(std::to_string(split_id(id).first) == ms);
    CHECK(ids_of(ok(st.xrevrange("x", ms, ms)))
          == std::vector<std::string>(entries.rbegin(), entries.rend()));
  }

  SECTION("malformed stream ids are invalid arguments") {
    add_entries(st, "x", 1);
    CHECK(ok(st.xgroup_create("x", "g", "0")));
    CHECK(outcome(st.xrange("x", "abc", "+")) == "invalid_argument");
    CHECK(outcome(st.xrange("x", "-", "1-2-3")) == "invalid_argument");
    CHECK(outcome(st.xrange("x", "(-", "+")) == "invalid_argument");
    CHECK(outcome(st.xrevrange("x", "+", "-1")) == "invalid_argument");
    CHECK(outcome(st.xtrim("x", {0, "x-1"})) == "invalid_argument");
    CHECK(outcome(st.xgroup_create("x", "g2", "later")) == "invalid_argument");
    CHECK(outcome(st.xack("x", "g", {"1-1", "nope"})) == "invalid_argument");
    CHECK(ok(st.xlen("x")) == 1);
  }

  // -- consumer groups --------------------------------------------------------

  SECTION("xgroup_create creates a missing stream and reports an existing "
          "group") {
    CHECK(ok(st.xgroup_create("jobs", "workers", "$")));
    CHECK(ok(st.keys("")) == std::vector<std::string>{"jobs"});
    CHECK(ok(st.xlen("jobs")) == 0);
    CHECK_FALSE(ok(st.xgroup_create("jobs", "workers", "0")));
    CHECK(ok(st.xgroup_create("jobs", "auditors", "0")));
  }

  SECTION("a group created at $ sees only later entries and one created at 0 "
          "sees all") {
    auto before = add_entries(st, "x", 2);
    CHECK(ok(st.xgroup_create("x", "late", "$")));
    CHECK(ok(st.xgroup_create("x", "early", "0")));
    auto after = ok(st.xadd("x", {{"n", "2"}}));
    CHECK(ids_of(ok(st.xreadgroup("x", "late", "c")))
          == std::vector<std::string>{after});
    CHECK(ids_of(ok(st.xreadgroup("x", "early", "c")))
          == std::vector<std::string>{before[0], before[1], after});
  }

  SECTION("xreadgroup delivers each new entry once and keeps it pending") {
    auto ids = add_entries(st, "x", 3);
    CHECK(ok(st.xgroup_create("x", "g", "0")));
    CHECK(ok(st.xpending_count("x", "g")) == 0);
    auto first = ok(st.xreadgroup("x", "g", "c1", 2));
    REQUIRE(ids_of(first) == std::vector<std::string>{ids[0], ids[1]});
    CHECK(first[1].fields == field_list{{"n", "1"}});
    CHECK(ids_of(ok(st.xreadgroup("x", "g", "c2", 2)))
          == std::vector<std::string>{ids[2]});
    CHECK(ok(st.xreadgroup("x", "g", "c1")).empty());
    CHECK(ok(st.xpending_count("x", "g")) == 3);
    auto pending = ok(st.xpending("x", "g"));
    REQUIRE(pending.size() == 3);
    CHECK(pending[0].id == ids[0]);
    CHECK(pending[0].consumer == "c1");
    CHECK(pending[0].delivery_count == 1);
    CHECK(pending[0].idle_ms >= 0);
    CHECK(pending[2].consumer == "c2");
    CHECK(ok(st.xpending("x", "g", 1)).size() == 1);
  }

  SECTION("an unacknowledged entry is redelivered by xautoclaim after min_idle "
          "to another consumer with delivery count 2 and an acknowledged one "
          "is not") {
    auto ids = add_entries(st, "webhooks", 2);
    CHECK(ok(st.xgroup_create("webhooks", "dispatch", "0")));
    CHECK(ok(st.xreadgroup("webhooks", "dispatch", "node-a")).size() == 2);
    CHECK(ok(st.xack("webhooks", "dispatch", {ids[1]})) == 1);
    // Not idle long enough yet.
    CHECK(ok(st.xautoclaim("webhooks", "dispatch", "node-b", 10'000)).empty());
    advance_ms(100);
    auto claimed = ok(st.xautoclaim("webhooks", "dispatch", "node-b", 50));
    REQUIRE(claimed.size() == 1);
    CHECK(claimed[0] == stream_entry{ids[0], {{"n", "0"}}});
    auto pending = ok(st.xpending("webhooks", "dispatch"));
    REQUIRE(pending.size() == 1);
    CHECK(pending[0].id == ids[0]);
    CHECK(pending[0].consumer == "node-b");
    CHECK(pending[0].delivery_count == 2);
    CHECK(pending[0].idle_ms < 50);
    // The claim reset the idle time.
    CHECK(ok(st.xautoclaim("webhooks", "dispatch", "node-c", 50)).empty());
    CHECK(ok(st.xack("webhooks", "dispatch", {ids[0]})) == 1);
    advance_ms(100);
    CHECK(ok(st.xautoclaim("webhooks", "dispatch", "node-c", 50)).empty());
    CHECK(ok(st.xpending_count("webhooks", "dispatch")) == 0);
  }

  SECTION("xautoclaim claims in id order up to count") {
    auto ids = add_entries(st, "x", 5);
    CHECK(ok(st.xgroup_create("x", "g", "0")));
    ok(st.xreadgroup("x", "g", "c1"));
    advance_ms(100);
    CHECK(ids_of(ok(st.xautoclaim("x", "g", "c2", 50, 2)))
          == std::vector<std::string>{ids[0], ids[1]});
    CHECK(ids_of(ok(st.xautoclaim("x", "g", "c2", 50)))
          == std::vector<std::string>{ids[2], ids[3], ids[4]});
    CHECK(outcome(st.xautoclaim("x", "g", "c2", -1)) == "invalid_argument");
  }

  SECTION("xautoclaim drops pending entries that were trimmed away") {
    auto ids = add_entries(st, "x", 3);
    CHECK(ok(st.xgroup_create("x", "g", "0")));
    ok(st.xreadgroup("x", "g", "c1"));
    CHECK(ok(st.xtrim("x", {1, ""})) == 2);
    // Trimming alone leaves the pending list as it was.
    CHECK(ok(st.xpending_count("x", "g")) == 3);
    advance_ms(100);
    CHECK(ids_of(ok(st.xautoclaim("x", "g", "c2", 50)))
          == std::vector<std::string>{ids[2]});
    CHECK(ok(st.xpending_count("x", "g")) == 1);
  }

  SECTION("xautoclaim drops trimmed entries even before they are idle") {
    add_entries(st, "x", 3);
    CHECK(ok(st.xgroup_create("x", "g", "0")));
    ok(st.xreadgroup("x", "g", "c1"));
    CHECK(ok(st.xtrim("x", {1, ""})) == 2);
    // Nothing is idle for an hour, so nothing is claimed, but the two
    // trimmed entries leave the pending list (Redis 7.0 order of checks).
    CHECK(ok(st.xautoclaim("x", "g", "c2", 3'600'000)).empty());
    CHECK(ok(st.xpending_count("x", "g")) == 1);
  }

  SECTION("xdel leaves deleted entries pending, as Redis does, and "
          "xautoclaim drops them") {
    auto ids = add_entries(st, "x", 3);
    CHECK(ok(st.xgroup_create("x", "g", "0")));
    CHECK(ok(st.xreadgroup("x", "g", "c1")).size() == 3);
    CHECK(ok(st.xdel("x", {ids[0], ids[1]})) == 2);
    CHECK(ok(st.xpending_count("x", "g")) == 3);
    auto pending = ok(st.xpending("x", "g"));
    REQUIRE(pending.size() == 3);
    CHECK(pending[0].id == ids[0]);
    CHECK(pending[1].id == ids[1]);
    // A deleted entry that is pending can still be acknowledged.
    CHECK(ok(st.xack("x", "g", {ids[0]})) == 1);
    CHECK(ok(st.xpending_count("x", "g")) == 2);
    // A group that reads later never sees the deleted entries.
    CHECK(ok(st.xgroup_create("x", "late", "0")));
    CHECK(ids_of(ok(st.xreadgroup("x", "late", "c1")))
          == std::vector<std::string>{ids[2]});
    advance_ms(100);
    CHECK(ids_of(ok(st.xautoclaim("x", "g", "c2", 50)))
          == std::vector<std::string>{ids[2]});
    CHECK(ok(st.xpending_count("x", "g")) == 1);
  }

  SECTION("xack counts only entries that were pending") {
    auto ids = add_entries(st, "x", 2);
    CHECK(ok(st.xgroup_create("x", "g", "0")));
    CHECK(ok(st.xack("x", "g", {ids[0]})) == 0);
    ok(st.xreadgroup("x", "g", "c"));
    CHECK(ok(st.xack("x", "g", {ids[0], ids[0], "1-1"})) == 1);
    CHECK(ok(st.xack("x", "g", {ids[0], ids[1]})) == 1);
    CHECK(ok(st.xack("x", "g", {})) == 0);
    CHECK(ok(st.xpending_count("x", "g")) == 0);
  }

  SECTION("group operations on a missing group or stream fail with "
          "not_found") {
    add_entries(st, "x", 1);
    for (auto stream : {"x", "missing"}) {
      CAPTURE(stream);
      CHECK(outcome(st.xreadgroup(stream, "nogroup", "c")) == "not_found");
      CHECK(outcome(st.xack(stream, "nogroup", {"1-1"})) == "not_found");
      CHECK(outcome(st.xpending_count(stream, "nogroup")) == "not_found");
      CHECK(outcome(st.xpending(stream, "nogroup")) == "not_found");
      CHECK(outcome(st.xautoclaim(stream, "nogroup", "c", 0)) == "not_found");
    }
    CHECK(ok(st.keys("")) == std::vector<std::string>{"x"});
  }

  SECTION("consumers on several threads receive every entry exactly once") {
    constexpr int producers = 2;
    constexpr int per_producer = 2'000;
    constexpr int consumers = 4;
    constexpr size_t total = producers * per_producer;
    CHECK(ok(st.xgroup_create("q", "g", "$")));
    std::atomic<int> failures{0};
    std::atomic<size_t> received{0};
    std::vector<std::vector<std::string>> seen(consumers);
    std::vector<std::thread> threads;
    for (int p = 0; p < producers; ++p)
      threads.emplace_back([&st, &failures] {
        for (int i = 0; i < per_producer; ++i)
          if (!st.xadd("q", {{"i", std::to_string(i)}}))
            ++failures;
      });
    for (int c = 0; c < consumers; ++c)
      threads.emplace_back([&st, &failures, &received, &mine = seen[c], c] {
        auto name = "c" + std::to_string(c);
        // Bounded, so a lost entry fails the test instead of hanging it.
        for (int idle = 0; received < total && idle < 1'000'000;) {
          auto batch = st.xreadgroup("q", "g", name, 16);
          if (!batch) {
            ++failures;
            return;
          }
          if (batch->empty()) {
            ++idle;
            std::this_thread::yield();
            continue;
          }
          std::vector<std::string> ids;
          for (auto& entry : *batch)
            ids.push_back(entry.id);
          auto acked = st.xack("q", "g", ids);
          if (!acked || *acked != ids.size())
            ++failures;
          mine.insert(mine.end(), ids.begin(), ids.end());
          received += ids.size();
        }
      });
    for (auto& t : threads)
      t.join();
    CHECK(failures.load() == 0);
    std::set<std::string> unique;
    size_t deliveries = 0;
    for (auto& ids : seen) {
      deliveries += ids.size();
      unique.insert(ids.begin(), ids.end());
    }
    CHECK(deliveries == total);
    CHECK(unique.size() == total);
    CHECK(ok(st.xlen("q")) == total);
    CHECK(ok(st.xpending_count("q", "g")) == 0);
  }

  // -- batches ----------------------------------------------------------------

  SECTION("a batch answers for each string op what its single call would") {
    ok(st.set("old", "v"));
    ok(st.set("taken", "first"));
    using op = write_op;
    auto r = ok_batch(st,
                      {
                        op::make_set("s", "v", 10'000),
                        op::make_set_nx("new", "a", 10'000),
                        op::make_set_nx("new", "b"),
                        op::make_set_nx("taken", "second"),
                        op::make_del("old"),
                        op::make_del("old"),
                        op::make_expire("s", 20'000),
                        op::make_expire("missing", 1'000),
                        op::make_set("doomed", "v"),
                        op::make_expire("doomed", -5),
                      });
    CHECK(r[0].integer == 1);
    CHECK(r[1].integer == 1);
    CHECK(r[2].integer == 0);
    CHECK(r[3].integer == 0);
    CHECK(r[4].integer == 1);
    CHECK(r[5].integer == 0);
    CHECK(r[6].integer == 1);
    CHECK(r[7].integer == 0);
    CHECK(r[9].integer == 1);
    CHECK(get_or_nil(st, "s") == "v");
    auto ttl = ok(st.ttl_ms("s"));
    CHECK(ttl > 10'000);
    CHECK(ttl <= 20'000);
    // NX left the first value and its TTL alone.
    CHECK(get_or_nil(st, "new") == "a");
    ttl = ok(st.ttl_ms("new"));
    CHECK(ttl > 0);
    CHECK(ttl <= 10'000);
    CHECK(get_or_nil(st, "taken") == "first");
    CHECK(ok(st.ttl_ms("taken")) == -1);
    CHECK(ok(st.keys("")) == std::vector<std::string>{"new", "s", "taken"});
  }

  SECTION("a batch answers for each counter and hash op what its single call "
          "would") {
    using op = write_op;
    auto r = ok_batch(st,
                      {
                        op::make_incr_by("n", 5, 1'000),
                        op::make_incr_by("n", -2, 60'000),
                        op::make_incr_by("plain", 7),
                        op::make_hset("h", {{"a", "1"}, {"b", "2"}}),
                        op::make_hset("h", {{"b", "3"}, {"c", "4"}}),
                        op::make_hset("h", {}),
                        op::make_hincr_by("h", "n", 7),
                        op::make_hincr_by("h", "n", -10),
                      });
    CHECK(r[0].integer == 5);
    CHECK(r[1].integer == 3);
    CHECK(r[2].integer == 7);
    CHECK(r[3].integer == 2);
    CHECK(r[4].integer == 1);
    CHECK(r[5].integer == 0);
    CHECK(r[6].integer == 7);
    CHECK(r[7].integer == -3);
    CHECK(get_or_nil(st, "n") == "3");
    CHECK(ok(st.ttl_ms("plain")) == -1);
    CHECK(ok(st.hgetall("h"))
          == field_list{{"a", "1"}, {"b", "3"}, {"c", "4"}, {"n", "-3"}});
    // The counter keeps the deadline of its first increment, within the
    // batch (the second asked for 60 s) and in the next one.
    auto first = ok(st.ttl_ms("n"));
    CHECK(first > 0);
    CHECK(first <= 1'000);
    advance_ms(50);
    r = ok_batch(st, {op::make_incr_by("n", 1, 1'000)});
    CHECK(r[0].integer == 4);
    auto second = ok(st.ttl_ms("n"));
    CHECK(second > 0);
    CHECK(second <= 950);
  }

  SECTION("xadd in a batch returns increasing ids and trims") {
    auto before = add_entries(st, "x", 2);
    using op = write_op;
    std::vector<write_op> ops;
    for (int i = 0; i < 5; ++i)
      ops.push_back(
        op::make_xadd("x", {{"n", std::to_string(2 + i)}}, {3, ""}));
    ops.push_back(op::make_xadd("y", {{"a", "1"}, {"b", "2"}}));
    auto r = ok_batch(st, ops);
    std::vector<std::string> ids = before;
    for (size_t i = 0; i < 5; ++i)
      ids.push_back(r[i].text);
    for (size_t i = 1; i < ids.size(); ++i) {
      CAPTURE(ids[i - 1], ids[i]);
      CHECK(split_id(ids[i - 1]) < split_id(ids[i]));
    }
    CHECK(ok(st.xlen("x")) == 3);
    auto entries = ok(st.xrange("x", "-", "+"));
    CHECK(ids_of(entries)
          == std::vector<std::string>(ids.end() - 3, ids.end()));
    REQUIRE(entries.size() == 3);
    CHECK(entries[2].fields == field_list{{"n", "6"}});
    CHECK(ok(st.xrange("y", "-", "+"))
          == std::vector<stream_entry>{{r[5].text, {{"a", "1"}, {"b", "2"}}}});
    // MINID trims below the ID, after the add.
    r = ok_batch(st, {op::make_xadd("x", {{"n", "7"}}, {0, ids[5]})});
    CHECK(ids_of(ok(st.xrange("x", "-", "+")))
          == std::vector<std::string>{ids[5], ids[6], r[0].text});
  }

  SECTION("get and xack in a batch: a read after a write, acks counted, a "
          "missing group counts 0") {
    using op = write_op;
    ok(st.xgroup_create("q", "g", "0"));
    auto id = ok(st.xadd("q", {{"k", "v"}}));
    ok(st.xreadgroup("q", "g", "c", 0));
    auto r = ok_batch(st,
                      {op::make_set_nx("d", "token"), op::make_get("d"),
                       op::make_get("none"), op::make_xack("q", "g", {id}),
                       op::make_xack("q", "nogroup", {id})});
    REQUIRE(r.size() == 5);
    CHECK(r[1].integer == 1);
    CHECK(r[1].text == "token");
    CHECK(r[2].integer == 0);
    CHECK(r[2].text.empty());
    CHECK_FALSE(r[3].error);
    CHECK(r[3].integer == 1);
    CHECK_FALSE(r[4].error);
    CHECK(r[4].integer == 0);
    CHECK(ok(st.xpending_count("q", "g")) == 0);
  }

  SECTION("xdel in a batch with xadd: deletions counted, a missing stream "
          "counts 0, a wrong type fails alone") {
    using op = write_op;
    using strings = std::vector<std::string>;
    auto before = add_entries(st, "x", 3);
    auto r = ok_batch(st,
                      {
                        op::make_xadd("x", {{"n", "3"}}),
                        op::make_xdel("x", {before[0], before[2], before[0]}),
                        op::make_xdel("missing", {"1-1"}),
                        op::make_xdel("x", {}),
                        op::make_xdel("x", {before[0]}),
                      });
    CHECK(r[1].integer == 2);
    CHECK(r[2].integer == 0);
    CHECK(r[3].integer == 0);
    CHECK(r[4].integer == 0);
    CHECK(ids_of(ok(st.xrange("x", "-", "+")))
          == strings{before[1], r[0].text});
    // Deleting the newest entry and adding in the same batch: IDs keep
    // increasing past the deleted one.
    auto added = r[0].text;
    r = ok_batch(
      st, {op::make_xdel("x", {added}), op::make_xadd("x", {{"n", "4"}})});
    CHECK(r[0].integer == 1);
    CHECK(split_id(r[1].text) > split_id(added));
    CHECK(ids_of(ok(st.xrange("x", "-", "+")))
          == strings{before[1], r[1].text});
    CHECK(ok(st.keys("")) == strings{"x"});
    // On a key of another type the op fails alone; the others still run.
    ok(st.set("s", "v"));
    r = ok(st.write({op::make_xdel("s", {"1-1"}), op::make_xdel("s", {}),
                     op::make_xdel("x", {before[1]})}));
    REQUIRE(r.size() == 3);
    CHECK(outcome(r[0]) == "store_error");
    CHECK(outcome(r[1]) == "store_error");
    CHECK(outcome(r[2]) == "value");
    CHECK(r[2].integer == 1);
    CHECK(ok(st.xlen("x")) == 1);
  }

  SECTION("an op that fails at run time carries its error and the ops after "
          "it still run") {
    ok(st.hset("h", {{"f", "v"}}));
    ok(st.set("s", "abc"));
    using op = write_op;
    auto r = ok(st.write({
      op::make_set("before", "1"),
      op::make_incr_by("h", 1),
      op::make_incr_by("s", 1, 10'000),
      op::make_hincr_by("s", "f", 1),
      op::make_hset("s", {{"f", "v"}}),
      op::make_xadd("h", {{"f", "v"}}),
      op::make_incr_by("after", 2),
      op::make_hincr_by("h", "n", 1),
    }));
    REQUIRE(r.size() == 8);
    CHECK(outcome(r[0]) == "value");
    CHECK(outcome(r[1]) == "store_error");
    CHECK(outcome(r[2]) == "store_error");
    CHECK(outcome(r[3]) == "store_error");
    CHECK(outcome(r[4]) == "store_error");
    CHECK(outcome(r[5]) == "store_error");
    CHECK(outcome(r[6]) == "value");
    CHECK(r[6].integer == 2);
    CHECK(outcome(r[7]) == "value");
    CHECK(r[7].integer == 1);
    CHECK(get_or_nil(st, "before") == "1");
    CHECK(get_or_nil(st, "after") == "2");
    // The failed ops changed nothing, not even an expiry.
    CHECK(get_or_nil(st, "s") == "abc");
    CHECK(ok(st.ttl_ms("s")) == -1);
    CHECK(ok(st.hgetall("h")) == field_list{{"f", "v"}, {"n", "1"}});
  }

  SECTION("a failed incr_by with a TTL leaves the expiry that the batch's "
          "later ops give the key") {
    for (auto name : {"h1", "h2", "h3", "h4"})
      ok(st.hset(name, {{"f", "v"}}));
    using op = write_op;
    auto r = ok(st.write({
      // No later op touches h1's expiry: it has none.
      op::make_incr_by("h1", 1, 60'000),
      op::make_hset("h1", {{"g", "w"}}),
      // A later expire sets h2's.
      op::make_incr_by("h2", 1, 60'000),
      op::make_expire("h2", 10'000),
      // A later set replaces h3 with a string that expires.
      op::make_incr_by("h3", 1, 60'000),
      op::make_set("h3", "v", 10'000),
      // A later set_nx finds h4 and changes nothing.
      op::make_incr_by("h4", 1, 60'000),
      op::make_set_nx("h4", "v", 10'000),
    }));
    REQUIRE(r.size() == 8);
    for (size_t i = 0; i < r.size(); i += 2) {
      CAPTURE(i);
      CHECK(outcome(r[i]) == "store_error");
      CHECK(outcome(r[i + 1]) == "value");
    }
    CHECK(ok(st.ttl_ms("h1")) == -1);
    auto ttl = ok(st.ttl_ms("h2"));
    CHECK(ttl > 0);
    CHECK(ttl <= 10'000);
    CHECK(get_or_nil(st, "h3") == "v");
    ttl = ok(st.ttl_ms("h3"));
    CHECK(ttl > 0);
    CHECK(ttl <= 10'000);
    CHECK(ok(st.ttl_ms("h4")) == -1);
  }

  SECTION("an invalid op anywhere fails the whole batch with invalid_argument "
          "and writes nothing") {
    ok(st.set("k", "old"));
    using op = write_op;
    constexpr auto max = std::numeric_limits<int64_t>::max();
    std::vector<std::pair<std::string, write_op>> invalid{
      {"set with a negative TTL", op::make_set("t", "v", -1)},
      {"set_nx with a negative TTL", op::make_set_nx("t", "v", -1)},
      {"incr_by with a negative TTL", op::make_incr_by("t", 1, -1)},
      {"set with an overflowing TTL", op::make_set("t", "v", max)},
      {"expire with an overflowing TTL", op::make_expire("k", max)},
      {"xadd without fields", op::make_xadd("x", {})},
      {"xadd with MAXLEN and MINID",
       op::make_xadd("x", {{"f", "v"}}, {5, "1"})},
      {"xadd with MINID abc", op::make_xadd("x", {{"f", "v"}}, {0, "abc"})},
      {"xadd with MINID 1-2-3", op::make_xadd("x", {{"f", "v"}}, {0, "1-2-3"})},
      {"xadd with MINID -1", op::make_xadd("x", {{"f", "v"}}, {0, "-1"})},
      {"xdel with id nope", op::make_xdel("x", {"1-1", "nope"})},
      {"xdel with id 1-2-3", op::make_xdel("missing", {"1-2-3"})},
    };
    for (auto& [what, bad] : invalid) {
      std::vector<write_op> good{op::make_set("k", "new"),
                                 op::make_incr_by("n", 1),
                                 op::make_xadd("x", {{"f", "v"}})};
      for (size_t at = 0; at <= good.size(); ++at) {
        CAPTURE(what, at);
        auto ops = good;
        ops.insert(ops.begin() + static_cast<std::ptrdiff_t>(at), bad);
        CHECK(outcome(st.write(ops)) == "invalid_argument");
        CHECK(get_or_nil(st, "k") == "old");
        CHECK(ok(st.ttl_ms("k")) == -1);
        CHECK(ok(st.keys("")) == std::vector<std::string>{"k"});
      }
    }
  }

  SECTION("an empty batch answers an empty result and writes nothing") {
    CHECK(ok(st.write({})).empty());
    CHECK(ok(st.keys("")).empty());
  }

  SECTION("batches from 4 threads run whole, never interleaved") {
    constexpr int threads = 4;
    constexpr int batches = 2'000;
    auto ops = isolation_probe(8);
    std::atomic<int> failures{0};
    std::atomic<int> interleaved{0};
    std::vector<std::thread> workers;
    for (int t = 0; t < threads; ++t)
      workers.emplace_back([&st, &ops, &failures, &interleaved] {
        for (int i = 0; i < batches; ++i) {
          auto r = st.write(ops);
          if (!r)
            ++failures;
          else if (!ran_whole(*r))
            ++interleaved;
        }
      });
    for (auto& w : workers)
      w.join();
    CHECK(failures.load() == 0);
    CHECK(interleaved.load() == 0);
    CHECK(get_or_nil(st, "a") == std::to_string(2 * threads * batches));
    CHECK(get_or_nil(st, "b") == std::to_string(2 * threads * batches));
  }

  // -- administration ---------------------------------------------------------

  SECTION("keys lists the live keys with a prefix, sorted") {
    ok(st.set("svc:b", "1"));
    ok(st.set("svc:a", "1"));
    ok(st.hset("svc:c", {{"f", "v"}}));
    ok(st.xadd("svc:d", {{"f", "v"}}));
    ok(st.set("svc:e", "1", 100));
    ok(st.set("other", "1"));
    ok(st.set("svc", "1"));
    CHECK(
      ok(st.keys("svc:"))
      == std::vector<std::string>{"svc:a", "svc:b", "svc:c", "svc:d", "svc:e"});
    advance_ms(150);
    CHECK(ok(st.keys("svc:"))
          == std::vector<std::string>{"svc:a", "svc:b", "svc:c", "svc:d"});
    CHECK(ok(st.keys("")).size() == 6);
    CHECK(ok(st.keys("nothing")).empty());
  }
}

} // namespace streamb::store::testing
