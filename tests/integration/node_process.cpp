#include "tests/integration/node_process.hpp"

#include <cerrno>
#include <csignal>
#include <cstring>
#include <poll.h>
#include <stdexcept>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

namespace streamb::test {

namespace {

using clock_type = std::chrono::steady_clock;

int spawn(const std::string& binary, const std::vector<std::string>& args,
          int& out_fd, bool merge_stderr) {
  int fds[2];
  if (pipe(fds) != 0)
    throw std::runtime_error("pipe failed");
  auto pid = fork();
  if (pid < 0)
    throw std::runtime_error("fork failed");
  if (pid == 0) {
    dup2(fds[1], STDOUT_FILENO);
    if (merge_stderr)
      dup2(fds[1], STDERR_FILENO);
    close(fds[0]);
    close(fds[1]);
    if (chdir(STREAMB_SOURCE_DIR) != 0)
      _exit(126);
    std::vector<char*> argv;
    std::string bin = binary;
    argv.push_back(bin.data());
    std::vector<std::string> copy = args;
    for (auto& a : copy)
      argv.push_back(a.data());
    argv.push_back(nullptr);
    execv(bin.c_str(), argv.data());
    _exit(127);
  }
  close(fds[1]);
  out_fd = fds[0];
  return pid;
}

// Reads what is available within `wait`; false on EOF.
bool read_some(int fd, std::string& into, std::chrono::milliseconds wait) {
  pollfd p{fd, POLLIN, 0};
  auto n = poll(&p, 1, static_cast<int>(wait.count()));
  if (n <= 0)
    return true;
  char buf[4096];
  auto got = read(fd, buf, sizeof(buf));
  if (got <= 0)
    return false;
  into.append(buf, static_cast<std::size_t>(got));
  return true;
}

int exit_code_of(int status) {
  if (WIFEXITED(status))
    return WEXITSTATUS(status);
  if (WIFSIGNALED(status))
    return 128 + WTERMSIG(status);
  return -1;
}

int wait_exit(int pid, std::chrono::milliseconds timeout) {
  auto deadline = clock_type::now() + timeout;
  for (;;) {
    int status = 0;
    auto r = waitpid(pid, &status, WNOHANG);
    if (r == pid)
      return exit_code_of(status);
    if (clock_type::now() >= deadline)
      return -1;
    std::this_thread::sleep_for(std::chrono::milliseconds{10});
  }
}

} // namespace

node_process::node_process(std::vector<std::string> args)
  : node_process(STREAMB_BINARY, std::move(args)) {
  // nop
}

node_process::node_process(const std::string& binary,
                           std::vector<std::string> args, bool merge_stderr) {
  pid_ = spawn(binary, args, stdout_fd_, merge_stderr);
}

uint16_t node_process::actor_port() const {
  const std::string marker = "agents at ";
  auto at = output_.find(marker);
  if (at == std::string::npos)
    return 0;
  auto colon = output_.find(':', at + marker.size());
  if (colon == std::string::npos)
    return 0;
  return static_cast<uint16_t>(std::stoi(output_.substr(colon + 1)));
}

bool node_process::wait_for(const std::string& text,
                            std::chrono::milliseconds timeout,
                            std::size_t occurrences) {
  auto deadline = clock_type::now() + timeout;
  for (;;) {
    std::size_t n = 0;
    for (auto at = output_.find(text); at != std::string::npos;
         at = output_.find(text, at + text.size()))
      ++n;
    if (n >= occurrences)
      return true;
    if (clock_type::now() >= deadline || stdout_fd_ < 0)
      return false;
    if (!read_some(stdout_fd_, output_, std::chrono::milliseconds{20}))
      return false;
  }
}

void node_process::signal(int sig) {
  if (pid_ > 0)
    kill(pid_, sig);
}

node_process::~node_process() {
  if (pid_ > 0) {
    kill(pid_, SIGKILL);
    int status = 0;
    waitpid(pid_, &status, 0);
  }
  if (stdout_fd_ >= 0)
    close(stdout_fd_);
}

uint16_t node_process::wait_for_port(std::chrono::milliseconds timeout) {
  auto deadline = clock_type::now() + timeout;
  const std::string marker = "serving http";
  while (clock_type::now() < deadline) {
    auto at = output_.find(marker);
    auto scheme_end = at == std::string::npos ? at : output_.find("://", at);
    if (scheme_end != std::string::npos) {
      auto colon = output_.find(':', scheme_end + 3);
      auto eol = output_.find('\n', at);
      if (colon != std::string::npos && eol != std::string::npos)
        return static_cast<uint16_t>(
          std::stoi(output_.substr(colon + 1, eol - colon - 1)));
    }
    if (!read_some(stdout_fd_, output_, std::chrono::milliseconds{100}))
      return 0;
  }
  return 0;
}

const std::string& node_process::drain(std::chrono::milliseconds wait) {
  auto deadline = clock_type::now() + wait;
  while (stdout_fd_ >= 0 && clock_type::now() < deadline)
    if (!read_some(stdout_fd_, output_, std::chrono::milliseconds{20}))
      break;
  return output_;
}

int node_process::stop(int sig, std::chrono::milliseconds timeout) {
  if (pid_ <= 0)
    return -1;
  kill(pid_, sig);
  // Keep reading its stdout meanwhile, as a supervisor would: a process
  // that exits flushes what it buffered, and a full pipe would hold it.
  auto deadline = clock_type::now() + timeout;
  int code = -1;
  bool open = stdout_fd_ >= 0;
  for (;;) {
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      code = exit_code_of(status);
      break;
    }
    if (clock_type::now() >= deadline)
      break;
    if (open)
      open = read_some(stdout_fd_, output_, std::chrono::milliseconds{10});
    else
      std::this_thread::sleep_for(std::chrono::milliseconds{10});
  }
  if (code == -1) {
    kill(pid_, SIGKILL);
    int status = 0;
    waitpid(pid_, &status, 0);
  }
  pid_ = -1;
  return code;
}

int node_process::run_to_exit(std::vector<std::string> args, std::string& out,
                              std::chrono::milliseconds timeout) {
  int fd = -1;
  auto pid = spawn(STREAMB_BINARY, args, fd, true);
  auto deadline = clock_type::now() + timeout;
  while (clock_type::now() < deadline
         && read_some(fd, out, std::chrono::milliseconds{100})) {
    // keep reading until EOF
  }
  close(fd);
  auto code = wait_exit(pid, std::chrono::milliseconds{1000});
  if (code == -1) {
    kill(pid, SIGKILL);
    int status = 0;
    waitpid(pid, &status, 0);
  }
  return code;
}

} // namespace streamb::test
