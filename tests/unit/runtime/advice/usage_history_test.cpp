#include "runtime/advice/advisor_rules.hpp"
#include "runtime/advice/usage_history.hpp"
#include "runtime/advice/usage_store.hpp"

#include <catch2/catch.hpp>

using namespace streamb;
using namespace streamb::advice;

namespace {

constexpr int64_t minute = 60'000;
constexpr int64_t day = 24 * 60 * minute;
// 2026-12-01 00:00 UTC.
constexpr int64_t t0 = 20788 * day;

call_sample sample(int64_t at, uint64_t key = 0,
                   const char* endpoint = "/v1/charges") {
  call_sample x;
  x.endpoint = endpoint;
  x.timestamp_ms = at;
  x.request_key = key;
  return x;
}

} // namespace

TEST_CASE("the usage history sees repeats by key and bursts by call time") {
  usage_history h{7, {"/v3/mail/send"}, 1000, t0};
  for (int burst = 0; burst < 3; ++burst)
    for (int k = 0; k < 4; ++k) {
      auto x = sample(t0 + burst * 10'000 + k * 100, 1 + (k % 2),
                      "/v3/mail/send");
      h.record(x, 1000, t0 + minute);
    }
  h.record(sample(t0 + 100, 0, "/v3/templates"), 1000, t0 + minute);
  auto p = h.profile("sendgrid", 60, t0 + minute);
  CHECK(p.calls == 13);
  CHECK(p.keyed_calls == 12);
  CHECK(p.distinct_keys == Approx(2).margin(0.01));
  CHECK(p.batchable_calls == 12);
  CHECK(p.batch_groups == 3);
  CHECK(p.spend_micros == 13'000);
  CHECK(p.span_s == Approx(60));
  CHECK(p.window_s == Approx(7 * 86400));
  CHECK(h.batch_savings(t0 + minute) == 9);
}

TEST_CASE("distinct keys stay estimated within the sketch's error past any "
          "number of keys") {
  usage_history h{7, {}, 1000, t0};
  // Two million calls, every key new (the old counter stopped at 200 000
  // keys and took every later one for a repeat).
  constexpr uint64_t n = 2'000'000;
  auto x = sample(t0);
  for (uint64_t i = 1; i <= n; ++i) {
    x.request_key = i * 0x9E3779B97F4A7C15ull;
    x.timestamp_ms = t0 + static_cast<int64_t>(i % 1000) * minute;
    h.record(x, 0, t0 + day - 1);
  }
  auto p = h.profile("stripe", 60, t0 + day - 1);
  CHECK(p.keyed_calls == n);
  CHECK(p.distinct_keys == Approx(n).epsilon(3 * p.distinct_keys_error));
  advisor_inputs in;
  in.usage = p;
  CHECK(recommend(in).empty()); // no repeats, no cache advice
}

TEST_CASE("peaks bound the demand of any span of the period") {
  usage_history h{7, {}, 1000, t0};
  // Steady 10 calls a minute for two days, plus 300 calls straddling two
  // minutes on day 2.
  for (int64_t m = 0; m < 2 * 1440; ++m)
    for (int i = 0; i < 10; ++i)
      h.record(sample(t0 + m * minute + i * 1000), 0, t0 + 2 * day - 1);
  for (int i = 0; i < 300; ++i)
    h.record(sample(t0 + day + 30 * minute + 30'000 + i * 200), 0,
             t0 + 2 * day - 1);
  auto p = h.profile("stripe", 60, t0 + 2 * day - 1);
  // 150 calls fall in each of two minutes: any 60 s window sees at most
  // 300 + 20; the bound (two minutes) is 320.
  CHECK(p.peak_minute == 160);
  CHECK(p.peak_window == 320);
  CHECK(p.peak_hour == 600 + 300);
  CHECK(p.peak_day == 14'400 + 300);
  // A 10-minute window: 11 consecutive minutes.
  CHECK(h.profile("stripe", 600, t0 + 2 * day - 1).peak_window == 410);
}

TEST_CASE("a restart keeps the observation window: what was stored is read "
          "back and added to") {
  usage_history before{7, {}, 1000, t0};
  for (int i = 0; i < 500; ++i)
    before.record(sample(t0 + i * minute, 1 + i % 50), 100, t0 + day + 1);
  for (int i = 0; i < 100; ++i)
    before.record(sample(t0 + day + i), 100, t0 + day + 1);
  auto unsaved = before.take_unsaved();
  REQUIRE(unsaved.size() == 2);
  CHECK(before.take_unsaved().empty()); // taken once
  // The store keeps the fields (as HINCRBY would) and the sketch.
  usage_history after{7, {}, 1000, t0 + 3 * day};
  for (auto& u : unsaved) {
    std::vector<std::pair<std::string, std::string>> fields;
    for (auto& [name, value] : to_fields(u.counts))
      fields.emplace_back(name, std::to_string(value));
    after.merge_stored(u.day, from_fields(fields), u.keys);
  }
  auto p = after.profile("stripe", 60, t0 + 3 * day);
  auto q = before.profile("stripe", 60, t0 + 3 * day);
  CHECK(p.calls == 600);
  CHECK(p.keyed_calls == 500);
  CHECK(p.distinct_keys == Approx(50).margin(1));
  CHECK(p.spend_micros == 60'000);
  CHECK(p.peak_day == q.peak_day);
  CHECK(p.peak_minute == 100);
  // Observation began at the first stored minute, not at the restart.
  CHECK(after.since_ms() == t0);
  CHECK(p.span_s == Approx(3 * 86400));
}

TEST_CASE("a refused write is counted again in the next one") {
  usage_history h{7, {}, 1000, t0};
  h.record(sample(t0), 100, t0 + 1);
  auto first = h.take_unsaved();
  h.record(sample(t0 + 2), 100, t0 + 3);
  h.restore_unsaved(first);
  auto second = h.take_unsaved();
  REQUIRE(second.size() == 1);
  CHECK(second[0].counts.calls == 2);
  CHECK(second[0].counts.spend_micros == 200);
}

TEST_CASE("days older than the window are dropped and not counted") {
  usage_history h{2, {}, 1000, t0};
  h.record(sample(t0), 100, t0 + 1);
  h.record(sample(t0 + 5 * day), 100, t0 + 5 * day);
  h.record(sample(t0 + day), 100, t0 + 5 * day); // too old: ignored
  auto p = h.profile("stripe", 60, t0 + 5 * day);
  CHECK(p.calls == 1);
  CHECK(h.window_days(t0 + 5 * day).size() == 3);
}

TEST_CASE("stored day fields read back; foreign or damaged fields are "
          "ignored") {
  auto c = from_fields({{"calls", "7"},
                        {"m3", "4"},
                        {"m9999", "1"},
                        {"spend_micros", "x"},
                        {"keyed", "-1"},
                        {"other", "5"}});
  CHECK(c.calls == 7);
  CHECK(c.minutes[3] == 4);
  CHECK(c.spend_micros == 0);
  CHECK(c.keyed_calls == 0);
  CHECK(day_label(20788) == "20261201");
  CHECK(usage_key("stripe", 20788) == "advisor:usage:stripe:20261201");
}

TEST_CASE("usage writes add counters, expire with the window and store the "
          "sketch") {
  usage_history h{7, {}, 1000, t0};
  h.record(sample(t0, 42), 100, t0 + 1);
  auto ops = usage_writes("stripe", h.take_unsaved(), 7);
  bool sketch = false;
  bool expire = false;
  for (auto& op : ops) {
    if (op.what == store::write_op::kind::set
        && op.key == "advisor:keys:stripe:20261201") {
      sketch = true;
      CHECK(op.ttl_ms == 9 * day);
    }
    if (op.what == store::write_op::kind::expire)
      expire = true;
  }
  CHECK(sketch);
  CHECK(expire);
}
