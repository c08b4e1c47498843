#include "runtime/metrics/metric_rollup.hpp"

#include "runtime/core/audit.hpp"
#include "runtime/core/wall_time.hpp"

#include <catch2/catch.hpp>

using namespace streamb;

namespace {

call_sample sample(uint64_t latency_us, status_class outcome,
                   bool cache_hit = false) {
  call_sample x;
  x.latency_us = latency_us;
  x.outcome = outcome;
  x.cache_hit = cache_hit;
  return x;
}

} // namespace

TEST_CASE("a roll-up sums its period and the accumulator starts again") {
  rollup_accumulator acc;
  CHECK(acc.empty());
  for (int i = 1; i <= 100; ++i)
    acc.record(sample(i * 1000,
                      i <= 90 ? status_class::ok : status_class::server_error,
                      i % 2 == 0),
               10);
  auto x = acc.take("stripe", "n1", 60000, 120000);
  CHECK(acc.empty());
  CHECK(x.service == "stripe");
  CHECK(x.node == "n1");
  CHECK(x.stats.calls == 100);
  CHECK(x.stats.errors() == 10);
  CHECK(x.stats.cache_hits == 50);
  CHECK(x.stats.cost_micros == 1000);
  CHECK(x.average_ms == Approx(50.5).epsilon(0.01));
  CHECK(x.p50_ms == Approx(50).epsilon(0.02));
  CHECK(x.p99_ms == Approx(99).epsilon(0.02));
  CHECK(x.max_ms == Approx(100).epsilon(0.01));
  auto empty = acc.take("stripe", "n1", 120000, 180000);
  CHECK(empty.stats.calls == 0);
  CHECK(empty.p99_ms == 0);
}

TEST_CASE("a roll-up survives its stream encoding exactly in its counters") {
  rollup_accumulator acc;
  acc.record(sample(12345, status_class::timeout), 1234567);
  acc.record(sample(100, status_class::rate_limited), -5);
  auto x = acc.take("twilio", "n2", 1795756680000, 1795756740000);
  auto back = rollup_from_fields(to_fields(x));
  REQUIRE(back);
  CHECK(back->service == "twilio");
  CHECK(back->node == "n2");
  CHECK(back->start_ms == x.start_ms);
  CHECK(back->end_ms == x.end_ms);
  CHECK(back->stats.calls == 2);
  CHECK(back->stats.by_outcome[static_cast<int>(status_class::timeout)] == 1);
  CHECK(back->stats.by_outcome[static_cast<int>(status_class::rate_limited)]
        == 1);
  CHECK(back->stats.cost_micros == 1234562);
  CHECK(back->max_ms == Approx(x.max_ms).margin(0.001));
}

TEST_CASE("an entry with a missing or broken field is refused by name") {
  rollup_accumulator acc;
  acc.record(sample(1000, status_class::ok), 0);
  auto fields = to_fields(acc.take("s", "n", 0, 1));
  auto broken = fields;
  for (auto& [name, value] : broken)
    if (name == "calls")
      value = "many";
  auto x = rollup_from_fields(broken);
  REQUIRE_FALSE(x);
  CHECK(caf::to_string(x.error()).find("calls") != std::string::npos);
  fields.erase(fields.begin()); // "service"
  auto y = rollup_from_fields(fields);
  REQUIRE_FALSE(y);
  CHECK(caf::to_string(y.error()).find("service") != std::string::npos);
}

TEST_CASE("a roll-up is written as one history entry trimmed to the "
          "retention and the month's usage counters") {
  rollup_accumulator acc;
  acc.record(sample(1000, status_class::server_error), 700);
  // 2026-11-30T23:59:00Z: the usage key is November's.
  int64_t start = 1796083140000;
  auto x = acc.take("stripe", "n", start, start + 60000);
  auto ops = rollup_writes(x, 3600000, start + 60000);
  REQUIRE(ops.size() == 5);
  CHECK(ops[0].what == store::write_op::kind::xadd);
  CHECK(ops[0].key == "metrics:history:stripe");
  CHECK(ops[0].trim.min_id == std::to_string(start + 60000 - 3600000));
  for (std::size_t i = 1; i < 5; ++i)
    CHECK(ops[i].key == "usage:stripe:2026-11");
  CHECK(ops[1].value == "calls");
  CHECK(ops[1].number == 1);
  CHECK(ops[2].value == "errors");
  CHECK(ops[2].number == 1);
  CHECK(ops[3].value == "spend_micros");
  CHECK(ops[3].number == 700);
  CHECK(ops[4].what == store::write_op::kind::expire);
}

TEST_CASE("periods align to the wall clock and months are UTC") {
  CHECK(period_start(1795756687123, 60000) == 1795756680000);
  CHECK(period_start(1795756680000, 60000) == 1795756680000);
  CHECK(utc_month(0) == "1970-01");
  CHECK(utc_month(1796083199999) == "2026-11");
  CHECK(utc_month(1796083200000) == "2026-12");
}

TEST_CASE("times are read as epoch milliseconds or ISO-8601 UTC, and "
          "nothing else") {
  CHECK(parse_time("1795756680000") == 1795756680000);
  CHECK(parse_time("2026-11-27T05:18:00Z") == 1795756680000);
  CHECK(parse_time("2026-11-27T05:18:00.250Z") == 1795756680250);
  CHECK(parse_time(iso8601_utc(1795756687123)) == 1795756687123);
  for (auto bad : {"", "-5", "2026-11-27", "2026-11-27T05:18:00",
                   "2026-11-27T05:18:00+01:00", "2026-02-30T00:00:00Z",
                   "2026-13-01T00:00:00Z", "2026-11-27T05:18:00.5Z", "soon",
                   "99999999999999999999"})
    CHECK_FALSE(parse_time(bad));
}

TEST_CASE("an audit record survives its stream encoding") {
  audit_record x;
  x.at_ms = 1795756680000;
  x.node = "n1";
  x.who = "operator:alice";
  x.action = "budget.override";
  x.subject = "stripe";
  x.outcome = "ok";
  x.detail = "throttle lifted";
  auto op = audit_write(x, 86400000);
  CHECK(op.key == "audit");
  CHECK(op.trim.min_id == std::to_string(x.at_ms - 86400000));
  auto back = audit_from_entry({"1795756680001-0", op.fields});
  CHECK(back.id == "1795756680001-0");
  CHECK(back.at_ms == x.at_ms);
  CHECK(back.who == x.who);
  CHECK(back.action == x.action);
  CHECK(back.subject == x.subject);
  CHECK(back.outcome == x.outcome);
  CHECK(back.detail == x.detail);
}
