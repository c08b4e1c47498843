// GET .../dashboard on the real binary: one document with every part of
// the operator's view, and the same numbers as the routes that show each
// part alone.

#include "tests/integration/running_node.hpp"

#include <catch2/catch.hpp>

#include <thread>

using namespace streamb;
using namespace streamb::test;
using namespace std::chrono_literals;

TEST_CASE("the dashboard shows every service, budget, the webhook pipeline, "
          "agents, alerts and recommendations, matching the other routes") {
  running_node node;
  auto posted = node.post(
    sample_batch("twilio", 40, 10, "429", 200, ",\"costUsd\":0.05"));
  REQUIRE(posted);
  REQUIRE(posted->status == 202);
  const std::string p = "/api/v1/stream-b-coordination";
  boost::json::value doc;
  for (int attempt = 0; attempt < 50; ++attempt) {
    doc = node.get_json(p + "/dashboard");
    auto& m = doc.at("services").at("twilio").at("metrics");
    if (m.is_object() && m.at("calls").to_number<uint64_t>() == 40)
      break;
    std::this_thread::sleep_for(100ms);
  }
  INFO(boost::json::serialize(doc));
  CHECK(doc.at("window").as_string() == "5m");
  CHECK(doc.at("health").at("status").as_string() == "ok");
  CHECK(doc.at("health").at("unavailable").as_array().empty());
  auto& services = doc.at("services").as_object();
  CHECK(services.size() == 6);
  auto& twilio = services.at("twilio");
  CHECK(twilio.at("metrics").at("calls").to_number<uint64_t>() == 40);
  CHECK(twilio.at("metrics").at("errorRates").at("overall").to_number<double>()
        == Approx(0.25));
  // The budget part is what cost/analysis says.
  auto cost = node.get_json(p + "/cost/analysis");
  CHECK(twilio.at("budget").at("spendUsd")
        == cost.at("services").at("twilio").at("spendUsd"));
  CHECK(twilio.at("budget").at("spendUsd").to_number<double>() == Approx(2.0));
  CHECK(twilio.at("budget").at("state").as_string() == "normal");
  // The metrics part is what metrics/realtime says.
  auto realtime = node.get_json(p + "/metrics/realtime");
  CHECK(twilio.at("metrics").at("responseTime")
        == realtime.at("services").at("twilio").at("responseTime"));
  // The other parts are there, empty on a node without agents or webhooks.
  CHECK(doc.at("agents").at("agents").as_array().empty());
  CHECK(doc.at("agents").at("byState").at("active").to_number<int>() == 0);
  CHECK(doc.at("webhooks").is_object());
  CHECK(doc.at("alerts").is_array());
  CHECK(doc.at("recommendations").is_array());
  CHECK(doc.at("node") == node.get_json("/readyz").at("node"));
}
