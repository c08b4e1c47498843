// The advisor over HTTP on a real node and Redis: its inputs survive a
// restart; cost/optimize is a dry run by default, applies only confident
// changes bounded by observed demand, audits them and undoes them.

#include "runtime/advice/usage_store.hpp"
#include "runtime/core/wall_time.hpp"
#include "runtime/metrics/metric_rollup.hpp"
#include "tests/integration/redis_config_file.hpp"
#include "tests/integration/redis_process.hpp"
#include "tests/integration/running_node.hpp"

#include <boost/json.hpp>

#include <chrono>

using namespace streamb;
using namespace streamb::test;
using namespace std::chrono_literals;

namespace {

constexpr const char* base = "/api/v1/stream-b-coordination";

std::string keyed_batch(int n, int keys, int refused) {
  std::string body = "[";
  for (int i = 0; i < n; ++i) {
    if (i > 0)
      body += ',';
    auto extra = ",\"costUsd\":0.01,\"requestKey\":\"k"
      + std::to_string(i % keys) + "\"";
    body += sample("stripe", 20, i < refused ? "429" : "200", extra.c_str());
  }
  return body + "]";
}

httplib::Result post_json(running_node& node, const std::string& path,
                          const std::string& body) {
  return node.client.Post((std::string{base} + path).c_str(), body,
                          "application/json");
}

const boost::json::object* find_kind(const boost::json::value& recs,
                                     const char* kind) {
  for (auto& r : recs.at("recommendations").as_array())
    if (r.at("kind").as_string() == kind)
      return &r.as_object();
  return nullptr;
}

/// Seven past days of Stripe traffic in the store: 10 calls a minute, 5 %
/// of them refused with 429.
void seed_week(redis_config_file& cfg) {
  auto db = cfg.backend();
  auto today = advice::day_of(epoch_ms_now());
  write_ops ops;
  for (int i = 1; i <= 7; ++i) {
    auto key = advice::usage_key("stripe", today - i);
    ops.push_back(store::write_op::make_hincr_by(key, "calls", 14'400));
    ops.push_back(store::write_op::make_hincr_by(key, "rate_limited", 720));
    ops.push_back(
      store::write_op::make_hincr_by(key, "spend_micros", 144'000'000));
    for (int m = 0; m < 1440; ++m)
      ops.push_back(
        store::write_op::make_hincr_by(key, "m" + std::to_string(m), 10));
  }
  REQUIRE(db.write(ops));
}

} // namespace

TEST_CASE("the advisor's inputs survive a restart: repeats counted before "
          "it are still advised after it") {
  redis_config_file cfg{"advisor-restart"};
  cfg.replace(R"("persist_interval_s": 60)", R"("persist_interval_s": 1)");
  cfg.save();
  {
    // Yesterday's unkeyed calls: advice needs at least 10 minutes of
    // history, and observation began then.
    auto db = cfg.backend();
    auto yesterday = advice::usage_key("stripe",
                                       advice::day_of(epoch_ms_now()) - 1);
    REQUIRE(db.write({store::write_op::make_hincr_by(yesterday, "calls", 100),
                      store::write_op::make_hincr_by(yesterday, "m0", 100)}));
  }
  {
    running_node node{{}, cfg.path};
    // 600 keyed calls, 50 keys: 550 repeats.
    auto res = node.post(keyed_batch(600, 50, 0));
    REQUIRE(res);
    CHECK(res->status == 202);
    auto db = cfg.backend();
    auto key = advice::usage_key("stripe", advice::day_of(epoch_ms_now()));
    CHECK(eventually(10s, [&] {
      auto fields = db.hgetall(key);
      return fields && store::find_field(*fields, "keyed") == "600";
    }));
    CHECK(node.process.stop(SIGTERM, 10s) == 0);
  }
  running_node node{{}, cfg.path};
  // The read-back is asynchronous: the next advice includes it.
  boost::json::value recs;
  CHECK(eventually(10s, [&] {
    recs = node.get_json(std::string{base} + "/optimization/recommendations");
    return find_kind(recs, "cache") != nullptr;
  }));
  auto cache = find_kind(recs, "cache");
  REQUIRE(cache != nullptr);
  auto& ev = cache->at("evidence").as_object();
  CHECK(ev.at("keyedCalls").to_number<double>() == 600);
  CHECK(ev.at("distinctKeys").to_number<double>() == Approx(50).margin(1));
  // About a day of the 7-day window is covered.
  CHECK(cache->at("confidence").to_number<double>() < 0.35);
}

TEST_CASE("cost/optimize is a dry run by default, applies only confident "
          "changes bounded by demand, and one call undoes a change") {
  redis_config_file cfg{"advisor-optimize"};
  seed_week(cfg);
  running_node node{{}, cfg.path};
  // The week is read back asynchronously at start.
  boost::json::value dry;
  CHECK(eventually(10s, [&] {
    auto res = post_json(node, "/cost/optimize", "");
    REQUIRE(res);
    dry = boost::json::parse(res->body);
    return !dry.at("changes").as_array().empty();
  }));
  CHECK(dry.at("dryRun").as_bool());
  auto& planned = dry.at("changes").as_array().at(0).as_object();
  CHECK(planned.at("status").as_string() == "planned");
  CHECK(planned.at("limit").as_string() == "sustained");
  CHECK(planned.at("before").to_number<uint64_t>() == 1000);
  // Peak 20 calls in two minutes, * 1.5 / (1 - 0.2 reserved) = 38.
  CHECK(planned.at("after").to_number<uint64_t>() == 38);
  CHECK(planned.at("evidence").at("floor").to_number<double>() == 38);
  CHECK(planned.at("evidence").at("peakMinuteCalls").to_number<double>() == 10);
  // Nothing was changed by the dry run.
  auto changes = node.get_json(std::string{base} + "/cost/optimize/changes");
  CHECK(changes.at("changes").as_array().empty());
  // Bad bodies are refused with the field named.
  check_error(post_json(node, "/cost/optimize", R"({"apply": "yes"})"), 400,
              "invalid_argument", "$.apply");
  check_error(post_json(node, "/cost/optimize", R"({"aply": true})"), 400,
              "invalid_argument", "$.aply");
  check_error(post_json(node, "/cost/optimize", R"({"minConfidence": 2})"), 400,
              "invalid_argument", "$.minConfidence");
  check_error(post_json(node, "/cost/optimize", R"({"ids": []})"), 400,
              "invalid_argument", "$.ids");
  check_error(post_json(node, "/cost/optimize", R"({"ids": [7]})"), 400,
              "invalid_argument", "$.ids");
  // The dashboard's apply button names one recommendation: another id
  // changes nothing.
  std::string rec_id{planned.at("recommendationId").as_string()};
  auto other = post_json(node, "/cost/optimize",
                         R"({"apply": true, "ids": ["stripe:nosuch"]})");
  REQUIRE(other);
  CHECK(boost::json::parse(other->body).at("changes").as_array().empty());
  // Asking for more confidence than the evidence gives applies nothing.
  auto res = post_json(node, "/cost/optimize",
                       R"({"apply": true, "minConfidence": 0.9999})");
  REQUIRE(res);
  auto skipped = boost::json::parse(res->body);
  CHECK(skipped.at("changes").at(0).at("status").as_string() == "skipped");
  res = post_json(node, "/cost/optimize",
                  R"({"apply": true, "ids": [")" + rec_id + R"("]})");
  REQUIRE(res);
  CHECK(res->status == 200);
  auto applied = boost::json::parse(res->body);
  CHECK_FALSE(applied.at("dryRun").as_bool());
  auto& change = applied.at("changes").at(0).as_object();
  REQUIRE(change.at("status").as_string() == "applied");
  std::string id{change.at("changeId").as_string()};
  // Audited with its evidence.
  auto audit = node.get_json("/api/v1/audit?limit=100");
  bool audited = false;
  for (auto& r : audit.at("records").as_array())
    if (r.at("action").as_string() == "advisor.apply") {
      audited = true;
      CHECK(std::string{r.at("detail").as_string()}.find("peakWindowCalls")
            != std::string::npos);
    }
  CHECK(audited);
  // A second dry run now starts from 38 and has nothing to lower.
  res = post_json(node, "/cost/optimize", "");
  REQUIRE(res);
  // Keep the parsed document alive: a range-for over a member of a
  // temporary reads freed memory.
  auto second = boost::json::parse(res->body);
  for (auto& c : second.at("changes").as_array())
    CHECK(c.at("after").to_number<uint64_t>() >= 38);
  // Undo, once.
  res = post_json(node, "/cost/optimize/undo",
                  R"({"changeId": ")" + id + R"("})");
  REQUIRE(res);
  INFO(res->body);
  CHECK(res->status == 200);
  auto undone = boost::json::parse(res->body);
  CHECK(undone.at("status").as_string() == "undone");
  CHECK(undone.at("before").to_number<uint64_t>() == 1000);
  check_error(post_json(node, "/cost/optimize/undo",
                        R"({"changeId": ")" + id + R"("})"),
              409, "conflict");
  check_error(post_json(node, "/cost/optimize/undo",
                        R"({"changeId": "chg-0-0"})"),
              404, "not_found");
  check_error(post_json(node, "/cost/optimize/undo", R"({})"), 400,
              "invalid_argument", "$.changeId");
  // The limit is back: the same change is planned again.
  res = post_json(node, "/cost/optimize", "");
  REQUIRE(res);
  auto again = boost::json::parse(res->body);
  CHECK(again.at("changes").at(0).at("before").to_number<uint64_t>() == 1000);
  CHECK(node.process.stop(SIGTERM, 10s) == 0);
}

TEST_CASE("a budget level reached before a restart is stored and not "
          "announced again") {
  redis_config_file cfg{"advisor-levels"};
  {
    running_node node{{}, cfg.path};
    // Stripe's budget is 50 USD: 40 USD is 80 %.
    auto res = node.client.Post(
      "/api/v1/admission/stripe",
      R"({"priority": "high", "estimatedCostUsd": 40})", "application/json");
    REQUIRE(res);
    CHECK(res->status == 200);
    auto db = cfg.backend();
    auto key = "budget:alerts:stripe:" + utc_month(epoch_ms_now());
    CHECK(eventually(10s, [&] {
      auto fields = db.hgetall(key);
      return fields && !store::find_field(*fields, "l7500").empty();
    }));
    CHECK(node.process.stop(SIGTERM, 10s) == 0);
  }
  node_process again{STREAMB_BINARY, run_args({}, cfg.path), true};
  auto port = again.wait_for_port();
  REQUIRE(port != 0);
  // Once the controller shows the stored level and the 40 USD it read back,
  // it has judged that spend against its levels: an announcement would be
  // in the log before this answer.
  httplib::Client client{"127.0.0.1", port};
  client.set_connection_timeout(5, 0);
  client.set_read_timeout(10, 0);
  CHECK(eventually(10s, [&] {
    auto res = client.Get((std::string{base} + "/cost/analysis").c_str());
    if (!res || res->status != 200)
      return false;
    auto doc = boost::json::parse(res->body);
    auto& stripe = doc.at("services").at("stripe");
    return stripe.at("spendUsd").to_number<double>() == 40
      && !stripe.at("alertLevelsReachedPercent").as_array().empty();
  }));
  again.drain();
  CHECK(again.output().find("level=75%") == std::string::npos);
  CHECK(again.output().find("cost_alert service=stripe") == std::string::npos);
  CHECK(again.stop(SIGTERM, 10s) == 0);
}
