#pragma once

// The real `streamb` binary on a free loopback port with an HTTP client for
// it, and the request helpers the integration tests share.

#include "tests/integration/node_process.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <catch2/catch.hpp>
#include <httplib.h>

#include <string>
#include <vector>

namespace streamb::test {

/// `run --config FILE --http-port 0 --actor-port 0` plus `extra`.
inline std::vector<std::string>
run_args(std::vector<std::string> extra,
         const std::string& config_path = "config/streamb.json") {
  std::vector<std::string> args{
    "run", "--config", config_path, "--http-port", "0", "--actor-port", "0"};
  args.insert(args.end(), extra.begin(), extra.end());
  return args;
}

/// The real binary on a free port, with an HTTP client for it.
struct running_node {
  node_process process;
  uint16_t port;
  httplib::Client client;

  /// `with_log`: its log lines (stderr) are in process.output() too.
  explicit running_node(std::vector<std::string> extra_args = {},
                        const std::string& config_path = "config/streamb.json",
                        bool with_log = false)
    : process(STREAMB_BINARY, run_args(std::move(extra_args), config_path),
              with_log),
      port(process.wait_for_port()), client("127.0.0.1", port) {
    REQUIRE(port != 0);
    // Bounded in time: httplib's default connect timeout is 300 s, the
    // whole per-test budget of ctest.
    client.set_connection_timeout(5, 0);
    client.set_read_timeout(10, 0);
    client.set_write_timeout(10, 0);
  }

  boost::json::value get_json(const std::string& path, int expect = 200) {
    auto res = client.Get(path.c_str());
    REQUIRE(res);
    INFO(res->body);
    CHECK(res->status == expect);
    return boost::json::parse(res->body);
  }

  httplib::Result post(const std::string& body,
                       const char* type = "application/json") {
    return client.Post("/api/v1/calls", body, type);
  }
};

/// One call sample as JSON; `extra` is spliced in (",\"costUsd\":0.01").
inline std::string sample(const char* service, double latency_ms,
                          const char* status, const char* extra = "") {
  return std::string{"{\"service\":\""} + service
    + "\",\"endpoint\":\"/v1/x\",\"latencyMs\":" + std::to_string(latency_ms)
    + ",\"status\":" + status + extra + "}";
}

/// A JSON array of `n` samples of `service`, `first_ms`, `first_ms` + 1, ...
/// ms long; the last `failures` answered `fail_status`, the others 200;
/// `extra` is spliced into each.
inline std::string sample_batch(const char* service, int n, int failures,
                                const char* fail_status, double first_ms,
                                const char* extra = "") {
  std::string body = "[";
  for (int i = 0; i < n; ++i) {
    if (i > 0)
      body += ',';
    body += sample(service, first_ms + i,
                   i < n - failures ? "200" : fail_status, extra);
  }
  return body + "]";
}

/// The response is `status` with a JSON error of `code` (and `path`).
inline void check_error(const httplib::Result& res, int status,
                        const char* code, const char* path = nullptr) {
  REQUIRE(res);
  INFO(res->body);
  CHECK(res->status == status);
  auto doc = boost::json::parse(res->body);
  auto& err = doc.at("error");
  CHECK(err.at("code").as_string() == code);
  CHECK_FALSE(err.at("message").as_string().empty());
  if (path)
    CHECK(err.at("path").as_string() == path);
}

} // namespace streamb::test
