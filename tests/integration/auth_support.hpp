#pragma once

// What the access-control tests share: a config with one bootstrap key per
// role, requests with a Bearer key, polling for a status.

#include "runtime/auth/api_key.hpp"
#include "runtime/core/crypto.hpp"
#include "tests/integration/redis_config_file.hpp"
#include "tests/integration/running_node.hpp"

#include <boost/json/parse.hpp>

#include <chrono>
#include <map>
#include <string>
#include <thread>

namespace streamb::test {

/// The default config on the test's Redis with open_reads off and a
/// bootstrap key for each HTTP role (`keys.at("admin")`, ...).
struct auth_config : redis_config_file {
  std::map<std::string, std::string> keys;

  explicit auth_config(const std::string& name, bool open_reads = false,
                       const std::string& extra_auth = "")
    : redis_config_file(name) {
    std::string tokens;
    for (auto role : {"viewer", "reporter", "operator", "admin"}) {
      auto key = "sbc_" + streamb::to_hex(streamb::random_bytes(32));
      keys[role] = key;
      tokens += std::string{tokens.empty() ? "" : ", "} + R"({"name": "boot-)"
        + role + R"(", "sha256": ")" + auth::key_hash(key) + R"(", "role": ")"
        + role + R"("})";
    }
    replace(
      R"("auth": {"tokens": [], "open_reads": true, "allow_unauthenticated": true})",
      R"("auth": {"tokens": [)" + tokens + R"(], "open_reads": )"
        + (open_reads ? "true" : "false") + extra_auth + "}");
    save();
  }
};

inline httplib::Headers bearer(const std::string& key) {
  if (key.empty())
    return {};
  return {{"Authorization", "Bearer " + key}};
}

/// `method` on `path` with `key` (none when empty) and a JSON body.
inline httplib::Result send(httplib::Client& client, const std::string& method,
                            const std::string& path, const std::string& key,
                            const std::string& body = "{}") {
  auto headers = bearer(key);
  if (method == "GET")
    return client.Get(path.c_str(), headers);
  if (method == "DELETE")
    return client.Delete(path.c_str(), headers, body, "application/json");
  return client.Post(path.c_str(), headers, body, "application/json");
}

/// Polls `probe()` (a status) until it returns `want`; how long that took,
/// or -1 ms when it did not within `timeout`.
template <class Probe>
std::chrono::milliseconds wait_status(Probe probe, int want,
                                      std::chrono::milliseconds timeout) {
  auto start = std::chrono::steady_clock::now();
  while (std::chrono::steady_clock::now() - start < timeout) {
    if (probe() == want)
      return std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::steady_clock::now() - start);
    std::this_thread::sleep_for(std::chrono::milliseconds{10});
  }
  return std::chrono::milliseconds{-1};
}

/// Creates a managed key over HTTP with `admin_key`; returns the JSON.
inline boost::json::object create_key(httplib::Client& client,
                                      const std::string& admin_key,
                                      const std::string& role,
                                      const std::string& name,
                                      const std::string& extra = "") {
  auto res = client.Post("/api/v1/admin/keys", bearer(admin_key),
                         R"({"role": ")" + role + R"(", "name": ")" + name
                           + "\"" + extra + "}",
                         "application/json");
  REQUIRE(res);
  INFO(res->body);
  REQUIRE(res->status == 201);
  return boost::json::parse(res->body).as_object();
}

inline std::string text_of(const boost::json::object& o, const char* key) {
  return std::string{o.at(key).as_string()};
}

} // namespace streamb::test
