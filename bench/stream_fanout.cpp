// Fan-out of live events to many subscribers of one node: opens
// --subscribers SSE or WebSocket connections to GET .../stream or .../ws
// (topic webhook), waits until the node counts them all, then posts
// --events Stripe-signed webhooks at --rate per second and measures, for
// every (event, subscriber) pair, the time from just before the webhook's
// POST to the moment the subscriber has read the event.
//
//   stream_fanout --port N --kind sse|ws [--subscribers 10000] [--events 50]
//                 [--rate 10] [--secret whsec_bench] [--timeout-s 60]
//
// All subscribers are served by one io thread of this process (raw sockets,
// the WebSocket frames parsed by hand: the server does not mask). Prints one
// JSON line:
//   {"kind":K,"subscribers":N,"connected":C,"events":E,"expected":N*E,
//    "delivered":D,"p50_ms":A,"p99_ms":B,"max_ms":M,"connect_s":S}
// Exit 0 if every subscriber got every event.

#include "runtime/core/crypto.hpp"
#include "runtime/core/hex.hpp"
#include "runtime/core/wall_time.hpp"
#include "runtime/metrics/histogram.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <httplib.h>

#include <sys/resource.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using clock_type = std::chrono::steady_clock;

struct options {
  int port = 0;
  std::string kind = "sse";
  std::size_t subscribers = 10000;
  std::size_t events = 50;
  double rate = 10;
  std::string secret = "whsec_bench";
  unsigned timeout_s = 60;
};

constexpr const char* prefix = "/api/v1/stream-b-coordination";

const std::string& marker() {
  static const std::string x = "fanout" + std::to_string(getpid()) + "_";
  return x;
}

/// When each event's POST started, by event number; read by the io thread
/// once the number is published.
struct send_times {
  std::vector<clock_type::time_point> at;
  std::atomic<std::size_t> published{0};
};

class subscriber : public std::enable_shared_from_this<subscriber> {
public:
  subscriber(asio::io_context& ioc, const options& opt, send_times& sent,
             streamb::histogram& latency, std::size_t& delivered,
             std::size_t& connected)
    : socket_(ioc), opt_(opt), sent_(sent), latency_(latency),
      delivered_(delivered), connected_(connected) {}

  void start() {
    tcp::endpoint ep{asio::ip::make_address("127.0.0.1"),
                     static_cast<unsigned short>(opt_.port)};
    socket_.async_connect(ep, [self = shared_from_this()](auto ec) {
      if (ec)
        return;
      std::string target = std::string{prefix}
        + (self->opt_.kind == "ws" ? "/ws" : "/stream") + "?topics=webhook";
      self->request_ = "GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n";
      if (self->opt_.kind == "ws")
        self->request_ += "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                          "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                          "Sec-WebSocket-Version: 13\r\n";
      self->request_ += "\r\n";
      asio::async_write(self->socket_, asio::buffer(self->request_),
                        [self](auto ec, std::size_t) {
                          if (!ec)
                            self->read();
                        });
    });
  }

private:
  void read() {
    socket_.async_read_some(asio::buffer(chunk_),
                            [self = shared_from_this()](auto ec,
                                                        std::size_t n) {
                              if (ec)
                                return;
                              self->in_.append(self->chunk_.data(), n);
                              self->consume();
                              self->read();
                            });
  }

  /// Takes every complete event out of `in_`.
  void consume() {
    if (!head_done_) {
      auto end = in_.find("\r\n\r\n");
      if (end == std::string::npos)
        return;
      head_done_ = true;
      ++connected_;
      in_.erase(0, end + 4);
    }
    if (opt_.kind == "ws")
      consume_frames();
    else
      consume_sse();
  }

  void consume_sse() {
    std::size_t pos;
    while ((pos = in_.find("\n\n")) != std::string::npos) {
      on_event(std::string_view{in_}.substr(0, pos));
      in_.erase(0, pos + 2);
    }
  }

  void consume_frames() {
    for (;;) {
      if (in_.size() < 2)
        return;
      auto byte = [&](std::size_t i) {
        return static_cast<unsigned char>(in_[i]);
      };
      uint64_t len = byte(1) & 0x7f;
      std::size_t at = 2;
      std::size_t extra = len == 126 ? 2 : len == 127 ? 8 : 0;
      if (in_.size() < at + extra)
        return;
      if (extra > 0) {
        len = 0;
        for (std::size_t i = 0; i < extra; ++i)
          len = (len << 8) | byte(at + i);
        at += extra;
      }
      if (in_.size() < at + len)
        return;
      if ((byte(0) & 0x0f) == 1)
        on_event(std::string_view{in_}.substr(at, len));
      in_.erase(0, at + len);
    }
  }

  /// Events carry "id":"stripe:fanout<pid>_<n>": ids of other runs (a
  /// duplicate is not announced again) never match.
  void on_event(std::string_view text) {
    auto at = text.find(marker());
    if (at == std::string_view::npos)
      return;
    std::size_t n = 0;
    for (auto i = at + marker().size();
         i < text.size() && text[i] >= '0' && text[i] <= '9'; ++i)
      n = n * 10 + static_cast<std::size_t>(text[i] - '0');
    if (n >= sent_.published.load(std::memory_order_acquire))
      return;
    auto us = std::chrono::duration_cast<std::chrono::microseconds>(
                clock_type::now() - sent_.at[n])
                .count();
    latency_.record(static_cast<uint64_t>(std::max<int64_t>(us, 1)));
    ++delivered_;
  }

