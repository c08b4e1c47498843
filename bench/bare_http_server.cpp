// Baseline for the HTTP benchmarks: a cpp-httplib server configured exactly
// like the node's former listener (bench/httplib_baseline.hpp, default
// streamb::http_config) that accepts `POST /api/v1/calls` and does nothing
// with it. httplib reads the whole body before the handler runs, so the body
// is received just as the node receives it; only the parsing and the hand-off
// to the actors are missing.
//
// With `--any-post` every other POST path answers 200 `{"received":true}`
// too (the webhook baseline, bench/run_webhooks: POST /webhooks/stripe).
//
//   bare_http_server [--port N] [--threads N] [--host ADDR] [--any-post] [...]
//
// `--help` lists every flag: each http_config field has one, defaulting to
// http_config's own default, so a runner can pass the values of the node's
// config file (bench/run_ingest does).
//
// Prints `listening on http://HOST:PORT (settings)` (flushed) once bound,
// serves until SIGTERM or SIGINT, then exits 0.

#include "bench/httplib_baseline.hpp"
#include "runtime/config/config.hpp"

#include <httplib.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <iostream>
#include <pthread.h>
#include <string>
#include <thread>
#include <vector>

namespace {

struct uint_option {
  const char* flag;
  const char* help;
  unsigned long min, max;
  std::function<unsigned long(const streamb::http_config&)> get;
  std::function<void(streamb::http_config&, unsigned long)> set;
};

// Every numeric field of streamb::http_config, so that a runner can hand the
// bare server the exact values of the node's config file (bench/run_ingest
// does).
const std::vector<uint_option>& uint_options() {
  using cfg_t = streamb::http_config;
  static const std::vector<uint_option> options = {
    {"--port", "port, 0 picks a free one", 0, 65535,
     [](const cfg_t& c) { return c.port; },
     [](cfg_t& c, unsigned long v) { c.port = static_cast<uint16_t>(v); }},
    {"--threads", "worker threads", 1, 4096,
     [](const cfg_t& c) { return c.threads; },
     [](cfg_t& c, unsigned long v) { c.threads = static_cast<uint32_t>(v); }},
    {"--backlog", "listen backlog", 1, 65535,
     [](const cfg_t& c) { return c.backlog; },
     [](cfg_t& c, unsigned long v) { c.backlog = static_cast<uint32_t>(v); }},
    {"--max-body-bytes", "largest accepted body", 1, 1ul << 40,
     [](const cfg_t& c) { return c.max_body_bytes; },
     [](cfg_t& c, unsigned long v) { c.max_body_bytes = v; }},
    {"--keep-alive-max-count", "requests per connection", 1, 4294967295ul,
     [](const cfg_t& c) { return c.keep_alive_max_count; },
     [](cfg_t& c, unsigned long v) {
       c.keep_alive_max_count = static_cast<uint32_t>(v);
     }},
    {"--keep-alive-timeout-s", "idle keep-alive timeout", 0, 86400,
     [](const cfg_t& c) { return c.keep_alive_timeout_s; },
     [](cfg_t& c, unsigned long v) {
       c.keep_alive_timeout_s = static_cast<uint32_t>(v);
     }},
    {"--head-timeout-s", "read timeout", 0, 86400,
     [](const cfg_t& c) { return c.head_timeout_s; },
     [](cfg_t& c, unsigned long v) {
       c.head_timeout_s = static_cast<uint32_t>(v);
     }},
    {"--write-timeout-s", "write timeout", 0, 86400,
     [](const cfg_t& c) { return c.write_timeout_s; },
     [](cfg_t& c, unsigned long v) {
       c.write_timeout_s = static_cast<uint32_t>(v);
     }},
  };
  return options;
}

void usage(std::ostream& out, const streamb::http_config& defaults) {
  out << "usage: bare_http_server [--host ADDR] [--any-post] [OPTION N]...\n"
         "  --host ADDR  address to bind (default "
      << defaults.host
      << ")\n"
         "  --any-post   also answer POST on any other path: 200 "
         "{\"received\":true}\n";
  for (const auto& o : uint_options()) {
    out << "  " << o.flag << " N  " << o.help << " (default " << o.get(defaults)
        << ")\n";
  }
  out << "Defaults are streamb::http_config's, port 0 aside.\n";
}

bool parse_uint(const char* text, unsigned long min, unsigned long max,
                unsigned long& out) {
  if (text == nullptr || *text < '0' || *text > '9')
    return false;
  char* end = nullptr;
  errno = 0;
  auto value = std::strtoul(text, &end, 10);
  if (errno != 0 || *end != '\0' || value < min || value > max)
    return false;
  out = value;
  return true;
}

} // namespace

