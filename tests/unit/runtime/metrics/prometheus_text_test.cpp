// Prometheus text format (runtime/metrics/prometheus_text.hpp) and the
// since-start call counts behind GET /metrics (runtime/metrics/call_totals).

#include "runtime/metrics/call_totals.hpp"
#include "runtime/metrics/prometheus_text.hpp"

#include <catch2/catch.hpp>

#include <cmath>
#include <limits>
#include <string>

using namespace streamb;

TEST_CASE("label values that came from clients cannot break the format") {
  CHECK(prometheus_escape_label("a\"b\\c\nd") == "a\\\"b\\\\c\\nd");
  prometheus_text p;
  p.family("x_total", "counter", "Help with a \\ and a\nnewline.");
  p.sample("x_total", {{"service", "evil\"}\n# TYPE y gauge"}}, 3);
  CHECK(p.text()
        == "# HELP x_total Help with a \\\\ and a\\nnewline.\n"
           "# TYPE x_total counter\n"
           "x_total{service=\"evil\\\"}\\n# TYPE y gauge\"} 3\n");
}

TEST_CASE("numbers are written the way Prometheus reads them") {
  CHECK(prometheus_number(0) == "0");
  CHECK(prometheus_number(123456789012.0) == "123456789012");
  CHECK(prometheus_number(0.25) == "0.25");
  CHECK(prometheus_number(0.1) == "0.1"); // not 0.10000000000000001
  CHECK(prometheus_number(std::numeric_limits<double>::infinity()) == "+Inf");
  CHECK(prometheus_number(-std::numeric_limits<double>::infinity()) == "-Inf");
  CHECK(prometheus_number(std::nan("")) == "NaN");
  CHECK(std::stod(prometheus_number(0.1 + 0.2)) == 0.1 + 0.2);
  prometheus_text p;
  p.sample("h_bucket", {{"service", "s"}}, {"le", "+Inf"}, 7);
  p.sample("up", {}, 1);
  CHECK(p.text() == "h_bucket{service=\"s\",le=\"+Inf\"} 7\nup 1\n");
}

TEST_CASE("call totals put each latency in the first bucket whose bound is "
          "at least it, and count outcomes, spend and cache hits") {
  call_totals t;
  t.record(5000, 0, 100, false, 6);       // exactly 5 ms: the 0.005 bucket
  t.record(5001, 0, -1, true, 6);         // just above: the 0.01 bucket
  t.record(60'000'000, 3, 250, false, 6); // 60 s: above every bound
  REQUIRE(t.latency_buckets.size() == latency_bucket_bounds_s.size() + 1);
  CHECK(t.latency_buckets[0] == 1);
  CHECK(t.latency_buckets[1] == 1);
  CHECK(t.latency_buckets.back() == 1);
  CHECK(t.calls() == 3);
  CHECK(t.by_outcome[0] == 2);
  CHECK(t.by_outcome[3] == 1);
  CHECK(t.latency_sum_us == 5000 + 5001 + 60'000'000);
  CHECK(t.spend_micros == 350); // an unreported cost (-1) adds nothing
  CHECK(t.cache_hits == 1);
}
