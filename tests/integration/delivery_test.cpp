// HTTP delivery endpoints through the real binary: receivers are real HTTP
// servers started by the test on loopback, which verify the Standard
// Webhooks signature of every request.

#include "runtime/webhooks/signatures/verify.hpp"
#include "tests/integration/coordination_support.hpp"
#include "tests/integration/redis_config_file.hpp"
#include "tests/integration/redis_process.hpp"
#include "tests/integration/running_node.hpp"
#include "tests/integration/stripe_signing.hpp"
#include "tests/integration/test_certificate.hpp"

#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <httplib.h>

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <functional>
#include <mutex>
#include <set>
#include <thread>

using namespace streamb;
using namespace streamb::test;
using namespace std::chrono_literals;
namespace json = boost::json;

namespace {

constexpr const char* secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

/// One request as the receiver saw it.
struct received {
  std::string id;
  json::value body;
  bool signature_ok = false;
  int status = 0; // what the receiver answered
};

/// Whether `req` carries a valid Standard Webhooks signature under
/// `secret` (the receivers' check, made with the node's own verifier, which
/// passes the specification's vectors).
bool signed_ok(const httplib::Request& req) {
  signatures::webhook_request wr;
  for (auto& [k, v] : req.headers)
    wr.headers.emplace_back(k, v);
  wr.body = req.body;
  wr.now_s = now_s();
  return signatures::verify_standard_webhooks(wr, {{secret}, 300}).valid;
}

/// A real HTTP server on a free loopback port; `answer(n)` gives the
/// status of the n-th request (1-based).
class receiver {
public:
  explicit receiver(std::function<int(int)> answer)
    : answer_(std::move(answer)) {
    server_.Post("/hook",
                 [this](const httplib::Request& req, httplib::Response& res) {
                   auto ok = signed_ok(req);
                   std::lock_guard<std::mutex> guard{mtx_};
                   json::error_code ec;
                   auto status = answer_(static_cast<int>(got_.size()) + 1);
                   got_.push_back({req.get_header_value("webhook-id"),
                                   json::parse(req.body, ec), ok, status});
                   res.status = status;
                   res.set_content("{}", "application/json");
                 });
    port = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread{[this] { server_.listen_after_bind(); }};
  }

  ~receiver() {
    server_.stop();
    thread_.join();
  }

  std::vector<received> requests() {
    std::lock_guard<std::mutex> guard{mtx_};
    return got_;
  }

  std::string url() const {
    return "http://127.0.0.1:" + std::to_string(port) + "/hook";
  }

  int port = 0;

private:
  std::function<int(int)> answer_;
  httplib::Server server_;
  std::thread thread_;
  std::mutex mtx_;
  std::vector<received> got_;
};

/// A port that accepts connections (the kernel's backlog) and never
/// answers: an endpoint that hangs.
struct silent_port {
  int fd = -1;
  uint16_t port = 0;

  silent_port() {
    fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0);
    REQUIRE(::listen(fd, 64) == 0);
    socklen_t len = sizeof(addr);
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
    port = ntohs(addr.sin_port);
  }

  ~silent_port() {
    ::close(fd);
  }
};

json::object endpoint(const std::string& name, const std::string& url,
                      json::array events, json::array webhooks = {}) {
  return {{"name", name},
          {"url", url},
          {"secret", secret},
          {"events", std::move(events)},
          {"webhooks", std::move(webhooks)},
          {"timeout_s", 2},
          {"retry_delays_s", json::array{1, 1, 1}}};
}

/// The default config (the memory store, or Redis) with Stripe webhooks
/// and `endpoints`.
struct delivery_config : redis_config_file {
  delivery_config(const std::string& name, json::array endpoints,
                  bool redis = false)
    : redis_config_file(name) {
    if (!redis)
      replace(text.substr(text.find(R"("store": {)"),
                          text.find('}', text.find(R"("store": {)")) + 1
                            - text.find(R"("store": {)")),
              R"("store": {"kind": "memory"})");
    replace(R"("stripe": {)",
            R"("stripe": {"webhook": {"scheme": "stripe", "secrets": )"
            R"(["whsec_new"], "tolerance_s": 300},)");
    auto doc = json::parse(text).as_object();
    doc["deliveries"] = json::object{{"endpoints", std::move(endpoints)}};
    text = json::serialize(doc);
    save();
  }
};

