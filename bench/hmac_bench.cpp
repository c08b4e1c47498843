// The CPU cost of checking a Stripe signature on a 1 KB body:
// streamb::signatures::verify_stripe against the bare HMAC-SHA256 of the same
// "<t>.<body>" bytes, in the same process and run. The baseline is what
// `openssl speed -hmac sha256` times: one EVP_MAC context keyed once and
// re-initialised per message (EVP_MAC_init with a null key keeps the key).
// A third loop, hmac_sha256 from bridges/signatures/crypto.hpp (a new context
// keyed per call, as the verifier uses it), shows how much of the gap is the
// MAC setup rather than the header parsing around it.
//
//   hmac_bench [--iterations N] [--rounds R] [--body-bytes B]
//
// Thread CPU time; the loops are interleaved per round and the medians of R
// rounds are printed as "name value" lines (per call ns, calls/s, MB/s of
// the signed bytes, and verify/baseline).

#include "runtime/core/crypto.hpp"
#include "runtime/core/hex.hpp"
#include "runtime/webhooks/signatures/verify.hpp"

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include <time.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace sig = streamb::signatures;

namespace {

double thread_cpu_ns() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e9 + static_cast<double>(ts.tv_nsec);
}

double median(std::vector<double> xs) {
  std::sort(xs.begin(), xs.end());
  auto n = xs.size();
  return n % 2 == 1 ? xs[n / 2] : (xs[n / 2 - 1] + xs[n / 2]) / 2;
}

/// A Stripe event of exactly `size` bytes (padded in its metadata).
std::string stripe_body(std::size_t size) {
  std::string out = R"({"id":"evt_1PbenchA1b2C3d4E5f6G7h8","object":"event",)"
                    R"("api_version":"2024-06-20","created":1790000000,)"
                    R"("type":"charge.succeeded","livemode":false,)"
                    R"("data":{"object":{"id":"ch_3PbenchA1b2C3d4",)"
                    R"("object":"charge","amount":1200,"currency":"usd",)"
                    R"("metadata":{"pad":")";
  const std::string tail = R"("}}}})";
  if (out.size() + tail.size() < size)
    out.append(size - out.size() - tail.size(), 'x');
  return out + tail;
}

using mac_ctx_ptr = std::unique_ptr<EVP_MAC_CTX, decltype(&EVP_MAC_CTX_free)>;

} // namespace

