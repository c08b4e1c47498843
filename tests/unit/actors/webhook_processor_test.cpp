// The webhook processor under CAF's test scheduler: simulated time for the
// retry schedule and the delivery timeout, a store the test can switch off,
// and a subscriber the test controls.

#include "actors/webhook_processor.hpp"

#include "actors/store_actor.hpp"
#include "runtime/core/actor_wall_clock.hpp"
#include "runtime/core/audit.hpp"
#include "runtime/webhooks/webhook_queue.hpp"
#include "tests/unit/actor_fixture.hpp"
#include "tests/unit/runtime/store/switchable_backend.hpp"

#include <caf/typed_event_based_actor.hpp>

#include <memory>

using namespace streamb;
using namespace std::chrono_literals;

namespace {

/// What the test subscriber saw, and how it answers.
struct subscriber_log {
  /// singles: a batch is not tried (each verdict `one_by_one`), a single
  /// webhook is accepted.
  /// short_answer: a batch gets one verdict too few (a broken subscriber).
  enum mode_t {
    accept,
    refuse,
    hold,
    absent,
    singles,
    short_answer
  } mode
    = accept;
  std::vector<webhook_event> got;
  /// A delivery the test answers later: one webhook or a batch.
  struct held_delivery {
    std::optional<caf::typed_response_promise<bool>> one;
    std::optional<caf::typed_response_promise<delivery_verdicts>> batch;
    std::size_t size = 1;
  };
  std::vector<held_delivery> held;
  /// The size of each batch request, in order.
  std::vector<std::size_t> batches;

  std::vector<std::string> ids() const {
    std::vector<std::string> result;
    for (auto& ev : got)
      result.push_back(ev.id);
    return result;
  }
};

using log_ptr = std::shared_ptr<subscriber_log>;

/// `n` verdicts: all handled, or all refused.
delivery_verdicts verdicts(std::size_t n, bool handled) {
  if (handled)
    return delivery_verdicts(n);
  return delivery_verdicts(
    n, caf::make_error(error_code::unavailable, "the subscriber refused it"));
}

/// The subscriber interface plus a way for the test to answer a held
/// delivery: a promise must be delivered from inside its actor.
using test_subscriber_actor = webhook_subscriber_actor::extend<
  caf::reacts_to<caf::ok_atom, bool>>;

test_subscriber_actor::behavior_type
test_subscriber(test_subscriber_actor::pointer self, log_ptr log) {
  return {
    [=](deliver_atom, const webhook_event& ev) -> caf::result<bool> {
      log->got.push_back(ev);
      if (log->mode == subscriber_log::absent)
        return caf::make_error(error_code::no_consumer, "nobody takes it");
      if (log->mode == subscriber_log::hold) {
        auto promise = self->make_response_promise<bool>();
        log->held.push_back({promise, std::nullopt, 1});
        return promise;
      }
      return log->mode == subscriber_log::accept
        || log->mode == subscriber_log::singles;
    },
    [=](deliver_atom,
        const webhook_events& evs) -> caf::result<delivery_verdicts> {
      log->batches.push_back(evs.size());
      if (log->mode == subscriber_log::singles)
        return delivery_verdicts(evs.size(), one_by_one());
      log->got.insert(log->got.end(), evs.begin(), evs.end());
      switch (log->mode) {
        case subscriber_log::absent:
          return delivery_verdicts(evs.size(),
                                   caf::make_error(error_code::no_consumer,
                                                   "nobody takes it"));
        case subscriber_log::hold: {
          auto promise = self->make_response_promise<delivery_verdicts>();
          log->held.push_back({std::nullopt, promise, evs.size()});
          return promise;
        }
        case subscriber_log::refuse: return verdicts(evs.size(), false);
        case subscriber_log::short_answer:
          return verdicts(evs.size() - 1, true);
        default: return verdicts(evs.size(), true);
      }
    },
    [=](caf::ok_atom, bool handled) {
      if (log->held.empty())
        return;
      auto h = log->held.front();
      log->held.erase(log->held.begin());
      if (h.one)
        h.one->deliver(handled);
      else
        h.batch->deliver(verdicts(h.size, handled));
    },
  };
}

/// An event as the route hands it over: unclassified; the processor makes
/// it critical by its type.
webhook_event event(const std::string& id, bool critical = false) {
  webhook_event ev;
  ev.id = "stripe:" + id;
  ev.service = "stripe";
  ev.type = critical ? "charge.failed" : "charge.succeeded";
  ev.payload = R"({"id":")" + id + R"("})";
  ev.received_ms = 1;
  return ev;
}

struct fixture : test::actor_fixture {
  std::shared_ptr<store::testing::switchable_backend>
    db = std::make_shared<store::testing::switchable_backend>();
  store_actor store = sys().spawn(store_service,
                                  std::shared_ptr<store::backend>{db});
  log_ptr log = std::make_shared<subscriber_log>();
  test_subscriber_actor subscriber = sys().spawn(test_subscriber, log);
  webhook_processor_actor processor;

