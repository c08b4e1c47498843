#include "bridges/snapshot_cache.hpp"

#include <catch2/catch.hpp>

#include <stdexcept>

using namespace streamb;
using namespace std::chrono_literals;

namespace {

/// A clock the test moves, and builds the test finishes by hand.
struct fixture {
  std::chrono::steady_clock::time_point now{};
  std::vector<std::function<void(std::string)>> pending;
  std::shared_ptr<snapshot_cache> cache = std::make_shared<snapshot_cache>(
    1000ms, 10s, [this] { return now; });
  std::vector<std::string> replies;

  void get() {
    cache->get([this](auto done) { pending.push_back(std::move(done)); },
               [this](snapshot_cache::text_ptr t) {
                 replies.push_back(t ? *t : "(failed)");
               });
  }
};

} // namespace

TEST_CASE("the snapshot cache computes one document for every request that "
          "arrives while it is computed, and serves it while fresh") {
  fixture f;
  f.get();
  f.get();
  f.get();
  REQUIRE(f.pending.size() == 1); // one build for three requests
  CHECK(f.replies.empty());
  f.pending[0]("doc-1");
  CHECK(f.replies == std::vector<std::string>{"doc-1", "doc-1", "doc-1"});
  f.now += 1000ms; // still fresh
  f.get();
  CHECK(f.replies.back() == "doc-1");
  CHECK(f.cache->builds() == 1);
  f.now += 1ms; // stale: the next request computes anew
  f.get();
  REQUIRE(f.pending.size() == 2);
  f.pending[1]("doc-2");
  CHECK(f.replies.back() == "doc-2");
  CHECK(f.cache->builds() == 2);
}

TEST_CASE("a document offered by the live push is served while fresh") {
  fixture f;
  f.cache->put("pushed");
  f.get();
  CHECK(f.pending.empty());
  CHECK(f.replies == std::vector<std::string>{"pushed"});
  f.now += 2s;
  f.get();
  CHECK(f.pending.size() == 1);
}

TEST_CASE("a computation that throws answers its waiters with a failure and "
          "does not block the next request") {
  fixture f;
  auto throwing = [](auto) { throw std::runtime_error("asker gone"); };
  f.cache->get(throwing, [&](snapshot_cache::text_ptr t) {
    f.replies.push_back(t ? *t : "(failed)");
  });
  CHECK(f.replies == std::vector<std::string>{"(failed)"});
  f.get();
  REQUIRE(f.pending.size() == 1);
  f.pending[0]("doc");
  CHECK(f.replies.back() == "doc");
}

TEST_CASE("a computation that never finishes is given up on: the next "
          "request starts another, and everyone waiting gets its document") {
  fixture f;
  f.get();
  f.now += 5s;
  f.get(); // waits for the first
  CHECK(f.pending.size() == 1);
  f.now += 6s; // the first has run 11 s
  f.get();
  REQUIRE(f.pending.size() == 2);
  f.pending[1]("second");
  CHECK(f.replies == std::vector<std::string>{"second", "second", "second"});
  // The lost one turning up later answers nobody and leaves the newer
  // document cached.
  f.pending[0]("first, late");
  CHECK(f.replies.size() == 3);
  f.get();
  CHECK(f.replies.back() == "second");
}
