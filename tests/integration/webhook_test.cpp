// Webhooks through the real binary: signatures made at test time, real HTTP
// on loopback, the test's redis-server, kill -9.

#include "runtime/core/wall_time.hpp"
#include "tests/integration/redis_config_file.hpp"
#include "tests/integration/redis_process.hpp"
#include "tests/integration/running_node.hpp"
#include "tests/integration/stripe_signing.hpp"

#include <boost/json/serialize.hpp>

#include <atomic>
#include <csignal>
#include <map>
#include <set>
#include <sstream>
#include <thread>

using namespace streamb;
using namespace streamb::test;
using namespace std::chrono_literals;

namespace {

/// The default config with Stripe webhooks under two active secrets (a
/// rotation in progress).
struct webhook_config : redis_config_file {
  explicit webhook_config(const std::string& name,
                          std::string redis_url = test_redis_url())
    : redis_config_file(name, std::move(redis_url)) {
    replace(R"("stripe": {)",
            R"("stripe": {"webhook": {"scheme": "stripe", "secrets": )"
            R"(["whsec_old", "whsec_new"], "tolerance_s": 300},)");
    // These tests read deliveries off the node's log subscriber.
    replace(R"("agents": {)",
            R"("webhooks": {"log_deliveries": true}, "agents": {)");
    save();
  }
};

httplib::Result post_webhook(httplib::Client& client, const std::string& body,
                             const std::string& signature) {
  httplib::Headers headers;
  if (!signature.empty())
    headers.emplace("Stripe-Signature", signature);
  return client.Post("/webhooks/stripe", headers, body, "application/json");
}

/// Event ids in the subscriber's JSON lines, with how often each came.
std::map<std::string, int> delivered(const std::string& output) {
  std::map<std::string, int> result;
  std::istringstream lines{output};
  std::string line;
  while (std::getline(lines, line)) {
    if (line.rfind("{\"webhook\":", 0) != 0)
      continue;
    auto doc = boost::json::parse(line);
    ++result[std::string{doc.at("webhook").as_string()}];
  }
  return result;
}

} // namespace

TEST_CASE("signed webhooks are stored once and every rejection gets its status "
          "and is counted and audited by reason") {
  webhook_config cfg{"webhooks"};
  running_node node{{}, cfg.path};
  auto& client = node.client;
  auto body = stripe_event("evt_ok_1");
  auto res = post_webhook(client, body,
                          stripe_signature("whsec_new", body, now_s()));
  REQUIRE(res);
  INFO(res->body);
  CHECK(res->status == 200);
  auto doc = boost::json::parse(res->body);
  CHECK(doc.at("stored").to_number<int>() == 1);
  CHECK(doc.at("eventIds").at(0).as_string() == "stripe:evt_ok_1");
  // The provider's retry of the same event: 200, marked duplicate.
  res = post_webhook(client, body,
                     stripe_signature("whsec_new", body, now_s()));
  REQUIRE(res);
  CHECK(res->status == 200);
  CHECK(boost::json::parse(res->body).at("duplicate").as_bool());
  // The old secret of the rotation still works.
  auto body2 = stripe_event("evt_ok_2", "charge.failed");
  res = post_webhook(client, body2,
                     stripe_signature("whsec_old", body2, now_s()));
  REQUIRE(res);
  CHECK(res->status == 200);
  // Rejections.
  check_error(post_webhook(client, body + " ",
                           stripe_signature("whsec_new", body, now_s())),
              401, "bad_signature");
  check_error(post_webhook(client, body,
                           stripe_signature("whsec_wrong", body, now_s())),
              401, "bad_signature");
  check_error(post_webhook(client, body,
                           stripe_signature("whsec_new", body, now_s() - 600)),
              401, "expired");
  check_error(post_webhook(client, body, ""), 400, "missing_header");
  check_error(post_webhook(client, body, "v1=abc"), 400, "malformed");
  std::string big(1024 * 1024 + 1, 'x');
  check_error(post_webhook(client, big,
                           stripe_signature("whsec_new", big, now_s())),
              413, "too_large");
  check_error(client.Post("/webhooks/twilio", body, "application/json"), 404,
              "not_found");
  check_error(client.Post("/webhooks/nope", body, "application/json"), 404,
              "unknown_service");
  // Stats by reason.
  auto stats = node.get_json("/api/v1/stream-b-coordination/webhooks/stats");
  auto& stripe = stats.at("services").at("stripe");
  CHECK(stripe.at("received").to_number<int>() == 9);
  CHECK(stripe.at("verified").to_number<int>() == 3);
  CHECK(stripe.at("duplicates").to_number<int>() == 1);
  CHECK(stripe.at("critical").to_number<int>() == 1); // charge.failed
  auto& reasons = stripe.at("rejectedByReason");
  CHECK(reasons.at("bad_signature").to_number<int>() == 2);
  CHECK(reasons.at("expired").to_number<int>() == 1);
  CHECK(reasons.at("missing_header").to_number<int>() == 1);
  CHECK(reasons.at("malformed").to_number<int>() == 1);
  CHECK(reasons.at("too_large").to_number<int>() == 1);
  // Both stored events reach the subscriber, and their history says so.
  CHECK(eventually(10s, [&] {
    auto d = delivered(node.process.drain(50ms));
    return d.count("stripe:evt_ok_1") == 1 && d.count("stripe:evt_ok_2") == 1;
  }));
  CHECK(eventually(5s, [&] {
    auto e = node.get_json("/api/v1/webhooks/events/stripe:evt_ok_2");
    return e.at("status").as_string() == "delivered";
  }));
  auto e = node.get_json("/api/v1/webhooks/events/stripe:evt_ok_2");
  CHECK(e.at("critical").as_bool());
  CHECK(e.at("attempts").to_number<int>() == 1);
  CHECK(e.at("verdict").as_string() == "verified");
  node.get_json("/api/v1/webhooks/events/stripe:evt_never", 404);
  // The audit trail has each rejection with its reason and never a secret.
  auto audit = node.get_json("/api/v1/audit?limit=1000");
  std::multiset<std::string> outcomes;
  for (auto& r : audit.at("records").as_array()) {
    if (r.at("action").as_string() != "webhook.reject")
      continue;
    outcomes.emplace(r.at("outcome").as_string());
    auto text = boost::json::serialize(r);
    CHECK(text.find("whsec_") == std::string::npos);
    CHECK(text.find("evt_ok_1") == std::string::npos); // no body
  }
  CHECK(outcomes.count("bad_signature") == 2);
  CHECK(outcomes.count("expired") == 1);
  CHECK(outcomes.count("too_large") == 1);
  CHECK(node.process.stop(SIGTERM, 5s) == 0);
}

