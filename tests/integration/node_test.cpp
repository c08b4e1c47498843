// The real `streamb` binary over real HTTP on loopback.

#include "tests/integration/node_process.hpp"
#include "tests/integration/redis_config_file.hpp"
#include "tests/integration/redis_process.hpp"
#include "tests/integration/running_node.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <catch2/catch.hpp>
#include <httplib.h>

#include <arpa/inet.h>
#include <csignal>
#include <cstdlib>
#include <netinet/in.h>
#include <set>
#include <string>
#include <sys/socket.h>
#include <unistd.h>

using namespace streamb;
using namespace streamb::test;
using namespace std::chrono_literals;

TEST_CASE("samples posted to a running node come back from metrics/realtime") {
  running_node node;
  auto res = node.post(
    sample_batch("stripe", 100, 10, "503", 100, ",\"costUsd\":0.01"));
  REQUIRE(res);
  CHECK(res->status == 202);
  CHECK(boost::json::parse(res->body).at("accepted").as_int64() == 100);
  // NDJSON is the same data, one sample per line.
  res = node.post(sample("twilio", 250, "\"timeout\"") + "\n"
                    + sample("twilio", 150, "200") + "\n",
                  "application/x-ndjson");
  REQUIRE(res);
  CHECK(res->status == 202);
  // Delivery to the monitor is asynchronous: poll briefly, bounded.
  boost::json::value doc;
  for (int attempt = 0; attempt < 50; ++attempt) {
    doc = node.get_json(
      "/api/v1/stream-b-coordination/metrics/realtime?window=1m");
    if (doc.at("services").at("stripe").at("calls").to_number<uint64_t>() == 100
        && doc.at("services").at("twilio").at("calls").to_number<uint64_t>()
          == 2)
      break;
    std::this_thread::sleep_for(100ms);
  }
  CHECK(doc.at("window").as_string() == "1m");
  auto& stripe = doc.at("services").at("stripe");
  CHECK(stripe.at("calls").to_number<uint64_t>() == 100);
  CHECK(stripe.at("errorRates").at("overall").to_number<double>()
        == Approx(0.1));
  CHECK(stripe.at("errorRates").at("criticalErrors").to_number<uint64_t>()
        == 10);
  CHECK(stripe.at("responseTime").at("p50").to_number<double>()
        == Approx(149).epsilon(0.01));
  CHECK(stripe.at("costMetrics").at("windowSpend").to_number<double>()
        == Approx(1.0));
  auto& twilio = doc.at("services").at("twilio");
  CHECK(twilio.at("calls").to_number<uint64_t>() == 2);
  CHECK(twilio.at("errorRates").at("byType").at("timeout").to_number<double>()
        == Approx(0.5));
  // Every configured service is listed, also without calls.
  CHECK(doc.at("services").as_object().size() == 6);
  CHECK(doc.at("services").at("airtable").at("calls").to_number<uint64_t>()
        == 0);
  // The default window is 5 m.
  doc = node.get_json("/api/v1/stream-b-coordination/metrics/realtime");
  CHECK(doc.at("window").as_string() == "5m");
}

TEST_CASE("bad batches get their status and a JSON error, and nothing of "
          "them is recorded") {
  running_node node;
  check_error(node.post("[{\"service\":"), 400, "malformed", "$");
  check_error(node.post("[" + sample("stripe", 1, "200") + ","
                        + sample("stripe", 1, "\"slow\"") + "]"),
              400, "invalid_sample", "$[1].status");
  check_error(node.post("[" + sample("stripe", 1, "200") + ","
                        + sample("paypal", 1, "200") + "]"),
              404, "unknown_service", "$[1].service");
  check_error(node.post("[]", "text/plain"), 415, "unsupported_media_type");
  // One byte over the default 8 MiB limit.
  std::string big(8 * 1024 * 1024 + 1, ' ');
  check_error(node.post(big), 413, "too_large");
  check_error(
    node.client.Get("/api/v1/stream-b-coordination/metrics/realtime?window=2d"),
    400, "invalid_argument", "?window");
  check_error(node.client.Get("/no/such/route"), 404, "not_found");
  // The valid first samples of the rejected batches were not recorded.
  auto doc = node.get_json(
    "/api/v1/stream-b-coordination/metrics/realtime?window=1m");
  CHECK(doc.at("services").at("stripe").at("calls").to_number<uint64_t>() == 0);
  // The node still serves after all that.
  auto res = node.post("[" + sample("stripe", 1, "200") + "]");
  REQUIRE(res);
  CHECK(res->status == 202);
}

