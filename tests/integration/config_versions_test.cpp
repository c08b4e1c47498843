// Config history through the real binary and the test's Redis.

#include "tests/integration/node_process.hpp"
#include "tests/integration/redis_config_file.hpp"

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

/// The default config on the test Redis with a webhook secret taken from the
/// environment.
struct redis_config_with_secret : test::redis_config_file {
  redis_config_with_secret() : redis_config_file("config-versions") {
    replace(R"("stripe": {)",
            R"("stripe": {"webhook": {"scheme": "stripe", "secrets": )"
            R"(["${env:STREAMB_TEST_WEBHOOK_SECRET}"]},)");
    save();
  }
};

} // namespace

TEST_CASE("every config a node starts with is kept with its hash, secrets "
          "unexpanded, and can be written back") {
  setenv("STREAMB_TEST_WEBHOOK_SECRET", "whsec_do_not_store_me", 1);
  redis_config_with_secret cfg;
  for (int start = 0; start < 2; ++start) {
    test::node_process node{
      {"run", "--config", cfg.path, "--http-port", "0", "--actor-port", "0"}};
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
  CHECK(test::read_file(rollback) == cfg.text);
  // The rollback is in the audit trail, with the version and the file.
  auto db = cfg.backend();
  auto audit = db.xrange("audit", "-", "+");
  REQUIRE(audit);
  bool audited = false;
  for (auto& e : *audit)
    for (auto& [name, value] : e.fields)
      if (name == "action" && value == "config.rollback")
        audited = true;
  CHECK(audited);
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
