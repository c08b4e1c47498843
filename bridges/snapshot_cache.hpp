#pragma once

// The dashboard document, computed at most once per `max_age` whatever the
// number of viewers: a request finds the last one if it is fresh enough,
// or waits for the one being computed, or starts the next. N browsers or a
// client hammering GET .../dashboard cost the actors one round of asks per
// `max_age`, not one per request.

#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace streamb {

class snapshot_cache : public std::enable_shared_from_this<snapshot_cache> {
public:
  using clock_fn = std::function<std::chrono::steady_clock::time_point()>;
  using text_ptr = std::shared_ptr<const std::string>;
  /// Hands the document (to `done`, on any thread) once computed.
  using build_fn = std::function<void(std::function<void(std::string)> done)>;
  /// The document, or null when computing it failed.
  using reply_fn = std::function<void(text_ptr)>;

  /// A computation that has not finished after `give_up` no longer holds
  /// the requests back: the next one starts another.
  snapshot_cache(std::chrono::milliseconds max_age,
                 std::chrono::milliseconds give_up,
                 clock_fn now = std::chrono::steady_clock::now)
    : max_age_(max_age), give_up_(give_up), now_(std::move(now)) {
    // nop
  }

  /// Calls `reply` with a document at most `max_age` old, computing one
  /// with `build` unless it is cached or already being computed. If `build`
  /// throws, every request waiting for it gets null.
  void get(const build_fn& build, reply_fn reply);

  /// Offers a document computed elsewhere (the live streams' push).
  void put(std::string text);

  /// How many documents were computed through get().
  uint64_t builds() const;

private:
  void finish(uint64_t build, text_ptr text);

  std::chrono::milliseconds max_age_;
  std::chrono::milliseconds give_up_;
  clock_fn now_;
  mutable std::mutex mtx_;
  text_ptr cached_;
  std::chrono::steady_clock::time_point cached_at_;
  /// The computation in progress (0: none) and when it started.
  uint64_t building_ = 0;
  std::chrono::steady_clock::time_point build_started_;
  std::vector<reply_fn> waiting_;
  uint64_t builds_ = 0;
};

} // namespace streamb
