#include "runtime/ingest_backlog.hpp"

#include <catch2/catch.hpp>

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
