#include "bridges/http/stream_hub.hpp"

#include <catch2/catch.hpp>

#include <vector>

using namespace streamb;

namespace {

/// Takes `room` messages, then reports itself dropped (as a subscriber
/// whose queue is full does).
struct fake_sink : stream_sink {
  std::size_t room;
  std::vector<std::shared_ptr<const stream_message>> got;
  bool is_gone = false;

  explicit fake_sink(std::size_t room) : room(room) {
    // nop
  }

  push_result push(std::shared_ptr<const stream_message> msg) override {
    if (is_gone)
      return push_result::gone;
    if (got.size() == room) {
      is_gone = true;
      return push_result::dropped;
    }
    got.push_back(std::move(msg));
    return push_result::queued;
  }

  bool gone() const override {
    return is_gone;
  }

  void close(std::string) override {
    is_gone = true;
  }
};

} // namespace

TEST_CASE("the hub fans out by topic and service and forgets dropped "
          "subscribers") {
  stream_hub hub{2};
  CHECK_FALSE(hub.has_subscribers());
  auto all = std::make_shared<fake_sink>(100);
  auto stripe_only = std::make_shared<fake_sink>(1);
  REQUIRE(hub.subscribe(all, {}));
  CHECK(hub.has_subscribers());
  REQUIRE(hub.subscribe(stripe_only, {{"webhook"}, {"stripe"}}));
  // Past the cap.
  CHECK_FALSE(hub.subscribe(std::make_shared<fake_sink>(1), {}));
  hub.publish("webhook", "twilio", R"({"n":1})");
  hub.publish("webhook", "stripe", R"({"n":2})");
  hub.publish("alert", "stripe", R"({"n":3})");
  // A node-wide event (no service) reaches service-filtered subscribers.
  hub.publish("webhook", "", R"({"n":4})");
  CHECK(all->got.size() == 4);
  REQUIRE(stripe_only->got.size() == 1);
  CHECK(stripe_only->got[0]->json == R"({"n":2})");
  CHECK(stripe_only->got[0]->sse == "event: webhook\ndata: {\"n\":2}\n\n");
  auto stats = hub.stats();
  CHECK(stats.published == 4);
  CHECK(stats.dropped_slow == 1);
  CHECK(stats.refused == 1);
  CHECK(stats.subscribers == 1);
  // The dropped one's place is free again.
  CHECK(hub.subscribe(std::make_shared<fake_sink>(1), {}));
}

TEST_CASE("a cleared hub holds no subscriber any more") {
  stream_hub hub{10};
  auto sink = std::make_shared<fake_sink>(100);
  std::weak_ptr<fake_sink> watch = sink;
  REQUIRE(hub.subscribe(sink, {}));
  sink.reset();
  CHECK_FALSE(watch.expired()); // the hub keeps it
  hub.clear();
  CHECK(watch.expired());
  CHECK(hub.stats().subscribers == 0);
  CHECK_FALSE(hub.has_subscribers());
  hub.publish("webhook", "stripe", "{}");
  CHECK(hub.stats().published == 1);
}

TEST_CASE("an event nobody can hear is counted but never made") {
  stream_hub hub{4};
  int made = 0;
  auto make = [&] {
    ++made;
    return std::string{R"({"n":1})"};
  };
  hub.publish("webhook", "stripe", make);
  CHECK(made == 0);
  CHECK(hub.stats().published == 1);
  auto sink = std::make_shared<fake_sink>(10);
  REQUIRE(hub.subscribe(sink, {}));
  hub.publish("webhook", "stripe", make);
  CHECK(made == 1);
  CHECK(hub.stats().published == 2);
  REQUIRE(sink->got.size() == 1);
  CHECK(sink->got.front()->topic == "webhook");
}
