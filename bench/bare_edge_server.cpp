// Baseline for the webhook and ingest benchmarks: the node's own HTTP edge
// (bridges/http/http_server.hpp, with node.http's limits from a config file,
// TLS included) and nothing behind it. Every request, whatever its method
// and path, is answered 200 `{"received":true}` on the io thread once its
// body has been read; no routes, no auth, no actors. What a benchmark
// measures against it is the cost of everything behind the edge.
//
//   bare_edge_server [--config FILE] [--host ADDR] [--port N]
//
// FILE defaults to config/streamb.json; --host and --port override
// node.http's. Prints `listening on http://HOST:PORT (edge io_threads=N)`
// once bound, serves until SIGTERM or SIGINT, then exits 0.

#include "bridges/http/http_server.hpp"
#include "bridges/http_bridge.hpp"
#include "runtime/config/config.hpp"

#include <csignal>
#include <cstdio>
#include <iostream>
#include <pthread.h>
#include <string>
#include <thread>

int main(int argc, char** argv) {
  std::string config_path = "config/streamb.json";
  std::string host;
  int port = -1;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (i + 1 >= argc) {
      std::cerr << "usage: bare_edge_server [--config FILE] [--host ADDR] "
                   "[--port N]\n";
      return 2;
    }
    if (arg == "--config")
      config_path = argv[++i];
    else if (arg == "--host")
      host = argv[++i];
    else if (arg == "--port")
      port = std::stoi(argv[++i]);
    else {
      std::cerr << "bare_edge_server: unknown option " << arg << '\n';
      return 2;
    }
  }
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  std::signal(SIGPIPE, SIG_IGN);
  streamb::config cfg;
  try {
    cfg = streamb::load_config_file(config_path);
  } catch (const std::exception& e) {
    std::cerr << "bare_edge_server: " << e.what() << '\n';
    return 2;
  }
  auto& http = cfg.node.http;
  if (!host.empty())
    http.host = host;
  if (port >= 0)
    http.port = static_cast<uint16_t>(port);
  streamb::http_handlers handlers;
  handlers.on_request = [](streamb::http_request, streamb::http_reply reply) {
    streamb::http_response res;
    res.set_content(R"({"received":true})", "application/json");
    reply(std::move(res));
  };
  auto limits = streamb::limits_of(http);
  streamb::http_server server{limits, std::move(handlers)};
  std::string err;
  if (http.tls.enabled()
      && !server.use_tls(http.tls.cert_file, http.tls.key_file, err)) {
    std::cerr << "bare_edge_server: " << err << '\n';
    return 1;
  }
  auto bound = server.listen(http.host, http.port, err);
  if (bound == 0) {
    std::cerr << "bare_edge_server: " << err << '\n';
    return 1;
  }
  server.start();
  auto io_threads = limits.io_threads != 0
    ? limits.io_threads
    : std::max(1u, std::thread::hardware_concurrency());
  std::printf("listening on http://%s:%u (edge io_threads=%u)\n",
              http.host.c_str(), static_cast<unsigned>(bound), io_threads);
  std::fflush(stdout);
  int sig = 0;
  sigwait(&stop_signals, &sig);
  server.stop(std::chrono::seconds{http.shutdown_grace_s});
  return 0;
}
