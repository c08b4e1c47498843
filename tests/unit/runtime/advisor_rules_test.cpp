#include "runtime/advisor_rules.hpp"

#include <catch2/catch.hpp>

using namespace streamb;

namespace {

/// One hour of a service: 1000 calls costing 1 cent each.
advisor_inputs one_hour() {
  advisor_inputs in;
  in.usage.service = "stripe";
  in.usage.span_s = 3600;
  in.usage.calls = 1000;
  in.usage.spend_micros = 10'000'000;
  in.sustained_limit = 1200;
  in.sustained_window_s = 60;
  in.days_left = 10;
  return in;
}

const recommendation* find(const recommendations& xs, const char* kind) {
  for (auto& x : xs)
    if (x.kind == kind)
      return &x;
  return nullptr;
}

} // namespace

TEST_CASE("repeated request keys yield a cache recommendation with the "
          "saving of the repeats") {
  auto in = one_hour();
  in.usage.keyed_calls = 1000;
  in.usage.distinct_keys = 250; // 750 repeats an hour
  auto xs = recommend(in);
  auto r = find(xs, "cache");
  REQUIRE(r != nullptr);
  // 750 repeats/h * 720 h/month = 540 000 calls, at 1 cent: 5 400 USD.
  CHECK(r->monthly_call_reduction == Approx(540'000).epsilon(0.05));
  CHECK(r->monthly_saving_usd == Approx(5'400).epsilon(0.05));
  CHECK(r->action_type == "advice");
  CHECK(r->rationale.find("75.0 %") != std::string::npos);
  CHECK(r->confidence > 0.5);
}

TEST_CASE("bursts of sends to a batchable endpoint yield a batch "
          "recommendation") {
  auto in = one_hour();
  in.usage.batchable_calls = 600;
  in.usage.batch_groups = 60; // bursts of 10
  auto xs = recommend(in);
  auto r = find(xs, "batch");
  REQUIRE(r != nullptr);
  // 540 calls/h saved: 388 800 a month, 3 888 USD.
  CHECK(r->monthly_call_reduction == Approx(388'800).epsilon(0.05));
  CHECK(r->monthly_saving_usd == Approx(3'888).epsilon(0.05));
}

TEST_CASE("sustained 429s yield a lower sustained limit, applied as a limit "
          "change") {
  auto in = one_hour();
  in.usage.rate_limited = 50; // 5 %
  auto xs = recommend(in);
  auto r = find(xs, "lower_sustained_limit");
  REQUIRE(r != nullptr);
  CHECK(r->action_type == "set_limit");
  CHECK(r->limit == "sustained");
  // 950 accepted in 3600 s: 15.8 per 60 s window.
  CHECK(r->limit_value == 15);
  CHECK(r->monthly_saving_usd == 0);
}

TEST_CASE("a forecast over budget yields the daily limit that lands the "
          "month on budget") {
  auto in = one_hour();
  in.budget.budget_micros = 100'000'000;
  in.budget.spend_micros = 60'000'000;
  in.budget.forecast_micros = 150'000'000;
  in.budget.forecast_low_micros = 140'000'000;
  in.budget.forecast_high_micros = 160'000'000;
  auto xs = recommend(in);
  auto r = find(xs, "budget_daily_limit");
  REQUIRE(r != nullptr);
  CHECK(r->limit == "daily");
  // 40 USD left over 10 days at 1 cent a call: 400 calls a day.
  CHECK(r->limit_value == 400);
  CHECK(r->monthly_saving_usd == Approx(50));
}

TEST_CASE("little traffic, a short history or no waste yields no advice") {
  auto in = one_hour();
  CHECK(recommend(in).empty()); // nothing wasted
  in.usage.keyed_calls = 1000;
  in.usage.distinct_keys = 250;
  auto young = in;
  young.usage.span_s = 60;
  CHECK(recommend(young).empty());
  auto quiet = in;
  quiet.usage.calls = 50;
  CHECK(recommend(quiet).empty());
}

TEST_CASE("the usage counters see repeats by key and bursts by call time") {
  usage_counters counters{{"/v3/mail/send"}, 1000, 0};
  call_sample x;
  x.endpoint = "/v3/mail/send";
  for (int burst = 0; burst < 3; ++burst)
    for (int k = 0; k < 4; ++k) {
      x.timestamp_ms = burst * 10'000 + k * 100;
      x.request_key = 1 + (k % 2); // two distinct keys
      counters.record(x, 1000);
    }
  x.endpoint = "/v3/templates";
  counters.record(x, 1000);
  auto p = counters.profile("sendgrid", 60'000);
  CHECK(p.calls == 13);
  CHECK(p.keyed_calls == 13);
  CHECK(p.distinct_keys == 2);
  CHECK(p.batchable_calls == 12);
  CHECK(p.batch_groups == 3);
  CHECK(p.spend_micros == 13'000);
  CHECK(p.span_s == Approx(60));
  counters.reset(60'000);
  CHECK(counters.profile("sendgrid", 61'000).calls == 0);
}
