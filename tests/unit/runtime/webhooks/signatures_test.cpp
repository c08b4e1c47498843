#include "runtime/app/webhook_verify_cli.hpp"
#include "runtime/core/crypto.hpp"
#include "runtime/core/hex.hpp"
#include "runtime/webhooks/rejection.hpp"
#include "runtime/webhooks/signatures/verify.hpp"

#include <catch2/catch.hpp>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <memory>
#include <sstream>

using namespace streamb;
using namespace streamb::signatures;

namespace {

constexpr int64_t test_now = 1767225600;

// -- requests signed at test time, for each scheme ----------------------------

/// What the receiver configures, and for SendGrid the sender's private key.
struct credential {
  std::string secret;
  std::shared_ptr<EVP_PKEY> private_key;
};

/// A request as a provider would send it; owns what webhook_request views.
struct signed_webhook {
  std::string url;
  std::string method = "POST";
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;

  webhook_request request(int64_t now_s = test_now) const {
    webhook_request req;
    req.url = url;
    req.method = method;
    req.headers = headers;
    req.body = body;
    req.now_s = now_s;
    return req;
  }
};

std::string hex_hmac(std::string_view key,
                     std::initializer_list<std::string_view> parts) {
  return to_hex(hmac_sha256(key, parts).value());
}

std::string decoded(std::string_view base64) {
  return base64_decode(base64).value();
}

std::string public_key_base64(EVP_PKEY* key) {
  unsigned char* der = nullptr;
  auto len = i2d_PUBKEY(key, &der);
  REQUIRE(len > 0);
  std::string out{reinterpret_cast<char*>(der), static_cast<size_t>(len)};
  OPENSSL_free(der);
  return base64_encode(out);
}

std::shared_ptr<EVP_PKEY> new_ec_key(const char* curve) {
  std::shared_ptr<EVP_PKEY> key{EVP_EC_gen(curve), EVP_PKEY_free};
  REQUIRE(key);
  return key;
}

std::string ecdsa_sign(EVP_PKEY* key, const std::string& data) {
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx{EVP_MD_CTX_new(),
                                                              EVP_MD_CTX_free};
  REQUIRE(EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key)
          == 1);
  auto* bytes = reinterpret_cast<const unsigned char*>(data.data());
  size_t len = 0;
  REQUIRE(EVP_DigestSign(ctx.get(), nullptr, &len, bytes, data.size()) == 1);
  std::string sig(len, '\0');
  REQUIRE(EVP_DigestSign(ctx.get(),
                         reinterpret_cast<unsigned char*>(sig.data()), &len,
                         bytes, data.size())
          == 1);
  sig.resize(len);
  return sig;
}

/// Signs `body` as the provider would, with timestamp `ts` where the
/// scheme has one.
using signer = signed_webhook (*)(const credential&, const std::string& body,
                                  int64_t ts);

struct scheme_fixture {
  const char* name;
  verifier verify;
  /// The n-th of several distinct credentials.
  credential (*make)(int n);
  signer sign;
  const char* body;
};

