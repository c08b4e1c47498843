#include "tests/integration/redis_process.hpp"

#include <hiredis/hiredis.h>

#include <arpa/inet.h>
#include <cstdlib>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <netinet/in.h>
#include <sstream>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

namespace streamb::test {

using namespace std::chrono_literals;
using strings = std::vector<std::string>;

uint16_t free_loopback_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof(addr);
  bool bound = ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0
    && ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0;
  ::close(fd);
  REQUIRE(bound);
  return ntohs(addr.sin_port);
}

/// `name` in a directory of $PATH, or empty.
std::string find_on_path(const std::string& name) {
  auto path = std::getenv("PATH");
  if (path == nullptr)
    return {};
  std::istringstream dirs{path};
  for (std::string dir; std::getline(dirs, dir, ':');) {
    auto candidate = (dir.empty() ? "." : dir) + "/" + name;
    if (::access(candidate.c_str(), X_OK) == 0)
      return candidate;
  }
  return {};
}

/// A redis-server child process of this test, on a loopback port, in a temp
/// directory, without persistence. kill() and the destructor SIGKILL and
/// reap it, so a failing test leaves no process behind; PR_SET_PDEATHSIG
/// covers a test process that dies.
redis_process::redis_process() : binary_(find_on_path("redis-server")) {
  if (binary_.empty())
    FAIL("redis-server is not on PATH; scripts/test (via scripts/bootstrap) "
         "installs it");
  char dir[] = "/tmp/streamb-redis-test-XXXXXX";
  REQUIRE(::mkdtemp(dir) != nullptr);
  dir_ = dir;
}

redis_process::~redis_process() {
  kill();
  std::error_code ignored;
  std::filesystem::remove_all(dir_, ignored);
}

/// Starts redis-server on `port` and waits (at most 10 s) until it answers
/// PING. False if it exited first, e.g. because the port was taken.
bool redis_process::start(uint16_t port) {
  kill();
  port_ = port;
  strings args{binary_,  "--port",       std::to_string(port),
               "--bind", "127.0.0.1",    "--save",
               "",       "--appendonly", "no",
               "--dir",  dir_,           "--daemonize",
               "no",     "--loglevel",   "warning"};
  args.insert(args.end(), extra_args.begin(), extra_args.end());
  std::vector<char*> argv;
  for (auto& arg : args)
    argv.push_back(arg.data());
  argv.push_back(nullptr);
  auto log_path = dir_ + "/redis.log";
  int log = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC,
                   0600);
  REQUIRE(log >= 0);
  auto parent = ::getpid();
  pid_ = ::fork();
  if (pid_ == 0) {
    // The child: async-signal-safe calls only until exec.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent)
      ::_exit(126);
    ::dup2(log, STDOUT_FILENO);
    ::dup2(log, STDERR_FILENO);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  ::close(log);
  REQUIRE(pid_ > 0);
  return eventually(10s,
                    [this] {
                      int status = 0;
                      if (pid_ > 0 && ::waitpid(pid_, &status, WNOHANG) == pid_)
                        pid_ = -1;
                      return pid_ < 0 || answers_ping();
                    })
    && pid_ > 0;
}

void redis_process::kill() {
  if (pid_ <= 0)
    return;
  ::kill(pid_, SIGKILL);
  ::waitpid(pid_, nullptr, 0);
  pid_ = -1;
}

std::string redis_process::log() const {
  std::ifstream in{dir_ + "/redis.log"};
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

bool redis_process::answers_ping() const {
  auto ctx = redisConnectWithTimeout("127.0.0.1", port_, {0, 200'000});
  bool ok = false;
  if (ctx != nullptr && ctx->err == 0) {
    redisSetTimeout(ctx, {0, 200'000});
    auto reply = static_cast<redisReply*>(redisCommand(ctx, "PING"));
    // NOAUTH from a server that needs a password is an answer too.
    ok = reply != nullptr
      && (reply->type == REDIS_REPLY_STATUS
          || reply->type == REDIS_REPLY_ERROR);
    if (reply != nullptr)
      freeReplyObject(reply);
  }
  if (ctx != nullptr)
    redisFree(ctx);
  return ok;
}

/// Starts `server` on a free loopback port (retrying if another process
/// takes the port first); the port.
uint16_t start_on_free_port(redis_process& server) {
  for (int attempt = 0; attempt < 5; ++attempt) {
    auto port = free_loopback_port();
    if (server.start(port))
      return port;
  }
  FAIL("could not start redis-server; its log:\n" << server.log());
  return 0;
}

} // namespace streamb::test
