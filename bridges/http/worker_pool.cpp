#include "bridges/http/worker_pool.hpp"

#include "runtime/core/log.hpp"

#include <exception>

namespace streamb {

worker_pool::worker_pool(std::size_t threads, std::size_t max_queued)
  : max_queued_(max_queued) {
  if (threads == 0)
    threads = 1;
  threads_.reserve(threads);
  for (std::size_t i = 0; i < threads; ++i)
    threads_.emplace_back([this] { run(); });
}

worker_pool::~worker_pool() {
  stop();
}

bool worker_pool::try_post(std::function<void()>&& task) {
  {
    std::lock_guard<std::mutex> guard{mtx_};
    if (stopping_ || queue_.size() >= max_queued_)
      return false;
    queue_.push_back(std::move(task));
  }
  cv_.notify_one();
  return true;
}

void worker_pool::stop() {
  std::deque<std::function<void()>> dropped;
  {
    std::lock_guard<std::mutex> guard{mtx_};
    stopping_ = true;
    dropped.swap(queue_);
  }
  cv_.notify_all();
  for (auto& t : threads_)
    if (t.joinable())
      t.join();
  threads_.clear();
}

std::size_t worker_pool::queued() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return queue_.size();
}

void worker_pool::run() {
  for (;;) {
    std::function<void()> task;
    {
      std::unique_lock<std::mutex> guard{mtx_};
      cv_.wait(guard, [this] { return stopping_ || !queue_.empty(); });
      if (stopping_)
        return;
      task = std::move(queue_.front());
      queue_.pop_front();
    }
    try {
      task();
    } catch (const std::exception& e) {
      log_error("http", std::string{"route task threw: "} + e.what());
    } catch (...) {
      log_error("http", "route task threw");
    }
  }
}

} // namespace streamb
