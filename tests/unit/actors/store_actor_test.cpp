#include "actors/store_actor.hpp"

#include "runtime/store/memory_backend.hpp"
#include "tests/unit/actor_fixture.hpp"

#include <memory>
#include <optional>

using namespace streamb;

namespace {

struct fixture : test::actor_fixture {
  int64_t now_ms = 1'700'000'000'000;
  store_actor store = sys().spawn(
    store_service,
    std::make_shared<store::memory_backend>([this] { return now_ms; }));

  ~fixture() {
    self->send_exit(store, caf::exit_reason::user_shutdown);
  }
};

} // namespace

TEST_CASE_METHOD(fixture, "the store actor answers ping") {
  CHECK(ask<bool>(store, ping_atom_v));
}

TEST_CASE_METHOD(fixture,
                 "SET NX through the store actor sets once until "
                 "the key expires") {
  CHECK(ask<bool>(store, kv_setnx_atom_v, std::string{"dedup:evt_1"},
                  std::string{"1"}, int64_t{1000}));
  CHECK_FALSE(ask<bool>(store, kv_setnx_atom_v, std::string{"dedup:evt_1"},
                        std::string{"1"}, int64_t{1000}));
  now_ms += 1000;
  CHECK(ask<bool>(store, kv_setnx_atom_v, std::string{"dedup:evt_1"},
                  std::string{"1"}, int64_t{1000}));
}

TEST_CASE_METHOD(fixture, "counters through the store actor add up") {
  std::string key = "spend:stripe:2026-11";
  CHECK(ask<int64_t>(store, incr_atom_v, key, int64_t{250}, int64_t{0}) == 250);
  CHECK(ask<int64_t>(store, incr_atom_v, key, int64_t{-50}, int64_t{0}) == 200);
}

TEST_CASE_METHOD(fixture,
                 "a stream entry read and not acknowledged is "
                 "claimed again through the store actor") {
  std::string stream = "webhooks";
  CHECK(ask<bool>(store, xgroup_atom_v, stream, std::string{"workers"},
                  std::string{"0"}));
  auto id = ask<std::string>(store, xadd_atom_v, stream,
                             store::field_list{{"event", "evt_1"}},
                             store::stream_trim{});
  auto read = ask<stream_entries>(store, xreadgroup_atom_v, stream,
                                  std::string{"workers"}, std::string{"a"},
                                  uint64_t{10});
  REQUIRE(read.size() == 1);
  CHECK(read[0].id == id);
  // Consumer a crashed: after the idle time, b claims the entry.
  now_ms += 60'000;
  auto claimed = ask<stream_entries>(store, xautoclaim_atom_v, stream,
                                     std::string{"workers"}, std::string{"b"},
                                     int64_t{30'000}, uint64_t{10});
  REQUIRE(claimed.size() == 1);
  CHECK(claimed[0].fields == store::field_list{{"event", "evt_1"}});
  CHECK(ask<uint64_t>(store, xack_atom_v, stream, std::string{"workers"},
                      std::vector<std::string>{id})
        == 1);
  auto range = ask<stream_entries>(store, xrange_atom_v, stream,
                                   std::string{"-"}, std::string{"+"},
                                   uint64_t{0});
  CHECK(range.size() == 1);
}

TEST_CASE_METHOD(fixture, "store errors reach the caller as errors") {
  // A consumer group that does not exist.
  auto rh = self->request(store, caf::infinite, xreadgroup_atom_v,
                          std::string{"nope"}, std::string{"g"},
                          std::string{"c"}, uint64_t{1});
  sched.run();
  bool failed = false;
  rh.receive([](const stream_entries&) {},
             [&](caf::error& err) {
               failed = true;
               CHECK(err == caf::make_error(error_code::not_found));
             });
  CHECK(failed);
}

TEST_CASE_METHOD(fixture,
                 "the store actor runs a batch of writes and answers one "
                 "result per op") {
  using op = store::write_op;
  auto results = ask<write_results>(
    store, write_atom_v,
    write_ops{op::make_set_nx("dedup:evt_1", "1", 1000),
              op::make_set_nx("dedup:evt_1", "2", 1000),
              op::make_incr_by("spend:stripe", 250),
              op::make_xadd("audit", {{"action", "grant"}}, {100, ""}),
              // A string is no stream: this op fails, the next still runs.
              op::make_xadd("spend:stripe", {{"f", "v"}}),
              op::make_incr_by("spend:stripe", -50)});
  REQUIRE(results.size() == 6);
  CHECK(results[0].integer == 1);
  CHECK(results[1].integer == 0);
  CHECK(results[2].integer == 250);
  CHECK_FALSE(results[3].text.empty());
  CHECK(results[4].error == caf::make_error(error_code::store_error));
  CHECK(results[5].integer == 200);
  auto range = ask<stream_entries>(store, xrange_atom_v, std::string{"audit"},
                                   std::string{"-"}, std::string{"+"},
                                   uint64_t{0});
  REQUIRE(range.size() == 1);
  CHECK(range[0].id == results[3].text);
}

TEST_CASE_METHOD(fixture,
                 "an invalid batch reaches the caller as invalid_argument "
                 "and writes nothing") {
  using op = store::write_op;
  auto rh = self->request(store, caf::infinite, write_atom_v,
                          write_ops{op::make_set("k", "v"),
                                    op::make_xadd("audit", {})});
  sched.run();
  bool failed = false;
  rh.receive([](const write_results&) {},
             [&](caf::error& err) {
               failed = true;
               CHECK(err == caf::make_error(error_code::invalid_argument));
             });
  CHECK(failed);
  // The SET before the invalid op did not land.
  auto get = self->request(store, caf::infinite, kv_get_atom_v,
                           std::string{"k"});
  sched.run();
  std::optional<bool> found;
  get.receive([&](bool x, const std::string&) { found = x; },
              [](caf::error&) {});
  REQUIRE(found);
  CHECK_FALSE(*found);
}
