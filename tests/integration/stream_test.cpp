// SSE and WebSocket subscribers of a real node: events arrive, and a
// subscriber that stops reading is dropped without slowing another.

#include "tests/integration/raw_connection.hpp"
#include "tests/integration/redis_config_file.hpp"
#include "tests/integration/running_node.hpp"
#include "tests/integration/stripe_signing.hpp"

#include <boost/json/serialize.hpp>
#include <catch2/catch.hpp>

#include <thread>
#include <unistd.h>

using namespace streamb::test;
using namespace std::chrono_literals;

namespace {

constexpr const char* secret = "whsec_stream_test";
constexpr const char* prefix = "/api/v1/stream-b-coordination";

/// The default config with Stripe webhooks and `http` in node.http.
struct stream_config {
  std::string path;

  /// The dashboard is pushed every `dashboard_interval_s`; an hour by
  /// default, so that only the events a test makes are published.
  stream_config(const std::string& name, const boost::json::object& http,
                const boost::json::object& store = {},
                int dashboard_interval_s = 3600)
    : path("/tmp/streamb-stream-" + name + "-" + std::to_string(getpid())
           + ".json") {
    auto doc = boost::json::parse(
      read_file(STREAMB_SOURCE_DIR "/config/streamb.json"));
    auto& h = doc.at("node").at("http").as_object();
    for (auto& [k, v] : http)
      h[k] = v;
    for (auto& [k, v] : store)
      doc.at("store").as_object()[k] = v;
    doc.at("metrics").as_object()["dashboard_interval_s"]
      = dashboard_interval_s;
    doc.at("services").at("stripe").as_object()["webhook"] = {
      {"scheme", "stripe"}, {"secrets", {secret}}, {"tolerance_s", 300}};
    write_file(path, boost::json::serialize(doc));
  }

