// Timestamps as the API and the event histories write them
// (runtime/core/wall_time: iso8601_utc).

#include "runtime/core/wall_time.hpp"

#include <catch2/catch.hpp>

#include <cstdio>
#include <ctime>
#include <random>

using namespace streamb;

namespace {

/// The C library's answer, for times from 1970 on.
std::string by_strftime(int64_t ms) {
  auto secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[64];
  auto n = std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
  std::snprintf(buf + n, sizeof(buf) - n, ".%03dZ",
                static_cast<int>(ms % 1000));
  return buf;
}

} // namespace

TEST_CASE("iso8601_utc writes milliseconds since 1970 as UTC") {
  CHECK(iso8601_utc(0) == "1970-01-01T00:00:00.000Z");
  CHECK(iso8601_utc(1795756687123) == "2026-11-27T05:18:07.123Z");
  CHECK(iso8601_utc(951782400000) == "2000-02-29T00:00:00.000Z");
  CHECK(iso8601_utc(951868799999) == "2000-02-29T23:59:59.999Z");
  CHECK(iso8601_utc(253402300799999) == "9999-12-31T23:59:59.999Z");
  // Before 1970 the milliseconds count forward within the second.
  CHECK(iso8601_utc(-1) == "1969-12-31T23:59:59.999Z");
  CHECK(iso8601_utc(-86400000) == "1969-12-31T00:00:00.000Z");
  // Years past four digits still come out whole, not cut.
  CHECK(iso8601_utc(253402300800000).rfind("10000-01-01T00:00:00", 0) == 0);
}

TEST_CASE("iso8601_utc agrees with strftime over random instants") {
  std::mt19937_64 rng{42};
  std::uniform_int_distribution<int64_t> any_ms{0, 253402300799999};
  for (int i = 0; i < 20000; ++i) {
    auto ms = any_ms(rng);
    INFO(ms);
    REQUIRE(iso8601_utc(ms) == by_strftime(ms));
  }
}
