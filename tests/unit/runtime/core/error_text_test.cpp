// Errors in log lines and CLI messages read as sentences, not as CAF's
// error(4, 'streamb', ("...")) wrapper.

#include "runtime/core/error_code.hpp"
#include "runtime/core/error_text.hpp"

#include <caf/sec.hpp>
#include <catch2/catch.hpp>

using namespace streamb;

TEST_CASE("error_text gives the message an error carries, or its name") {
  auto down = caf::make_error(error_code::store_unavailable,
                              "redis 127.0.0.1:6379 unavailable: refused");
  CHECK(error_text(down) == "redis 127.0.0.1:6379 unavailable: refused");
  CHECK(error_text(caf::make_error(error_code::timeout)) == "timeout");
  CHECK(error_text(caf::make_error(error_code::store_unavailable))
        == "store unavailable");
  CHECK(error_text(caf::make_error(caf::sec::request_timeout))
        == "request timeout");
  CHECK(error_text(caf::make_error(caf::sec::runtime_error, "boom"))
        == "runtime error: boom");
  CHECK(error_text(caf::error{}) == "no error");
}
