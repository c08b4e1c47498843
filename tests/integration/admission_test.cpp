// Admission over real HTTP against the real binary; two nodes on the test's
// redis-server sharing one budget.

#include "tests/integration/redis_config_file.hpp"
#include "tests/integration/redis_process.hpp"
#include "tests/integration/running_node.hpp"

#include <atomic>
#include <cmath>
#include <csignal>
#include <regex>
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
  // Money is a plain decimal, never in exponent form (docs/http-api.md, JSON
  // conventions): 50 USD is 50, not 5E1.
  auto raw = node.client.Get("/api/v1/stream-b-coordination/cost/analysis");
  REQUIRE(raw);
  CHECK(raw->body.find(R"("budgetUsd":50,)") != std::string::npos);
  CHECK_FALSE(
    std::regex_search(raw->body, std::regex{R"([0-9.][eE][-+]?[0-9])"}));
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
                 .to_number<double>();
    return std::abs(pct - granted * 0.01 / 2 * 100) < 0.01;
  }));
  CHECK(a.process.stop(SIGTERM, 5s) == 0);
  CHECK(b.process.stop(SIGTERM, 5s) == 0);
}

TEST_CASE("budget overrides and cost routes answer bad input with a JSON "
          "error and audit what they change") {
  running_node node; // the memory store
  auto post = [&](const char* path, const std::string& body) {
    return node.client.Post(path, body, "application/json");
  };
  check_error(post("/api/v1/budgets/stripe/override", R"({"mode": "maybe"})"),
              400, "invalid_argument");
  check_error(post("/api/v1/budgets/stripe/override", "not json"), 400,
              "malformed", "$");
  check_error(post("/api/v1/budgets/nope/override", R"({"mode": "lift"})"), 404,
              "unknown_service");
  check_error(post("/api/v1/admission/stripe", R"({"waitMs": 600000})"), 400,
              "invalid_argument", "$.waitMs");
  check_error(post("/api/v1/admission/stripe",
                   R"({"estimatedCostUsd": "cheap"})"),
              400, "invalid_argument", "$.estimatedCostUsd");
  auto res = post("/api/v1/budgets/stripe/override", R"({"mode": "force"})");
  REQUIRE(res);
  CHECK(res->status == 200);
  CHECK(boost::json::parse(res->body).at("override").as_string() == "force");
  // Forced throttle: normal traffic is refused, critical still goes.
  res = post("/api/v1/admission/stripe",
             R"({"priority": "normal", "estimatedCostUsd": 0.01})");
  REQUIRE(res);
  CHECK(res->status == 429);
  CHECK(boost::json::parse(res->body).at("reason").as_string()
        == "budget_throttle");
  res = post("/api/v1/admission/stripe",
             R"({"priority": "critical", "estimatedCostUsd": 0.01})");
  REQUIRE(res);
  CHECK(res->status == 200);
  auto audit = node.get_json("/api/v1/audit?limit=100");
  bool audited = false;
  for (auto& r : audit.at("records").as_array())
    audited |= r.at("action").as_string() == "budget.override"
      && r.at("outcome").as_string() == "force";
  CHECK(audited);
  auto recs = node.get_json(
    "/api/v1/stream-b-coordination/optimization/recommendations");
  CHECK(recs.at("recommendations").as_array().empty()); // no traffic yet
  auto optimized = node.client.Post(
    "/api/v1/stream-b-coordination/cost/optimize", "", "application/json");
  REQUIRE(optimized);
  CHECK(optimized->status == 200);
  auto plan = boost::json::parse(optimized->body);
  CHECK(plan.at("dryRun").as_bool()); // no body: a dry run
  CHECK(plan.at("changes").as_array().empty());
  CHECK(node.process.stop(SIGTERM, 5s) == 0);
}