TEST_CASE("healthz and readyz answer on a running node") {
  running_node node;
  auto doc = node.get_json("/healthz");
  CHECK(doc.at("status").as_string() == "ok");
  doc = node.get_json("/readyz");
  CHECK(doc.at("status").as_string() == "ready");
  // Every component reports ok: the store, the webhook processor, and a
  // monitor and a budget controller per configured service.
  std::set<std::string> names;
  for (auto& c : doc.at("components").as_array()) {
    names.emplace(c.at("name").as_string());
    CHECK(c.at("status").as_string() == "ok");
  }
  CHECK(names.count("store") == 1);
  CHECK(names.count("webhook_processor") == 1);
  for (auto svc :
       {"stripe", "twilio", "sendgrid", "samsara", "maps", "airtable"}) {
    INFO(svc);
    CHECK(names.count(std::string{"service_monitor/"} + svc) == 1);
    CHECK(names.count(std::string{"budget_controller/"} + svc) == 1);
  }
}

TEST_CASE("SIGTERM stops the node with exit code 0 within 5 seconds") {
  running_node node;
  // An idle keep-alive connection must not hold the shutdown up.
  node.client.set_keep_alive(true);
  node.get_json("/healthz");
  CHECK(node.process.stop(SIGTERM, 5s) == 0);
}

TEST_CASE("SIGINT stops the node with exit code 0") {
  running_node node;
  CHECK(node.process.stop(SIGINT, 5s) == 0);
}

TEST_CASE("check-config accepts the default and lists every problem of a bad "
          "file with its path") {
  std::string out;
  CHECK(test::node_process::run_to_exit({"check-config", "config/streamb.json"},
                                        out)
        == 0);
  char path[] = "/tmp/streamb-bad-config-XXXXXX";
  auto fd = mkstemp(path);
  REQUIRE(fd >= 0);
  std::string bad = R"({"services": {"stripe": {"budget_usd_month": -5,
                       "colour": "red"}}})";
  REQUIRE(write(fd, bad.data(), bad.size())
          == static_cast<ssize_t>(bad.size()));
  close(fd);
  out.clear();
  CHECK(test::node_process::run_to_exit({"check-config", path}, out) == 1);
  CHECK(out.find("$.services.stripe.budget_usd_month") != std::string::npos);
  CHECK(out.find("$.services.stripe.colour") != std::string::npos);
  unlink(path);
}

TEST_CASE("a second node on a port in use exits with a clear error") {
  running_node first;
  std::string out;
  CHECK(test::node_process::run_to_exit({"run", "--http-port",
                                         std::to_string(first.port),
                                         "--actor-port", "0"},
                                        out)
        == 1);
  CHECK(out.find("cannot") != std::string::npos);
}

TEST_CASE("a malformed store URL is refused before the node starts") {
  std::string out;
  CHECK(test::node_process::run_to_exit({"run", "--store", "redis://:x/0"}, out)
        == 2);
  CHECK(out.find("store") != std::string::npos);
}

namespace {

boost::json::value store_component(const boost::json::value& readyz) {
  for (auto& c : readyz.at("components").as_array())
    if (c.at("name").as_string() == "store")
      return c;
  FAIL("no store component in /readyz");
  return {};
}

} // namespace

TEST_CASE("a node whose Redis is unreachable still ingests and says "
          "degraded with the reason") {
  auto url = "redis://127.0.0.1:" + std::to_string(test::free_loopback_port())
    + "/0";
  running_node node{{"--store", url}};
  auto doc = node.get_json("/readyz");
  CHECK(doc.at("status").as_string() == "degraded");
  auto store = store_component(doc);
  CHECK(store.at("status").as_string() == "degraded");
  CHECK(store.at("detail").as_string().find("redis") != std::string::npos);
  auto res = node.post("[" + sample("stripe", 5, "200") + "]");
  REQUIRE(res);
  CHECK(res->status == 202);
  CHECK(node.process.stop(SIGTERM, 5s) == 0);
}

TEST_CASE("a node on the test Redis is ready with a durable store") {
  auto* url = std::getenv("STREAMB_TEST_REDIS");
  if (url == nullptr)
    FAIL("STREAMB_TEST_REDIS is not set: run the tests through scripts/test");
  running_node node{{"--store", url}};
  auto doc = node.get_json("/readyz");
  CHECK(doc.at("status").as_string() == "ready");
  CHECK(store_component(doc).at("detail").as_string().find("durable")
        != std::string::npos);
  CHECK(node.process.stop(SIGTERM, 5s) == 0);
}

