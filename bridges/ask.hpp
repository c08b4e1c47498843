#pragma once

// The single place where an HTTP route waits on an actor.
//
// Routes run on the HTTP edge's route threads (bridges/http/worker_pool.hpp),
// never on its io threads, and outside the actor system: a scoped
// actor sends the request and the thread blocks until the answer, an error or
// the timeout. Routes ask only through this header (no route makes a scoped
// actor of its own), so that replacing the blocking wait with an
// asynchronous ask — an edge on Beast, whose handlers are completion
// callbacks — changes this file and leaves the call sites as they are.

#include "bridges/http_context.hpp"

#include <caf/duration.hpp>
#include <caf/expected.hpp>
#include <caf/message_priority.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/sec.hpp>

#include <chrono>
#include <functional>
#include <utility>
#include <vector>

namespace streamb {

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

/// What an ask holds until its answer arrives.
template <class T>
caf::expected<T> unanswered() {
  return caf::expected<T>{caf::sec::request_timeout};
}

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
