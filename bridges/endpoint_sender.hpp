#pragma once

// What POSTs to one delivery endpoint: an asynchronous HTTP/1.1 client
// (Boost.Beast) on a thread of the endpoint's own, with max_in_flight
// keep-alive connections. An endpoint that hangs holds only its own
// connections, each for at most its timeout; requests never wait for a
// thread to be free or wake one per request.

#include "runtime/deliveries/endpoint_url.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace streamb {

struct outbound_request {
  /// The owner's handle for what it holds, returned with the outcome.
  uint64_t handle = 0;
  std::string id; // webhook-id
  /// Shared with the owner, which keeps it for the next try.
  std::shared_ptr<const std::string> body;
};

struct outbound_outcome {
  uint64_t handle = 0;
  int status = 0;  // HTTP status; 0: no answer
  std::string why; // empty on 2xx
};

class endpoint_sender {
public:
  /// `ca_file`: PEM CAs to trust for https instead of the system's;
  /// `secret`: what each request is signed with (Standard Webhooks);
  /// `connections`: how many requests are on the wire at most;
  /// `ring`: called (on the sender's thread) when outcomes wait and the
  /// queue is shorter than the connections (so at once when the endpoint
  /// is not busy), once until the owner takes them all with one wake-up.
  endpoint_sender(endpoint_url url, std::chrono::seconds timeout,
                  std::size_t connections, std::string ca_file,
                  std::string secret, std::function<void()> ring);
  ~endpoint_sender();

  endpoint_sender(const endpoint_sender&) = delete;
  endpoint_sender& operator=(const endpoint_sender&) = delete;

  /// Queues a request; the next free connection sends it.
  void submit(outbound_request req);

  /// The outcomes of the sends finished since the last call.
  std::vector<outbound_outcome> take_outcomes();

  /// Cuts the requests in flight (not reported) and joins the thread.
  void stop();

  struct impl;

private:
  std::unique_ptr<impl> impl_;
};

} // namespace streamb
