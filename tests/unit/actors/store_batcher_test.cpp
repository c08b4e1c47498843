// The one store batcher every actor that coalesces writes uses
// (actors/store_batcher.hpp), on a real store actor whose backend a test can
// switch off, under CAF's deterministic scheduler.

#include "actors/store_batcher.hpp"

#include "actors/store_actor.hpp"
#include "tests/unit/actor_fixture.hpp"
#include "tests/unit/runtime/store/switchable_backend.hpp"

#include <caf/actor_cast.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>

#include <memory>
#include <string>
#include <vector>

using namespace streamb;

namespace {

constexpr auto timeout = std::chrono::seconds{5};

struct owner_state {
  std::optional<store_batcher<int>> batcher;
  store_actor store;
  std::vector<std::vector<int>> stored;
  std::vector<std::vector<int>> refused;
  std::vector<bool> first;
  std::vector<std::string> errors;
  std::vector<int> dropped;
  /// `stored` leaves the batch busy until a ping_atom says finished.
  bool finish_later = false;
};

using owner_actor = caf::stateful_actor<owner_state>;

/// Each item n adds n to "sum" and sets "last" to n: the store shows the
/// total and the order.
caf::behavior owner(owner_actor* self, store_actor store, on_refusal policy,
                    std::size_t max_queued) {
  self->state.store = store;
  store_batcher<int>::handlers h;
  h.make_ops = [](const std::vector<int>& xs) {
    write_ops ops;
    for (auto x : xs) {
      ops.push_back(store::write_op::make_incr_by("sum", x, 0));
      ops.push_back(store::write_op::make_set("last", std::to_string(x), 0));
    }
    return ops;
  };
  h.stored = [self](std::vector<int>& xs, write_results&) {
    self->state.stored.push_back(xs);
    return !self->state.finish_later;
  };
  h.refused = [self](std::vector<int>& xs, const caf::error& err, bool first) {
    self->state.refused.push_back(xs);
    self->state.first.push_back(first);
    self->state.errors.push_back(caf::to_string(err));
  };
  // Under keep_if, even items are facts to keep and odd ones are requests
  // whose callers get the error.
  h.keep = [](const int& x) { return x % 2 == 0; };
  h.dropped = [self](int& x) { self->state.dropped.push_back(x); };
  self->state.batcher.emplace("test", policy, max_queued, std::move(h));
  return {
    [self](int x) {
      self->state.batcher->push(x);
      self->state.batcher->flush(self, self->state.store, timeout);
    },
    [self](flush_atom) {
      self->state.batcher->flush(self, self->state.store, timeout);
    },
    [self](ping_atom) {
      self->state.batcher->finished(self, self->state.store, timeout);
    },
  };
}

/// A store that answers every write with one result too few. The unused
/// argument is there because CAF 0.17 dereferences an empty argument tuple
/// for function actors spawned without arguments (UBSan reports it).
caf::behavior short_store(caf::event_based_actor*, int) {
  return {
    [](write_atom, const write_ops& ops) {
      return write_results(ops.empty() ? 0 : ops.size() - 1);
    },
  };
}

struct fixture : test::actor_fixture {
  std::shared_ptr<store::testing::switchable_backend>
    db = std::make_shared<store::testing::switchable_backend>();
  store_actor store = sys().spawn(store_service, db);
  caf::actor hdl;

  ~fixture() {
    self->send_exit(hdl, caf::exit_reason::user_shutdown);
    self->send_exit(store, caf::exit_reason::user_shutdown);
  }

  void start(on_refusal policy, std::size_t max_queued = 100,
             store_actor with = {}) {
    hdl = sys().spawn(owner, with ? with : store, policy, max_queued);
    sched.run();
  }

  owner_state& state() {
    return dynamic_cast<owner_actor&>(
             *caf::actor_cast<caf::abstract_actor*>(hdl))
      .state;
  }

  /// Sends all of `xs` before the scheduler runs: they arrive together.
  void send_all(std::vector<int> xs) {
    for (auto x : xs)
      self->send(hdl, x);
    sched.run();
  }

  std::string value(const char* key) {
    auto v = db->inner.get(key);
    REQUIRE(v);
    return v->value_or("");
  }
};

using batches = std::vector<std::vector<int>>;

} // namespace

