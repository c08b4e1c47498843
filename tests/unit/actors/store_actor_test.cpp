#include "actors/store_actor.hpp"

#include "runtime/store/memory_backend.hpp"
#include "tests/unit/actor_fixture.hpp"

#include <memory>

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
  auto read = ask<stream_entries>(store, xread_atom_v, stream,
                                  std::string{"workers"}, std::string{"a"},
                                  uint64_t{10});
  REQUIRE(read.size() == 1);
  CHECK(read[0].id == id);
  // Consumer a crashed: after the idle time, b claims the entry.
  now_ms += 60'000;
  auto claimed = ask<stream_entries>(store, xclaim_atom_v, stream,
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
  auto rh = self->request(store, caf::infinite, xread_atom_v,
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