  fixture() {
    processor = spawn_processor();
  }

  ~fixture() {
    log->held.clear();
    self->send_exit(processor, caf::exit_reason::user_shutdown);
    self->send_exit(subscriber, caf::exit_reason::user_shutdown);
    self->send_exit(store, caf::exit_reason::user_shutdown);
  }

  webhook_processor_actor spawn_processor(uint32_t max_in_flight = 1) {
    webhook_processor_settings settings;
    settings.node = "node-a";
    settings.delivery.retry_delays_s = {5, 30};
    settings.delivery.delivery_timeout_s = 10;
    settings.delivery.max_in_flight = max_in_flight;
    settings.dedup_ttl_ms["stripe"] = 3600 * 1000;
    settings.critical_types["stripe"] = {"charge.failed"};
    auto result = sys().spawn(webhook_processor, settings, store,
                              webhook_subscriber_actor{subscriber});
    sched.run();
    return result;
  }

  /// Replaces the fixture's processor with one allowing `max_in_flight`.
  void restart_processor(uint32_t max_in_flight) {
    self->send_exit(processor, caf::exit_reason::user_shutdown);
    sched.run();
    processor = spawn_processor(max_in_flight);
  }

  accept_outcomes accept(webhook_events events) {
    return ask<accept_outcomes>(processor, wh_accept_atom_v, std::move(events));
  }

  /// Accepts through an `accept_reply`, as the HTTP route does; what the
  /// reply received, if anything.
  std::vector<caf::expected<accept_outcomes>>
  accept_with_reply(webhook_events events) {
    auto got = std::make_shared<std::vector<caf::expected<accept_outcomes>>>();
    self->send(processor, wh_accept_atom_v, std::move(events),
               accept_reply{[got](caf::expected<accept_outcomes> x) {
                 got->push_back(std::move(x));
               }});
    sched.run();
    return *got;
  }

  webhook_stats stats() {
    for (auto& x : ask<webhook_stats_list>(processor, wh_stats_atom_v))
      if (x.service == "stripe")
        return x;
    return {};
  }

  std::string status_of(const std::string& id) {
    auto value = db->inner.hget(webhook_keys::event(id), "status");
    REQUIRE(value);
    return value->value_or("");
  }

  /// The audit trail as the store holds it, oldest first.
  std::vector<audit_record> audit_trail() {
    std::vector<audit_record> result;
    auto entries = db->inner.xrange(audit_stream, "-", "+", 0);
    REQUIRE(entries);
    for (auto& e : *entries)
      result.push_back(audit_from_entry(e));
    return result;
  }

  /// Answers the oldest held delivery.
  void release(bool handled) {
    REQUIRE_FALSE(log->held.empty());
    self->send(subscriber, caf::ok_atom_v, handled);
    sched.run();
  }
};

} // namespace

TEST_CASE_METHOD(fixture,
                 "an event is stored once: the same id again is a "
                 "duplicate, also within one batch") {
  auto first = accept({event("evt_1"), event("evt_1")});
  REQUIRE(first.size() == 2);
  CHECK(first[0] == accept_outcome::stored);
  // The second copy found the first one's claim: the provider retries it.
  CHECK(first[1] == accept_outcome::in_progress);
  auto again = accept({event("evt_1")});
  CHECK(again == accept_outcomes{accept_outcome::duplicate});
  CHECK(log->ids() == std::vector<std::string>{"stripe:evt_1"});
  CHECK(status_of("stripe:evt_1") == "delivered");
  auto s = stats();
  CHECK(s.counts.received == 2);
  CHECK(s.counts.duplicates == 1);
  CHECK(s.counts.delivered == 1);
}

