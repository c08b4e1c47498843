#include "bridges/snapshot_cache.hpp"

namespace streamb {

void snapshot_cache::get(const build_fn& build, reply_fn reply) {
  {
    std::unique_lock<std::mutex> guard{mtx_};
    if (cached_ && now_() - cached_at_ <= max_age_) {
      auto text = cached_;
      guard.unlock();
      reply(std::move(text));
      return;
    }
    waiting_.push_back(std::move(reply));
    if (building_)
      return;
    building_ = true;
    ++builds_;
  }
  build([this](std::string text) { finish(std::move(text)); });
}

void snapshot_cache::finish(std::string text) {
  auto shared = std::make_shared<const std::string>(std::move(text));
  std::vector<reply_fn> replies;
  {
    std::lock_guard<std::mutex> guard{mtx_};
    cached_ = shared;
    cached_at_ = now_();
    building_ = false;
    replies.swap(waiting_);
  }
  for (auto& r : replies)
    r(shared);
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
