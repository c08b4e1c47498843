#include "runtime/metrics/ingest_backlog.hpp"

#include <catch2/catch.hpp>

#include <thread>

using namespace streamb;

TEST_CASE("the ingest backlog refuses batches once the monitor is behind by "
          "its limit") {
  ingest_backlog b{1000};
  CHECK(b.try_reserve(600));
  CHECK(b.try_reserve(400));
  CHECK_FALSE(b.try_reserve(1));
  CHECK(b.queued() == 1000); // a refused reservation leaves no trace
  b.release(600);
  CHECK(b.try_reserve(500));
  CHECK(b.queued() == 900);
}

TEST_CASE("an empty ingest backlog takes a batch larger than its limit") {
  ingest_backlog b{1000};
  CHECK(b.try_reserve(5000));
  CHECK_FALSE(b.try_reserve(1));
  b.release(5000);
  CHECK(b.queued() == 0);
}

TEST_CASE("a reservation that does not fit waits for a release") {
  ingest_backlog b{1000};
  REQUIRE(b.try_reserve(1000));
  std::thread monitor{[&] {
    std::this_thread::sleep_for(std::chrono::milliseconds{20});
    b.release(1000);
  }};
  // Bounded: the release comes long before this deadline.
  CHECK(b.reserve(500,
                  std::chrono::steady_clock::now() + std::chrono::seconds{30}));
  monitor.join();
  CHECK(b.queued() == 500);
}

TEST_CASE("a reservation that does not fit gives up at its deadline") {
  ingest_backlog b{1000};
  REQUIRE(b.try_reserve(1000));
  CHECK_FALSE(b.reserve(
    1, std::chrono::steady_clock::now() + std::chrono::milliseconds{10}));
  CHECK(b.queued() == 1000);
}
