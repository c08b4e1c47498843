#include "bridges/call_sample_parser.hpp"

#include <catch2/catch.hpp>

using namespace streamb;

namespace {

const std::vector<std::string> services{"stripe", "twilio"};

std::optional<batch_error> parse(std::string_view body, parsed_batch& out,
                                 batch_format f = batch_format::json_array) {
  return parse_call_batch(body, f, services, 1700000000000, out);
}

} // namespace

TEST_CASE("a JSON array of samples is split by service") {
  parsed_batch out;
  auto err = parse(R"([
    {"service":"stripe","endpoint":"/v1/charges","latencyMs":12.5,"status":200,
     "costUsd":0.0004,"cacheHit":true,"timestamp":1690000000000},
    {"service":"twilio","endpoint":"/Messages","latencyMs":300,"status":"timeout"},
    {"service":"stripe","endpoint":"/v1/refunds","latencyMs":7,"status":503}
  ])",
                   out);
  REQUIRE_FALSE(err);
  CHECK(out.total == 3);
  REQUIRE(out.by_service[0].size() == 2);
  REQUIRE(out.by_service[1].size() == 1);
  auto& a = out.by_service[0][0];
  CHECK(a.endpoint == "/v1/charges");
  CHECK(a.latency_us == 12500);
  CHECK(a.http_status == 200);
  CHECK(a.outcome == status_class::ok);
  CHECK(a.cost_micros == 400);
  CHECK(a.cache_hit);
  CHECK(a.timestamp_ms == 1690000000000);
  CHECK(out.by_service[0][1].outcome == status_class::server_error);
  CHECK(out.by_service[0][1].cost_micros == -1);
  CHECK(out.by_service[0][1].timestamp_ms == 1700000000000);
  CHECK(out.by_service[1][0].outcome == status_class::timeout);
}

TEST_CASE("NDJSON carries one sample per line and skips blank lines") {
  parsed_batch out;
  auto err = parse(
    "{\"service\":\"stripe\",\"endpoint\":\"/a\",\"latencyMs\":1,"
    "\"status\":429}\r\n\n"
    "{\"service\":\"twilio\",\"endpoint\":\"/b\",\"latencyMs\":2,"
    "\"status\":\"network\"}\n",
    out, batch_format::ndjson);
  REQUIRE_FALSE(err);
  CHECK(out.total == 2);
  CHECK(out.by_service[0][0].outcome == status_class::rate_limited);
  CHECK(out.by_service[1][0].outcome == status_class::network);
}

TEST_CASE("a batch with one invalid sample is rejected whole, naming the "
          "index and field") {
  parsed_batch out;
  auto err = parse(R"([
    {"service":"stripe","endpoint":"/a","latencyMs":1,"status":200},
    {"service":"stripe","endpoint":"/a","latencyMs":"slow","status":200}
  ])",
                   out);
  REQUIRE(err);
  CHECK(err->status == 400);
  CHECK(err->code == "invalid_sample");
  CHECK(err->path == "$[1].latencyMs");
}

TEST_CASE("each field's type and range is checked") {
  struct bad_case {
    const char* body;
    const char* path;
  };
  bad_case cases[] = {
    {R"([{"endpoint":"/a","latencyMs":1,"status":200}])", "$[0].service"},
    {R"([{"service":"stripe","latencyMs":1,"status":200}])", "$[0].endpoint"},
    {R"([{"service":"stripe","endpoint":"/a","status":200}])",
     "$[0].latencyMs"},
    {R"([{"service":"stripe","endpoint":"/a","latencyMs":1}])", "$[0].status"},
    {R"([{"service":7,"endpoint":"/a","latencyMs":1,"status":200}])",
     "$[0].service"},
    {R"([{"service":"stripe","endpoint":"/a","latencyMs":-1,"status":200}])",
     "$[0].latencyMs"},
    {R"([{"service":"stripe","endpoint":"/a","latencyMs":1,"status":700}])",
     "$[0].status"},
    {R"([{"service":"stripe","endpoint":"/a","latencyMs":1,"status":"slow"}])",
     "$[0].status"},
    {R"([{"service":"stripe","endpoint":"/a","latencyMs":1,"status":200,
          "costUsd":-0.1}])",
     "$[0].costUsd"},
    {R"([{"service":"stripe","endpoint":"/a","latencyMs":1,"status":200,
          "cacheHit":"yes"}])",
     "$[0].cacheHit"},
    {R"([{"service":"stripe","endpoint":"/a","latencyMs":1,"status":200,
          "timestamp":-5}])",
     "$[0].timestamp"},
    {R"([{"service":"stripe","endpoint":"/a","latencyMs":1,"status":200,
          "requestKey":7}])",
     "$[0].requestKey"},
    {R"([42])", "$[0]"},
  };
  for (auto& c : cases) {
    parsed_batch out;
    auto err = parse(c.body, out);
    INFO(c.body);
    REQUIRE(err);
    CHECK(err->status == 400);
    CHECK(err->path == c.path);
  }
}

