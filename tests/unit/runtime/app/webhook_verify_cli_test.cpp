#include "runtime/app/webhook_verify_cli.hpp"

#include "runtime/core/crypto.hpp"
#include "runtime/core/hex.hpp"

#include <catch2/catch.hpp>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

using namespace streamb;

namespace {

const std::string vectors_path = STREAMB_SOURCE_DIR
  "/tests/data/webhook-vectors.json";

/// A file in the temp directory, removed at the end of the test.
struct temp_file {
  std::string path;

  explicit temp_file(const std::string& content) {
    static int counter = 0;
    path = (std::filesystem::temp_directory_path()
            / ("streamb-webhook-verify-" + std::to_string(::getpid()) + "-"
               + std::to_string(++counter)))
             .string();
    std::ofstream out{path, std::ios::binary};
    out << content;
  }

  ~temp_file() {
    std::error_code ignored;
    std::filesystem::remove(path, ignored);
  }
};

struct run_result {
  int code;
  std::string out;
  std::string err;
};

run_result run(std::vector<std::string> args) {
  std::ostringstream out;
  std::ostringstream err;
  auto code = webhook_verify_command(args, out, err);
  return {code, out.str(), err.str()};
}

std::string stripe_header(const std::string& secret, int64_t t,
                          const std::string& body) {
  auto ts = std::to_string(t);
  auto mac = hmac_sha256(secret, {ts, ".", body});
  return "Stripe-Signature: t=" + ts + ",v1=" + to_hex(*mac);
}

} // namespace

TEST_CASE("webhook-verify --vectors passes every shared vector and ends with "
          "the count",
          "[webhook-verify][signatures]") {
  std::ifstream in{vectors_path};
  std::ostringstream text;
  text << in.rdbuf();
  std::vector<webhook_vector> cases;
  REQUIRE(parse_webhook_vectors(text.str(), cases).empty());
  auto r = run({"--vectors", vectors_path});
  INFO(r.out << r.err);
  CHECK(r.code == 0);
  CHECK(r.out == std::to_string(cases.size()) + " passed, 0 failed\n");
}

TEST_CASE("webhook-verify --vectors names a failing case with what was "
          "expected and what came out, and exits 1",
          "[webhook-verify][signatures]") {
  temp_file file{R"({"cases": [
    {"id": "ok", "scheme": "airtable", "secret": "c2VjcmV0",
     "headers": {}, "body": "{}", "now": 1, "tolerance_s": null,
     "expect": "invalid", "reason": "missing_header"},
    {"id": "wrong-expectation", "scheme": "airtable", "secret": "c2VjcmV0",
     "headers": {"X-Airtable-Content-MAC": "hmac-sha256=00"},
     "body": "{}", "now": 1, "tolerance_s": null,
     "expect": "invalid", "reason": "malformed"},
    {"id": "unknown-scheme", "scheme": "paypal", "secret": "x",
     "headers": {}, "body": "", "now": 1, "expect": "valid"}
  ]})"};
  auto r = run({"--vectors", file.path});
  CHECK(r.code == 1);
  CHECK(r.out.find("FAIL ok") == std::string::npos);
  CHECK(r.out.find("FAIL wrong-expectation (airtable): expected invalid "
                   "(malformed), got invalid (bad_signature)")
        != std::string::npos);
  CHECK(r.out.find("FAIL unknown-scheme") != std::string::npos);
  CHECK(r.out.find("1 passed, 2 failed\n") != std::string::npos);
}

TEST_CASE("webhook-verify --vectors on a file it cannot use exits 2",
          "[webhook-verify][signatures]") {
  temp_file not_json{"{\"cases\": ["};
  temp_file no_cases{"{\"format\": \"webhook-signature-vectors/1\"}"};
  for (auto& path : {std::string{"/nonexistent/vectors.json"}, not_json.path,
                     no_cases.path}) {
    INFO(path);
    auto r = run({"--vectors", path});
    CHECK(r.code == 2);
    CHECK(r.out.find("passed") == std::string::npos);
  }
  CHECK(run({"--vectors"}).code == 2);
}

TEST_CASE("webhook-verify on one request prints the verdict and reason, "
          "never the secret",
          "[webhook-verify][signatures]") {
  std::string secret = "whsec_operator_secret";
  std::string body = R"({"id":"evt_1"})";
  temp_file body_file{body};
  auto header = stripe_header(secret, 1767225600, body);
  auto args = [&](const std::string& s, const std::string& now) {
    return std::vector<std::string>{
      "--scheme", "stripe",      "--secret",     s,       "--header",
      header,     "--body-file", body_file.path, "--now", now};
  };
  auto r = run(args(secret, "1767225610"));
  CHECK(r.code == 0);
  CHECK(r.out.rfind("valid: ", 0) == 0);
  r = run(args("whsec_other", "1767225610"));
  CHECK(r.code == 1);
  CHECK(r.out.rfind("invalid: bad_signature: ", 0) == 0);
  CHECK(r.out.find("whsec_other") == std::string::npos);
  r = run(args(secret, "1767226000"));
  CHECK(r.code == 1);
  CHECK(r.out.rfind("invalid: expired: ", 0) == 0);
  CHECK((r.out + r.err).find(secret) == std::string::npos);
  // Rotation from the command line: any --secret may match.
  auto rotated = args("whsec_new", "1767225610");
  rotated.insert(rotated.end(), {"--secret", secret});
  CHECK(run(rotated).code == 0);
}

TEST_CASE("webhook-verify refuses incomplete requests with exit 2",
          "[webhook-verify][signatures]") {
  temp_file body_file{"{}"};
  const std::vector<std::vector<std::string>> cases{
    {},
    {"--secret", "x", "--body-file", body_file.path},
    {"--scheme", "stripe", "--body-file", body_file.path},
    {"--scheme", "stripe", "--secret", "x"},
    {"--scheme", "paypal", "--secret", "x", "--body-file", body_file.path},
    {"--scheme", "stripe", "--secret", "x", "--body-file", body_file.path,
     "--header", "no colon"},
    {"--scheme", "twilio", "--secret", "x", "--body-file", body_file.path},
    {"--scheme", "stripe", "--secret", "x", "--body-file", "/nonexistent/body"},
    {"--scheme", "stripe", "--secret", "x", "--body-file", body_file.path,
     "--now", "yesterday"},
  };
  for (auto& args : cases) {
    auto r = run(args);
    INFO(r.err);
    CHECK(r.code == 2);
  }
}