json::object endpoint_stats_of(running_node& node, const std::string& name) {
  auto stats = node.get_json("/api/v1/stream-b-coordination/webhooks/stats");
  for (auto& e : stats.at("endpoints").as_array())
    if (e.at("name").as_string() == name)
      return e.as_object();
  return {};
}

httplib::Result post_stripe(httplib::Client& client, const std::string& id) {
  return post_stripe_event(client, "whsec_new", id);
}

} // namespace

TEST_CASE("an endpoint that answers 500 twice gets the event on the third "
          "try, every try signed with the Standard Webhooks scheme") {
  receiver recv{[](int n) { return n <= 2 ? 500 : 200; }};
  delivery_config cfg{
    "deliver-retry",
    {endpoint("recv", recv.url(), {"database_coordination"}, {"stripe"})}};
  running_node node{{}, cfg.path};
  auto id = send_event(node, R"({"type":"database_coordination",
    "payload":{"table":"routes"}})");
  REQUIRE(eventually(15s, [&] { return recv.requests().size() >= 3; }));
  auto got = recv.requests();
  for (auto& r : got) {
    CHECK(r.signature_ok);
    CHECK(r.id == id); // the same webhook-id on every try
    CHECK(r.body.at("kind") == "event");
    CHECK(r.body.at("event").at("type") == "database_coordination");
    CHECK(r.body.at("event").at("payload").at("table") == "routes");
  }
  REQUIRE(eventually(5s, [&] {
    return endpoint_stats_of(node, "recv").at("delivered").as_int64() == 1;
  }));
  auto s = endpoint_stats_of(node, "recv");
  INFO(json::serialize(s));
  CHECK(s.at("failedAttempts").as_int64() == 2);
  CHECK(s.at("retried").as_int64() == 2);
  CHECK(s.at("queued").as_int64() == 0);
  CHECK(s.at("lastStatus").as_int64() == 200);
  CHECK(s.at("url").as_string() == recv.url());
  // No agent took it: its record says where it went instead.
  auto rec = node.get_json("/api/v1/coordination/events/" + id);
  CHECK(rec.at("state").as_string() == "unrouted");
  CHECK(std::string{rec.at("detail").as_string()}.find(
          "handed to 1 HTTP endpoint(s)")
        != std::string::npos);

  // A verified Stripe webhook goes there too, as kind "webhook".
  REQUIRE(post_stripe(node.client, "evt_to_endpoint")->status == 200);
  REQUIRE(eventually(10s, [&] { return recv.requests().size() >= 4; }));
  auto wh = recv.requests().back();
  CHECK(wh.signature_ok);
  CHECK(wh.id == "stripe:evt_to_endpoint");
  CHECK(wh.body.at("kind") == "webhook");
  CHECK(wh.body.at("webhook").at("service") == "stripe");
  CHECK(wh.body.at("webhook").at("payload").at("id") == "evt_to_endpoint");
  CHECK(eventually(5s, [&] {
    auto metrics = node.client.Get("/metrics");
    return metrics
      && metrics->body.find(
           "streamb_endpoint_delivered_total{endpoint=\"recv\"} 2")
      != std::string::npos;
  }));
}

