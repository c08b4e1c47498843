#pragma once

// Runs the real `streamb` binary as a child process for integration tests:
// started with its own arguments, its stdout read for the URL it serves,
// stopped with a signal, killed if a test leaves it running.

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace streamb::test {

class node_process {
public:
  /// Starts `STREAMB_BINARY args...` in the source directory.
  explicit node_process(std::vector<std::string> args);

  /// Starts `binary args...` (e.g. STREAMB_AGENT_BINARY) the same way;
  /// with `merge_stderr` its log lines are in `output()` too.
  node_process(const std::string& binary, std::vector<std::string> args,
               bool merge_stderr = false);
  ~node_process();

  node_process(const node_process&) = delete;
  node_process& operator=(const node_process&) = delete;

  /// Waits (at most `timeout`) for the "serving http[s]://HOST:PORT" line;
  /// returns the port, or 0 if the process printed none or exited.
  uint16_t
  wait_for_port(std::chrono::milliseconds timeout = std::chrono::seconds{30});

  /// The port the node said agents connect to ("agents at HOST:PORT" on the
  /// line wait_for_port read); 0 if none.
  uint16_t actor_port() const;

  /// Reads stdout until `text` has appeared `occurrences` times in all of it
  /// (true), or `timeout` passes or the process exits (false).
  bool wait_for(const std::string& text, std::chrono::milliseconds timeout,
                std::size_t occurrences = 1);

  /// Sends `sig` without waiting (SIGSTOP, SIGCONT, SIGKILL, ...).
  void signal(int sig);

  /// Sends `sig` and waits at most `timeout` for the exit. Returns the exit
  /// code, 128+signal if it died of a signal, or -1 if it did not exit in
  /// time (it is then killed).
  int stop(int sig, std::chrono::milliseconds timeout);

  /// Reads what the process wrote to stdout within `wait` (all of it, up to
  /// EOF, for a process that has exited) and returns everything so far.
  const std::string&
  drain(std::chrono::milliseconds wait = std::chrono::milliseconds{200});

  /// The child's process id (for /proc reads); -1 once it was reaped.
  int pid() const {
    return pid_;
  }

  /// Everything the process wrote to stdout so far.
  const std::string& output() const {
    return output_;
  }

  /// Runs `STREAMB_BINARY args...` to completion (bounded by `timeout`) and
  /// returns its exit code; `out` gets stdout and stderr.
  static int
  run_to_exit(std::vector<std::string> args, std::string& out,
              std::chrono::milliseconds timeout = std::chrono::seconds{30});

private:
  int pid_ = -1;
  int stdout_fd_ = -1;
  std::string output_;
};

} // namespace streamb::test