TEST_CASE_METHOD(fixture,
                 "a critical event posted behind a backlog is "
                 "delivered before it") {
  log->mode = subscriber_log::hold;
  for (int i = 1; i <= 4; ++i)
    accept({event("normal_" + std::to_string(i))});
  REQUIRE(log->got.size() == 1); // one in flight: the subscriber is slow
  auto urgent = accept({event("urgent", true)});
  CHECK(urgent == accept_outcomes{accept_outcome::stored});
  CHECK(db->inner.xlen(webhook_keys::critical_queue).value() == 1);
  while (!log->held.empty())
    release(true);
  CHECK(log->ids()
        == std::vector<std::string>{"stripe:normal_1", "stripe:urgent",
                                    "stripe:normal_2", "stripe:normal_3",
                                    "stripe:normal_4"});
  CHECK(stats().counts.critical == 1);
}

TEST_CASE_METHOD(fixture,
                 "events are critical when their service lists their type, "
                 "whatever the route said") {
  log->mode = subscriber_log::hold; // queued, not yet delivered
  auto urgent = event("urgent", true);
  auto routine = event("routine");
  routine.critical = true; // only the processor classifies
  auto untyped = event("untyped");
  untyped.type.clear();
  CHECK(accept({urgent, routine, untyped})
        == accept_outcomes(3, accept_outcome::stored));
  CHECK(db->inner.xlen(webhook_keys::critical_queue).value() == 1);
  CHECK(db->inner.xlen(webhook_keys::normal_queue).value() == 2);
  CHECK(db->inner.hget(webhook_keys::event("stripe:urgent"), "critical").value()
        == std::optional<std::string>{"true"});
  CHECK(stats().counts.critical == 1);
}

TEST_CASE_METHOD(fixture,
                 "deliveries go to the subscriber in batches of up to "
                 "max_in_flight, each webhook settled on its own") {
  restart_processor(4);
  log->mode = subscriber_log::hold;
  CHECK(
    accept({event("b1"), event("b2"), event("b3"), event("b4"), event("b5")})
    == accept_outcomes(5, accept_outcome::stored));
  // One request for the four that fit in flight; the fifth waits for room.
  REQUIRE(log->batches == std::vector<std::size_t>{4});
  release(false); // all four refused: retried later, one attempt used
  CHECK(log->batches == std::vector<std::size_t>{4, 1});
  release(true);
  CHECK(status_of("stripe:b5") == "delivered");
  CHECK(status_of("stripe:b1") == "retrying");
  // Retries go one by one (each checks the event's history first), after
  // the first retry delay (5 s, full jitter).
  log->mode = subscriber_log::accept;
  advance(6s);
  for (auto id : {"b1", "b2", "b3", "b4"})
    CHECK(status_of(std::string{"stripe:"} + id) == "delivered");
  auto s = stats();
  CHECK(s.counts.delivered == 5);
  CHECK(s.counts.retried == 4);
}

TEST_CASE_METHOD(fixture,
                 "webhooks a subscriber did not try in a batch go on their "
                 "own, each attempt counted once") {
  restart_processor(4);
  log->mode = subscriber_log::singles;
  CHECK(accept({event("s1"), event("s2"), event("s3")})
        == accept_outcomes(3, accept_outcome::stored));
  CHECK(log->batches == std::vector<std::size_t>{3});
  CHECK(log->ids()
        == std::vector<std::string>{"stripe:s1", "stripe:s2", "stripe:s3"});
  for (auto& ev : log->got)
    CHECK(ev.attempts == 1);
  for (auto id : {"s1", "s2", "s3"})
    CHECK(status_of(std::string{"stripe:"} + id) == "delivered");
  CHECK(stats().counts.delivered == 3);
  CHECK(stats().counts.retried == 0);
}

