// Parsing and validating call-sample batches, the CPU cost of
// POST /api/v1/calls before any actor is involved. Baseline in the same run:
// Boost.JSON's own parse of the same bytes into a DOM (no validation).

#include "bridges/call_sample_parser.hpp"

#include <boost/json/monotonic_resource.hpp>
#include <boost/json/parse.hpp>

#include <chrono>
#include <cstdio>
#include <string>
#include <time.h>

namespace {

double cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

std::string make_batch(int n) {
  const char* services[] = {"stripe", "twilio",  "sendgrid",
                            "samsara", "maps", "airtable"};
  const char* statuses[] = {"200", "200", "200", "201", "429", "500",
                            "200", "\"timeout\"", "200", "404"};
  std::string body = "[";
  for (int i = 0; i < n; ++i) {
    if (i > 0)
      body += ',';
    char buf[256];
    std::snprintf(buf, sizeof(buf),
                  "{\"service\":\"%s\",\"endpoint\":\"/v1/resource/%d\","
                  "\"latencyMs\":%d.%d,\"status\":%s,\"costUsd\":0.0004,"
                  "\"cacheHit\":%s}",
                  services[i % 6], i % 7, 20 + (i * 37) % 900, i % 10,
                  statuses[i % 10], i % 4 == 0 ? "true" : "false");
    body += buf;
  }
  body += ']';
  return body;
}

} // namespace

int main() {
  const std::vector<std::string> services{"stripe",  "twilio", "sendgrid",
                                          "samsara", "maps",   "airtable"};
  for (int batch : {100, 1000}) {
    auto body = make_batch(batch);
    const int rounds = batch == 100 ? 20000 : 2000;
    // Baseline: DOM parse only.
    auto t0 = cpu_seconds();
    std::size_t sink = 0;
    for (int r = 0; r < rounds; ++r) {
      boost::json::monotonic_resource mr;
      auto v = boost::json::parse(body, &mr);
      sink += v.as_array().size();
    }
    auto base_s = cpu_seconds() - t0;
    t0 = cpu_seconds();
    for (int r = 0; r < rounds; ++r) {
      streamb::parsed_batch out;
      auto err = streamb::parse_call_batch(
        body, streamb::batch_format::json_array, services, 0, out);
      sink += err ? 0 : out.total;
    }
    auto ours_s = cpu_seconds() - t0;
    double samples = double(batch) * rounds;
    std::printf("batch %d: body %zu bytes\n", batch, body.size());
    std::printf("  baseline boost_json_parse_samples_per_s %.0f (%.0f MB/s)\n",
                samples / base_s, double(body.size()) * rounds / base_s / 1e6);
    std::printf("  parse_call_batch_samples_per_s          %.0f (%.0f MB/s)\n",
                samples / ours_s, double(body.size()) * rounds / ours_s / 1e6);
    std::printf("  ratio_to_baseline %.2f\n", base_s / ours_s);
    std::printf("  checksum %zu\n", sink);
  }
}
