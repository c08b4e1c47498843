#include "bridges/http/stream_hub.hpp"

#include <algorithm>

namespace streamb {

std::shared_ptr<const stream_message>
make_stream_message(std::string topic, std::string service, std::string json) {
  auto msg = std::make_shared<stream_message>();
  // One data line: the JSON text has no raw newlines (to_json_text escapes
  // them in strings and writes none between tokens).
  msg->sse.reserve(topic.size() + json.size() + 16);
  msg->sse += "event: ";
  msg->sse += topic;
  msg->sse += "\ndata: ";
  msg->sse += json;
  msg->sse += "\n\n";
  msg->topic = std::move(topic);
  msg->service = std::move(service);
  msg->json = std::move(json);
  return msg;
}

bool stream_filter::accepts(const stream_message& msg) const {
  if (!topics.empty() && topics.count(msg.topic) == 0)
    return false;
  // Events of no service (node-wide ones) reach every subscriber.
  if (!services.empty() && !msg.service.empty()
      && services.count(msg.service) == 0)
    return false;
  return true;
}

stream_hub::stream_hub(std::size_t max_subscribers)
  : max_subscribers_(max_subscribers) {
  // nop
}

bool stream_hub::subscribe(std::shared_ptr<stream_sink> sink,
                           stream_filter filter) {
  std::lock_guard<std::mutex> guard{mtx_};
  if (entries_.size() >= max_subscribers_)
    entries_.erase(std::remove_if(entries_.begin(), entries_.end(),
                                  [](auto& e) { return e.sink->gone(); }),
                   entries_.end());
  if (entries_.size() >= max_subscribers_) {
    ++refused_;
    return false;
  }
  entries_.push_back(entry{std::move(sink), std::move(filter)});
  return true;
}

void stream_hub::publish(std::string topic, std::string service,
                         std::string json) {
  auto msg = make_stream_message(std::move(topic), std::move(service),
                                 std::move(json));
  std::lock_guard<std::mutex> guard{mtx_};
  ++published_;
  auto gone = [&](entry& e) {
    if (!e.filter.accepts(*msg))
      return false;
    switch (e.sink->push(msg)) {
      case push_result::queued: return false;
      case push_result::dropped: ++dropped_slow_; return true;
      case push_result::gone: return true;
    }
    return true;
  };
  entries_.erase(std::remove_if(entries_.begin(), entries_.end(), gone),
                 entries_.end());
}

void stream_hub::publish(std::string topic, std::string service,
                         const std::function<std::string()>& make_json) {
  {
    std::lock_guard<std::mutex> guard{mtx_};
    if (entries_.empty()) {
      ++published_;
      return;
    }
  }
  // Made outside the lock; a subscriber that joins meanwhile gets it, one
  // that joins just before this check may not, as if it had joined later.
  publish(std::move(topic), std::move(service), make_json());
}

void stream_hub::clear() {
  std::vector<entry> old;
  {
    std::lock_guard<std::mutex> guard{mtx_};
    old.swap(entries_);
  }
  // Destroyed outside the lock: a subscriber's destructor takes its
  // registry's lock.
}

bool stream_hub::has_subscribers() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return !entries_.empty();
}

stream_hub_stats stream_hub::stats() const {
  std::lock_guard<std::mutex> guard{mtx_};
  stream_hub_stats out;
  out.subscribers = static_cast<std::size_t>(std::count_if(
    entries_.begin(), entries_.end(), [](auto& e) { return !e.sink->gone(); }));
  out.published = published_;
  out.dropped_slow = dropped_slow_;
  out.refused = refused_;
  return out;
}

} // namespace streamb
