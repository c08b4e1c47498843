#pragma once

// The threads route handlers run on. Handlers may wait for actors (see
// bridges/ask.hpp), so they never run on an io thread: the io threads hand
// them here and go on serving other connections. The queue is bounded: past
// it the request is answered 503 at once rather than held.

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace streamb {

class worker_pool {
public:
  worker_pool(std::size_t threads, std::size_t max_queued);
  ~worker_pool();

  worker_pool(const worker_pool&) = delete;
  worker_pool& operator=(const worker_pool&) = delete;

  /// Queues `task`; false when the queue is full or the pool stopped, and
  /// then `task` is left as it was (the caller still answers).
  bool try_post(std::function<void()>&& task);

  /// Drops what is still queued (dropped tasks are destroyed, never run),
  /// waits for running tasks, joins the threads. Idempotent.
  void stop();

  std::size_t queued() const;

private:
  void run();

  mutable std::mutex mtx_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> queue_;
  std::size_t max_queued_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

} // namespace streamb
