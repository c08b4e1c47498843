#pragma once

// How an HTTP route asks an actor (one exception: POST /webhooks sends its
// callback to the processor in the message, `runtime/webhooks/accept_reply`,
// two messages per webhook fewer than through an asker).
//
// Two ways. `ask_then` never waits: the route (on the io thread that read
// the request) hands the request to one of a few long-lived asker actors,
// which sends it and runs the route's callback with the answer, the error
// or the timeout; the callback writes the HTTP answer. The hot routes
// (admission, metrics/realtime) ask this way.
//
// `ask` and `ask_batch` wait: a route on one of the edge's route threads
// (bridges/http/worker_pool.hpp) sends through a scoped actor and the thread
// blocks until the answer. Kept for the administrative routes, where a
// thread per request in flight costs nothing that matters.

#include "actors/request_deadlines.hpp"
#include "bridges/http_context.hpp"

#include <caf/actor.hpp>
#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/duration.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/expected.hpp>
#include <caf/message_priority.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/sec.hpp>

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <tuple>
#include <utility>
#include <vector>

namespace streamb {

/// How often an asker with requests in flight checks their deadlines.
inline constexpr std::chrono::milliseconds asker_tick{50};

/// What an asker runs: sends a request from `self`, watches its deadline in
/// `deadlines` (the asker checks them every `asker_tick`) and sets its
/// handlers.
struct ask_job {
  std::function<void(caf::event_based_actor* self,
                     request_deadlines& deadlines)>
    run;
};

} // namespace streamb

// Only ever sent to a local asker, never serialized.
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(streamb::ask_job)

namespace streamb {

/// A few event-based actors that send requests on behalf of code outside
/// the actor system and run its callbacks with the answers. Many requests
/// are in flight per asker; none blocks a thread.
class asker_pool {
public:
  asker_pool(caf::actor_system& system, std::size_t size);
  ~asker_pool();

  asker_pool(const asker_pool&) = delete;
  asker_pool& operator=(const asker_pool&) = delete;

  /// Runs `job` in one of the askers.
  void post(ask_job job);

  /// Ends the askers; answers still outstanding are dropped. Idempotent.
  void stop();

private:
  std::vector<caf::actor> askers_;
  std::atomic<std::size_t> next_{0};
  std::atomic<bool> stopped_{false};
};

/// What an ask holds until its answer arrives.
template <class T>
caf::expected<T> unanswered() {
  return caf::expected<T>{caf::sec::request_timeout};
}

/// Asks sent together without waiting: every ask goes out from one asker,
/// and `then` runs there once each has its answer, error or timeout.
class async_batch {
public:
  /// Each ask waits `timeout` (plus at most one `asker_tick`), counted from
  /// when it was sent.
  explicit async_batch(std::chrono::milliseconds timeout) : timeout_(timeout) {
    // nop
  }

  /// After `then` runs, `out` holds the answer or the error; `out` must
  /// live until then (keep it in the state `then` holds).
  template <caf::message_priority P = caf::message_priority::normal, class T,
            class Handle, class... Ts>
  void add(caf::expected<T>& out, const Handle& hdl, Ts&&... xs) {
    sends_.emplace_back(
      [&out, hdl, timeout = timeout_,
       args = std::make_tuple(std::decay_t<Ts>(std::forward<Ts>(xs))...)](
        caf::event_based_actor* self, request_deadlines& deadlines,
        const std::function<void()>& one_done) mutable {
        std::apply(
          [&](auto&... a) {
            return request_watched<P>(self, deadlines, timeout, hdl,
                                      std::move(a)...);
          },
          args)
          .then(
            [&out, one_done](T& x) {
              out = std::move(x);
              one_done();
            },
            [&out, one_done](caf::error& err) {
              out = std::move(err);
              one_done();
            });
      });
  }

  /// Sends every ask; `then` must not block.
  void run(const http_context& ctx, std::function<void()> then) &&;

private:
  using send_fn = std::function<void(
    caf::event_based_actor*, request_deadlines&, const std::function<void()>&)>;
  std::chrono::milliseconds timeout_;
  std::vector<send_fn> sends_;
};

/// Asks `hdl` without waiting: `on_done(caf::expected<T>)` runs once, in an
/// asker, with the answer, the actor's error, or request_timeout after
/// `timeout`. It must not block (it writes an answer or posts work).
template <class T, caf::message_priority P = caf::message_priority::normal,
          class Handle, class F, class... Ts>
void ask_then(const http_context& ctx, std::chrono::milliseconds timeout,
              const Handle& hdl, F on_done, Ts&&... xs) {
  auto out = std::make_shared<caf::expected<T>>(unanswered<T>());
  async_batch batch{timeout};
  batch.add<P>(*out, hdl, std::forward<Ts>(xs)...);
  std::move(batch).run(ctx, [out, done = std::move(on_done)]() mutable {
    done(std::move(*out));
  });
}

/// Asks sent together and awaited together: the actors work in parallel and
/// the route's thread waits once, for the slowest, instead of once per actor.
class ask_batch {
public:
  /// Each ask waits at most `timeout`, counted from when it was sent.
  ask_batch(const http_context& ctx, std::chrono::milliseconds timeout);

  /// Asks that wait at most the context's `ask_timeout`.
  explicit ask_batch(const http_context& ctx);

  ask_batch(const ask_batch&) = delete;
  ask_batch& operator=(const ask_batch&) = delete;

  /// Sends `xs` to `hdl` now; after wait(), `out` holds the answer or the
  /// error (`out` must outlive wait()). `P` high is for queries that must not
  /// wait behind the bulk of the actor's mailbox.
  template <caf::message_priority P = caf::message_priority::normal, class T,
            class Handle, class... Ts>
  void add(caf::expected<T>& out, const Handle& hdl, Ts&&... xs) {
    // A caf::duration, not a std::chrono one: CAF 0.17's chrono overload
    // forwards without `P` and would send every ask at normal priority.
    auto rh = self_->template request<P>(hdl, caf::duration{timeout_},
                                         std::forward<Ts>(xs)...);
    waits_.emplace_back([rh, &out]() mutable {
      rh.receive([&](T& x) { out = std::move(x); },
                 [&](caf::error& err) { out = std::move(err); });
    });
  }

  /// Waits for every answer, in the order the asks were added.
  void wait();

private:
  caf::scoped_actor self_;
  std::chrono::milliseconds timeout_;
  std::vector<std::function<void()>> waits_;
};

/// Asks `hdl` and waits up to `timeout` for its answer of type `T`.
template <class T, class Handle, class... Ts>
caf::expected<T> ask_within(const http_context& ctx,
                            std::chrono::milliseconds timeout,
                            const Handle& hdl, Ts&&... xs) {
  auto out = unanswered<T>();
  ask_batch batch{ctx, timeout};
  batch.add(out, hdl, std::forward<Ts>(xs)...);
  batch.wait();
  return out;
}

/// Asks `hdl` and waits up to the context's `ask_timeout` for its answer of
/// type `T`.
template <class T, class Handle, class... Ts>
caf::expected<T> ask(const http_context& ctx, const Handle& hdl, Ts&&... xs) {
  return ask_within<T>(ctx, ctx.ask_timeout, hdl, std::forward<Ts>(xs)...);
}

} // namespace streamb