const scheme_fixture schemes[] = {
  {"stripe", verify_stripe,
   [](int n) {
     return credential{"whsec_rotation_" + std::to_string(n), {}};
   },
   [](const credential& c, const std::string& body, int64_t ts) {
     auto t = std::to_string(ts);
     return signed_webhook{
       "",
       "POST",
       {{"Stripe-Signature",
         "t=" + t + ",v1=" + hex_hmac(c.secret, {t, ".", body})}},
       body};
   },
   R"({"id":"evt_1","type":"invoice.payment_failed"})"},
  {"twilio", verify_twilio,
   [](int n) {
     return credential{"token" + std::to_string(n * 7919), {}};
   },
   [](const credential& c, const std::string& body, int64_t) {
     // The body below, decoded and sorted by name.
     std::string url = "https://hooks.example.com/twilio/sms?tenant=acme";
     auto mac = hmac_sha1(c.secret, {url, "BodyHi thereFrom+15005550006"});
     return signed_webhook{
       url, "POST", {{"X-Twilio-Signature", base64_encode(mac.value())}}, body};
   },
   "From=%2B15005550006&Body=Hi+there"},
  {"sendgrid", verify_sendgrid,
   [](int) {
     auto key = new_ec_key("P-256");
     return credential{public_key_base64(key.get()), key};
   },
   [](const credential& c, const std::string& body, int64_t ts) {
     auto t = std::to_string(ts);
     auto sig = ecdsa_sign(c.private_key.get(), t + body);
     return signed_webhook{
       "",
       "POST",
       {{"X-Twilio-Email-Event-Webhook-Signature", base64_encode(sig)},
        {"X-Twilio-Email-Event-Webhook-Timestamp", t}},
       body};
   },
   "[{\"event\":\"delivered\",\"sg_event_id\":\"e1\"}]\r\n"},
  {"samsara", verify_samsara,
   [](int n) {
     return credential{base64_encode("samsara-secret-" + std::to_string(n)),
                       {}};
   },
   [](const credential& c, const std::string& body, int64_t ts) {
     auto t = std::to_string(ts);
     return signed_webhook{
       "",
       "POST",
       {{"X-Samsara-Signature",
         "v1=" + hex_hmac(decoded(c.secret), {"v1:", t, ":", body})},
        {"X-Samsara-Timestamp", t}},
       body};
   },
   R"({"eventId":"e1","eventType":"VehiclePanicButton"})"},
  {"airtable", verify_airtable,
   [](int n) {
     return credential{base64_encode("airtable-mac-" + std::to_string(n)), {}};
   },
   [](const credential& c, const std::string& body, int64_t) {
     return signed_webhook{
       "",
       "POST",
       {{"X-Airtable-Content-MAC",
         "hmac-sha256=" + hex_hmac(decoded(c.secret), {body})}},
       body};
   },
   R"({"base":{"id":"app1"},"webhook":{"id":"ach1"}})"},
  {"standard_webhooks", verify_standard_webhooks,
   [](int n) {
     return credential{
       "whsec_" + base64_encode("standard-secret-" + std::to_string(n)), {}};
   },
   [](const credential& c, const std::string& body, int64_t ts) {
     auto t = std::to_string(ts);
     auto key = decoded(std::string_view{c.secret}.substr(6));
     auto mac = hmac_sha256(key, {"msg_1", ".", t, ".", body});
     return signed_webhook{
       "",
       "POST",
       {{"webhook-id", "msg_1"},
        {"webhook-timestamp", t},
        {"webhook-signature", "v1," + base64_encode(mac.value())}},
       body};
   },
   R"({"type":"invoice.paid"})"},
};

verify_options with_secrets(std::vector<std::string> secrets,
                            uint32_t tolerance_s = 300) {
  verify_options opts;
  opts.secrets = std::move(secrets);
  opts.tolerance_s = tolerance_s;
  return opts;
}

std::string read_text(const std::string& path) {
  std::ifstream in{path, std::ios::binary};
  REQUIRE(in);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

} // namespace

TEST_CASE("every case of the shared vectors file gets its expected verdict",
          "[signatures]") {
  std::vector<webhook_vector> cases;
  auto error = parse_webhook_vectors(
    read_text(STREAMB_SOURCE_DIR "/tests/data/webhook-vectors.json"), cases);
  REQUIRE(error.empty());
  REQUIRE_FALSE(cases.empty());
  for (auto& c : cases) {
    INFO(c.id << ": " << c.problem);
    REQUIRE(c.problem.empty());
    auto result = check_webhook_vector(c);
    INFO("got " << (result.got.valid ? "valid" : to_string(result.got.why))
                << ": " << result.got.detail);
    CHECK(result.passed);
  }
}

TEST_CASE("during a rotation both the old and the new secret verify, and a "
          "removed one does not",
          "[signatures]") {
  for (auto& s : schemes) {
    INFO(s.name);
    auto removed = s.make(1);
    auto old_one = s.make(2);
    auto new_one = s.make(3);
    auto both = with_secrets({old_one.secret, new_one.secret});
    auto by_old = s.sign(old_one, s.body, test_now);
    auto by_new = s.sign(new_one, s.body, test_now);
    auto by_removed = s.sign(removed, s.body, test_now);
    auto v = s.verify(by_old.request(), both);
    CHECK(v.valid);
    CHECK(v.detail.find("1 of 2") != std::string::npos);
    v = s.verify(by_new.request(), both);
    CHECK(v.valid);
    CHECK(v.detail.find("2 of 2") != std::string::npos);
    v = s.verify(by_removed.request(), both);
    CHECK_FALSE(v.valid);
    CHECK(v.why == reason::bad_signature);
    // Rotation done: the old secret is gone.
    v = s.verify(by_old.request(), with_secrets({new_one.secret}));
    CHECK_FALSE(v.valid);
    CHECK(v.why == reason::bad_signature);
  }
}

TEST_CASE("a body changed after signing is a bad signature in every scheme",
          "[signatures]") {
  for (auto& s : schemes) {
    INFO(s.name);
    auto c = s.make(1);
    auto w = s.sign(c, s.body, test_now);
    w.body.back() = w.body.back() == 'x' ? 'y' : 'x';
    auto v = s.verify(w.request(), with_secrets({c.secret}));
    CHECK_FALSE(v.valid);
    CHECK(v.why == reason::bad_signature);
  }
}

