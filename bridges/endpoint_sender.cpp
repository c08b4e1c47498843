#include "bridges/endpoint_sender.hpp"

#include "runtime/webhooks/signatures/sign.hpp"

#include <httplib.h>

namespace streamb {

endpoint_sender::endpoint_sender(endpoint_url url, std::chrono::seconds timeout,
                                 std::size_t threads, std::string ca_file,
                                 std::string secret, outbound_done done)
  : url_(std::move(url)), timeout_(timeout), ca_file_(std::move(ca_file)),
    secret_(std::move(secret)), done_(std::move(done)) {
  clients_.resize(threads);
  for (std::size_t i = 0; i < threads; ++i)
    threads_.emplace_back([this, i] { run(i); });
}

endpoint_sender::~endpoint_sender() {
  stop();
}

void endpoint_sender::submit(outbound_request req) {
  {
    std::lock_guard<std::mutex> guard{mtx_};
    queue_.push_back(std::move(req));
  }
  cv_.notify_one();
}

void endpoint_sender::stop() {
  {
    std::lock_guard<std::mutex> guard{mtx_};
    if (stopping_ && threads_.empty())
      return;
    stopping_ = true;
    for (auto& c : clients_)
      if (c)
        c->stop();
  }
  cv_.notify_all();
  for (auto& t : threads_)
    if (t.joinable())
      t.join();
  threads_.clear();
}

void endpoint_sender::run(std::size_t index) {
  auto client = std::make_shared<httplib::Client>(url_.origin());
  auto secs = static_cast<time_t>(timeout_.count());
  client->set_connection_timeout(secs, 0);
  client->set_read_timeout(secs, 0);
  client->set_write_timeout(secs, 0);
  client->set_keep_alive(true);
  // Head and body go in separate writes: without this, Nagle and the
  // receiver's delayed ACK hold every request ~40 ms.
  client->set_tcp_nodelay(true);
  // A redirect would send the signed body somewhere not configured.
  client->set_follow_location(false);
  if (url_.tls) {
    client->enable_server_certificate_verification(true);
    if (!ca_file_.empty())
      client->set_ca_cert_path(ca_file_.c_str());
  }
  {
    std::lock_guard<std::mutex> guard{mtx_};
    clients_[index] = client;
  }
  for (;;) {
    outbound_request req;
    {
      std::unique_lock<std::mutex> guard{mtx_};
      cv_.wait(guard, [this] { return stopping_ || !queue_.empty(); });
      if (stopping_)
        return;
      req = std::move(queue_.front());
      queue_.pop_front();
    }
    httplib::Headers headers{{"User-Agent", "streamb"}};
    auto now_s = std::chrono::duration_cast<std::chrono::seconds>(
                   std::chrono::system_clock::now().time_since_epoch())
                   .count();
    if (auto h = signatures::sign_standard_webhooks(secret_, req.id, now_s,
                                                    req.body)) {
      headers.emplace("webhook-id", std::move(h->id));
      headers.emplace("webhook-timestamp", std::move(h->timestamp));
      headers.emplace("webhook-signature", std::move(h->signature));
    }
    auto res = client->Post(url_.path.c_str(), headers, req.body,
                            "application/json");
    if (!res) {
      done_(std::move(req.entry_id), 0, httplib::to_string(res.error()));
      continue;
    }
    auto status = res->status;
    std::string why;
    if (status < 200 || status > 299)
      why = "HTTP " + std::to_string(status);
    done_(std::move(req.entry_id), status, std::move(why));
  }
}

} // namespace streamb