TEST_CASE_METHOD(fixture,
                 "a webhook a batch answer has no verdict for is retried, "
                 "not counted delivered") {
  restart_processor(4);
  log->mode = subscriber_log::short_answer;
  accept({event("v1"), event("v2")});
  CHECK(log->batches == std::vector<std::size_t>{2});
  CHECK(status_of("stripe:v1") == "delivered");
  CHECK(status_of("stripe:v2") == "retrying");
  log->mode = subscriber_log::accept;
  advance(6s);
  CHECK(status_of("stripe:v2") == "delivered");
  CHECK(stats().counts.retried == 1);
}

TEST_CASE_METHOD(fixture,
                 "a delivered or dead-lettered event leaves the queue; its "
                 "history and its dead letter stay") {
  log->mode = subscriber_log::hold;
  accept({event("evt_kept"), event("evt_dead")});
  CHECK(db->inner.xlen(webhook_keys::normal_queue).value() == 2);
  release(true); // evt_kept delivered
  // evt_dead: refused on each of its 3 attempts (2 retries).
  for (int attempt = 0; attempt < 3; ++attempt) {
    REQUIRE_FALSE(log->held.empty());
    release(false);
    advance(31s);
  }
  CHECK(status_of("stripe:evt_kept") == "delivered");
  CHECK(status_of("stripe:evt_dead") == "dead_lettered");
  CHECK(db->inner.xlen(webhook_keys::normal_queue).value() == 0);
  CHECK(
    db->inner.xpending_count(webhook_keys::normal_queue, webhook_keys::group)
      .value()
    == 0);
  auto dead = db->inner.xrange(webhook_keys::dead, "-", "+", 0);
  REQUIRE(dead);
  REQUIRE(dead->size() == 1);
  CHECK(store::find_field(dead->front().fields, "id") == "stripe:evt_dead");
  CHECK(store::find_field(dead->front().fields, "payload").size() > 0);
}

TEST_CASE_METHOD(fixture,
                 "a rejection is counted by reason and audited with its "
                 "detail and remote address") {
  self->send(processor, wh_reject_atom_v, std::string{"stripe"},
             webhook_rejection::bad_signature,
             std::string{"no v1 signature matches"}, std::string{"10.0.0.7"});
  self->send(processor, wh_reject_atom_v, std::string{"stripe"},
             webhook_rejection::expired, std::string{"t= is 600 s old"},
             std::string{"10.0.0.8"});
  sched.run();
  auto s = stats();
  CHECK(s.counts.received == 2);
  CHECK(s.counts.verified == 0);
  CHECK(
    s.counts.rejected
    == std::map<webhook_rejection, uint64_t>{
      {webhook_rejection::bad_signature, 1}, {webhook_rejection::expired, 1}});
  auto trail = audit_trail();
  REQUIRE(trail.size() == 2);
  CHECK(trail[0].node == "node-a");
  CHECK(trail[0].who == "provider:stripe@10.0.0.7");
  CHECK(trail[0].action == "webhook.reject");
  CHECK(trail[0].subject == "stripe");
  CHECK(trail[0].outcome == "bad_signature");
  CHECK(trail[0].detail == "no v1 signature matches");
  CHECK(trail[1].who == "provider:stripe@10.0.0.8");
  CHECK(trail[1].outcome == "expired");
}

TEST_CASE_METHOD(fixture,
                 "with the store down a rejection is still counted, and its "
                 "audit record is dropped, not kept") {
  db->down = true;
  self->send(processor, wh_reject_atom_v, std::string{"stripe"},
             webhook_rejection::malformed, std::string{"no t="},
             std::string{"10.0.0.9"});
  sched.run();
  CHECK(stats().counts.rejected.size() == 1);
  db->down = false;
  // The next rejection goes out alone: the refused record was not queued
  // again (its log line is the record).
  self->send(processor, wh_reject_atom_v, std::string{"stripe"},
             webhook_rejection::malformed, std::string{"no v1="},
             std::string{"10.0.0.9"});
  sched.run();
  auto trail = audit_trail();
  REQUIRE(trail.size() == 1);
  CHECK(trail[0].detail == "no v1=");
}

