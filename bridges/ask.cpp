#include "bridges/ask.hpp"

#include <caf/actor_system.hpp>

namespace streamb {

ask_batch::ask_batch(const http_context& ctx, std::chrono::milliseconds timeout)
  : self_(*ctx.system), timeout_(timeout) {
  // nop
}

ask_batch::ask_batch(const http_context& ctx)
  : ask_batch(ctx, ctx.ask_timeout) {
  // nop
}

void ask_batch::wait() {
  // Each receive returns at its answer or its own deadline; deadlines run
  // from the send, so waiting in order costs no more than the slowest ask.
  for (auto& w : waits_)
    w();
  waits_.clear();
}

} // namespace streamb
