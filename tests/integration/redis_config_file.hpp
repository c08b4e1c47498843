#pragma once

// A copy of the default config for one test: on a Redis store (the test's
// redis-server by default) under a key prefix of its own, in a temp file.
// The destructor removes the file and every key under the prefix.

#include "runtime/store/redis_backend.hpp"

#include <catch2/catch.hpp>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <unistd.h>

namespace streamb::test {

inline std::string read_file(const std::string& path) {
  std::ifstream in{path, std::ios::binary};
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

inline void write_file(const std::string& path, const std::string& text) {
  std::ofstream out{path, std::ios::binary | std::ios::trunc};
  out << text;
}

/// STREAMB_TEST_REDIS, or a failed test when it is not set.
inline std::string test_redis_url() {
  auto* env = std::getenv("STREAMB_TEST_REDIS");
  if (env == nullptr)
    FAIL("STREAMB_TEST_REDIS is not set: run the tests through scripts/test");
  return env;
}

struct redis_config_file {
  std::string prefix;
  std::string path;
  std::string url;
  std::string text;

  /// `name` tells tests apart in the prefix and the file name; call
  /// `replace` for further edits, then `save`.
  explicit redis_config_file(const std::string& name,
                             std::string redis_url = test_redis_url())
    : prefix("streamb-test:" + std::to_string(getpid()) + ":" + name + ":"),
      path("/tmp/streamb-" + name + "-" + std::to_string(getpid()) + ".json"),
      url(std::move(redis_url)),
      text(read_file(STREAMB_SOURCE_DIR "/config/streamb.json")) {
    replace(R"("store": {"kind": "memory"})",
            R"("store": {"kind": "redis", "url": ")" + url + R"(", "prefix": ")"
              + prefix + R"("})");
    save();
  }

  ~redis_config_file() {
    unlink(path.c_str());
    auto opts = store::parse_redis_url(url);
    if (!opts)
      return;
    opts->prefix = prefix;
    store::redis_backend db{std::move(*opts)};
    if (auto keys = db.keys(""))
      for (auto& k : *keys)
        db.del(k);
  }

  redis_config_file(const redis_config_file&) = delete;
  redis_config_file& operator=(const redis_config_file&) = delete;

  /// Replaces the first `from` in the text; the test fails if there is none.
  void replace(const std::string& from, const std::string& to) {
    auto at = text.find(from);
    REQUIRE(at != std::string::npos);
    text.replace(at, from.size(), to);
  }

  void save() {
    write_file(path, text);
  }

  /// A copy of the config (same store and prefix) for a second node named
  /// `node`, next to this one; the caller removes it.
  std::string write_copy_for_node(const std::string& node) const {
    auto text_b = text;
    auto at = text_b.find(R"("name": "local")");
    REQUIRE(at != std::string::npos);
    text_b.replace(at, 15, R"("name": ")" + node + "\"");
    auto path_b = path + "." + node;
    write_file(path_b, text_b);
    return path_b;
  }

  /// A backend on the same Redis and prefix, to look at what the node wrote.
  store::redis_backend backend() const {
    auto opts = store::parse_redis_url(url);
    REQUIRE(opts);
    opts->prefix = prefix;
    return store::redis_backend{std::move(*opts)};
  }
};

} // namespace streamb::test
