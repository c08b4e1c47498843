// Log lines a shipper can read: `streamb run --log-format json` writes one
// JSON object per line, `--log-level` drops what is below it, and a bad
// value is a usage error.

#include "tests/integration/auth_support.hpp"
#include "tests/integration/node_process.hpp"
#include "tests/integration/redis_config_file.hpp"
#include "tests/integration/redis_process.hpp"
#include "tests/integration/running_node.hpp"

#include <boost/json/parse.hpp>
#include <catch2/catch.hpp>

#include <csignal>
#include <sstream>
#include <thread>

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

TEST_CASE("the log says once that Redis went away, not once per attempt, and "
          "once that it is back") {
  redis_process redis;
  auto redis_port = start_on_free_port(redis);
  redis_config_file cfg{
    "log-outage", "redis://127.0.0.1:" + std::to_string(redis_port) + "/0"};
  running_node logged{{}, cfg.path, true};
  auto& node = logged.process;
  auto& client = logged.client;
  redis.kill();
  // Reads that need the store fail, several times over.
  for (int i = 0; i < 5; ++i) {
    auto res = client.Get("/api/v1/audit");
    REQUIRE(res);
    CHECK(res->status == 503);
    std::this_thread::sleep_for(200ms);
  }
  REQUIRE(redis.start(redis_port));
  // Back within the longest backoff (5 s) and a margin.
  bool back = false;
  for (int i = 0; i < 100 && !back; ++i) {
    auto res = client.Get("/api/v1/audit");
    back = res && res->status == 200;
    if (!back)
      std::this_thread::sleep_for(100ms);
  }
  CHECK(back);
  REQUIRE(node.stop(SIGTERM, 10s) == 0);
  auto count = [&](const std::string& needle) {
    std::size_t n = 0;
    for (auto at = node.output().find(needle); at != std::string::npos;
         at = node.output().find(needle, at + 1))
      ++n;
    return n;
  };
  INFO(node.output());
  CHECK(count("is unreachable") == 1);
  CHECK(count("is reachable again") == 1);
}

TEST_CASE("with node.http.access_log each request is one line with its route, "
          "status and key id, never the key, the path's ids or the query") {
  auth_config cfg{"access-log"};
  cfg.replace(R"("http": {)", R"("http": {"access_log": true, )");
  cfg.save();
  running_node logged{{}, cfg.path, true};
  auto& node = logged.process;
  auto& client = logged.client;
  auto key = cfg.keys.at("viewer");
  auto ok = client.Get(
    "/api/v1/stream-b-coordination/coordination/events/secret-looking-id"
    "?ticket=tkt_hidden",
    bearer(key));
  REQUIRE(ok);
  CHECK(ok->status == 404); // no such event: still a matched route
  auto refused = client.Get("/api/v1/audit", bearer("sbc_wrong"));
  REQUIRE(refused);
  CHECK(refused->status == 401);
  REQUIRE(node.wait_for("status=401", 5s));
  REQUIRE(node.stop(SIGTERM, 10s) == 0);
  auto& out = node.output();
  INFO(out);
  CHECK(out.find("method=GET route=/api/v1/stream-b-coordination/coordination/"
                 "events/{id} status=404")
        != std::string::npos);
  CHECK(out.find("key=config:boot-viewer") != std::string::npos);
  CHECK(out.find("method=GET route=/api/v1/audit status=401")
        != std::string::npos);
  CHECK(out.find(key) == std::string::npos);
  CHECK(out.find("sbc_wrong") == std::string::npos);
  CHECK(out.find("secret-looking-id") == std::string::npos);
  CHECK(out.find("tkt_hidden") == std::string::npos);
}

TEST_CASE("a circuit breaker that opens is logged with the service and why, "
          "and admission refuses the provider's calls") {
  running_node logged{{}, "config/streamb.json", true};
  auto& node = logged.process;
  auto& client = logged.client;
  // stripe's breaker: over 50 % server errors in its last 20 calls.
  auto posted = client.Post("/api/v1/calls",
                            sample_batch("stripe", 25, 25, "503", 100),
                            "application/json");
  REQUIRE(posted);
  REQUIRE(posted->status == 202);
  REQUIRE(node.wait_for("stripe: circuit breaker closed -> open", 10s));
  auto denied = client.Post("/api/v1/admission/stripe", R"({"units":1})",
                            "application/json");
  REQUIRE(denied);
  INFO(denied->body);
  CHECK(denied->body.find("circuit_open") != std::string::npos);
  REQUIRE(node.stop(SIGTERM, 10s) == 0);
  CHECK(node.output().find("admission refuses its calls") != std::string::npos);
}
