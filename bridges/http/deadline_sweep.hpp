#pragma once

// Inside the HTTP server: the request sessions' deadlines (head, body,
// keep-alive, write), kept as a time in each session and checked by one
// timer per io_context. Beast's timed stream arms and cancels a timer for
// every read and write (three per request, each a timer-queue insert, a
// removal and a cancelled handler run: ~3 % of the edge's CPU); here a
// deadline is a store. A session past its deadline is cut within one tick.

#include <boost/asio/basic_waitable_timer.hpp>
#include <boost/asio/io_context.hpp>

#include <chrono>
#include <memory>
#include <vector>

namespace streamb::edge {

/// What the sweep checks: something with a deadline on its io thread.
class deadline_holder {
public:
  using clock = std::chrono::steady_clock;

  virtual ~deadline_holder() = default;

  /// On the io thread, once the deadline set last has passed.
  virtual void on_deadline() = 0;

  void expire_after(clock::duration d) {
    deadline_ = clock::now() + d;
  }

  void expire_never() {
    deadline_ = clock::time_point::max();
  }

  bool past(clock::time_point now) const {
    return now >= deadline_;
  }

private:
  clock::time_point deadline_ = clock::time_point::max();
};

/// One io_context's holders; every member used on that context's thread.
class deadline_sweep {
public:
  static constexpr auto tick = std::chrono::milliseconds{100};

  explicit deadline_sweep(boost::asio::io_context& ioc) : timer_(ioc) {
    // nop
  }

  /// On the io thread; the holder is checked for as long as it lives.
  void add(std::weak_ptr<deadline_holder> holder) {
    holders_.push_back(std::move(holder));
    if (!ticking_) {
      ticking_ = true;
      wait();
    }
  }

private:
  void wait() {
    timer_.expires_after(tick);
    timer_.async_wait([this](boost::system::error_code ec) {
      if (ec)
        return;
      sweep();
    });
  }

  void sweep() {
    auto now = deadline_holder::clock::now();
    std::size_t kept = 0;
    for (std::size_t i = 0; i < holders_.size(); ++i) {
      auto h = holders_[i].lock();
      if (!h)
        continue;
      if (kept != i)
        holders_[kept] = std::move(holders_[i]);
      ++kept;
      if (h->past(now)) {
        h->expire_never();
        h->on_deadline();
      }
    }
    holders_.resize(kept);
    ticking_ = !holders_.empty();
    if (ticking_)
      wait();
  }

  boost::asio::basic_waitable_timer<
    std::chrono::steady_clock,
    boost::asio::wait_traits<std::chrono::steady_clock>,
    boost::asio::io_context::executor_type>
    timer_;
  std::vector<std::weak_ptr<deadline_holder>> holders_;
  bool ticking_ = false;
};

} // namespace streamb::edge
