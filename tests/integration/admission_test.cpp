// Admission over real HTTP against the real binary; two nodes on the test's
// redis-server sharing one budget.

#include "tests/integration/redis_config_file.hpp"
#include "tests/integration/redis_process.hpp"
#include "tests/integration/running_node.hpp"

#include <atomic>
#include <cmath>
#include <csignal>
#include <thread>

using namespace streamb;
using namespace streamb::test;
using namespace std::chrono_literals;

namespace {

httplib::Result admit(httplib::Client& client, const std::string& body,
                      const std::string& service = "stripe") {
  return client.Post(("/api/v1/admission/" + service).c_str(), body,
                     "application/json");
}

} // namespace

TEST_CASE("admission grants within the burst, then answers 429 with the "
          "reason and Retry-After, and bad requests get a JSON error") {
  redis_config_file cfg{"admission"};
  cfg.replace(R"("burst": {"capacity": 25, "refill_per_s": 25})",
              R"("burst": {"capacity": 3, "refill_per_s": 0.5},)"
              R"( "reserved_share": 0)");
  cfg.save();
  running_node node{{}, cfg.path};
  for (int i = 0; i < 3; ++i) {
    auto res = admit(node.client, R"({"priority": "normal"})");
    REQUIRE(res);
    INFO(res->body);
    CHECK(res->status == 200);
    auto doc = boost::json::parse(res->body);
    CHECK(doc.at("granted").as_bool());
    CHECK(doc.at("remaining").at("burst").to_number<int>() == 2 - i);
  }
  auto res = admit(node.client, R"({"priority": "normal"})");
  REQUIRE(res);
  CHECK(res->status == 429);
  auto doc = boost::json::parse(res->body);
  CHECK_FALSE(doc.at("granted").as_bool());
  CHECK(doc.at("reason").as_string() == "burst");
  auto retry_ms = doc.at("retryAfterMs").to_number<int64_t>();
  CHECK(retry_ms > 0);
  CHECK(retry_ms <= 2000);
  CHECK(res->get_header_value("Retry-After") == "2");
  // A request that may wait gets the next token.
  res = admit(node.client, R"({"priority": "high", "waitMs": 3000})");
  REQUIRE(res);
  CHECK(res->status == 200);
  CHECK(boost::json::parse(res->body).at("waitedMs").to_number<int64_t>() > 0);
  check_error(admit(node.client, R"({"priority": "urgent"})"), 400,
              "invalid_argument", "$.priority");
  check_error(admit(node.client, R"({"units": 0})"), 400, "invalid_argument",
              "$.units");
  check_error(admit(node.client, "{nope"), 400, "malformed");
  check_error(admit(node.client, "{}", "nope"), 404, "unknown_service");
  auto analysis = node.get_json("/api/v1/stream-b-coordination/cost/analysis");
  auto& stripe = analysis.at("services").at("stripe");
  CHECK(stripe.at("granted").to_number<int>() == 4);
  CHECK(stripe.at("deniedByReason").at("burst").to_number<int>() == 1);
  CHECK(node.process.stop(SIGTERM, 5s) == 0);
}

TEST_CASE("two nodes on one Redis, hammered at once, never reserve past the "
          "budget") {
  redis_config_file cfg{"two-budgets"};
  cfg.replace(R"("budget_usd_month": 50)", R"("budget_usd_month": 2)");
  cfg.replace(R"("burst": {"capacity": 25, "refill_per_s": 25})",
              R"("burst": {"capacity": 0, "refill_per_s": 0})");
  cfg.replace(R"("sustained": {"limit": 1000, "window_s": 60})",
              R"("sustained": {"limit": 0, "window_s": 60})");
  cfg.save();
  // The same config and prefix, another node name.
  auto path_b = cfg.write_copy_for_node("node-b");
  running_node a{{}, cfg.path};
  running_node b{{}, path_b};
  unlink(path_b.c_str());
  std::atomic<int> granted{0};
  std::atomic<int> throttled{0};
  std::vector<std::thread> clients;
  for (auto port : {a.port, b.port, a.port, b.port})
    clients.emplace_back([&, port] {
      httplib::Client client{"127.0.0.1", port};
      for (int i = 0; i < 75; ++i) {
        auto res = admit(client,
                         R"({"priority": "normal", "estimatedCostUsd": 0.01})");
        if (res && res->status == 200)
          ++granted;
        else if (res && res->status == 429)
          ++throttled;
      }
    });
  for (auto& t : clients)
    t.join();
  // Normal traffic stops at 95 % of 2 USD: 190 calls of 1 cent, whichever
  // node they asked.
  INFO(granted << " granted, " << throttled << " throttled");
  CHECK(granted <= 190);
  CHECK(granted >= 150);
  CHECK(granted + throttled == 300);
  auto db = cfg.backend();
  auto keys = db.keys("budget:spend:stripe:");
  REQUIRE(keys);
  REQUIRE(keys->size() == 1);
  auto spend = db.get(keys->front());
  REQUIRE(spend);
  CHECK(std::stoll(spend->value_or("0")) == granted * 10'000LL);
  // metrics/realtime shows the budget's side: what was reserved so far.
  CHECK(eventually(5s, [&] {
    auto m = a.get_json("/api/v1/stream-b-coordination/metrics/realtime");
    auto pct = m.at("services")
                 .at("stripe")
                 .at("costMetrics")
                 .at("budgetUtilization")
                 .as_double();
    return std::abs(pct - granted * 0.01 / 2 * 100) < 0.01;
  }));
  CHECK(a.process.stop(SIGTERM, 5s) == 0);
  CHECK(b.process.stop(SIGTERM, 5s) == 0);
}