TEST_CASE("no configured secret verifies nothing", "[signatures]") {
  for (auto& s : schemes) {
    INFO(s.name);
    auto w = s.sign(s.make(1), s.body, test_now);
    auto v = s.verify(w.request(), with_secrets({}));
    CHECK_FALSE(v.valid);
    CHECK(v.why == reason::bad_signature);
  }
}

TEST_CASE("a detail never contains the secret, a signature or the body",
          "[signatures]") {
  for (auto& s : schemes) {
    INFO(s.name);
    auto right = s.make(1);
    auto wrong = s.make(2);
    auto w = s.sign(right, s.body, test_now);
    auto tampered = w;
    tampered.body += " ";
    std::vector<verdict> verdicts{
      s.verify(w.request(), with_secrets({right.secret})),
      s.verify(w.request(), with_secrets({wrong.secret})),
      s.verify(w.request(), with_secrets({wrong.secret, right.secret})),
      s.verify(tampered.request(), with_secrets({right.secret})),
      s.verify(w.request(test_now + 3600), with_secrets({right.secret})),
    };
    for (auto& v : verdicts) {
      INFO(v.detail);
      CHECK_FALSE(v.detail.empty());
      for (auto& secret : {right.secret, wrong.secret})
        CHECK(v.detail.find(secret) == std::string::npos);
      for (auto& [name, value] : w.headers)
        if (name.find("Timestamp") == std::string::npos
            && name != "webhook-timestamp" && name != "webhook-id")
          CHECK(v.detail.find(value) == std::string::npos);
      CHECK(v.detail.find(s.body) == std::string::npos);
    }
  }
}

TEST_CASE("header names match in any case", "[signatures]") {
  auto recase = [](std::string s, bool upper) {
    for (auto& ch : s)
      ch = static_cast<char>(upper
                               ? std::toupper(static_cast<unsigned char>(ch))
                               : std::tolower(static_cast<unsigned char>(ch)));
    return s;
  };
  for (auto& s : schemes) {
    INFO(s.name);
    auto c = s.make(1);
    for (bool upper : {true, false}) {
      auto w = s.sign(c, s.body, test_now);
      for (auto& h : w.headers)
        h.first = recase(h.first, upper);
      CHECK(s.verify(w.request(), with_secrets({c.secret})).valid);
    }
  }
  webhook_request req;
  req.headers = {{"Content-Type", "a"}, {"content-type", "b"}};
  REQUIRE(req.header("CONTENT-TYPE") != nullptr);
  CHECK(*req.header("CONTENT-TYPE") == "a");
  CHECK(req.header("Content-Length") == nullptr);
}

TEST_CASE("a freshness window rejects old and early timestamps where the "
          "scheme has one, and 0 turns it off",
          "[signatures]") {
  struct expectation {
    const char* scheme;
    reason late;  // signed tolerance + 1 s ago
    reason early; // signed tolerance + 1 s ahead
  };
  // Stripe refuses only old timestamps; Twilio and Airtable have none.
  const expectation cases[] = {
    {"stripe", reason::expired, reason::none},
    {"sendgrid", reason::expired, reason::future},
    {"samsara", reason::expired, reason::future},
    {"standard_webhooks", reason::expired, reason::future},
    {"twilio", reason::none, reason::none},
    {"airtable", reason::none, reason::none},
  };
  for (auto& e : cases) {
    INFO(e.scheme);
    auto& s = *std::find_if(std::begin(schemes), std::end(schemes),
                            [&](auto& x) {
                              return x.name == std::string{e.scheme};
                            });
    auto c = s.make(1);
    // Each request views its signed_webhook's body: keep those alive.
    auto late_webhook = s.sign(c, s.body, test_now - 61);
    auto early_webhook = s.sign(c, s.body, test_now + 61);
    auto on_time_webhook = s.sign(c, s.body, test_now - 60);
    auto late = late_webhook.request();
    auto early = early_webhook.request();
    auto on_time = on_time_webhook.request();
    auto v = s.verify(late, with_secrets({c.secret}, 60));
    CHECK(v.why == e.late);
    v = s.verify(early, with_secrets({c.secret}, 60));
    CHECK(v.why == e.early);
    CHECK(s.verify(on_time, with_secrets({c.secret}, 60)).valid);
    CHECK(s.verify(late, with_secrets({c.secret}, 0)).valid);
    CHECK(s.verify(early, with_secrets({c.secret}, 0)).valid);
  }
}

