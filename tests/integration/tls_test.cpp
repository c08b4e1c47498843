// The HTTP listener with node.http.tls: HTTPS, server-sent events and
// WebSockets over TLS from clients that verify the certificate; plain HTTP
// and stalled handshakes are cut; a bad key stops the node at start.

#include "tests/integration/node_process.hpp"
#include "tests/integration/raw_connection.hpp"
#include "tests/integration/redis_config_file.hpp"
#include "tests/integration/running_node.hpp"
#include "tests/integration/stripe_signing.hpp"
#include "tests/integration/test_certificate.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <boost/beast/websocket/stream.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <catch2/catch.hpp>

#include <cstdlib>
#include <thread>
#include <unistd.h>

using namespace streamb::test;
using namespace std::chrono_literals;

namespace {

constexpr const char* secret = "whsec_tls_test";
constexpr const char* prefix = "/api/v1/stream-b-coordination";

/// The default config with TLS, Stripe webhooks and `http` in node.http.
std::string tls_config(const test_certificate& c, const std::string& key,
                       const boost::json::object& http = {}) {
  auto doc = boost::json::parse(
    read_file(STREAMB_SOURCE_DIR "/config/streamb.json"));
  auto& h = doc.at("node").at("http").as_object();
  h["tls"] = {{"cert_file", c.cert}, {"key_file", key}};
  for (auto& [k, v] : http)
    h[k] = v;
  doc.at("services").at("stripe").as_object()["webhook"] = {
    {"scheme", "stripe"}, {"secrets", {secret}}, {"tolerance_s", 300}};
  auto path = c.dir + "/streamb-" + std::to_string(h.size()) + ".json";
  write_file(path, boost::json::serialize(doc));
  return path;
}

/// An HTTPS client that trusts only the test's certificate.
std::unique_ptr<httplib::SSLClient> https_client(const test_certificate& c,
                                                 uint16_t port) {
  auto out = std::make_unique<httplib::SSLClient>("127.0.0.1", port);
  out->set_ca_cert_path(c.cert.c_str());
  out->enable_server_certificate_verification(true);
  out->set_connection_timeout(5, 0);
  out->set_read_timeout(10, 0);
  return out;
}

httplib::Result post_event(httplib::SSLClient& client, const std::string& id) {
  auto body = stripe_event(id, "charge.failed");
  httplib::Headers headers{
    {"Stripe-Signature", stripe_signature(secret, body, now_s())}};
  return client.Post("/webhooks/stripe", headers, body, "application/json");
}

} // namespace

TEST_CASE("with node.http.tls the node serves HTTPS to a client that "
          "verifies its certificate, and cuts plain HTTP and stalled "
          "handshakes") {
  test_certificate cert;
  auto cfg = tls_config(cert, cert.key, {{"head_timeout_s", 1}});
  node_process node{STREAMB_BINARY, run_args({}, cfg)};
  auto port = node.wait_for_port();
  REQUIRE(port != 0);
  CHECK(node.output().find("serving https://") != std::string::npos);
  auto client = https_client(cert, port);
  auto health = client->Get("/healthz");
  REQUIRE(health);
  CHECK(health->status == 200);
  auto res = post_event(*client, "evt_tls_1");
  REQUIRE(res);
  CHECK(res->status == 200);
  // Plain HTTP on the TLS port is not an HTTP request: no answer, closed.
  raw_connection plain{port};
  REQUIRE(plain.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"));
  plain.read_until_closed(5s);
  CHECK(plain.closed_within(0ms));
  CHECK(plain.received().find("200 OK") == std::string::npos);
  // A connection that never starts its handshake is cut at the head
  // deadline (1 s).
  raw_connection stalled{port};
  auto t0 = std::chrono::steady_clock::now();
  stalled.read_until_closed(5s);
  CHECK(stalled.closed_within(0ms));
  CHECK(std::chrono::steady_clock::now() - t0 < 3s);
  // A client that does not trust the certificate gets no answer.
  httplib::SSLClient untrusting{"127.0.0.1", port};
  untrusting.enable_server_certificate_verification(true);
  untrusting.set_ca_cert_path("/nonexistent");
  CHECK_FALSE(untrusting.Get("/healthz"));
  // And the node still serves.
  auto again = client->Get("/healthz");
  REQUIRE(again);
  CHECK(again->status == 200);
}

TEST_CASE("server-sent events and WebSockets work over TLS") {
  test_certificate cert;
  auto cfg = tls_config(cert, cert.key);
  node_process node{STREAMB_BINARY, run_args({}, cfg)};
  auto port = node.wait_for_port();
  REQUIRE(port != 0);

  namespace asio = boost::asio;
  namespace beast = boost::beast;
  asio::io_context ioc;
  asio::ssl::context tls{asio::ssl::context::tls_client};
  tls.load_verify_file(cert.cert);
  tls.set_verify_mode(asio::ssl::verify_peer);
  beast::websocket::stream<beast::ssl_stream<beast::tcp_stream>> ws{ioc, tls};
  auto& tcp = beast::get_lowest_layer(ws);
  tcp.expires_after(10s);
  tcp.connect(
    asio::ip::tcp::endpoint{asio::ip::make_address("127.0.0.1"), port});
  ws.next_layer().handshake(asio::ssl::stream_base::client);
  ws.handshake("127.0.0.1",
               std::string{prefix} + "/ws?topics=webhook&services=stripe");

  // The SSE subscriber reads on its own connection until the event comes.
  auto sse = https_client(cert, port);
  std::string sse_text;
  std::thread sse_reader{[&] {
    sse->Get(std::string{prefix} + "/stream?topics=webhook",
             [&](const char* data, size_t n) {
               sse_text.append(data, n);
               return sse_text.find("stripe:evt_tls_stream")
                 == std::string::npos;
             });
  }};
  // Wait for both subscriptions before the event is sent.
  auto poster = https_client(cert, port);
  for (int i = 0; i < 100; ++i) {
    auto h = poster->Get(std::string{prefix} + "/health/comprehensive");
    REQUIRE(h);
    auto doc = boost::json::parse(h->body);
    if (doc.at("streams").at("subscribers").to_number<int64_t>() == 2)
      break;
    std::this_thread::sleep_for(50ms);
  }
  auto res = post_event(*poster, "evt_tls_stream");
  REQUIRE(res);
  CHECK(res->status == 200);

  beast::flat_buffer buf;
  ws.read(buf);
  auto doc = boost::json::parse(beast::buffers_to_string(buf.data()));
  CHECK(doc.at("id").as_string() == "stripe:evt_tls_stream");
  CHECK(doc.at("critical").as_bool());
  sse_reader.join();
  CHECK(sse_text.find("stripe:evt_tls_stream") != std::string::npos);
}

TEST_CASE("a TLS key that does not match the certificate stops the node at "
          "start with the reason") {
  test_certificate cert;
  auto cfg = tls_config(cert, cert.other_key);
  std::string out;
  CHECK(node_process::run_to_exit(run_args({}, cfg), out) == 1);
  INFO(out);
  // OpenSSL says "key values mismatch" when it loads the key.
  CHECK(out.find("node.http.tls.key_file") != std::string::npos);
  CHECK(out.find("mismatch") != std::string::npos);
  // A missing file is refused by check-config, before anything starts.
  auto missing = tls_config(cert, cert.dir + "/absent.pem");
  CHECK(node_process::run_to_exit({"check-config", "--config", missing}, out)
        != 0);
  CHECK(out.find("node.http.tls.key_file") != std::string::npos);
}
