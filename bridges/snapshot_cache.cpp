#include "bridges/snapshot_cache.hpp"

namespace streamb {

void snapshot_cache::get(const build_fn& build, reply_fn reply) {
  uint64_t id = 0;
  {
    std::unique_lock<std::mutex> guard{mtx_};
    auto now = now_();
    if (cached_ && now - cached_at_ <= max_age_) {
      auto text = cached_;
      guard.unlock();
      reply(std::move(text));
      return;
    }
    waiting_.push_back(std::move(reply));
    if (building_ != 0 && now - build_started_ <= give_up_)
      return;
    id = building_ = ++builds_;
    build_started_ = now;
  }
  try {
    build([self = shared_from_this(), id](std::string text) {
      self->finish(id, std::make_shared<const std::string>(std::move(text)));
    });
  } catch (...) {
    finish(id, nullptr);
  }
}

void snapshot_cache::finish(uint64_t build, text_ptr text) {
  std::vector<reply_fn> replies;
  {
    std::lock_guard<std::mutex> guard{mtx_};
    if (text && (!cached_ || build == building_)) {
      cached_ = text;
      cached_at_ = now_();
    }
    if (build == building_)
      building_ = 0;
    // Whoever waits takes what came, even from a computation given up on.
    replies.swap(waiting_);
  }
  for (auto& r : replies)
    r(text);
}

void snapshot_cache::put(std::string text) {
  auto shared = std::make_shared<const std::string>(std::move(text));
  std::lock_guard<std::mutex> guard{mtx_};
  cached_ = std::move(shared);
  cached_at_ = now_();
}

uint64_t snapshot_cache::builds() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return builds_;
}

} // namespace streamb