  ~stream_config() {
    unlink(path.c_str());
  }
};

httplib::Result post_event(httplib::Client& client, const std::string& id,
                           const std::string& type = "charge.succeeded") {
  auto body = stripe_event(id, type);
  httplib::Headers headers{
    {"Stripe-Signature", stripe_signature(secret, body, now_s())}};
  return client.Post("/webhooks/stripe", headers, body, "application/json");
}

/// Opens a WebSocket on `c`; true on "101 Switching Protocols".
bool ws_handshake(raw_connection& c, const std::string& target) {
  if (!c.send("GET " + target
              + " HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
                "Connection: Upgrade\r\n"
                "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                "Sec-WebSocket-Version: 13\r\n\r\n"))
    return false;
  c.read_until(
    [](const std::string& x) {
      return x.find("\r\n\r\n") != std::string::npos;
    },
    5s);
  return c.received().rfind("HTTP/1.1 101", 0) == 0;
}

struct ws_frame {
  int opcode;
  std::string payload;
};

/// The complete frames the server sent after the handshake (servers do not
/// mask).
std::vector<ws_frame> ws_frames(const std::string& bytes) {
  std::vector<ws_frame> out;
  auto pos = bytes.find("\r\n\r\n");
  if (pos == std::string::npos)
    return out;
  pos += 4;
  auto byte = [&](std::size_t i) {
    return static_cast<unsigned char>(bytes[i]);
  };
  while (pos + 2 <= bytes.size()) {
    int opcode = byte(pos) & 0x0f;
    uint64_t len = byte(pos + 1) & 0x7f;
    std::size_t at = pos + 2;
    std::size_t extra = len == 126 ? 2 : len == 127 ? 8 : 0;
    if (at + extra > bytes.size())
      break;
    if (extra > 0) {
      len = 0;
      for (std::size_t i = 0; i < extra; ++i)
        len = (len << 8) | byte(at + i);
      at += extra;
    }
    if (at + len > bytes.size())
      break;
    out.push_back({opcode, bytes.substr(at, len)});
    pos = at + len;
  }
  return out;
}

std::size_t text_frames(const std::string& bytes) {
  std::size_t n = 0;
  for (auto& f : ws_frames(bytes))
    n += f.opcode == 1 ? 1 : 0;
  return n;
}

} // namespace

TEST_CASE("a WebSocket subscriber that stops reading is dropped while a "
          "second one keeps receiving") {
  stream_config cfg{"ws-slow", {{"stream_queue_bytes", 16384}}};
  running_node node{{}, cfg.path};
  auto target = std::string{prefix} + "/ws?topics=webhook&services=stripe";
  raw_connection slow{node.port, 4096};
  REQUIRE(ws_handshake(slow, target));
  raw_connection fast{node.port};
  REQUIRE(ws_handshake(fast, target));
  // Long ids make each event ~400 bytes: 2000 of them overrun what the slow
  // subscriber's socket buffers and its 16 KiB queue hold.
  constexpr int events = 2000;
  std::string pad(200, 'x');
  std::size_t fast_frames = 0;
  for (int i = 0; i < events; ++i) {
    auto res = post_event(node.client, "evt_" + pad + std::to_string(i));
    REQUIRE(res);
    REQUIRE(res->status == 200);
    // The fast one reads as it goes.
    if (i % 100 == 99)
      fast.read_until(
        [&](const std::string& x) {
          return text_frames(x) >= static_cast<std::size_t>(i + 1);
        },
        5s);
  }
  fast.read_until(
    [&](const std::string& x) {
      return text_frames(x) >= static_cast<std::size_t>(events);
    },
    10s);
  fast_frames = text_frames(fast.received());
  CHECK(fast_frames == static_cast<std::size_t>(events));
  // The slow one now reads what reached it: part of the events, then the
  // connection ends (a close frame 1013 if it fitted, or just the end).
  slow.read_until_closed(10s);
  CHECK(slow.closed_within(0ms));
  auto slow_frames = ws_frames(slow.received());
  CHECK(text_frames(slow.received()) < static_cast<std::size_t>(events));
  if (!slow_frames.empty() && slow_frames.back().opcode == 8) {
    auto& p = slow_frames.back().payload;
    REQUIRE(p.size() >= 2);
    CHECK(((static_cast<unsigned char>(p[0]) << 8)
           | static_cast<unsigned char>(p[1]))
          == 1013);
  }
  auto health = node.get_json(std::string{prefix} + "/health/comprehensive");
  auto& streams = health.at("streams");
  CHECK(streams.at("droppedSlow").to_number<int64_t>() == 1);
  CHECK(streams.at("subscribers").to_number<int64_t>() == 1);
  CHECK(streams.at("published").to_number<int64_t>() == events);
}

TEST_CASE("an SSE subscriber receives webhooks as they are stored, critical "
          "ones flagged; bad subscriptions get a JSON error") {
  stream_config cfg{"sse", {}};
  running_node node{{}, cfg.path};
  raw_connection sub{node.port};
  REQUIRE(sub.send("GET " + std::string{prefix}
                   + "/stream?topics=webhook HTTP/1.1\r\nHost: x\r\n\r\n"));
  REQUIRE(sub.read_until(
    [](const std::string& x) {
      return x.find(": connected") != std::string::npos;
    },
    5s));
  CHECK(sub.received().find("Content-Type: text/event-stream")
        != std::string::npos);
  auto res = post_event(node.client, "evt_critical_1", "charge.failed");
  REQUIRE(res);
  REQUIRE(res->status == 200);
  REQUIRE(sub.read_until(
    [](const std::string& x) {
      return x.find("\n\n", x.find("event: webhook")) != std::string::npos
        && x.find("event: webhook") != std::string::npos;
    },
    5s));
  auto at = sub.received().find("event: webhook\ndata: ");
  REQUIRE(at != std::string::npos);
  auto line = sub.received().substr(at + 21);
  auto doc = boost::json::parse(line.substr(0, line.find('\n')));
  CHECK(doc.at("id").as_string() == "stripe:evt_critical_1");
  CHECK(doc.at("critical").as_bool());
  // On a node open without keys a stale ticket in the URL changes nothing:
  // the stream opens as it would without one.
  raw_connection stale{node.port};
  REQUIRE(stale.send("GET " + std::string{prefix}
                     + "/stream?ticket=sbt_stale HTTP/1.1\r\nHost: x\r\n\r\n"));
  CHECK(stale.read_until(
    [](const std::string& x) {
      return x.find(": connected") != std::string::npos;
    },
    5s));
  // A duplicate is not announced again.
  REQUIRE(post_event(node.client, "evt_critical_1", "charge.failed"));
  // An unknown service in the filter: 404 with a JSON error.
  check_error(node.client.Get(std::string{prefix} + "/stream?services=paypal"),
              404, "unknown_service", "?services");
  // The WebSocket route without an upgrade: 426.
  auto plain = node.client.Get(std::string{prefix} + "/ws");
  REQUIRE(plain);
  CHECK(plain->status == 426);
  auto health = node.get_json(std::string{prefix} + "/health/comprehensive");
  CHECK(health.at("streams").at("published").to_number<int64_t>() == 1);
}

TEST_CASE(
  "a dashboard subscriber gets a snapshot within twice "
  "metrics.dashboard_interval_s, with the numbers of GET .../dashboard") {
  stream_config cfg{"dashboard", {}, {}, 1};
  running_node node{{}, cfg.path};
  REQUIRE(node.post("[" + sample("stripe", 120, "200") + "]")->status == 202);
  auto calls = [&] {
    return node.get_json(std::string{prefix} + "/dashboard")
      .at("services")
      .at("stripe")
      .at("metrics")
      .at("calls")
      .to_number<int64_t>();
  };
  for (int i = 0; i < 50 && calls() != 1; ++i)
    std::this_thread::sleep_for(100ms);
  REQUIRE(calls() == 1);
  raw_connection sub{node.port};
  REQUIRE(sub.send("GET " + std::string{prefix}
                   + "/stream?topics=dashboard HTTP/1.1\r\nHost: x\r\n\r\n"));
  REQUIRE(sub.read_until(
    [](const std::string& x) {
      return x.find(": connected") != std::string::npos;
    },
    5s));
  auto subscribed = std::chrono::steady_clock::now();
  REQUIRE(sub.read_until(
    [](const std::string& x) {
      auto at = x.find("event: dashboard");
      return at != std::string::npos && x.find("\n\n", at) != std::string::npos;
    },
    5s));
  auto waited = std::chrono::steady_clock::now() - subscribed;
  CHECK(waited < 2s);
  auto at = sub.received().find("event: dashboard\ndata: ");
  REQUIRE(at != std::string::npos);
  auto line = sub.received().substr(at + 23);
  auto doc = boost::json::parse(line.substr(0, line.find('\n')));
  CHECK(doc.at("topic").as_string() == "dashboard");
  CHECK(doc.at("health").at("status").as_string() == "ok");
  CHECK(doc.at("services")
          .at("stripe")
          .at("metrics")
          .at("calls")
          .to_number<int64_t>()
        == 1);
}

TEST_CASE("a memory store at its key cap answers new webhooks 429 and keeps "
          "what it holds") {
  stream_config cfg{"full", {}, {{"memory_max_keys", 100}}};
  running_node node{{}, cfg.path};
  int stored = 0;
  int status = 0;
  std::string body;
  for (int i = 0; i < 200; ++i) {
    auto res = post_event(node.client, "evt_full_" + std::to_string(i));
    REQUIRE(res);
    status = res->status;
    body = res->body;
    if (status != 200)
      break;
    ++stored;
  }
  INFO(body);
  CHECK(stored > 0);
  CHECK(stored < 200);
  CHECK(status == 429);
  CHECK(boost::json::parse(body).at("error").at("code").as_string()
        == "capacity");
  // What it holds is still there, and the node still answers.
  auto ev = node.get_json("/api/v1/webhooks/events/stripe:evt_full_0");
  CHECK(ev.at("id").as_string() == "stripe:evt_full_0");
  node.get_json("/healthz");
}
