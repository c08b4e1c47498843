// GET /metrics on the real binary: the counters Prometheus scrapes match
// the samples posted, and `promtool check metrics` (Debian's prometheus
// package) accepts the whole exposition.

#include "tests/integration/redis_config_file.hpp"
#include "tests/integration/redis_process.hpp"
#include "tests/integration/running_node.hpp"

#include <catch2/catch.hpp>
#include <httplib.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <cstdio>
#include <fstream>
#include <regex>
#include <set>
#include <string>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

using namespace streamb;
using namespace streamb::test;
using namespace std::chrono_literals;

namespace {

/// The value of the sample line that starts with `series` + " ", or -1.
double value_of(const std::string& text, const std::string& series) {
  auto needle = "\n" + series + " ";
  auto at = ("\n" + text).find(needle);
  if (at == std::string::npos)
    return -1;
  return std::stod(text.substr(at + needle.size() - 1));
}

/// promtool's verdict on `text`: its exit code and what it printed.
std::pair<int, std::string> promtool_check(const std::string& text) {
  char path[] = "/tmp/streamb-metrics-XXXXXX";
  int fd = ::mkstemp(path);
  REQUIRE(fd >= 0);
  ::close(fd);
  std::ofstream{path} << text;
  auto cmd = std::string{"promtool check metrics < "} + path + " 2>&1";
  std::string out;
  auto* pipe = ::popen(cmd.c_str(), "r");
  REQUIRE(pipe != nullptr);
  char buf[512];
  while (auto n = std::fread(buf, 1, sizeof buf, pipe))
    out.append(buf, n);
  auto status = ::pclose(pipe);
  ::unlink(path);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

/// The families a scrape declares (its # TYPE lines).
std::set<std::string> families_of(const std::string& text) {
  std::set<std::string> out;
  std::regex type_line{"# TYPE ([a-z_]+) "};
  for (std::sregex_iterator i{text.begin(), text.end(), type_line}, end;
       i != end; ++i)
    out.insert((*i)[1]);
  return out;
}

/// Every streamb_* series a query text names, without the histogram
/// suffixes Prometheus adds.
std::set<std::string> series_in(const std::string& text) {
  std::set<std::string> out;
  std::regex name{"streamb_[a-z_]+"};
  for (std::sregex_iterator i{text.begin(), text.end(), name}, end; i != end;
       ++i) {
    auto x = i->str();
    for (auto suffix : {"_bucket", "_sum", "_count"}) {
      std::string s{suffix};
      if (x.size() > s.size()
          && x.compare(x.size() - s.size(), s.size(), s) == 0)
        x.resize(x.size() - s.size());
    }
    out.insert(x);
  }
  return out;
}

} // namespace

TEST_CASE("GET /metrics counts the calls posted, in Prometheus' format, and "
          "promtool accepts it") {
  running_node node;
  // 100..199 ms; 10 server errors; one cent each.
  auto posted = node.post(
    sample_batch("stripe", 100, 10, "503", 100, ",\"costUsd\":0.01"));
  REQUIRE(posted);
  REQUIRE(posted->status == 202);
  // The monitor records asynchronously: poll briefly, bounded.
  std::string text;
  for (int attempt = 0; attempt < 50; ++attempt) {
    auto res = node.client.Get("/metrics");
    REQUIRE(res);
    REQUIRE(res->status == 200);
    CHECK(res->get_header_value("Content-Type")
            .rfind("text/plain; version=0.0.4", 0)
          == 0);
    text = res->body;
    if (value_of(
          text,
          R"(streamb_provider_call_duration_seconds_count{service="stripe"})")
        == 100)
      break;
    std::this_thread::sleep_for(100ms);
  }
  INFO(text);
  CHECK(
    value_of(text,
             R"(streamb_provider_calls_total{service="stripe",outcome="ok"})")
    == 90);
  CHECK(
    value_of(
      text,
      R"(streamb_provider_calls_total{service="stripe",outcome="server_error"})")
    == 10);
  // 100 ms is in the 0.1 bucket, everything is at most 0.25 s.
  CHECK(
    value_of(
      text,
      R"(streamb_provider_call_duration_seconds_bucket{service="stripe",le="0.1"})")
    == 1);
  CHECK(
    value_of(
      text,
      R"(streamb_provider_call_duration_seconds_bucket{service="stripe",le="0.25"})")
    == 100);
  CHECK(
    value_of(
      text,
      R"(streamb_provider_call_duration_seconds_bucket{service="stripe",le="+Inf"})")
    == 100);
  CHECK(
    value_of(text,
             R"(streamb_provider_call_duration_seconds_sum{service="stripe"})")
    == Approx(14.95));
  CHECK(
    value_of(text, R"(streamb_provider_spend_dollars_total{service="stripe"})")
    == Approx(1.0));
  // Every configured service is there, also without calls.
  CHECK(value_of(
          text,
          R"(streamb_provider_call_duration_seconds_count{service="airtable"})")
        == 0);
  CHECK(
    value_of(text, R"(streamb_budget_state{service="stripe",state="normal"})")
    == 1);
  CHECK(value_of(text, "streamb_stream_subscribers") == 0);
  CHECK(value_of(text, R"(streamb_agents{state="active"})") == 0);
  CHECK(value_of(text, "streamb_coordination_events_queued") == 0);
  auto [code, verdict] = promtool_check(text);
  INFO(verdict);
  CHECK(code == 0);
  CHECK(verdict.empty());
  // The shipped Grafana dashboard and alerting rules query only families
  // the node exposes: a renamed metric breaks this test, not an operator's
  // dashboard.
  auto families = families_of(text);
  for (auto file : {"/config/examples/grafana-dashboard.json",
                    "/config/examples/prometheus-alerts.yml"}) {
    auto queries = read_file(std::string{STREAMB_SOURCE_DIR} + file);
    auto named = series_in(queries);
    CHECK(named.size() >= 5);
    for (auto& x : named) {
      INFO(file << " names " << x);
      CHECK(families.count(x) == 1);
    }
  }
  boost::json::parse(read_file(std::string{STREAMB_SOURCE_DIR}
                               + "/config/examples/grafana-dashboard.json"));
}

TEST_CASE("GET /metrics counts requests by route and status, connections, "
          "coordination events by type and outcome, and the store's state") {
  redis_process redis;
  auto redis_port = start_on_free_port(redis);
  redis_config_file cfg{
    "prom-edge", "redis://127.0.0.1:" + std::to_string(redis_port) + "/0"};
  running_node node{{}, cfg.path};
  for (int i = 0; i < 3; ++i)
    REQUIRE(node.client.Get("/healthz")->status == 200);
  REQUIRE(node.client.Get("/no/such/path")->status == 404);
  REQUIRE(node.post("{not json")->status == 400);
  // Answered by the edge itself: a WebSocket route without an upgrade.
  REQUIRE(node.client.Get("/api/v1/stream-b-coordination/ws")->status == 426);
  auto sent = node.client.Post(
    "/api/v1/stream-b-coordination/coordination/send-event",
    R"({"type":"frontend_update","payload":{}})", "application/json");
  REQUIRE(sent);
  REQUIRE(sent->status < 300);

  auto text = node.client.Get("/metrics")->body;
  INFO(text);
  CHECK(value_of(
          text, R"(streamb_http_requests_total{route="/healthz",status="200"})")
        == 3);
  CHECK(
    value_of(text,
             R"(streamb_http_requests_total{route="unmatched",status="404"})")
    == 1);
  CHECK(value_of(
          text,
          R"(streamb_http_requests_total{route="/api/v1/calls",status="400"})")
        == 1);
  CHECK(
    value_of(
      text,
      R"(streamb_http_requests_total{route="/api/v1/stream-b-coordination/ws",status="426"})")
    == 1);
  // This client's keep-alive connection at least.
  CHECK(value_of(text, "streamb_http_connections_open") >= 1);
  CHECK(value_of(text, "streamb_http_connections_accepted_total") >= 1);
  // No agent serves frontend_update here.
  CHECK(
    value_of(
      text,
      R"(streamb_coordination_events_total{type="frontend_update",outcome="unrouted"})")
    == 1);
  CHECK(value_of(text, "streamb_store_up") == 1);
  auto [code, verdict] = promtool_check(text);
  INFO(verdict);
  CHECK(code == 0);

  // Redis goes away: the store is down, the scrape still answers.
  redis.kill();
  double up = 1;
  for (int i = 0; i < 50 && up != 0; ++i) {
    auto res = node.client.Get("/metrics");
    REQUIRE(res);
    INFO(res->body);
    REQUIRE(res->status == 200);
    up = value_of(res->body, "streamb_store_up");
    if (up != 0)
      std::this_thread::sleep_for(100ms);
  }
  CHECK(up == 0);
  // The budgets answer from memory, their forecast marked as the last one.
  auto cost = node.get_json("/api/v1/stream-b-coordination/cost/analysis");
  INFO(boost::json::serialize(cost));
  CHECK(cost.at("services").at("stripe").at("forecast").at("stale") == true);
  CHECK(cost.at("services").at("stripe").at("state") == "normal");
}
