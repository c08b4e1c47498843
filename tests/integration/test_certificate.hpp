#pragma once

// A self-signed certificate for 127.0.0.1 made with openssl for one test
// process, and a second key that does not match it.

#include <catch2/catch.hpp>

#include <cstdlib>
#include <string>
#include <unistd.h>

namespace streamb::test {

/// A self-signed certificate for 127.0.0.1 (and a second, unrelated key),
/// made with the openssl command for this test run.
struct test_certificate {
  std::string dir = "/tmp/streamb-tls-" + std::to_string(getpid());
  std::string cert = dir + "/cert.pem";
  std::string key = dir + "/key.pem";
  std::string other_key = dir + "/other-key.pem";

  test_certificate() {
    auto cmd = "mkdir -p " + dir
      + " && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256"
        " -nodes -days 1 -subj /CN=127.0.0.1"
        " -addext subjectAltName=IP:127.0.0.1 -keyout "
      + key + " -out " + cert
      + " 2>/dev/null && openssl genpkey -algorithm EC -pkeyopt"
        " ec_paramgen_curve:P-256 -out "
      + other_key + " 2>/dev/null";
    REQUIRE(std::system(cmd.c_str()) == 0);
  }

  ~test_certificate() {
    auto cmd = "rm -rf " + dir;
    [[maybe_unused]] auto rc = std::system(cmd.c_str());
  }
};

} // namespace streamb::test
