// Log lines a shipper can read: `streamb run --log-format json` writes one
// JSON object per line, `--log-level` drops what is below it, and a bad
// value is a usage error.

#include "tests/integration/node_process.hpp"
#include "tests/integration/running_node.hpp"

#include <boost/json/parse.hpp>
#include <catch2/catch.hpp>

#include <csignal>
#include <sstream>

using namespace streamb;
using namespace streamb::test;
using namespace std::chrono_literals;

TEST_CASE("with --log-format json every log line is one JSON object, and "
          "--log-level warning drops the info lines") {
  node_process node{
    STREAMB_BINARY,
    run_args({"--log-format", "json", "--log-level", "warning"}), true};
  REQUIRE(node.wait_for_port() != 0);
  REQUIRE(node.stop(SIGTERM, 10s) == 0);
  std::istringstream lines{node.output()};
  std::string line;
  int json_lines = 0;
  bool saw_open_warning = false;
  while (std::getline(lines, line)) {
    INFO(line);
    // The only other line is the "serving" banner on stdout.
    if (line.rfind("streamb node", 0) == 0)
      continue;
    REQUIRE(line.rfind("{", 0) == 0);
    auto doc = boost::json::parse(line).as_object();
    ++json_lines;
    CHECK(doc.at("time").is_string());
    CHECK(doc.at("component").is_string());
    auto level = std::string{doc.at("level").as_string()};
    CHECK((level == "warn" || level == "error"));
    if (doc.at("message").as_string().find("allow_unauthenticated")
        != boost::json::string::npos)
      saw_open_warning = true;
  }
  CHECK(json_lines > 0);
  // The default config's open-access warning is a warning: it stays.
  CHECK(saw_open_warning);
}

TEST_CASE("an unknown log level or format is a usage error (exit 2)") {
  std::string out;
  CHECK(node_process::run_to_exit(run_args({"--log-level", "loud"}), out) == 2);
  CHECK(out.find("--log-level") != std::string::npos);
  CHECK(node_process::run_to_exit(run_args({"--log-format", "xml"}), out) == 2);
  CHECK(out.find("--log-format") != std::string::npos);
}