TEST_CASE("a node whose Redis restarts goes degraded and recovers without a "
          "restart of its own") {
  test::redis_process redis;
  auto redis_port = test::start_on_free_port(redis);
  auto url = "redis://127.0.0.1:" + std::to_string(redis_port) + "/0";
  running_node node{{"--store", url}};
  auto& client = node.client;
  auto readyz_status = [&]() -> std::string {
    auto res = client.Get("/readyz");
    if (!res)
      return "no answer";
    return std::string{boost::json::parse(res->body).at("status").as_string()};
  };
  CHECK(readyz_status() == "ready");
  redis.kill();
  CHECK(test::eventually(10s, [&] { return readyz_status() == "degraded"; }));
  // The operator's report names the store and the reason.
  auto report = client.Get(
    "/api/v1/stream-b-coordination/health/comprehensive");
  REQUIRE(report);
  CHECK(report->status == 200);
  auto doc = boost::json::parse(report->body);
  CHECK(doc.at("status").as_string() == "degraded");
  auto store = store_component(doc);
  CHECK(store.at("status").as_string() == "degraded");
  CHECK_FALSE(store.at("detail").as_string().empty());
  // The node keeps ingesting while its store is gone.
  auto res = client.Post("/api/v1/calls",
                         "[" + sample("stripe", 5, "200") + "]",
                         "application/json");
  REQUIRE(res);
  CHECK(res->status == 202);
  REQUIRE(redis.start(redis_port));
  // Reconnect backoff is capped at 5 s.
  CHECK(test::eventually(15s, [&] { return readyz_status() == "ready"; }));
  CHECK(node.process.stop(SIGTERM, 5s) == 0);
}

TEST_CASE("the CLI explains itself") {
  std::string out;
  CHECK(test::node_process::run_to_exit({"--help"}, out) == 0);
  CHECK(out.find("check-config") != std::string::npos);
  out.clear();
  CHECK(test::node_process::run_to_exit({"--version"}, out) == 0);
  CHECK(out.find("streamb ") == 0);
  out.clear();
  CHECK(test::node_process::run_to_exit({"frobnicate"}, out) == 2);
}

TEST_CASE("a node logs in to a Redis that needs a password with "
          "store.password from the environment; a wrong one leaves it "
          "degraded with Redis' reason; credentials twice are refused") {
  test::redis_process redis;
  redis.extra_args = {"--requirepass", "node-s3cret"};
  auto redis_port = test::start_on_free_port(redis);
  auto url = "redis://127.0.0.1:" + std::to_string(redis_port) + "/0";
  auto config_with = [&](const std::string& store) {
    auto doc = boost::json::parse(
      test::read_file(STREAMB_SOURCE_DIR "/config/streamb.json"));
    doc.as_object()["store"] = boost::json::parse(store);
    auto path = "/tmp/streamb-auth-redis-" + std::to_string(getpid()) + "-"
      + std::to_string(std::hash<std::string>{}(store)) + ".json";
    test::write_file(path, boost::json::serialize(doc));
    return path;
  };
  auto readiness = [](running_node& node) {
    auto res = node.client.Get("/readyz");
    REQUIRE(res);
    return boost::json::parse(res->body).at("status").as_string();
  };
  setenv("STREAMB_TEST_REDIS_PASSWORD", "node-s3cret", 1);
  setenv("STREAMB_TEST_REDIS_WRONG", "not-the-password", 1);
  auto good = config_with(
    R"({"kind": "redis", "url": ")" + url
    + R"(", "password": "${env:STREAMB_TEST_REDIS_PASSWORD}"})");
  auto bad = config_with(
    R"({"kind": "redis", "url": ")" + url
    + R"(", "password": "${env:STREAMB_TEST_REDIS_WRONG}"})");
  {
    running_node node{{}, good};
    CHECK(test::eventually(5s, [&] { return readiness(node) == "ready"; }));
  }
  {
    running_node node{{}, bad, true};
    CHECK(test::eventually(5s, [&] { return readiness(node) == "degraded"; }));
    auto log = node.process.drain(500ms);
    CHECK(log.find("WRONGPASS") != std::string::npos);
    CHECK(log.find("not-the-password") == std::string::npos);
  }
  auto twice = config_with(
    R"({"kind": "redis", "url": "redis://:in-url-s3cret@127.0.0.1:1/0",)"
    R"( "password": "${env:STREAMB_TEST_REDIS_PASSWORD}"})");
  std::string out;
  CHECK(test::node_process::run_to_exit({"check-config", twice}, out) == 1);
  CHECK(out.find("given twice") != std::string::npos);
  CHECK(out.find("in-url-s3cret") == std::string::npos);
  CHECK(out.find("node-s3cret") == std::string::npos);
  for (auto& p : {good, bad, twice})
    unlink(p.c_str());
  unsetenv("STREAMB_TEST_REDIS_PASSWORD");
  unsetenv("STREAMB_TEST_REDIS_WRONG");
}

TEST_CASE("without --config a node reads $STREAMB_CONFIG") {
  auto doc = boost::json::parse(
    test::read_file(STREAMB_SOURCE_DIR "/config/streamb.json"));
  doc.at("node").as_object()["name"] = "from-env";
  auto path = "/tmp/streamb-env-config-" + std::to_string(getpid()) + ".json";
  test::write_file(path, boost::json::serialize(doc));
  setenv("STREAMB_CONFIG", path.c_str(), 1);
  test::node_process node{
    STREAMB_BINARY, {"run", "--http-port", "0", "--actor-port", "0"}};
  unsetenv("STREAMB_CONFIG");
  REQUIRE(node.wait_for_port() != 0);
  CHECK(node.output().find("streamb node 'from-env'") != std::string::npos);
  unlink(path.c_str());
}
