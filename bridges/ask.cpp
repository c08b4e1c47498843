#include "bridges/ask.hpp"

#include <caf/actor_system.hpp>
#include <caf/send.hpp>
#include <caf/type_id.hpp>

namespace streamb {

namespace {

/// The unused argument is there because CAF 0.17 dereferences an empty
/// argument tuple for function actors spawned without arguments (UBSan
/// reports it).
caf::behavior asker(caf::event_based_actor* self, std::size_t) {
  // The behavior's handlers share the deadlines; the handlers of the asks
  // hold a reference, valid while the actor (and so its behavior) lives.
  // The tick runs only while requests are in flight.
  auto deadlines = std::make_shared<request_deadlines>();
  auto ticking = std::make_shared<bool>(false);
  auto keep_ticking = [self, deadlines, ticking] {
    *ticking = deadlines->open() > 0;
    if (*ticking)
      self->delayed_send(self, asker_tick, caf::tick_atom_v);
  };
  return {
    [self, deadlines, ticking, keep_ticking](ask_job& job) {
      job.run(self, *deadlines);
      if (!*ticking)
        keep_ticking();
    },
    [self, deadlines, keep_ticking](caf::tick_atom) {
      deadlines->expire(self);
      keep_ticking();
    },
  };
}

} // namespace

asker_pool::asker_pool(caf::actor_system& system, std::size_t size) {
  for (std::size_t i = 0; i < std::max<std::size_t>(size, 1); ++i)
    askers_.push_back(system.spawn(asker, i));
}

asker_pool::~asker_pool() {
  stop();
}

void asker_pool::post(ask_job job) {
  // Stopped: the job's callback never runs; the server has stopped too and
  // the connection is gone.
  if (stopped_)
    return;
  auto i = next_.fetch_add(1, std::memory_order_relaxed) % askers_.size();
  caf::anon_send(askers_[i], std::move(job));
}

void asker_pool::stop() {
  if (stopped_.exchange(true))
    return;
  for (auto& a : askers_)
    caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
}

void async_batch::run(const http_context& ctx, std::function<void()> then) && {
  ctx.askers->post(ask_job{
    [sends = std::move(sends_), then = std::move(then)](
      caf::event_based_actor* self, request_deadlines& deadlines) mutable {
      if (sends.empty())
        return then();
      // The answers arrive in this asker, one at a time: a plain count.
      auto pending = std::make_shared<std::size_t>(sends.size());
      auto finish = std::make_shared<std::function<void()>>(std::move(then));
      std::function<void()> one_done = [pending, finish] {
        if (--*pending == 0)
          (*finish)();
      };
      for (auto& send : sends)
        send(self, deadlines, one_done);
    }});
}

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
