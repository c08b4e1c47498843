// Log line formats (runtime/core/log_format.hpp).

#include "runtime/core/log_format.hpp"

#include <boost/json/parse.hpp>
#include <catch2/catch.hpp>

using namespace streamb;

TEST_CASE("a JSON log line is one valid object whatever the message holds") {
  auto line = format_log_line(log_format::json, "2026-12-06T00:00:00.000Z",
                              log_level::warning, "http",
                              "bad path \"/x\"\nsecond line \xff\xfe end");
  REQUIRE(line.back() == '\n');
  CHECK(line.find('\n') == line.size() - 1); // one line
  auto doc = boost::json::parse(line).as_object();
  CHECK(doc.at("time").as_string() == "2026-12-06T00:00:00.000Z");
  CHECK(doc.at("level").as_string() == "warn");
  CHECK(doc.at("component").as_string() == "http");
  auto message = std::string{doc.at("message").as_string()};
  CHECK(message.rfind("bad path \"/x\"\nsecond line ", 0) == 0);
  CHECK(message.find(" end") != std::string::npos);
}

TEST_CASE("text log lines keep their layout; levels and formats parse") {
  CHECK(format_log_line(log_format::text, "T", log_level::info, "node", "up")
        == "T INFO  node: up\n");
  CHECK(parse_log_level("warn") == log_level::warning);
  CHECK(parse_log_level("warning") == log_level::warning);
  CHECK(parse_log_level("debug") == log_level::debug);
  CHECK(!parse_log_level("loud"));
  CHECK(parse_log_format("json") == log_format::json);
  CHECK(!parse_log_format("xml"));
}
