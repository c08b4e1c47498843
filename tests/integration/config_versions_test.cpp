// Config history through the real binary and the test's Redis.

#include "runtime/store/redis_backend.hpp"
#include "tests/integration/node_process.hpp"

#include <catch2/catch.hpp>

#include <csignal>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <unistd.h>

using namespace streamb;
using namespace std::chrono_literals;

namespace {

std::string read_file(const std::string& path) {
  std::ifstream in{path, std::ios::binary};
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

void write_file(const std::string& path, const std::string& text) {
  std::ofstream out{path, std::ios::binary | std::ios::trunc};
  out << text;
}

void replace_once(std::string& text, const std::string& from,
                  const std::string& to) {
  auto at = text.find(from);
  REQUIRE(at != std::string::npos);
  text.replace(at, from.size(), to);
}

/// A copy of the default config on the test Redis, under a prefix of its
/// own, with a webhook secret taken from the environment.
struct redis_config_file {
  std::string prefix = "streamb-test:" + std::to_string(getpid())
    + ":config-versions:";
  std::string path = "/tmp/streamb-config-versions-" + std::to_string(getpid())
    + ".json";
  std::string url;
  std::string text;

  redis_config_file() {
    auto* env = std::getenv("STREAMB_TEST_REDIS");
    if (env == nullptr)
      FAIL("STREAMB_TEST_REDIS is not set: run the tests through "
           "scripts/test");
    url = env;
    text = read_file(STREAMB_SOURCE_DIR "/config/streamb.json");
    replace_once(text, R"("store": {"kind": "memory"})",
                 R"("store": {"kind": "redis", "url": ")" + url
                   + R"(", "prefix": ")" + prefix + R"("})");
    replace_once(text, R"("stripe": {)",
                 R"("stripe": {"webhook": {"scheme": "stripe", "secrets": )"
                 R"(["${env:STREAMB_TEST_WEBHOOK_SECRET}"]},)");
    write_file(path, text);
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
};

} // namespace

TEST_CASE("every config a node starts with is kept with its hash, secrets "
          "unexpanded, and can be written back") {
  setenv("STREAMB_TEST_WEBHOOK_SECRET", "whsec_do_not_store_me", 1);
  redis_config_file cfg;
  for (int start = 0; start < 2; ++start) {
    test::node_process node{{"run", "--config", cfg.path, "--http-port", "0"}};
    REQUIRE(node.wait_for_port() != 0);
    CHECK(node.stop(SIGTERM, 5s) == 0);
  }
  std::string out;
  CHECK(test::node_process::run_to_exit(
          {"config", "history", "--config", cfg.path}, out)
        == 0);
  INFO(out);
  CHECK(out.find("2 version(s)") != std::string::npos);
  out.clear();
  CHECK(test::node_process::run_to_exit(
          {"config", "show", "1", "--config", cfg.path}, out)
        == 0);
  CHECK(out.find("${env:STREAMB_TEST_WEBHOOK_SECRET}") != std::string::npos);
  CHECK(out.find("whsec_do_not_store_me") == std::string::npos);
  auto rollback = cfg.path + ".rollback";
  out.clear();
  CHECK(test::node_process::run_to_exit({"config", "rollback", "2", "--out",
                                         rollback, "--config", cfg.path},
                                        out)
        == 0);
  CHECK(read_file(rollback) == cfg.text);
  unlink(rollback.c_str());
  out.clear();
  CHECK(test::node_process::run_to_exit(
          {"config", "show", "3", "--config", cfg.path}, out)
        == 1);
  CHECK(out.find("no config version 3") != std::string::npos);
}

TEST_CASE("config history on the memory store says there is none") {
  std::string out;
  CHECK(test::node_process::run_to_exit({"config", "history"}, out) == 1);
  CHECK(out.find("memory store keeps no config history") != std::string::npos);
}

TEST_CASE("a config version that is not a small number is a usage error") {
  for (auto n : {"", "x1", "-1", "99999999999999999999999"}) {
    std::string out;
    INFO(n);
    CHECK(test::node_process::run_to_exit({"config", "show", n}, out) == 2);
    CHECK(out.find("needs a version number") != std::string::npos);
  }
}
