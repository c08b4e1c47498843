#pragma once

// The threads that POST to one delivery endpoint. cpp-httplib's client
// blocks, so each endpoint has threads of its own (max_in_flight of them):
// an endpoint that hangs holds only its own threads, for at most its
// timeout.

#include "runtime/deliveries/endpoint_url.hpp"

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace httplib {
class Client;
}

namespace streamb {

struct outbound_request {
  std::string entry_id;
  std::string id; // webhook-id
  std::string body;
};

/// entry id, HTTP status (0: no answer), what went wrong (empty on 2xx).
using outbound_done = std::function<void(std::string, int, std::string)>;

class endpoint_sender {
public:
  /// `ca_file`: PEM CAs to trust for https instead of the system's;
  /// `secret`: what each request is signed with (Standard Webhooks).
  endpoint_sender(endpoint_url url, std::chrono::seconds timeout,
                  std::size_t threads, std::string ca_file, std::string secret,
                  outbound_done done);
  ~endpoint_sender();

  endpoint_sender(const endpoint_sender&) = delete;
  endpoint_sender& operator=(const endpoint_sender&) = delete;

  /// Queues a request; a free thread sends it.
  void submit(outbound_request req);

  /// Aborts the requests in flight and joins the threads.
  void stop();

private:
  void run(std::size_t index);

  endpoint_url url_;
  std::chrono::seconds timeout_;
  std::string ca_file_;
  std::string secret_;
  outbound_done done_;
  std::mutex mtx_;
  std::condition_variable cv_;
  std::deque<outbound_request> queue_; // guarded by mtx_
  bool stopping_ = false;              // guarded by mtx_
  /// One client per thread, so that stop() can abort a hanging request.
  std::vector<std::shared_ptr<httplib::Client>> clients_; // guarded by mtx_
  std::vector<std::thread> threads_;
};

} // namespace streamb