TEST_CASE_METHOD(fixture,
                 "failed deliveries follow the retry schedule, the "
                 "last failure dead-letters, and a replay "
                 "delivers") {
  log->mode = subscriber_log::refuse;
  accept({event("evt_9")});
  REQUIRE(log->got.size() == 1);
  CHECK(status_of("stripe:evt_9") == "retrying");
  // Full jitter: the first retry comes within 5 s, not before it is due.
  advance(5s);
  REQUIRE(log->got.size() == 2);
  advance(29s);
  advance(1s);
  REQUIRE(log->got.size() == 3);
  CHECK(log->got[2].attempts == 3);
  CHECK(status_of("stripe:evt_9") == "dead_lettered");
  advance(60s);
  CHECK(log->got.size() == 3); // no more tries
  auto dead = ask<stream_entries>(processor, wh_dead_atom_v, std::string{});
  REQUIRE(dead.size() == 1);
  auto s = stats();
  CHECK(s.counts.retried == 2);
  CHECK(s.counts.dead_lettered == 1);
  CHECK(s.counts.delivered == 0);
  // The operator fixes the subscriber and replays.
  log->mode = subscriber_log::accept;
  auto id = ask<std::string>(processor, wh_replay_atom_v, dead.front().id,
                             std::string{"operator-1"});
  CHECK(id == "stripe:evt_9");
  auto trail = audit_trail();
  REQUIRE(trail.size() == 1);
  CHECK(trail[0].action == "webhook.replay");
  CHECK(trail[0].who == "operator-1");
  CHECK(trail[0].subject == "stripe:evt_9");
  CHECK(trail[0].detail == "dead letter " + dead.front().id);
  sched.run();
  REQUIRE(log->got.size() == 4);
  CHECK(log->got[3].attempts == 1);
  CHECK(status_of("stripe:evt_9") == "delivered");
  CHECK(ask<stream_entries>(processor, wh_dead_atom_v, std::string{}).empty());
  // A second replay of the same dead letter is refused.
  std::optional<caf::error> refused;
  auto rh = self->request(processor, caf::infinite, wh_replay_atom_v,
                          dead.front().id, std::string{"operator-1"});
  sched.run();
  rh.receive([](std::string&) {},
             [&](caf::error& err) { refused = std::move(err); });
  REQUIRE(refused);
  CHECK(*refused == caf::make_error(error_code::conflict));
}

TEST_CASE_METHOD(fixture,
                 "a subscriber that never answers fails the "
                 "delivery at the timeout, and the event is "
                 "retried") {
  log->mode = subscriber_log::hold;
  accept({event("evt_5")});
  REQUIRE(log->got.size() == 1);
  advance(10s);
  CHECK(status_of("stripe:evt_5") == "retrying");
  log->mode = subscriber_log::accept;
  advance(5s);
  REQUIRE(log->got.size() == 2);
  CHECK(status_of("stripe:evt_5") == "delivered");
}

TEST_CASE_METHOD(fixture,
                 "with the store down an event is refused, not "
                 "acknowledged, and counted") {
  db->down = true;
  std::optional<caf::error> failure;
  auto rh = self->request(processor, caf::infinite, wh_accept_atom_v,
                          webhook_events{event("evt_7")});
  sched.run();
  rh.receive([](accept_outcomes&) {},
             [&](caf::error& err) { failure = std::move(err); });
  REQUIRE(failure);
  CHECK(*failure == caf::make_error(error_code::store_unavailable));
  CHECK(log->got.empty());
  auto s = stats();
  REQUIRE(s.counts.rejected.size() == 1);
  CHECK(s.counts.rejected.count(webhook_rejection::store_unavailable) == 1);
  // Back: the provider's retry is stored and delivered.
  db->down = false;
  CHECK(accept({event("evt_7")}) == accept_outcomes{accept_outcome::stored});
  CHECK(log->ids() == std::vector<std::string>{"stripe:evt_7"});
}

TEST_CASE_METHOD(fixture,
                 "an accept with a reply is answered through it, once: "
                 "stored, duplicate, and the store's error") {
  auto first = accept_with_reply({event("evt_r1")});
  REQUIRE(first.size() == 1);
  REQUIRE(first.front());
  CHECK(*first.front() == accept_outcomes{accept_outcome::stored});
  auto again = accept_with_reply({event("evt_r1")});
  REQUIRE(again.size() == 1);
  CHECK(*again.front() == accept_outcomes{accept_outcome::duplicate});
  CHECK(log->ids() == std::vector<std::string>{"stripe:evt_r1"});
  db->down = true;
  auto refused = accept_with_reply({event("evt_r2")});
  REQUIRE(refused.size() == 1);
  REQUIRE_FALSE(refused.front());
  CHECK(refused.front().error()
        == caf::make_error(error_code::store_unavailable));
  CHECK(stats().counts.rejected.count(webhook_rejection::store_unavailable)
        == 1);
}

