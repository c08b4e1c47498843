// Metric history, usage counters and the audit trail through the real
// binary on a real redis-server: kill -9 and Redis restarts.

#include "tests/integration/redis_config_file.hpp"
#include "tests/integration/redis_process.hpp"
#include "tests/integration/running_node.hpp"

#include <boost/json/serialize.hpp>

#include <csignal>
#include <set>

using namespace streamb;
using namespace streamb::test;
using namespace std::chrono_literals;

namespace {

constexpr const char* history_path = "/api/v1/stream-b-coordination/metrics/"
                                     "history?service=stripe";

/// The default config on a Redis store with 1-second roll-ups.
struct fast_rollup_config : redis_config_file {
  explicit fast_rollup_config(const std::string& name,
                              std::string url = test_redis_url())
    : redis_config_file(name, std::move(url)) {
    replace(R"("rollup_interval_s": 60)", R"("rollup_interval_s": 1)");
    save();
  }
};

std::string stripe_batch(int n, const char* status, const char* cost) {
  std::string body = "[";
  for (int i = 0; i < n; ++i) {
    if (i > 0)
      body += ',';
    body += sample("stripe", 20 + i, status,
                   (std::string{",\"costUsd\":"} + cost).c_str());
  }
  return body + "]";
}

uint64_t history_calls(const boost::json::value& doc) {
  uint64_t sum = 0;
  for (auto& r : doc.at("rollups").as_array())
    sum += r.at("calls").to_number<uint64_t>();
  return sum;
}

/// Polls the history until it holds `calls` calls in all (bounded).
boost::json::value wait_for_history(running_node& node, uint64_t calls) {
  boost::json::value doc;
  CHECK(eventually(10s, [&] {
    auto res = node.client.Get(history_path);
    if (!res || res->status != 200)
      return false;
    doc = boost::json::parse(res->body);
    return history_calls(doc) == calls;
  }));
  return doc;
}

std::vector<std::string> audit_actions(running_node& node) {
  auto doc = node.get_json("/api/v1/audit?limit=1000");
  std::vector<std::string> result;
  for (auto& r : doc.at("records").as_array())
    result.emplace_back(r.at("action").as_string());
  return result;
}

} // namespace

TEST_CASE("a node killed with kill -9 comes back with the same history, "
          "usage counters and audit trail") {
  fast_rollup_config cfg{"crash"};
  boost::json::value before;
  {
    running_node node{{}, cfg.path};
    auto res = node.post(stripe_batch(30, "200", "0.01"));
    REQUIRE(res);
    CHECK(res->status == 202);
    res = node.post(stripe_batch(10, "503", "0.02"));
    REQUIRE(res);
    CHECK(res->status == 202);
    before = wait_for_history(node, 40);
    auto& mtd = before.at("monthToDate");
    CHECK(mtd.at("calls").to_number<int64_t>() == 40);
    CHECK(mtd.at("errors").to_number<int64_t>() == 10);
    CHECK(mtd.at("spendMicros").to_number<int64_t>() == 500000);
    CHECK(node.process.stop(SIGKILL, 5s) == 128 + SIGKILL);
  }
  running_node node{{}, cfg.path};
  auto after = node.get_json(history_path);
  CHECK(boost::json::serialize(after.at("rollups"))
        == boost::json::serialize(before.at("rollups")));
  CHECK(boost::json::serialize(after.at("monthToDate"))
        == boost::json::serialize(before.at("monthToDate")));
  // Two starts and no clean stop in between.
  auto actions = audit_actions(node);
  CHECK(actions == std::vector<std::string>{"node.start", "node.start"});
  CHECK(node.process.stop(SIGTERM, 5s) == 0);
}

TEST_CASE("a clean stop stores the current roll-up period, which a 60 s "
          "period would otherwise still hold") {
  redis_config_file cfg{"clean-stop"}; // the default 60 s roll-ups
  {
    running_node node{{}, cfg.path};
    auto res = node.post(stripe_batch(7, "200", "0.5"));
    REQUIRE(res);
    CHECK(res->status == 202);
    // Ingest is asynchronous: wait until the monitor has the samples.
    CHECK(eventually(5s, [&] {
      auto doc = node.get_json(
        "/api/v1/stream-b-coordination/metrics/realtime?window=1m");
      return doc.at("services").at("stripe").at("calls").to_number<uint64_t>()
        == 7;
    }));
    CHECK(node.process.stop(SIGTERM, 10s) == 0);
  }
  running_node node{{}, cfg.path};
  auto doc = node.get_json(history_path);
  CHECK(history_calls(doc) == 7);
  CHECK(doc.at("monthToDate").at("spendMicros").to_number<int64_t>()
        == 3500000);
  auto actions = audit_actions(node);
  CHECK(actions
        == std::vector<std::string>{"node.start", "node.stop", "node.start"});
  CHECK(node.process.stop(SIGTERM, 5s) == 0);
}