TEST_CASE("an unknown service is a 404 naming the sample") {
  parsed_batch out;
  auto err = parse(
    R"([{"service":"paypal","endpoint":"/a","latencyMs":1,"status":200}])",
    out);
  REQUIRE(err);
  CHECK(err->status == 404);
  CHECK(err->code == "unknown_service");
  CHECK(err->path == "$[0].service");
}

TEST_CASE("malformed JSON and a non-array body are rejected") {
  parsed_batch out;
  auto err = parse("[{\"service\":", out);
  REQUIRE(err);
  CHECK(err->status == 400);
  CHECK(err->code == "malformed");
  err = parse(R"({"service":"stripe"})", out);
  REQUIRE(err);
  CHECK(err->code == "malformed");
  err = parse("{\"service\":\"stripe\",\"endpoint\":\"/a\",\"latencyMs\":1,"
              "\"status\":200}\nnot json\n",
              out, batch_format::ndjson);
  REQUIRE(err);
  CHECK(err->code == "malformed");
  CHECK(err->message.find("line 2") != std::string::npos);
}

TEST_CASE("an empty batch is accepted with nothing in it") {
  parsed_batch out;
  REQUIRE_FALSE(parse("[]", out));
  CHECK(out.total == 0);
}

TEST_CASE("unknown members are ignored, also nested ones, and escaped "
          "strings are read whole") {
  parsed_batch out;
  auto err = parse(
    R"([{"requestId":"r1","meta":{"service":5,"tags":[1,{"a":2}]},
    "service":"str\u0069pe","endpoint":"/v1/\"quoted\"","latencyMs":3,
    "status":200}])",
    out);
  REQUIRE_FALSE(err);
  REQUIRE(out.by_service[0].size() == 1);
  CHECK(out.by_service[0][0].endpoint == "/v1/\"quoted\"");
}

TEST_CASE("a known member with an object or array value is a type error") {
  parsed_batch out;
  auto err = parse(
    R"([{"service":"stripe","endpoint":"/a","latencyMs":{"v":1},"status":200}])",
    out);
  REQUIRE(err);
  CHECK(err->path == "$[0].latencyMs");
  err = parse(
    R"([{"service":["stripe"],"endpoint":"/a","latencyMs":1,"status":200}])",
    out);
  REQUIRE(err);
  CHECK(err->path == "$[0].service");
}

TEST_CASE("trailing data after the batch is malformed") {
  parsed_batch out;
  auto err = parse("[] []", out);
  REQUIRE(err);
  CHECK(err->code == "malformed");
}

TEST_CASE("a requestKey identifies identical requests by its hash") {
  parsed_batch out;
  auto err = parse(R"([
    {"service":"stripe","endpoint":"/a","latencyMs":1,"status":200,
     "requestKey":"GET /v1/customers/cus_1"},
    {"service":"stripe","endpoint":"/a","latencyMs":1,"status":200,
     "requestKey":"GET /v1/customers/cus_1"},
    {"service":"stripe","endpoint":"/a","latencyMs":1,"status":200,
     "requestKey":"GET /v1/customers/cus_2"},
    {"service":"stripe","endpoint":"/a","latencyMs":1,"status":200}
  ])",
                   out);
  REQUIRE_FALSE(err);
  auto& xs = out.by_service[0];
  REQUIRE(xs.size() == 4);
  CHECK(xs[0].request_key != 0);
  CHECK(xs[0].request_key == xs[1].request_key);
  CHECK(xs[0].request_key != xs[2].request_key);
  CHECK(xs[3].request_key == 0);
}
