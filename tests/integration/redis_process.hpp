#pragma once

// Test helpers for what crosses a real socket: free loopback ports, bounded
// polling, and a private redis-server child process that a test can kill and
// start again (Redis gone and back).

#include <catch2/catch.hpp>

#include <chrono>
#include <cstdint>
#include <string>
#include <sys/types.h>
#include <thread>
#include <vector>

namespace streamb::test {

/// A loopback port nothing listens on right now: bound, then closed.
uint16_t free_loopback_port();

/// `name` in a directory of $PATH, or empty.
std::string find_on_path(const std::string& name);

/// Polls `done` every 50 ms for at most `limit`; whether it became true.
template <class Predicate>
bool eventually(std::chrono::steady_clock::duration limit, Predicate done) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  for (;;) {
    if (done())
      return true;
    if (std::chrono::steady_clock::now() >= deadline)
      return false;
    std::this_thread::sleep_for(std::chrono::milliseconds{50});
  }
}

/// A redis-server child process of this test, on a loopback port, in a temp
/// directory, without persistence. kill() and the destructor SIGKILL and
/// reap it, so a failing test leaves no process behind; PR_SET_PDEATHSIG
/// covers a test process that dies.
class redis_process {
public:
  redis_process();
  ~redis_process();

  redis_process(const redis_process&) = delete;
  redis_process& operator=(const redis_process&) = delete;

  /// Starts redis-server on `port` and waits (at most 10 s) until it answers
  /// PING. False if it exited first, e.g. because the port was taken.
  bool start(uint16_t port);

  /// More redis-server options for the next start (e.g. --requirepass).
  std::vector<std::string> extra_args;

  void kill();

  std::string log() const;

private:
  bool answers_ping() const;

  std::string binary_;
  std::string dir_;
  uint16_t port_ = 0;
  pid_t pid_ = -1;
};

/// Starts `server` on a free loopback port (retrying if another process
/// takes the port first); the port.
uint16_t start_on_free_port(redis_process& server);

} // namespace streamb::test