TEST_CASE("after kill -9 every webhook answered 2xx is delivered, and none "
          "is lost") {
  webhook_config cfg{"webhook-crash"};
  std::vector<std::string> acknowledged;
  std::string first_output;
  {
    running_node node{{}, cfg.path};
    std::atomic<int> posted{0};
    std::thread poster{[&] {
      httplib::Client client{"127.0.0.1", node.port};
      client.set_read_timeout(2, 0);
      for (int i = 0; i < 400; ++i) {
        auto body = stripe_event("evt_crash_" + std::to_string(i));
        auto res = post_webhook(client, body,
                                stripe_signature("whsec_new", body, now_s()));
        if (res && res->status == 200)
          acknowledged.push_back("stripe:evt_crash_" + std::to_string(i));
        ++posted;
        if (!res)
          break; // the node is gone
      }
    }};
    CHECK(eventually(20s, [&] { return posted >= 150; }));
    CHECK(node.process.stop(SIGKILL, 5s) == 128 + SIGKILL);
    poster.join();
    first_output = node.process.drain(500ms);
  }
  INFO(acknowledged.size() << " acknowledged before the kill");
  REQUIRE(acknowledged.size() >= 150);
  running_node node{{}, cfg.path};
  std::map<std::string, int> seen;
  CHECK(eventually(20s, [&] {
    seen = delivered(first_output + node.process.drain(50ms));
    return std::all_of(acknowledged.begin(), acknowledged.end(),
                       [&](auto& id) { return seen.count(id) > 0; });
  }));
  std::size_t repeated = 0;
  for (auto& id : acknowledged) {
    INFO(id);
    CHECK(seen[id] >= 1);
    repeated += seen[id] > 1 ? 1 : 0;
  }
  // A delivery in flight when the node died may reach the subscriber again
  // (it dedupes by event id): at most the in-flight limit of them.
  CHECK(repeated <= 16);
  auto stats = node.get_json("/api/v1/stream-b-coordination/webhooks/stats");
  CHECK(stats.at("services").at("stripe").at("pending").to_number<int>() == 0);
  CHECK(node.process.stop(SIGTERM, 5s) == 0);
}

TEST_CASE("dead-letter routes answer unknown ids and services with a JSON "
          "error") {
  running_node node; // the memory store
  auto res = node.client.Post("/api/v1/webhooks/dead-letters/1-0/replay", "",
                              "application/json");
  check_error(res, 404, "not_found");
  check_error(node.client.Get("/api/v1/webhooks/dead-letters?service=nope"),
              404, "unknown_service", "?service");
  auto dead = node.get_json("/api/v1/webhooks/dead-letters");
  CHECK(dead.at("deadLetters").as_array().empty());
  CHECK(node.process.stop(SIGTERM, 5s) == 0);
}

TEST_CASE("with its Redis unreachable a node answers a valid webhook 503 "
          "store_unavailable with Retry-After, so the provider retries it") {
  webhook_config cfg{"wh-no-redis",
                     "redis://127.0.0.1:" + std::to_string(free_loopback_port())
                       + "/0"};
  running_node node{{}, cfg.path};
  auto body = stripe_event("evt_no_redis");
  auto res = post_webhook(node.client, body,
                          stripe_signature("whsec_new", body, now_s()));
  REQUIRE(res);
  INFO(res->body);
  CHECK(res->status == 503);
  CHECK(res->get_header_value("Retry-After") == "5");
  CHECK(boost::json::parse(res->body).at("error").at("code").as_string()
        == "store_unavailable");
  // Nothing was taken: the event is not known, and the node still answers.
  auto ev = node.client.Get("/api/v1/webhooks/events/stripe:evt_no_redis");
  REQUIRE(ev);
  CHECK(ev->status != 200);
  node.get_json("/healthz");
}
