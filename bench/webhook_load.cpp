// Load generator for POST /webhooks/stripe: every request carries a new
// Stripe event id and a fresh, valid `Stripe-Signature`, so a node takes its
// full path (verify, de-duplicate, store, hand off, 2xx) and never the
// cheaper duplicate answer that a fixed body (wrk) would get after the first
// request. The same program drives every target of bench/run_webhooks.
//
//   webhook_load --port N [--host 127.0.0.1] [--path /webhooks/stripe]
//                [--threads 32] [--seconds 10] [--secret whsec_bench]
//                [--body-bytes 1024] [--id-prefix P] [--timeout-s 10]
//
// One blocking cpp-httplib client (keep-alive, TCP_NODELAY) per thread, so
// --threads is also the number of connections and of requests in flight. Each
// thread signs with its own keyed HMAC context: the key is set once, and each
// request works on a copy (EVP_MAC_CTX_dup), so signing costs the hash of the
// body and not a key schedule. The body is built and signed before the clock
// starts; the latency of a request is from just before the client writes it
// to the moment its whole response has been read, recorded in microseconds
// into a streamb::histogram per thread (merged at the end).
//
// Prints one JSON line on stdout:
//   {"requests":N,"seconds":S,"rps":R,"p50_ms":A,"p99_ms":B,"non_2xx":C,
//    "errors":E,"stored":K,"threads":T,"body_bytes":L,"cpu_s":U}
// requests = responses received (any status); rps = requests / seconds;
// errors = requests without a response (connection or timeout errors);
// stored = 2xx responses whose body says "stored":1 (the node's answer for a
// new event; 0 from a bare server); cpu_s = this process's user + system CPU
// time, so a runner can tell how much of the machine the load itself took.
// Exit 0 if every request got a 2xx.

#include "runtime/metrics/histogram.hpp"

#include <httplib.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include <sys/resource.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace {

using clock_type = std::chrono::steady_clock;

struct options {
  std::string host = "127.0.0.1";
  int port = 0;
  std::string path = "/webhooks/stripe";
  unsigned threads = 32;
  double seconds = 10;
  std::string secret = "whsec_bench";
  std::size_t body_bytes = 1024;
  std::string id_prefix;
  unsigned timeout_s = 10;
};

struct worker_result {
  std::unique_ptr<streamb::histogram>
    latency = std::make_unique<streamb::histogram>();
  uint64_t responses = 0;
  uint64_t non_2xx = 0;
  uint64_t errors = 0;
  uint64_t stored = 0;
  std::string first_problem;
};

using mac_ctx_ptr = std::unique_ptr<EVP_MAC_CTX, decltype(&EVP_MAC_CTX_free)>;

/// HMAC-SHA256 under one key, keyed once.
class stripe_signer {
public:
  explicit stripe_signer(const std::string& secret) {
    static EVP_MAC* const mac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
    if (mac == nullptr)
      return;
    keyed_.reset(EVP_MAC_CTX_new(mac));
    if (!keyed_)
      return;
    char digest[] = "SHA256";
    OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
      OSSL_PARAM_construct_end(),
    };
    if (EVP_MAC_init(keyed_.get(),
                     reinterpret_cast<const unsigned char*>(secret.data()),
                     secret.size(), params)
        != 1)
      keyed_.reset();
  }

  bool ok() const {
    return keyed_ != nullptr;
  }

  /// `t=<t>,v1=<hex of HMAC("<t>.<body>")>`, or "" if OpenSSL fails.
  std::string header(int64_t t, std::string_view body) const {
    mac_ctx_ptr ctx{EVP_MAC_CTX_dup(keyed_.get()), EVP_MAC_CTX_free};
    if (!ctx)
      return {};
    auto ts = std::to_string(t);
    unsigned char out[EVP_MAX_MD_SIZE];
    size_t len = 0;
    if (EVP_MAC_update(ctx.get(),
                       reinterpret_cast<const unsigned char*>(ts.data()),
                       ts.size())
          != 1
        || EVP_MAC_update(ctx.get(),
                          reinterpret_cast<const unsigned char*>("."), 1)
          != 1
        || EVP_MAC_update(ctx.get(),
                          reinterpret_cast<const unsigned char*>(body.data()),
                          body.size())
          != 1
        || EVP_MAC_final(ctx.get(), out, &len, sizeof(out)) != 1)
      return {};
    static constexpr char digits[] = "0123456789abcdef";
    std::string result = "t=" + ts + ",v1=";
    for (size_t i = 0; i < len; ++i) {
      result += digits[out[i] >> 4];
      result += digits[out[i] & 0x0f];
    }
    return result;
  }

