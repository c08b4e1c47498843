// The webhook queue's pure rules (runtime/webhooks/webhook_queue.hpp): the
// stream encoding of an event, the dedup verdict and the retry delay with
// full jitter; and the event history each step writes.

#include "runtime/webhooks/event_history.hpp"
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

TEST_CASE("a dedup claim that reads back its own token is new; another "
          "request's token is in progress; anything else was stored") {
  auto own = pending_token("n1", 7);
  auto other = pending_token("n2", 3);
  CHECK(own != other);
  CHECK(own != pending_token("n1", 8));
  CHECK(dedup_outcome(own, own) == accept_outcome::stored);
  CHECK(dedup_outcome(own, other) == accept_outcome::in_progress);
  CHECK(dedup_outcome(own, "stored") == accept_outcome::duplicate);
}

TEST_CASE("an event's history records each try and says when it is finished") {
  auto x = sample();
  auto q = event_history::queued(x, "n1");
  CHECK(store::find_field(q, "status") == "queued");
  CHECK(store::find_field(q, "critical") == "true");
  CHECK(store::find_field(q, "received_at") == "2023-11-14T22:13:20.123Z");
  CHECK_FALSE(event_history::finished(q));
  auto r = event_history::retrying(2, "timeout", 1'700'000'000'000,
                                   1'700'000'005'000);
  CHECK(store::find_field(r, "attempt_02")
        == "2023-11-14T22:13:20.000Z failed: timeout");
  CHECK(store::find_field(r, "next_attempt_at") == "2023-11-14T22:13:25.000Z");
  CHECK_FALSE(event_history::finished(r));
  CHECK(event_history::finished(event_history::delivered(3, 0)));
  CHECK(event_history::finished(event_history::dead_lettered(9, "x", 0)));
  CHECK_FALSE(event_history::finished(event_history::replayed()));
  CHECK(event_history::attempt_field(12) == "attempt_12");
}
