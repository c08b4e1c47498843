#include "runtime/webhooks/signatures/sign.hpp"
#include "runtime/webhooks/signatures/verify.hpp"

#include <catch2/catch.hpp>

using namespace streamb::signatures;

TEST_CASE("Standard Webhooks signing matches the specification's example",
          "[signatures]") {
  // The example of the Standard Webhooks specification and its libraries.
  auto h = sign_standard_webhooks("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
                                  "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330,
                                  R"({"test": 2432232314})");
  REQUIRE(h);
  CHECK(h->id == "msg_p5jXN8AQM9LWM0D4loKWxJek");
  CHECK(h->timestamp == "1614265330");
  CHECK(h->signature == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
  // The same without the whsec_ prefix.
  CHECK(sign_standard_webhooks("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
                               "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330,
                               R"({"test": 2432232314})")
          ->signature
        == h->signature);
}

TEST_CASE("what the node signs, its own verifier accepts; a secret that is "
          "not base64 signs nothing",
          "[signatures]") {
  std::string body = R"({"type":"charge.succeeded"})";
  auto h = sign_standard_webhooks("whsec_c2VjcmV0LWtleS1mb3ItdGVzdHM=", "evt_1",
                                  1700000000, body);
  REQUIRE(h);
  webhook_request req;
  req.headers = {{"webhook-id", h->id},
                 {"webhook-timestamp", h->timestamp},
                 {"webhook-signature", h->signature}};
  req.body = body;
  req.now_s = 1700000010;
  verify_options opts;
  opts.secrets = {"whsec_c2VjcmV0LWtleS1mb3ItdGVzdHM="};
  CHECK(verify_standard_webhooks(req, opts).valid);
  opts.secrets = {"whsec_b3RoZXIta2V5"};
  CHECK_FALSE(verify_standard_webhooks(req, opts).valid);
  CHECK_FALSE(sign_standard_webhooks("whsec_not base64!", "evt_1", 1, body));
}
