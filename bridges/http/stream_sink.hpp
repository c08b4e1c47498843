#pragma once

// What a long-lived subscriber (a server-sent events stream or a WebSocket)
// looks like to whoever publishes to it: a sink that queues and never
// blocks. Each subscriber has its own bounded queue; one that stops reading
// is dropped when its queue is full, so it never slows the others.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

namespace streamb {

/// One published event, framed once for every kind of subscriber.
struct stream_message {
  std::string topic;
  std::string service;
  /// The event as a JSON document (a WebSocket text frame).
  std::string json;
  /// The same as a server-sent event: "event: TOPIC\ndata: JSON\n\n".
  std::string sse;
};

std::shared_ptr<const stream_message>
make_stream_message(std::string topic, std::string service, std::string json);

enum class push_result : uint8_t {
  queued,
  /// The subscriber is gone (closed, or dropped earlier): forget it.
  gone,
  /// Its queue was full: it is being dropped now.
  dropped,
};

class stream_sink {
public:
  virtual ~stream_sink() = default;

  /// Queues `msg`; any thread, never blocks.
  virtual push_result push(std::shared_ptr<const stream_message> msg) = 0;

  /// Whether the subscriber has gone (closed or dropped).
  virtual bool gone() const = 0;

  /// Closes the connection once what is queued is written (a WebSocket
  /// with a policy close frame giving `reason`); any thread.
  virtual void close(std::string reason) = 0;
};

/// A WebSocket client that talks back (an agent). The connection calls it
/// on its io thread, one call at a time.
class stream_listener {
public:
  virtual ~stream_listener() = default;

  /// One text message from the client, in order.
  virtual void on_message(std::string text) = 0;

  /// Whether to read the next message now; false makes the connection wait
  /// (and TCP push back on the client) until it says true.
  virtual bool ready() const = 0;

  /// The connection ended, for whatever reason; called once.
  virtual void on_closed() = 0;
};

/// Called once a stream route's subscriber is connected, with its sink;
/// false turns it away (it is closed).
using stream_attach = std::function<bool(std::shared_ptr<stream_sink>)>;

enum class stream_kind : uint8_t { none, sse, websocket };

/// Limits of SSE and WebSocket subscribers.
struct stream_limits {
  /// Bytes queued for one subscriber; past it, it is dropped.
  std::size_t max_queued_bytes = 1 << 20;
  /// Largest message a WebSocket client may send.
  std::size_t max_message_bytes = 64 * 1024;
  /// A WebSocket silent this long is pinged; twice this long, closed. SSE
  /// subscribers get a comment line this often.
  std::chrono::seconds keep_alive{15};
  /// The socket's send buffer: small, so that a subscriber that stops
  /// reading is noticed early and costs little kernel memory.
  int send_buffer_bytes = 64 * 1024;
  std::chrono::seconds write_timeout{10};
};

} // namespace streamb
