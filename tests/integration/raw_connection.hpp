#pragma once

// A plain TCP connection to 127.0.0.1 for edge tests that must send what no
// HTTP client library sends: half a head, one byte a second, two framings,
// pipelined requests. Every read is bounded in time.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace streamb::test {

class raw_connection {
public:
  /// `receive_buffer` > 0 sets SO_RCVBUF before connecting (a small one
  /// makes a client that stops reading hold little).
  explicit raw_connection(uint16_t port, int receive_buffer = 0) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd_ >= 0 && receive_buffer > 0)
      ::setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &receive_buffer,
                   sizeof(receive_buffer));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd_ >= 0
        && ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr))
          != 0) {
      ::close(fd_);
      fd_ = -1;
    }
    if (fd_ >= 0) {
      int one = 1;
      ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    }
  }

  ~raw_connection() {
    if (fd_ >= 0)
      ::close(fd_);
  }

  raw_connection(const raw_connection&) = delete;
  raw_connection& operator=(const raw_connection&) = delete;

  bool connected() const {
    return fd_ >= 0;
  }

  /// False when the peer closed or reset the connection.
  bool send(const std::string& bytes) {
    std::size_t off = 0;
    while (off < bytes.size()) {
      auto n = ::send(fd_, bytes.data() + off, bytes.size() - off,
                      MSG_NOSIGNAL);
      if (n <= 0)
        return false;
      off += static_cast<std::size_t>(n);
    }
    return true;
  }

  /// Reads until the peer closes or `timeout` passes; everything so far.
  std::string read_until_closed(std::chrono::milliseconds timeout) {
    read_while([] { return true; }, timeout);
    return received_;
  }

  /// Reads until `received()` holds `count` complete answers (by counting
  /// "HTTP/1.1 " status lines whose bodies are complete), the peer closes,
  /// or `timeout` passes.
  std::size_t read_answers(std::size_t count,
                           std::chrono::milliseconds timeout) {
    read_while([&] { return complete_answers() < count; }, timeout);
    return complete_answers();
  }

  /// Reads until `done(received())` or the peer closes or `timeout`
  /// passes; whether `done` held.
  template <class Done>
  bool read_until(Done done, std::chrono::milliseconds timeout) {
    read_while([&] { return !done(received_); }, timeout);
    return done(received_);
  }

  /// Whether the peer has closed the connection (EOF or reset), waiting at
  /// most `timeout` for it.
  bool closed_within(std::chrono::milliseconds timeout) {
    read_while([] { return true; }, timeout);
    return closed_;
  }

  const std::string& received() const {
    return received_;
  }

  /// The bodies of the complete answers received so far, in order
  /// (Content-Length framing, as the node answers).
  std::vector<std::string> bodies() const {
    std::vector<std::string> out;
    std::size_t pos = 0;
    for (;;) {
      auto head_end = received_.find("\r\n\r\n", pos);
      if (head_end == std::string::npos)
        return out;
      auto head = received_.substr(pos, head_end - pos);
      std::size_t length = 0;
      auto cl = lower(head).find("content-length:");
      if (cl != std::string::npos)
        length = std::stoul(head.substr(cl + 15));
      if (received_.size() < head_end + 4 + length)
        return out;
      out.push_back(received_.substr(head_end + 4, length));
      pos = head_end + 4 + length;
    }
  }

  int fd() const {
    return fd_;
  }

private:
  static std::string lower(std::string x) {
    for (auto& c : x)
      c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return x;
  }

  std::size_t complete_answers() const {
    return bodies().size();
  }

  template <class Pred>
  void read_while(Pred more, std::chrono::milliseconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    char buf[65536];
    while (!closed_ && more()) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0)
        return;
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left.count())) <= 0)
        return;
      auto n = ::recv(fd_, buf, sizeof(buf), 0);
      if (n <= 0) {
        closed_ = true;
        return;
      }
      received_.append(buf, static_cast<std::size_t>(n));
    }
  }

  int fd_ = -1;
  bool closed_ = false;
  std::string received_;
};

} // namespace streamb::test