private:
  mac_ctx_ptr keyed_{nullptr, EVP_MAC_CTX_free};
};

/// A Stripe `charge.succeeded` event of exactly `size` bytes (when `size` is
/// larger than the event without padding), padded in its metadata.
void make_body(std::string& out, const std::string& id, int64_t t,
               std::size_t size) {
  out.clear();
  out += R"({"id":")";
  out += id;
  out += R"(","object":"event","api_version":"2024-06-20","created":)";
  out += std::to_string(t);
  out += R"(,"type":"charge.succeeded","livemode":false,)"
         R"("pending_webhooks":1,"request":{"id":null,"idempotency_key":null},)"
         R"("data":{"object":{"id":"ch_3PbenchA1b2C3d4","object":"charge",)"
         R"("amount":1200,"currency":"usd","paid":true,"status":"succeeded",)"
         R"("customer":"cus_Qbench0001","metadata":{"pad":")";
  static constexpr std::string_view tail = R"("}}}})";
  if (out.size() + tail.size() < size)
    out.append(size - out.size() - tail.size(), 'x');
  out += tail;
}

int64_t unix_seconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(
           std::chrono::system_clock::now().time_since_epoch())
    .count();
}

void run_worker(const options& opts, unsigned index, clock_type::time_point end,
                worker_result& out) {
  stripe_signer signer{opts.secret};
  if (!signer.ok()) {
    out.errors = 1;
    out.first_problem = "OpenSSL: cannot make an HMAC-SHA256 context";
    return;
  }
  httplib::Client client{opts.host, opts.port};
  client.set_keep_alive(true);
  // httplib writes the head and the body in two sends: with Nagle on, the
  // body waits for the ACK of the head, which the server delays (~40 ms).
  client.set_tcp_nodelay(true);
  client.set_connection_timeout(5, 0);
  client.set_read_timeout(opts.timeout_s, 0);
  client.set_write_timeout(opts.timeout_s, 0);
  std::string body;
  std::string id;
  auto id_base = opts.id_prefix + "_" + std::to_string(index) + "_";
  uint64_t seq = 0;
  while (clock_type::now() < end) {
    id = id_base;
    id += std::to_string(++seq);
    auto t = unix_seconds();
    make_body(body, id, t, opts.body_bytes);
    auto signature = signer.header(t, body);
    if (signature.empty()) {
      ++out.errors;
      if (out.first_problem.empty())
        out.first_problem = "OpenSSL: HMAC failed";
      break;
    }
    httplib::Headers headers{{"Stripe-Signature", std::move(signature)}};
    auto start = clock_type::now();
    auto res = client.Post(opts.path.c_str(), headers, body,
                           "application/json");
    auto us = std::chrono::duration_cast<std::chrono::microseconds>(
                clock_type::now() - start)
                .count();
    if (!res) {
      ++out.errors;
      if (out.first_problem.empty())
        out.first_problem = "no response: " + httplib::to_string(res.error());
      continue;
    }
    ++out.responses;
    out.latency->record(static_cast<uint64_t>(us));
    if (res->status < 200 || res->status > 299) {
      ++out.non_2xx;
      if (out.first_problem.empty())
        out.first_problem = "status " + std::to_string(res->status) + ": "
          + res->body.substr(0, 200);
    } else if (res->body.find("\"stored\":1") != std::string::npos) {
      ++out.stored;
    }
  }
}

void usage(std::ostream& os) {
  os << "usage: webhook_load --port N [--host ADDR] [--path P] [--threads N]\n"
        "         [--seconds S] [--secret S] [--body-bytes N] [--id-prefix P]\n"
        "         [--timeout-s N]\n"
        "Posts Stripe-signed events with unique ids for S seconds from N\n"
        "threads (one keep-alive connection each); prints one JSON line.\n";
}

bool parse_number(const char* text, double min, double max, double& out) {
  if (text == nullptr || *text == '\0')
    return false;
  char* end = nullptr;
  errno = 0;
  auto value = std::strtod(text, &end);
  if (errno != 0 || *end != '\0' || !(value >= min && value <= max))
    return false;
  out = value;
  return true;
}

