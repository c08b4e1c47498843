#include "runtime/core/utf8.hpp"

#include <catch2/catch.hpp>

using namespace streamb;

TEST_CASE("UTF-8 validation follows RFC 3629") {
  CHECK(valid_utf8(""));
  CHECK(valid_utf8("plain ascii"));
  CHECK(valid_utf8("caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80"));
  CHECK_FALSE(valid_utf8("\xff\xfe"));
  CHECK_FALSE(valid_utf8("\xC0\xAF"));         // overlong '/'
  CHECK_FALSE(valid_utf8("\xED\xA0\x80"));     // a surrogate
  CHECK_FALSE(valid_utf8("\xF4\x90\x80\x80")); // above U+10FFFF
  CHECK_FALSE(valid_utf8("\xE2\x82"));         // cut short
}

TEST_CASE("sanitizing replaces each bad byte and keeps the rest") {
  CHECK(sanitize_utf8("/\xff\xfe/x") == "/\xEF\xBF\xBD\xEF\xBF\xBD/x");
  CHECK(sanitize_utf8("caf\xC3\xA9") == "caf\xC3\xA9");
  CHECK(valid_utf8(sanitize_utf8("\xE2\x82\xF0\x9F\x98")));
}