  tcp::socket socket_;
  const options& opt_;
  send_times& sent_;
  streamb::histogram& latency_;
  std::size_t& delivered_;
  std::size_t& connected_;
  std::string request_;
  std::string in_;
  std::array<char, 4096> chunk_;
  bool head_done_ = false;
};

bool parse(int argc, char** argv, options& opt) {
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string k = argv[i];
    std::string v = argv[i + 1];
    if (k == "--port")
      opt.port = std::stoi(v);
    else if (k == "--kind")
      opt.kind = v;
    else if (k == "--subscribers")
      opt.subscribers = std::stoul(v);
    else if (k == "--events")
      opt.events = std::stoul(v);
    else if (k == "--rate")
      opt.rate = std::stod(v);
    else if (k == "--secret")
      opt.secret = v;
    else if (k == "--timeout-s")
      opt.timeout_s = static_cast<unsigned>(std::stoul(v));
    else
      return false;
  }
  return opt.port > 0 && (opt.kind == "sse" || opt.kind == "ws")
    && opt.rate > 0;
}

/// How many subscribers the node counts (health/comprehensive).
long node_subscribers(httplib::Client& cli) {
  auto res = cli.Get(std::string{prefix} + "/health/comprehensive");
  if (!res || res->status != 200)
    return -1;
  auto at = res->body.find("\"subscribers\":");
  return at == std::string::npos ? -1 : std::atol(res->body.c_str() + at + 14);
}

} // namespace

int main(int argc, char** argv) {
  options opt;
  if (!parse(argc, argv, opt)) {
    std::cerr << "usage: stream_fanout --port N --kind sse|ws [--subscribers "
                 "N] [--events E] [--rate R] [--secret S] [--timeout-s T]\n";
    return 2;
  }
  rlimit nofile{};
  if (getrlimit(RLIMIT_NOFILE, &nofile) == 0) {
    nofile.rlim_cur = nofile.rlim_max;
    setrlimit(RLIMIT_NOFILE, &nofile);
  }
  asio::io_context ioc;
  send_times sent;
  sent.at.resize(opt.events);
  streamb::histogram latency;
  std::size_t delivered = 0;
  std::size_t connected = 0;
  for (std::size_t i = 0; i < opt.subscribers; ++i)
    std::make_shared<subscriber>(ioc, opt, sent, latency, delivered, connected)
      ->start();
  auto t0 = clock_type::now();
  auto deadline = t0 + std::chrono::seconds{opt.timeout_s};
  // Connect everyone before the first event.
  while (connected < opt.subscribers && clock_type::now() < deadline)
    ioc.run_for(std::chrono::milliseconds{50});
  httplib::Client cli{"127.0.0.1", opt.port};
  cli.set_read_timeout(10, 0);
  while (node_subscribers(cli) < static_cast<long>(opt.subscribers)
         && clock_type::now() < deadline)
    ioc.run_for(std::chrono::milliseconds{50});
  auto connect_s = std::chrono::duration<double>(clock_type::now() - t0)
                     .count();
  std::thread poster{[&] {
    httplib::Client post{"127.0.0.1", opt.port};
    post.set_read_timeout(10, 0);
    auto interval = std::chrono::duration<double>(1.0 / opt.rate);
    auto next = clock_type::now();
    for (std::size_t n = 0; n < opt.events; ++n) {
      std::this_thread::sleep_until(next);
      next += std::chrono::duration_cast<clock_type::duration>(interval);
      auto body = R"({"id":")" + marker() + std::to_string(n)
        + R"(","object":"event","type":"charge.succeeded","data":{}})";
      auto ts = std::to_string(streamb::epoch_ms_now() / 1000);
      auto mac = streamb::hmac_sha256(opt.secret, {ts, ".", body});
      httplib::Headers headers{
        {"Stripe-Signature", "t=" + ts + ",v1=" + streamb::to_hex(*mac)}};
      sent.at[n] = clock_type::now();
      sent.published.store(n + 1, std::memory_order_release);
      auto res = post.Post("/webhooks/stripe", headers, body,
                           "application/json");
      if (!res || res->status != 200)
        std::cerr << "stream_fanout: webhook " << n << " not stored\n";
    }
  }};
  auto expected = opt.subscribers * opt.events;
  while (delivered < expected && clock_type::now() < deadline)
    ioc.run_for(std::chrono::milliseconds{50});
  poster.join();
  // What is still in flight after the last POST.
  auto tail = clock_type::now() + std::chrono::seconds{5};
  while (delivered < expected && clock_type::now() < tail)
    ioc.run_for(std::chrono::milliseconds{50});
  std::printf("{\"kind\":\"%s\",\"subscribers\":%zu,\"connected\":%zu,"
              "\"events\":%zu,\"expected\":%zu,\"delivered\":%zu,"
              "\"p50_ms\":%.2f,\"p99_ms\":%.2f,\"max_ms\":%.2f,"
              "\"connect_s\":%.2f}\n",
              opt.kind.c_str(), opt.subscribers, connected, opt.events,
              expected, delivered, latency.quantile(0.5) / 1000.0,
              latency.quantile(0.99) / 1000.0,
              static_cast<double>(latency.max()) / 1000.0, connect_s);
  return delivered == expected ? 0 : 1;
}