TEST_CASE("an endpoint that never answers does not delay another, and what "
          "it never takes is dead-lettered after its schedule") {
  silent_port hang;
  receiver good{[](int) { return 200; }};
  auto hanging = endpoint(
    "hang", "http://127.0.0.1:" + std::to_string(hang.port) + "/x",
    {"database_coordination"});
  hanging["timeout_s"] = 1;
  hanging["retry_delays_s"] = json::array{1}; // two tries
  delivery_config cfg{
    "deliver-hang",
    {hanging, endpoint("good", good.url(), {"database_coordination"})}};
  running_node node{{}, cfg.path};
  std::set<std::string> ids;
  for (int i = 0; i < 20; ++i)
    ids.insert(send_event(node,
                          R"({"type":"database_coordination",
      "payload":{"n":)" + std::to_string(i)
                            + "}}"));
  // The good endpoint has all of them long before the hanging one's first
  // timeout (2 s) could have freed anything.
  REQUIRE(eventually(3s, [&] { return good.requests().size() >= 20; }));
  std::set<std::string> seen;
  for (auto& r : good.requests())
    seen.insert(r.id);
  CHECK(seen == ids);
  auto h = endpoint_stats_of(node, "hang");
  INFO(json::serialize(h));
  CHECK(h.at("delivered").as_int64() == 0);
  CHECK(h.at("inFlight").as_int64() == 4); // its max_in_flight
  // Two tries of 1 s each, 4 at a time, a retry behind the 16 waiting: the
  // first dead letters come after ~6 s.
  REQUIRE(eventually(20s, [&] {
    return endpoint_stats_of(node, "hang").at("deadLettered").as_int64() >= 1;
  }));
  CHECK(eventually(5s, [&] {
    return endpoint_stats_of(node, "good").at("delivered").as_int64() == 20;
  }));

  // The endpoint's dead letters, and one delivered again by an operator.
  auto dead = node.get_json("/api/v1/deliveries/hang/dead-letters");
  INFO(json::serialize(dead));
  auto& items = dead.at("deadLetters").as_array();
  REQUIRE_FALSE(items.empty());
  auto first = items.at(0).as_object();
  CHECK(ids.count(std::string{first.at("eventId").as_string()}) == 1);
  CHECK(first.at("kind") == "event");
  CHECK(first.at("attempts") == 2);
  CHECK_FALSE(first.at("lastError").as_string().empty());
  CHECK(first.at("queuedAt").as_string() <= first.at("deadAt").as_string());
  auto replay = node.client.Post(("/api/v1/deliveries/hang/dead-letters/"
                                  + std::string{first.at("id").as_string()}
                                  + "/replay")
                                   .c_str(),
                                 "", "application/json");
  REQUIRE(replay);
  CHECK(replay->status == 202);
  CHECK(json::parse(replay->body).at("eventId") == first.at("eventId"));
  CHECK(endpoint_stats_of(node, "hang").at("accepted").as_int64() == 21);
  auto again = node.client.Post(("/api/v1/deliveries/hang/dead-letters/"
                                 + std::string{first.at("id").as_string()}
                                 + "/replay")
                                  .c_str(),
                                "", "application/json");
  REQUIRE(again);
  CHECK(again->status == 404);
  auto unknown = node.client.Get("/api/v1/deliveries/nope/dead-letters");
  REQUIRE(unknown);
  CHECK(unknown->status == 404);
  auto audit = node.get_json("/api/v1/audit?action=delivery.replay");
  CHECK(json::serialize(audit).find("delivery.replay") != std::string::npos);
}