TEST_CASE_METHOD(fixture,
                 "store batcher: what arrives while a batch is in "
                 "flight goes out together as the next batch") {
  start(on_refusal::keep);
  send_all({1, 2, 3, 4});
  // 1 went alone; 2, 3 and 4 waited for it and went as one batch.
  CHECK(state().stored == batches{{1}, {2, 3, 4}});
  CHECK(value("sum") == "10");
  CHECK(value("last") == "4");
  CHECK(state().batcher->idle());
  CHECK(state().batcher->batches() == 2);
}

TEST_CASE_METHOD(fixture,
                 "store batcher: under keep, a refused batch is "
                 "sent again first and in order once the store is "
                 "back; the outage is reported once") {
  start(on_refusal::keep);
  db->down = true;
  send_all({1});
  send_all({2});
  CHECK(state().stored.empty());
  CHECK(state().refused == batches{{1}, {1, 2}});
  CHECK(state().first == std::vector<bool>{true, false});
  CHECK(state().batcher->failing());
  CHECK(state().batcher->queued() == 2);
  db->down = false;
  send_all({3});
  CHECK(state().stored == batches{{1, 2, 3}});
  CHECK(value("sum") == "6");
  CHECK(value("last") == "3");
  CHECK_FALSE(state().batcher->failing());
  // The next outage is reported again.
  db->down = true;
  send_all({4});
  CHECK(state().first.back());
}

TEST_CASE_METHOD(fixture,
                 "store batcher: under drop, a refused batch goes to "
                 "its owner and is not sent again") {
  start(on_refusal::drop);
  db->down = true;
  send_all({1, 2});
  CHECK(state().refused == batches{{1}});
  // 2 was queued behind the refused batch; the owner flushes it.
  self->send(hdl, flush_atom_v);
  sched.run();
  CHECK(state().refused == batches{{1}, {2}});
  db->down = false;
  send_all({3});
  CHECK(state().stored == batches{{3}});
  CHECK(value("sum") == "3");
}

TEST_CASE_METHOD(fixture,
                 "store batcher: under keep_if, only the items the owner "
                 "keeps are sent again, in order, before newer ones") {
  start(on_refusal::keep_if);
  db->down = true;
  send_all({1, 2, 3, 4});
  CHECK(state().refused == batches{{1}});
  // 2, 3 and 4 waited behind {1}; refused together, 2 and 4 stay.
  self->send(hdl, flush_atom_v);
  sched.run();
  CHECK(state().refused == batches{{1}, {2, 3, 4}});
  CHECK(state().batcher->queued() == 2);
  db->down = false;
  send_all({6});
  CHECK(state().stored == batches{{2, 4, 6}});
  CHECK(value("sum") == "12");
  CHECK(value("last") == "6");
}

TEST_CASE_METHOD(fixture,
                 "store batcher: past its limit the oldest queued "
                 "items are dropped and counted, never the batch in "
                 "flight") {
  start(on_refusal::keep, 3);
  db->down = true;
  send_all({1, 2, 3, 4, 5});
  // Each refusal puts its batch back; the queue keeps the newest 3.
  CHECK(state().batcher->queued() == 3);
  CHECK(state().batcher->dropped() == 2);
  // The owner hears which ones: 2 when 5 arrived behind the batch in
  // flight, then 1 when its refused batch came back to the front.
  CHECK(state().dropped == std::vector<int>{2, 1});
  db->down = false;
  self->send(hdl, flush_atom_v);
  sched.run();
  CHECK(state().stored == batches{{3, 4, 5}});
  CHECK(value("sum") == "12");
}

TEST_CASE_METHOD(fixture,
                 "store batcher: an answer with fewer results than "
                 "writes is a refusal, not an out-of-bounds read") {
  auto bad = caf::actor_cast<store_actor>(sys().spawn(short_store, 0));
  start(on_refusal::drop, 100, bad);
  send_all({7});
  CHECK(state().stored.empty());
  REQUIRE(state().refused == batches{{7}});
  CHECK(state().errors.front().find("1 results for 2 writes")
        != std::string::npos);
  self->send_exit(bad, caf::exit_reason::user_shutdown);
}

TEST_CASE_METHOD(fixture,
                 "store batcher: a batch whose owner has more work "
                 "stays in flight until the owner says finished") {
  start(on_refusal::keep);
  state().finish_later = true;
  send_all({1, 2});
  CHECK(state().stored == batches{{1}});
  CHECK(state().batcher->busy());
  CHECK(state().batcher->queued() == 1);
  state().finish_later = false;
  self->send(hdl, ping_atom_v);
  sched.run();
  CHECK(state().stored == batches{{1}, {2}});
  CHECK(state().batcher->idle());
}