TEST_CASE("while Redis is away history reads fail with 503 and roll-ups "
          "wait, and after it is back they and later writes land") {
  redis_process redis;
  auto redis_port = start_on_free_port(redis);
  fast_rollup_config cfg{
    "redis-restart", "redis://127.0.0.1:" + std::to_string(redis_port) + "/0"};
  running_node node{{}, cfg.path};
  REQUIRE(node.post(stripe_batch(5, "200", "0.01")));
  wait_for_history(node, 5);
  redis.kill();
  CHECK(eventually(10s, [&] {
    auto doc = node.get_json("/readyz");
    return doc.at("status").as_string() == "degraded";
  }));
  auto res = node.post(stripe_batch(7, "200", "0.01"));
  REQUIRE(res);
  CHECK(res->status == 202);
  check_error(node.client.Get(history_path), 503, "store_unavailable");
  check_error(node.client.Get("/api/v1/audit"), 503, "store_unavailable");
  // Wait past a roll-up boundary so the 7 calls are in a closed period.
  std::this_thread::sleep_for(1500ms);
  // The restarted Redis is empty (no persistence): what lands now is what
  // the node kept through the outage, and what comes after.
  REQUIRE(redis.start(redis_port));
  wait_for_history(node, 7);
  REQUIRE(node.post(stripe_batch(3, "200", "0.01")));
  auto doc = wait_for_history(node, 10);
  CHECK(doc.at("monthToDate").at("calls").to_number<int64_t>() == 10);
  CHECK(node.process.stop(SIGTERM, 5s) == 0);
}

TEST_CASE("history and audit queries with bad parameters get a JSON error") {
  running_node node; // the memory store serves both routes too
  auto get = [&](const char* path) { return node.client.Get(path); };
  check_error(get("/api/v1/stream-b-coordination/metrics/history"), 400,
              "invalid_argument", "?service");
  check_error(get("/api/v1/stream-b-coordination/metrics/history?service=x"),
              404, "unknown_service", "?service");
  check_error(get("/api/v1/stream-b-coordination/metrics/"
                  "history?service=stripe&from=yesterday"),
              400, "invalid_argument", "?from");
  check_error(get("/api/v1/stream-b-coordination/metrics/"
                  "history?service=stripe&to=2026-11-27"),
              400, "invalid_argument", "?to");
  check_error(get("/api/v1/stream-b-coordination/metrics/history?service="
                  "stripe&from=2026-11-27T10:00:00Z&to=2026-11-27T09:00:00Z"),
              400, "invalid_argument", "?from");
  check_error(get("/api/v1/audit?limit=0"), 400, "invalid_argument", "?limit");
  check_error(get("/api/v1/audit?limit=5000"), 400, "invalid_argument",
              "?limit");
  check_error(get("/api/v1/audit?since=latest"), 400, "invalid_argument",
              "?since");
  CHECK(node.process.stop(SIGTERM, 5s) == 0);
}

TEST_CASE("the audit trail pages forward from a record id") {
  fast_rollup_config cfg{"audit-paging"};
  for (int i = 0; i < 2; ++i) {
    running_node node{{}, cfg.path};
    CHECK(node.process.stop(SIGTERM, 5s) == 0);
  }
  running_node node{{}, cfg.path};
  // start, stop, start, stop, start
  auto all = node.get_json("/api/v1/audit");
  auto& records = all.at("records").as_array();
  REQUIRE(records.size() == 5);
  auto newest_two = node.get_json("/api/v1/audit?limit=2");
  REQUIRE(newest_two.at("records").as_array().size() == 2);
  CHECK(newest_two.at("records").as_array()[0].at("id") == records[3].at("id"));
  auto first_id = std::string{records[0].at("id").as_string()};
  auto page = node.get_json("/api/v1/audit?limit=3&since=" + first_id);
  auto& got = page.at("records").as_array();
  REQUIRE(got.size() == 3);
  CHECK(got[0].at("id") == records[1].at("id"));
  CHECK(page.at("next") == records[3].at("id"));
  auto rest = node.get_json("/api/v1/audit?since="
                            + std::string{page.at("next").as_string()});
  CHECK(rest.at("records").as_array().size() == 1);
  CHECK(rest.at("records").as_array()[0].at("action").as_string()
        == "node.start");
  CHECK(node.process.stop(SIGTERM, 5s) == 0);
}

TEST_CASE("two nodes on one Redis share the history and the usage counters") {
  fast_rollup_config cfg{"two-nodes"};
  // The same config and prefix, another node name.
  auto path_b = cfg.write_copy_for_node("node-b");
  running_node a{{}, cfg.path};
  running_node b{{}, path_b};
  unlink(path_b.c_str());
  REQUIRE(a.post(stripe_batch(4, "200", "0.25")));
  REQUIRE(b.post(stripe_batch(6, "200", "0.25")));
  // Either node answers with both nodes' roll-ups and the shared sums.
  auto doc = wait_for_history(b, 10);
  std::set<std::string> nodes;
  for (auto& r : doc.at("rollups").as_array())
    nodes.emplace(r.at("node").as_string());
  CHECK(nodes == std::set<std::string>{"local", "node-b"});
  CHECK(doc.at("monthToDate").at("spendMicros").to_number<int64_t>()
        == 2500000);
  CHECK(history_calls(a.get_json(history_path)) == 10);
  CHECK(a.process.stop(SIGTERM, 5s) == 0);
  CHECK(b.process.stop(SIGTERM, 5s) == 0);
}
