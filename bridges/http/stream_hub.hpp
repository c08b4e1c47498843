#pragma once

// Fan-out of events to the node's stream subscribers (SSE and WebSocket):
// publishers hand an event over once, the hub pushes it to every subscriber
// whose filter takes it. Bounded: at most `max_subscribers`, and each
// subscriber's own queue is bounded by its sink.

#include "bridges/http/stream_sink.hpp"

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

namespace streamb {

/// Which events a subscriber wants; an empty set takes all.
struct stream_filter {
  std::set<std::string> topics;
  std::set<std::string> services;

  bool accepts(const stream_message& msg) const;
};

struct stream_hub_stats {
  std::size_t subscribers = 0;
  uint64_t published = 0;
  /// Subscribers dropped because they did not read fast enough.
  uint64_t dropped_slow = 0;
  /// Subscriptions refused past max_subscribers.
  uint64_t refused = 0;
};

class stream_hub {
public:
  explicit stream_hub(std::size_t max_subscribers);

  /// False past max_subscribers (the caller answers 503).
  bool subscribe(std::shared_ptr<stream_sink> sink, stream_filter filter);

  /// Pushes the event to every subscriber that takes it; forgets those that
  /// are gone or dropped.
  void publish(std::string topic, std::string service, std::string json);

  /// As publish, with the JSON made only when someone may listen (counted
  /// as published either way).
  void publish(std::string topic, std::string service,
               const std::function<std::string()>& make_json);

  stream_hub_stats stats() const;

  /// Whether anyone may be listening (cheap: no scan of the subscribers).
  bool has_subscribers() const;

  /// Forgets every subscriber (the server stopped: they are closed), so
  /// that none keeps the stopped server alive.
  void clear();

private:
  struct entry {
    std::shared_ptr<stream_sink> sink;
    stream_filter filter;
  };

  std::size_t max_subscribers_;
  mutable std::mutex mtx_;
  std::vector<entry> entries_;
  uint64_t published_ = 0;
  uint64_t dropped_slow_ = 0;
  uint64_t refused_ = 0;
};

} // namespace streamb