TEST_CASE_METHOD(fixture,
                 "an accept with a reply that the processor never handles "
                 "is answered receiver down") {
  auto got = std::make_shared<std::vector<caf::expected<accept_outcomes>>>();
  self->send_exit(processor, caf::exit_reason::user_shutdown);
  sched.run();
  // Sent to a processor that is gone: the message is dropped, and with it
  // the last copy of the reply.
  self->send(processor, wh_accept_atom_v, webhook_events{event("evt_r3")},
             accept_reply{[got](caf::expected<accept_outcomes> x) {
               got->push_back(std::move(x));
             }});
  sched.run();
  REQUIRE(got->size() == 1);
  REQUIRE_FALSE(got->front());
  CHECK(got->front().error() == caf::sec::request_receiver_down);
  CHECK(log->got.empty());
}

TEST_CASE_METHOD(fixture,
                 "a restarted processor delivers what its "
                 "predecessor stored and never delivered, once") {
  log->mode = subscriber_log::hold;
  accept({event("evt_a")});
  accept({event("evt_b")});
  REQUIRE(log->got.size() == 1); // evt_a in flight, evt_b queued
  // Delivered but never acknowledged: the crash came between the two.
  release(true);
  CHECK(status_of("stripe:evt_a") == "delivered");
  self->send_exit(processor, caf::exit_reason::kill);
  sched.run();
  log->held.clear();
  log->got.clear();
  log->mode = subscriber_log::accept;
  processor = spawn_processor();
  sched.run();
  // evt_b was read into the dead processor's pending list; evt_a was
  // delivered already and is only acknowledged.
  CHECK(log->ids() == std::vector<std::string>{"stripe:evt_b"});
  CHECK(status_of("stripe:evt_b") == "delivered");
  CHECK(
    db->inner.xpending_count(webhook_keys::normal_queue, webhook_keys::group)
      .value()
    == 0);
}

TEST_CASE_METHOD(fixture,
                 "waiting for a consumer, one event per service is offered "
                 "again each second, the rest go when it is taken") {
  log->mode = subscriber_log::absent;
  auto now = epoch_ms(sys().clock());
  for (auto id : {"evt_w1", "evt_w2", "evt_w3"}) {
    auto ev = event(id);
    ev.received_ms = now;
    accept({ev});
  }
  // Each was offered once; two are parked behind the first.
  REQUIRE(log->got.size() == 3);
  CHECK(stats().awaiting_consumer == 3);
  advance(1s);
  CHECK(log->got.size() == 4);
  advance(1s);
  CHECK(log->got.size() == 5);
  CHECK(log->got.back().id == "stripe:evt_w1");
  CHECK(stats().counts.retried == 0);
  // A consumer appears: the probe is taken, and the parked ones follow.
  log->mode = subscriber_log::accept;
  advance(1s);
  for (auto id : {"stripe:evt_w1", "stripe:evt_w2", "stripe:evt_w3"})
    CHECK(status_of(id) == "delivered");
  CHECK(log->got.size() == 8);
  CHECK(stats().awaiting_consumer == 0);
}

TEST_CASE_METHOD(fixture,
                 "waiting events past the queue's retention become dead "
                 "letters, parked ones too") {
  log->mode = subscriber_log::absent;
  auto now = epoch_ms(sys().clock());
  for (auto id : {"evt_r1", "evt_r2"}) {
    auto ev = event(id);
    ev.received_ms = now;
    accept({ev});
  }
  REQUIRE(stats().awaiting_consumer == 2);
  // The default retention is 48 h; the simulated clock jumps past it.
  advance(std::chrono::hours{48} + 2s);
  CHECK(status_of("stripe:evt_r1") == "dead_lettered");
  CHECK(status_of("stripe:evt_r2") == "dead_lettered");
  CHECK(stats().awaiting_consumer == 0);
  CHECK(stats().counts.dead_lettered == 2);
}