TEST_CASE("twilio signs each distinct value of a repeated form parameter once, "
          "in byte order",
          "[signatures]") {
  std::string url = "https://hooks.example.com/twilio/voice";
  std::string token = "twilio-auth-token";
  // Written out by hand: names sorted, Digits' values sorted and deduplicated.
  auto mac = hmac_sha1(token, {url, "Digits1Digits2Tox y"});
  webhook_request req;
  req.url = url;
  req.now_s = test_now;
  req.headers = {{"X-Twilio-Signature", base64_encode(mac.value())}};
  auto opts = with_secrets({token});
  for (std::string_view body :
       {"Digits=2&To=x+y&Digits=1&Digits=2", "To=x%20y&Digits=1&Digits=2",
        "Digits=2&Digits=1&To=x+y&Digits=1"}) {
    INFO(body);
    req.body = body;
    CHECK(verify_twilio(req, opts).valid);
  }
  req.body = "Digits=2&To=x+y&Digits=1&Digits=3";
  auto v = verify_twilio(req, opts);
  CHECK_FALSE(v.valid);
  CHECK(v.why == reason::bad_signature);
}

TEST_CASE("a sendgrid verification key that is not a P-256 public key "
          "verifies nothing, and does not block a good key",
          "[signatures]") {
  auto& s = schemes[2];
  REQUIRE(std::string{s.name} == "sendgrid");
  auto good = s.make(1);
  auto req = s.sign(good, s.body, test_now);
  auto p384 = public_key_base64(new_ec_key("P-384").get());
  for (auto& garbage : {std::string{"not base64 at all"},
                        base64_encode("not a DER key"), std::string{}, p384}) {
    INFO(garbage);
    auto v = verify_sendgrid(req.request(), with_secrets({garbage}));
    CHECK_FALSE(v.valid);
    CHECK(v.why == reason::bad_signature);
    CHECK(v.detail.find("no usable verification key") != std::string::npos);
    CHECK(verify_sendgrid(req.request(), with_secrets({garbage, good.secret}))
            .valid);
  }
}

TEST_CASE("a sendgrid signature that is not base64 DER is malformed, checked "
          "before any key",
          "[signatures]") {
  auto& s = schemes[2];
  auto good = s.make(1);
  auto req = s.sign(good, s.body, test_now);
  auto der = decoded(req.headers[0].second);
  for (auto& bad : {base64_encode(der) + "\n", base64_encode(der + "x"),
                    base64_encode(std::string(64, '\x11'))}) {
    req.headers[0].second = bad;
    auto v = verify_sendgrid(req.request(), with_secrets({good.secret}));
    CHECK(v.why == reason::malformed);
  }
}

TEST_CASE("schemes are found by the names config and the CLI use",
          "[signatures]") {
  CHECK(find_verifier("stripe") == verify_stripe);
  CHECK(find_verifier("standard") == verify_standard_webhooks);
  CHECK(find_verifier("standard_webhooks") == verify_standard_webhooks);
  CHECK(find_verifier("Stripe") == nullptr);
  CHECK(find_verifier("svix") == nullptr);
  CHECK(std::string{to_string(reason::missing_header)} == "missing_header");
}

TEST_CASE("the crypto helpers agree with published test vectors",
          "[signatures]") {
  // RFC 4231 test case 2, RFC 2202 test case 2, FIPS 180-2 "abc".
  CHECK(hex_hmac("Jefe", {"what do ya want ", "for nothing?"})
        == "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  CHECK(to_hex(hmac_sha1("Jefe", {"what do ya want for nothing?"}).value())
        == "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79");
  CHECK(to_hex(sha256("abc").value())
        == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  // An empty key and an empty message are still a MAC (Samsara, Airtable
  // with an empty body).
  CHECK(hex_hmac("", {""})
        == "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad");
}

TEST_CASE("base64 decoding is strict", "[signatures]") {
  CHECK(base64_decode("aGVsbG8=") == std::optional<std::string>{"hello"});
  CHECK(base64_decode("aGk+Lz8=") == std::optional<std::string>{"hi>/?"});
  CHECK(base64_decode("") == std::optional<std::string>{""});
  for (auto bad : {"aGVsbG8", "aGVs bG8=", "aGVsbG8=\n",
                   "aGk-Lz8=", "====", "a===", "aG=sbG8="})
    CHECK_FALSE(base64_decode(bad));
  CHECK(base64_encode("hello") == "aGVsbG8=");
  CHECK(equal_constant_time("abc", "abc"));
  CHECK_FALSE(equal_constant_time("abc", "abd"));
  CHECK_FALSE(equal_constant_time("abc", "abcd"));
}

TEST_CASE("a failed verdict is rejected under the verifier's own reason text") {
  using signatures::reason;
  for (auto why : {reason::missing_header, reason::malformed,
                   reason::bad_signature, reason::expired, reason::future})
    CHECK(std::string{to_string(rejection_of(why))}
          == signatures::to_string(why));
}
