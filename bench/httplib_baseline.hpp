#pragma once

// The cpp-httplib server settings of the benchmarks' baseline server
// (bench/bare_http_server.cpp): the node's listener before it moved to
// Beast, configured from the same http_config so that "same settings" stays
// literally true for the fields both have.

#include "runtime/config/config.hpp"

#include <httplib.h>
#include <malloc.h>
#include <memory>
#include <string>
#include <sys/socket.h>

namespace streamb {


inline void apply_http_settings(httplib::Server& srv, const http_config& cfg) {
  // Without it headers and body leave in two writes and every response waits
  // for the peer's delayed ACK (~40 ms).
  srv.set_tcp_nodelay(true);
  srv.set_keep_alive_max_count(cfg.keep_alive_max_count);
  srv.set_keep_alive_timeout(cfg.keep_alive_timeout_s);
  srv.set_read_timeout(cfg.head_timeout_s, 0);
  srv.set_write_timeout(cfg.write_timeout_s, 0);
  // httplib answers a larger body with 413 before any handler runs and
  // without reading it; the bridge's error handler renders the JSON error.
  srv.set_payload_max_length(cfg.max_body_bytes);
  // A worker is held for the life of a keep-alive connection: the pool size
  // is the number of concurrent connections served.
  // Process-wide, but only HTTP needs it: glibc hands the pages of each
  // large request body back to the kernel and faults them in again for the
  // next one (~14 % of CPU at 1000-sample batches). Keep 16 MiB around.
  mallopt(M_TRIM_THRESHOLD, 16 << 20);
  auto threads = cfg.threads;
  srv.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
}

inline int bind_http_server(httplib::Server& srv, const std::string& host,
                     uint16_t port, uint32_t backlog, std::string& err) {
  // httplib keeps its listening socket private: catch it while it is made.
  auto fd = std::make_shared<int>(-1);
  // Not httplib's defaults: they add SO_REUSEPORT, with which a second node
  // started on the same port binds too and silently takes half the traffic.
  srv.set_socket_options([fd](int sock) {
    int yes = 1;
    ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
    *fd = sock;
  });
  int bound = port == 0 ? srv.bind_to_any_port(host)
                        : (srv.bind_to_port(host, port) ? port : -1);
  if (bound < 0) {
    err = "cannot bind " + host + ":" + std::to_string(port);
    return -1;
  }
  // httplib listens with a backlog of 5: bursts of connects then lose SYNs
  // and stall for a second. listen() again on the bound socket raises it.
  if (*fd < 0 || ::listen(*fd, static_cast<int>(backlog)) != 0) {
    err = "listen(backlog) failed";
    return -1;
  }
  return bound;
}

} // namespace streamb