int main(int argc, char** argv) {
  // http_config's defaults are the embedded config's node.http values.
  streamb::http_config cfg;
  cfg.port = 0;
  bool any_post = false;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      usage(std::cout, cfg);
      return 0;
    }
    if (arg == "--any-post") {
      any_post = true;
      continue;
    }
    const char* value_text = i + 1 < argc ? argv[i + 1] : nullptr;
    if (arg == "--host") {
      if (value_text == nullptr) {
        std::cerr << "bare_http_server: --host needs an address\n";
        return 2;
      }
      cfg.host = value_text;
      ++i;
      continue;
    }
    bool known = false;
    for (const auto& o : uint_options()) {
      if (arg != o.flag)
        continue;
      known = true;
      unsigned long value = 0;
      if (!parse_uint(value_text, o.min, o.max, value)) {
        std::cerr << "bare_http_server: " << o.flag << " needs a number "
                  << o.min << ".." << o.max << "\n";
        return 2;
      }
      o.set(cfg, value);
      ++i;
    }
    if (!known) {
      std::cerr << "bare_http_server: unknown argument '" << arg << "'\n";
      usage(std::cerr, cfg);
      return 2;
    }
  }

  // Signals are taken by one thread with sigwait: Server::stop() is not
  // async-signal-safe. Block them before any other thread exists so that every
  // worker inherits the mask.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  std::signal(SIGPIPE, SIG_IGN);

  httplib::Server srv;
  streamb::apply_http_settings(srv, cfg);
  srv.Post("/api/v1/calls",
           [](const httplib::Request&, httplib::Response& res) {
             res.status = 202;
             res.set_content("{\"accepted\":0}", "application/json");
           });
  // Registered after /api/v1/calls: httplib tries routes in order.
  if (any_post)
    srv.Post(R"(/.*)", [](const httplib::Request&, httplib::Response& res) {
      res.status = 200;
      res.set_content("{\"received\":true}", "application/json");
    });

  std::string err;
  int port = streamb::bind_http_server(srv, cfg.host, cfg.port, cfg.backlog,
                                       err);
  if (port < 0) {
    std::cerr << "bare_http_server: " << err << "\n";
    return 1;
  }

  // stop() does nothing until listen_after_bind() has marked the server
  // running, so a signal that arrives in between is retried until it sticks.
  std::atomic<bool> finished{false};
  std::thread stopper([&srv, &finished, stop_signals] {
    int sig = 0;
    sigwait(&stop_signals, &sig);
    while (!finished.load()) {
      srv.stop();
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  });

  std::cout << "listening on http://" << cfg.host << ":" << port << " (";
  for (const auto& o : uint_options()) {
    if (std::string(o.flag) != "--port")
      std::cout << (o.flag + 2) << "=" << o.get(cfg) << " ";
  }
  std::cout << "tcp_nodelay=1" << (any_post ? " any_post=1" : "") << ")"
            << std::endl;

  bool served = srv.listen_after_bind();
  finished = true;
  // If listening ended without a signal (an error), wake the stopper so that
  // it can be joined; a pending or second signal is harmless here.
  pthread_kill(stopper.native_handle(), SIGTERM);
  stopper.join();
  return served ? 0 : 1;
}
