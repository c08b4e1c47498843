#pragma once

// Request timeouts an actor keeps itself.
//
// A CAF 0.17 request with a timeout sets an entry in CAF's clock thread and
// cancels it at the answer; each of the two locks the clock and wakes its
// thread. Measured on the webhook path: 27 µs of CPU and one context switch
// per webhook in that thread alone. An actor on a hot path instead sends with
// no CAF timeout, notes the deadline here, and calls `expire` from a timer it
// already has (or a tick of its own). An expired request is answered the way
// CAF's clock answers it: `request_timeout` under the request's response id,
// so the request's error handler runs, and a late answer finds no handler
// and is dropped. A deadline is therefore met to within the timer's period.

#include <caf/actor_clock.hpp>
#include <caf/detail/type_traits.hpp>
#include <caf/duration.hpp>
#include <caf/error.hpp>
#include <caf/fwd.hpp>
#include <caf/message_id.hpp>
#include <caf/message_priority.hpp>

#include <chrono>
#include <cstdint>
#include <unordered_map>
#include <utility>

namespace streamb {

class request_deadlines {
public:
  using time_point = caf::actor_clock::time_point;

  /// Watches the request whose answer will carry `response_id`.
  void watch(caf::message_id response_id, time_point deadline) {
    due_[response_id.integer_value()] = deadline;
  }

  /// The request has its answer or its error: forget its deadline.
  void answered(caf::message_id response_id) {
    due_.erase(response_id.integer_value());
  }

  /// Answers every request of `self` past its deadline with
  /// `request_timeout`.
  void expire(caf::local_actor* self);

  std::size_t open() const noexcept {
    return due_.size();
  }

private:
  std::unordered_map<std::uint64_t, time_point> due_;
};

/// A request watched in a `request_deadlines`: `then` forgets the deadline
/// before either handler runs.
template <class ResponseHandle>
class watched_request {
public:
  watched_request(ResponseHandle rh, request_deadlines& deadlines)
    : rh_(std::move(rh)), deadlines_(&deadlines) {
    // nop
  }

  caf::message_id id() const noexcept {
    return rh_.id();
  }

  template <class OnValue, class OnError>
  void then(OnValue on_value, OnError on_error) {
    using value_args = typename caf::detail::get_callable_trait<
      OnValue>::arg_types;
    rh_.then(answered_first(std::move(on_value), value_args{}),
             answered_first(std::move(on_error),
                            caf::detail::type_list<caf::error&>{}));
  }

private:
  // The wrapper keeps the handler's exact signature: CAF matches handlers
  // to the response type by their arguments.
  template <class F, class... Args>
  auto answered_first(F f, caf::detail::type_list<Args...>) {
    return [deadlines = deadlines_, id = rh_.id(),
            f = std::move(f)](Args... xs) mutable {
      deadlines->answered(id);
      return f(std::forward<Args>(xs)...);
    };
  }

  ResponseHandle rh_;
  request_deadlines* deadlines_;
};

/// Sends a request from `self` with no CAF timeout and watches it in
/// `deadlines`, which `self` must expire from a timer of its own. `deadlines`
/// must live as long as `self` (keep it in the actor's state).
template <caf::message_priority P = caf::message_priority::normal, class Self,
          class Handle, class... Ts>
auto request_watched(Self* self, request_deadlines& deadlines,
                     std::chrono::milliseconds timeout, const Handle& hdl,
                     Ts&&... xs) {
  auto rh = self->template request<P>(hdl, caf::duration{caf::infinite},
                                      std::forward<Ts>(xs)...);
  deadlines.watch(rh.id(), self->clock().now() + timeout);
  return watched_request<decltype(rh)>{std::move(rh), deadlines};
}

} // namespace streamb