int main(int argc, char** argv) {
  long iterations = 100'000;
  long rounds = 5;
  long body_bytes = 1024;
  for (int i = 1; i + 1 < argc; i += 2) {
    long* target = std::strcmp(argv[i], "--iterations") == 0 ? &iterations
      : std::strcmp(argv[i], "--rounds") == 0                ? &rounds
      : std::strcmp(argv[i], "--body-bytes") == 0            ? &body_bytes
                                                             : nullptr;
    if (target == nullptr || (*target = std::atol(argv[i + 1])) <= 0) {
      std::fprintf(stderr,
                   "usage: hmac_bench [--iterations N] [--rounds R] "
                   "[--body-bytes B]\n");
      return 2;
    }
  }
  if (argc % 2 == 0) {
    std::fprintf(stderr, "hmac_bench: every flag needs a value\n");
    return 2;
  }

  const std::string secret = "whsec_bench";
  const int64_t t = 1790000000;
  const std::string ts = std::to_string(t);
  const std::string body = stripe_body(static_cast<std::size_t>(body_bytes));
  auto mac = streamb::hmac_sha256(secret, {ts, ".", body});
  if (!mac) {
    std::fprintf(stderr, "hmac_bench: OpenSSL HMAC failed\n");
    return 1;
  }

  // The request as the node hands it over: every header it received.
  sig::webhook_request req;
  req.url = "http://127.0.0.1:8080/webhooks/stripe";
  req.headers = {
    {"Host", "127.0.0.1:8080"},
    {"User-Agent", "Stripe/1.0 (+https://stripe.com/docs/webhooks)"},
    {"Accept", "*/*; q=0.5, application/xml"},
    {"Cache-Control", "no-cache"},
    {"Content-Type", "application/json; charset=utf-8"},
    {"Content-Length", std::to_string(body.size())},
    {"Stripe-Signature", "t=" + ts + ",v1=" + streamb::to_hex(*mac)},
  };
  req.body = body;
  req.now_s = t + 1;
  sig::verify_options opts;
  opts.secrets = {secret};
  if (!sig::verify_stripe(req, opts).valid) {
    std::fprintf(stderr, "hmac_bench: the signed request does not verify\n");
    return 1;
  }

  // Baseline: keyed once, re-initialised per message, as openssl speed does.
  EVP_MAC* evp_mac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
  mac_ctx_ptr keyed{evp_mac ? EVP_MAC_CTX_new(evp_mac) : nullptr,
                    EVP_MAC_CTX_free};
  char digest[] = "SHA256";
  OSSL_PARAM params[] = {
    OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
    OSSL_PARAM_construct_end(),
  };
  if (!keyed
      || EVP_MAC_init(keyed.get(),
                      reinterpret_cast<const unsigned char*>(secret.data()),
                      secret.size(), params)
        != 1) {
    std::fprintf(stderr, "hmac_bench: cannot key an EVP_MAC context\n");
    return 1;
  }
  // The same bytes as the verifier signs: "<t>." then the body.
  const std::string prefix = ts + ".";
  unsigned char out[EVP_MAX_MD_SIZE];
  size_t out_len = 0;
  long failures = 0;
  auto baseline_once = [&] {
    if (EVP_MAC_init(keyed.get(), nullptr, 0, nullptr) != 1
        || EVP_MAC_update(keyed.get(),
                          reinterpret_cast<const unsigned char*>(prefix.data()),
                          prefix.size())
          != 1
        || EVP_MAC_update(keyed.get(),
                          reinterpret_cast<const unsigned char*>(body.data()),
                          body.size())
          != 1
        || EVP_MAC_final(keyed.get(), out, &out_len, sizeof(out)) != 1)
      ++failures;
  };
  baseline_once();
  if (failures > 0
      || std::string(reinterpret_cast<char*>(out), out_len) != *mac) {
    std::fprintf(stderr, "hmac_bench: the baseline HMAC differs\n");
    return 1;
  }
  auto per_call_once = [&] {
    if (!streamb::hmac_sha256(secret, {prefix, body}))
      ++failures;
  };
  auto verify_once = [&] {
    if (!sig::verify_stripe(req, opts).valid)
      ++failures;
  };

  struct loop {
    const char* name;
    std::function<void()> once;
    std::vector<double> ns_per_call;
  };
  std::vector<loop> loops{{"baseline_evp_mac_keyed", baseline_once, {}},
                          {"hmac_sha256_per_call_ctx", per_call_once, {}},
                          {"verify_stripe", verify_once, {}}};
  for (auto& l : loops) // warm-up
    for (long i = 0; i < iterations / 10; ++i)
      l.once();
  for (long r = 0; r < rounds; ++r) {
    for (std::size_t k = 0; k < loops.size(); ++k) {
      auto& l = loops[(k + static_cast<std::size_t>(r)) % loops.size()];
      auto start = thread_cpu_ns();
      for (long i = 0; i < iterations; ++i)
        l.once();
      l.ns_per_call.push_back((thread_cpu_ns() - start)
                              / static_cast<double>(iterations));
    }
  }
  if (failures > 0) {
    std::fprintf(stderr, "hmac_bench: %ld calls failed\n", failures);
    return 1;
  }

  auto signed_bytes = static_cast<double>(prefix.size() + body.size());
  std::printf("body_bytes %zu\n", body.size());
  std::printf("signed_bytes %.0f\n", signed_bytes);
  std::printf("iterations %ld\nrounds %ld\n", iterations, rounds);
  std::vector<double> medians;
  for (auto& l : loops) {
    auto ns = median(l.ns_per_call);
    medians.push_back(ns);
    std::printf("%s_ns %.1f\n", l.name, ns);
    std::printf("%s_per_s %.0f\n", l.name, 1e9 / ns);
    std::printf("%s_mb_per_s %.1f\n", l.name, signed_bytes * 1e3 / ns);
  }
  // Throughput ratios: higher is better, 1.0 = as fast as the baseline.
  std::printf("hmac_sha256_per_call_ctx_vs_baseline %.3f\n",
              medians[0] / medians[1]);
  std::printf("verify_stripe_vs_baseline %.3f\n", medians[0] / medians[2]);
  return 0;
}
