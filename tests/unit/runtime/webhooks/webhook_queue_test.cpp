// The webhook queue's pure rules (runtime/webhooks/webhook_queue.hpp): the
// stream encoding of an event and the retry delay with full jitter.

#include "runtime/webhooks/webhook_queue.hpp"

#include <catch2/catch.hpp>

using namespace streamb;

namespace {

webhook_event sample() {
  webhook_event x;
  x.id = "stripe:evt_1";
  x.service = "stripe";
  x.type = "payment_intent.payment_failed";
  x.critical = true;
  x.payload = R"({"id":"evt_1"})";
  x.received_ms = 1'700'000'000'123;
  x.attempts = 3;
  return x;
}

} // namespace

TEST_CASE("a webhook event survives its queue entry, with the entry's id") {
  auto x = sample();
  auto back = webhook_from_entry({"42-1", to_fields(x)});
  REQUIRE(back);
  CHECK(back->id == x.id);
  CHECK(back->service == x.service);
  CHECK(back->type == x.type);
  CHECK(back->critical);
  CHECK(back->payload == x.payload);
  CHECK(back->received_ms == x.received_ms);
  CHECK(back->attempts == 3);
  CHECK(back->entry_id == "42-1");
}

TEST_CASE("a queue entry that is not a webhook event is a store error") {
  auto fields = to_fields(sample());
  SECTION("no id") {
    fields.erase(fields.begin());
  }
  SECTION("no service") {
    fields[1].second.clear();
  }
  SECTION("attempts not a number") {
    for (auto& [name, value] : fields)
      if (name == "attempts")
        value = "3x";
  }
  SECTION("received_ms empty") {
    for (auto& [name, value] : fields)
      if (name == "received_ms")
        value.clear();
  }
  auto back = webhook_from_entry({"1-0", fields});
  REQUIRE_FALSE(back);
  CHECK(back.error() == caf::make_error(error_code::store_error));
}

TEST_CASE("retry delays follow the schedule with full jitter, never 0, and "
          "end after the last step") {
  std::vector<uint32_t> delays{1, 10, 60};
  // unit 0 is the whole step, unit close to 1 almost nothing (but 1 ms).
  CHECK(retry_delay_ms(delays, 1, 0.0) == 1'000);
  CHECK(retry_delay_ms(delays, 2, 0.5) == 5'000);
  CHECK(retry_delay_ms(delays, 3, 0.0) == 60'000);
  CHECK(retry_delay_ms(delays, 3, 0.999999999) == 1);
  for (double u = 0; u < 1; u += 0.01) {
    auto d = retry_delay_ms(delays, 2, u);
    CHECK(d >= 1);
    CHECK(d <= 10'000);
  }
  // Past the schedule (and the 0th retry) there is no retry.
  CHECK(retry_delay_ms(delays, 4, 0.0) == 0);
  CHECK(retry_delay_ms(delays, 0, 0.0) == 0);
  CHECK(retry_delay_ms({}, 1, 0.0) == 0);
}