TEST_CASE("kill -9 mid-delivery on Redis: every webhook acknowledged to "
          "Stripe reaches the endpoint at least once") {
  std::atomic<bool> up{false};
  receiver recv{[&](int) { return up ? 200 : 503; }};
  delivery_config cfg{
    "deliver-crash", {endpoint("recv", recv.url(), {}, {"stripe"})}, true};
  std::vector<std::string> acknowledged;
  {
    running_node node{{}, cfg.path};
    for (int i = 0; i < 30; ++i) {
      auto id = "evt_kill_" + std::to_string(i);
      auto res = post_stripe(node.client, id);
      REQUIRE(res);
      if (res->status == 200)
        acknowledged.push_back("stripe:" + id);
    }
    // Tries are failing (503) and retrying when the node dies.
    REQUIRE(eventually(5s, [&] { return recv.requests().size() >= 10; }));
    CHECK(node.process.stop(SIGKILL, 5s) == 128 + SIGKILL);
  }
  REQUIRE(acknowledged.size() == 30);
  up = true;
  running_node node{{}, cfg.path};
  std::set<std::string> ok;
  CHECK(eventually(20s, [&] {
    ok.clear();
    auto rs = recv.requests();
    // Only what the receiver took (200) counts.
    for (auto& r : rs)
      if (r.signature_ok && r.status == 200)
        ok.insert(r.id);
    return std::all_of(acknowledged.begin(), acknowledged.end(),
                       [&](auto& id) { return ok.count(id) > 0; });
  }));
  for (auto& id : acknowledged) {
    INFO(id);
    CHECK(ok.count(id) == 1);
  }
  CHECK(eventually(10s, [&] {
    return endpoint_stats_of(node, "recv").at("queued").as_int64() == 0;
  }));
}

TEST_CASE("an https endpoint is delivered to when its certificate is trusted, "
          "and never when it is not") {
  test_certificate cert;
  httplib::SSLServer server{cert.cert.c_str(), cert.key.c_str()};
  std::atomic<int> got{0};
  server.Post("/hook",
              [&](const httplib::Request& req, httplib::Response& res) {
                if (signed_ok(req))
                  ++got;
                res.status = 200;
              });
  auto port = server.bind_to_any_port("127.0.0.1");
  std::thread t{[&] { server.listen_after_bind(); }};
  auto url = "https://127.0.0.1:" + std::to_string(port) + "/hook";
  auto trusted = endpoint("trusted", url, {"database_coordination"});
  trusted["ca_file"] = cert.cert;
  auto untrusted = endpoint("untrusted", url, {"database_coordination"});
  delivery_config cfg{"deliver-tls", {trusted, untrusted}};
  {
    running_node node{{}, cfg.path};
    send_event(node, R"({"type":"database_coordination","payload":{}})");
    CHECK(eventually(10s, [&] {
      return endpoint_stats_of(node, "trusted").at("delivered").as_int64() == 1;
    }));
    CHECK(eventually(10s, [&] {
      return endpoint_stats_of(node, "untrusted")
               .at("failedAttempts")
               .as_int64()
        >= 1;
    }));
    auto u = endpoint_stats_of(node, "untrusted");
    INFO(json::serialize(u));
    CHECK(u.at("delivered").as_int64() == 0);
    CHECK(u.at("lastStatus").as_int64() == 0);
  }
  CHECK(got == 1); // only the trusted endpoint's request arrived
  server.stop();
  t.join();
}

TEST_CASE("a stored queue longer than max_queued is sent in turns, none "
          "left behind") {
  receiver recv{[](int) { return 200; }};
  auto small = endpoint("recv", recv.url(), {"database_coordination"});
  small["max_queued"] = 5;
  delivery_config cfg{"deliver-backlog", {small}, true};
  // What a previous run of this node left: 12 deliveries in the store.
  for (int i = 0; i < 12; ++i) {
    auto cmd = "redis-cli -u " + test_redis_url() + " XADD " + cfg.prefix
      + "deliveries:local:recv:queue '*' id left-" + std::to_string(i)
      + " kind event type database_coordination body '{\"n\":"
      + std::to_string(i) + "}' queued_ms 0 > /dev/null";
    REQUIRE(std::system(cmd.c_str()) == 0);
  }
  running_node node{{}, cfg.path};
  std::set<std::string> ok;
  CHECK(eventually(15s, [&] {
    ok.clear();
    for (auto& r : recv.requests())
      if (r.signature_ok)
        ok.insert(r.id);
    return ok.size() == 12;
  }));
  CHECK(eventually(5s, [&] {
    return endpoint_stats_of(node, "recv").at("queued").as_int64() == 0;
  }));
}