/// Fills `opts` from argv; returns 0 to run, otherwise the exit code.
int parse_args(int argc, char** argv, options& opts) {
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      usage(std::cout);
      return -1;
    }
    const char* value = i + 1 < argc ? argv[i + 1] : nullptr;
    if (value == nullptr) {
      std::cerr << "webhook_load: " << arg << " needs a value\n";
      return 2;
    }
    ++i;
    double x = 0;
    auto number = [&](double min, double max) {
      if (parse_number(value, min, max, x))
        return true;
      std::cerr << "webhook_load: " << arg << " needs a number in " << min
                << ".." << max << ", got '" << value << "'\n";
      return false;
    };
    if (arg == "--host") {
      opts.host = value;
    } else if (arg == "--path") {
      opts.path = value;
    } else if (arg == "--secret") {
      opts.secret = value;
    } else if (arg == "--id-prefix") {
      opts.id_prefix = value;
    } else if (arg == "--port") {
      if (!number(1, 65535))
        return 2;
      opts.port = static_cast<int>(x);
    } else if (arg == "--threads") {
      if (!number(1, 4096))
        return 2;
      opts.threads = static_cast<unsigned>(x);
    } else if (arg == "--seconds") {
      if (!number(0.1, 3600))
        return 2;
      opts.seconds = x;
    } else if (arg == "--body-bytes") {
      if (!number(1, 64 << 20))
        return 2;
      opts.body_bytes = static_cast<std::size_t>(x);
    } else if (arg == "--timeout-s") {
      if (!number(1, 3600))
        return 2;
      opts.timeout_s = static_cast<unsigned>(x);
    } else {
      std::cerr << "webhook_load: unknown argument '" << arg << "'\n";
      usage(std::cerr);
      return 2;
    }
  }
  if (opts.port == 0) {
    std::cerr << "webhook_load: --port is required\n";
    return 2;
  }
  if (opts.id_prefix.empty()) {
    // Unique across runs against the same node: pid and start time.
    opts.id_prefix = "evt_bench" + std::to_string(getpid()) + "t"
      + std::to_string(clock_type::now().time_since_epoch().count());
  }
  return 0;
}

} // namespace

int main(int argc, char** argv) {
  options opts;
  if (int rc = parse_args(argc, argv, opts); rc != 0)
    return rc < 0 ? 0 : rc;

  std::vector<worker_result> results(opts.threads);
  std::vector<std::thread> workers;
  workers.reserve(opts.threads);
  auto start = clock_type::now();
  auto end = start
    + std::chrono::duration_cast<clock_type::duration>(
               std::chrono::duration<double>(opts.seconds));
  for (unsigned i = 0; i < opts.threads; ++i)
    workers.emplace_back(run_worker, std::cref(opts), i, end,
                         std::ref(results[i]));
  for (auto& w : workers)
    w.join();
  // The requests in flight at the deadline finish after it: count the time
  // they took, not the nominal duration.
  double seconds = std::chrono::duration<double>(clock_type::now() - start)
                     .count();

  streamb::histogram latency;
  uint64_t responses = 0, non_2xx = 0, errors = 0, stored = 0;
  for (auto& r : results) {
    latency.merge(*r.latency);
    responses += r.responses;
    non_2xx += r.non_2xx;
    errors += r.errors;
    stored += r.stored;
    if (!r.first_problem.empty() && (r.non_2xx > 0 || r.errors > 0))
      std::cerr << "webhook_load: first problem of a thread: "
                << r.first_problem << "\n";
  }
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  auto cpu_s = static_cast<double>(usage.ru_utime.tv_sec
                                   + usage.ru_stime.tv_sec)
    + static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec)
      / 1e6;
  std::printf("{\"requests\":%" PRIu64 ",\"seconds\":%.3f,\"rps\":%.1f,"
              "\"p50_ms\":%.3f,\"p99_ms\":%.3f,\"non_2xx\":%" PRIu64
              ",\"errors\":%" PRIu64 ",\"stored\":%" PRIu64
              ",\"threads\":%u,\"body_bytes\":%zu,\"cpu_s\":%.2f}\n",
              responses, seconds,
              seconds > 0 ? static_cast<double>(responses) / seconds : 0.0,
              latency.quantile(0.50) / 1000.0, latency.quantile(0.99) / 1000.0,
              non_2xx, errors, stored, opts.threads, opts.body_bytes, cpu_s);
  std::fflush(stdout);
  return non_2xx == 0 && errors == 0 && responses > 0 ? 0 : 1;
}
