#include "bridges/json_text.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdlib>
#include <limits>

using namespace streamb;

namespace json = boost::json;

namespace {

std::string text(double x) {
  return to_json_text(json::value(x));
}

} // namespace

TEST_CASE("money from micro-dollars is a plain decimal with at most 6 "
          "decimals") {
  CHECK(text(usd(50'000'000)) == "50");
  CHECK(text(usd(400)) == "0.0004");
  CHECK(text(usd(1'234'567'891'234)) == "1234567.891234");
  CHECK(text(usd(1)) == "0.000001");
  CHECK(text(usd(0)) == "0");
  CHECK(text(usd(250'000)) == "0.25");
  CHECK(text(usd(-2'500'000)) == "-2.5");
  CHECK(text(usd(-400)) == "-0.0004");
  CHECK(text(usd(-1'234'567'891'234)) == "-1234567.891234");
  // A month of a large budget: 12.3 million USD to the micro-dollar.
  CHECK(text(usd(12'345'678'123'456)) == "12345678.123456");
}

TEST_CASE("money computed in floating point is rounded to micro-dollars") {
  CHECK(text(round_usd(0.1 + 0.2)) == "0.3");
  CHECK(text(round_usd(1.0 / 3.0)) == "0.333333");
  CHECK(text(round_usd(2.0 / 3.0)) == "0.666667");
  CHECK(text(round_usd(50.0)) == "50");
  CHECK(text(round_usd(0.0004)) == "0.0004");
  CHECK(text(round_usd(1234567.891234)) == "1234567.891234");
  CHECK(text(round_usd(-1.0 / 3.0)) == "-0.333333");
  CHECK(text(round_usd(-0.0000001)) == "0");
  CHECK(text(round_usd(12.0 / 24.0)) == "0.5");
}

TEST_CASE("doubles are written without an exponent and read back the same") {
  CHECK(text(311.5) == "311.5");
  CHECK(text(123.39) == "123.39");
  CHECK(text(0.033) == "0.033");
  CHECK(text(60.0) == "60");
  CHECK(text(1e21) == "1000000000000000000000");
  CHECK(text(1.5e-7) == "0.00000015");
  CHECK(text(-2.5e-3) == "-0.0025");
  for (double x : {0.1, 1.0 / 3.0, 123.39, 1e-9, 6.02214076e23, -7.5e-12,
                   std::numeric_limits<double>::max(),
                   std::numeric_limits<double>::denorm_min()}) {
    auto t = text(x);
    INFO(t);
    CHECK(t.find_first_of("eE") == std::string::npos);
    // strtod rounds correctly; Boost.JSON 1.81's parser may be an ulp off.
    CHECK(std::strtod(t.c_str(), nullptr) == x);
  }
}

TEST_CASE("a double that is not finite is written as null") {
  CHECK(text(std::numeric_limits<double>::quiet_NaN()) == "null");
  CHECK(text(std::numeric_limits<double>::infinity()) == "null");
  CHECK(text(-std::numeric_limits<double>::infinity()) == "null");
}

TEST_CASE("everything but doubles is written exactly as Boost.JSON writes "
          "it") {
  std::string control;
  for (char c = 1; c < 0x20; ++c)
    control += c;
  json::value v = json::object{
    {"null", nullptr},
    {"yes", true},
    {"no", false},
    {"int", -42},
    {"big", std::numeric_limits<int64_t>::min()},
    {"ubig", std::numeric_limits<uint64_t>::max()},
    {"plain", "stripe:evt_1"},
    {"escaped", "quote \" backslash \\ slash / " + control},
    {"utf8", "caf\xc3\xa9 \xe2\x82\xac"},
    {"key \"quoted\"", json::array{1, "two", json::array{}, json::object{}}},
    {"nested", json::object{{"a", json::array{json::object{{"b", nullptr}}}}}},
  };
  CHECK(to_json_text(v) == json::serialize(v));
}

TEST_CASE("an answer with money reads back with the same amounts") {
  json::object doc{{"spendUsd", usd(250'000)},
                   {"budgetUsd", usd(50'000'000)},
                   {"reservedUsd", usd(400)},
                   {"calls", 2}};
  auto t = to_json_text(doc);
  CHECK(
    t == R"({"spendUsd":0.25,"budgetUsd":50,"reservedUsd":0.0004,"calls":2})");
  auto back = json::parse(t);
  CHECK(back.at("spendUsd").to_number<double>() == 0.25);
  CHECK(back.at("budgetUsd").to_number<double>() == 50);
  CHECK(back.at("reservedUsd").to_number<double>() == 0.0004);
}
