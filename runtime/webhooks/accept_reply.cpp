#include "runtime/webhooks/accept_reply.hpp"

#include <caf/sec.hpp>

#include <mutex>

namespace streamb {

struct accept_reply::state {
  std::mutex mtx;
  callback f;

  explicit state(callback fn) : f(std::move(fn)) {
    // nop
  }

  /// The callback, once: empty after the first call.
  callback take() {
    std::lock_guard<std::mutex> guard{mtx};
    return std::exchange(f, nullptr);
  }

  ~state() {
    if (!f)
      return;
    // A destructor must not throw; the callback writes an HTTP answer and
    // only fails on memory exhaustion, when there is nothing better to do.
    try {
      f(caf::make_error(caf::sec::request_receiver_down));
    } catch (...) {
      // nop
    }
  }
};

accept_reply::accept_reply(callback f)
  : state_(std::make_shared<state>(std::move(f))) {
  // nop
}

void accept_reply::deliver(caf::expected<accept_outcomes> x) const {
  if (!state_)
    return;
  if (auto f = state_->take())
    f(std::move(x));
}

} // namespace streamb
