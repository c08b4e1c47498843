// The Redis backend against real redis-servers: the store suite on the server
// that scripts/test starts (STREAMB_TEST_REDIS), and what only Redis has: the
// key prefix, the URL, and a server that is missing, mute, or goes away and
// comes back.

#include "runtime/store/redis_backend.hpp"

#include "tests/integration/redis_process.hpp"
#include "tests/unit/runtime/store/backend_suite.hpp"

#include <catch2/catch.hpp>
#include <hiredis/hiredis.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

using namespace std::chrono_literals;
using streamb::store::backend;
using streamb::store::field_list;
using streamb::store::parse_redis_url;
using streamb::store::redis_backend;
using streamb::store::redis_options;
using streamb::store::redis_options_for;
using streamb::store::stream_entry;
using streamb::store::testing::get_or_nil;
using streamb::store::testing::ok;
using streamb::store::testing::outcome;
using steady = std::chrono::steady_clock;
using strings = std::vector<std::string>;
using streamb::test::eventually;
using streamb::test::free_loopback_port;
using streamb::test::redis_process;
using streamb::test::start_on_free_port;

namespace {

// -- the shared server --------------------------------------------------------

/// The server scripts/test started for this run. Without one the test fails:
/// a skipped Redis test would pass CI while testing nothing.
redis_options test_server() {
  auto url = std::getenv("STREAMB_TEST_REDIS");
  if (url == nullptr || *url == '\0')
    FAIL("STREAMB_TEST_REDIS is not set. Run the Redis tests through "
         "scripts/test, which starts a private redis-server and exports its "
         "URL (redis://127.0.0.1:PORT/0).");
  auto opts = parse_redis_url(url);
  if (!opts)
    FAIL("STREAMB_TEST_REDIS: " << caf::to_string(opts.error()));
  return *opts;
}

/// A key prefix that no other fixture, test or run uses: the process ID
/// tells runs apart, the counter the fixtures of one run.
std::string unique_prefix() {
  static std::atomic<int> counter{0};
  return "streamb-test:" + std::to_string(::getpid()) + ":"
    + std::to_string(++counter) + ":";
}

redis_options test_options() {
  auto opts = test_server();
  opts.prefix = unique_prefix();
  return opts;
}

/// Deletes every key under the backend's prefix. Best effort and silent: it
/// runs in destructors, which must not fail, also after a failed test.
void delete_keys(redis_backend& st) {
  if (auto names = st.keys(""))
    for (auto& name : *names)
      static_cast<void>(st.del(name));
}

/// The suite's fixture: a fresh keyspace under a unique prefix, removed
/// again at the end. Redis keeps its own time, so time passes by sleeping.
struct redis_fixture {
  redis_backend backend_{test_options()};

  redis_fixture() {
    REQUIRE(ok(backend_.keys("")).empty());
  }

  ~redis_fixture() {
    delete_keys(backend_);
  }

  backend& store() {
    return backend_;
  }

  void advance_ms(int64_t ms) {
    std::this_thread::sleep_for(std::chrono::milliseconds{ms});
  }
};

/// Deletes a backend's keys at the end of a test that made its own backend.
struct key_cleanup {
  redis_backend& st;

  ~key_cleanup() {
    delete_keys(st);
  }
};

// -- looking behind the backend's back ----------------------------------------

struct reply_deleter {
  void operator()(redisReply* x) const {
    freeReplyObject(x);
  }
};

using reply_ptr = std::unique_ptr<redisReply, reply_deleter>;

struct context_deleter {
  void operator()(redisContext* x) const {
    redisFree(x);
  }
};

/// A plain hiredis connection, to see what the backend wrote where.
class raw_client {
public:
  explicit raw_client(const redis_options& opts)
    : ctx_(redisConnectWithTimeout(opts.host.c_str(), opts.port, {2, 0})) {
    REQUIRE(ctx_ != nullptr);
    if (ctx_->err != 0)
      FAIL("raw connection to Redis failed: " << ctx_->errstr);
    redisSetTimeout(ctx_.get(), {2, 0});
    command({"SELECT", std::to_string(opts.db)});
  }

  reply_ptr command(const strings& args) {
    std::vector<const char*> argv;
    std::vector<size_t> sizes;
    for (auto& arg : args) {
      argv.push_back(arg.data());
      sizes.push_back(arg.size());
    }
    reply_ptr reply{static_cast<redisReply*>(redisCommandArgv(
      ctx_.get(), static_cast<int>(args.size()), argv.data(), sizes.data()))};
    if (reply == nullptr)
      FAIL("raw Redis command failed: " << ctx_->errstr);
    if (reply->type == REDIS_REPLY_ERROR)
      FAIL("raw Redis command failed: " << reply->str);
    return reply;
  }

  std::string text(const strings& args) {
    auto reply = command(args);
    return reply->str == nullptr ? "" : std::string{reply->str, reply->len};
  }

  long long integer(const strings& args) {
    return command(args)->integer;
  }

  /// Every key starting with `prefix` (which must hold no glob characters),
  /// sorted.
  strings scan(const std::string& prefix) {
    strings result;
    std::string cursor = "0";
    do {
      auto reply = command({"SCAN", cursor, "MATCH", prefix + "*"});
      cursor = std::string{reply->element[0]->str, reply->element[0]->len};
      auto& names = *reply->element[1];
      for (size_t i = 0; i < names.elements; ++i)
        result.emplace_back(names.element[i]->str, names.element[i]->len);
    } while (cursor != "0");
    std::sort(result.begin(), result.end());
    result.erase(std::unique(result.begin(), result.end()), result.end());
    return result;
  }

private:
  std::unique_ptr<redisContext, context_deleter> ctx_;
};

// -- servers of the test's own ------------------------------------------------

/// A loopback port that was free a moment ago: bound to port 0, then closed.
/// A TCP server on a loopback port that is not Redis. `mute` never accepts:
/// the kernel completes the handshake and nobody ever answers. `hang_up`
/// accepts every connection and closes it at once, counting them.
class fake_server {
public:
  enum mode { mute, hang_up };

  explicit fake_server(mode m) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    REQUIRE(fd_ >= 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(addr);
    REQUIRE(::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0);
    REQUIRE(::listen(fd_, 64) == 0);
    REQUIRE(::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) == 0);
    port_ = ntohs(addr.sin_port);
    if (m == hang_up)
      thread_ = std::thread{[this] { hang_up_loop(); }};
  }

  ~fake_server() {
    stop_ = true;
    if (thread_.joinable())
      thread_.join();
    ::close(fd_);
  }

  fake_server(const fake_server&) = delete;
  fake_server& operator=(const fake_server&) = delete;

  uint16_t port() const {
    return port_;
  }

  int accepted() const {
    return accepted_.load();
  }

private:
  void hang_up_loop() {
    // Polls with a timeout so that the destructor can stop it.
    while (!stop_) {
      pollfd pfd{fd_, POLLIN, 0};
      if (::poll(&pfd, 1, 10) <= 0)
        continue;
      int conn = ::accept(fd_, nullptr, nullptr);
      if (conn >= 0) {
        ::close(conn);
        ++accepted_;
      }
    }
  }

  int fd_ = -1;
  uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> accepted_{0};
  std::thread thread_;
};

bool contains(const std::string& str, const std::string& part) {
  return str.find(part) != std::string::npos;
}

} // namespace

// -- the contract
// ---------------------------------------------------------------

TEST_CASE("the redis backend keeps the store's Redis semantics",
          "[store][redis]") {
  streamb::store::testing::run_backend_suite<redis_fixture>();
}

// -- Redis only
// -------------------------------------------------------------------

TEST_CASE("keys land under the configured prefix and keys lists them "
          "without it",
          "[store][redis]") {
  auto opts = test_options();
  redis_backend st{opts};
  key_cleanup cleanup{st};
  ok(st.set("a", "1"));
  ok(st.hset("h", {{"f", "v"}}));
  ok(st.xadd("x", {{"f", "v"}}));
  CHECK(ok(st.incr_by("n", 1, 10'000)) == 1);
  CHECK(ok(st.xgroup_create("g", "workers", "$")));
  raw_client raw{opts};
  auto& p = opts.prefix;
  CHECK(raw.scan(p) == strings{p + "a", p + "g", p + "h", p + "n", p + "x"});
  CHECK(raw.text({"TYPE", p + "h"}) == "hash");
  CHECK(raw.text({"TYPE", p + "x"}) == "stream");
  CHECK(raw.text({"GET", p + "n"}) == "1");
  CHECK(raw.integer({"PTTL", p + "n"}) > 0);
  CHECK(ok(st.keys("")) == strings{"a", "g", "h", "n", "x"});
}

TEST_CASE("glob characters in the prefix and in the keys argument are taken "
          "literally",
          "[store][redis]") {
  auto opts = test_options();
  auto base = opts.prefix;
  opts.prefix = base + "[ab]*?\\:";
  redis_backend st{opts};
  key_cleanup cleanup{st};
  raw_client raw{opts};
  // Matches the prefix read as a pattern, not as a string.
  raw.command({"SET", base + "azz:k", "1"});
  ok(st.set("k", "1"));
  ok(st.set("x*1", "1"));
  ok(st.set("xy", "1"));
  CHECK(ok(st.keys("")) == strings{"k", "x*1", "xy"});
  CHECK(ok(st.keys("x*")) == strings{"x*1"});
  CHECK(ok(st.keys("x?")).empty());
  raw.command({"DEL", base + "azz:k"});
}

TEST_CASE("batches on separate connections never interleave",
          "[store][redis]") {
  // The suite's isolation section shares one backend, whose mutex already
  // keeps its callers' round trips apart; here only MULTI ... EXEC keeps the
  // other connections (other store actors, other nodes) out of a batch.
  // Without it a pipeline this long (about 60 KB) would be: Redis reads 16 KB
  // of a client's commands at a time and serves other clients in between.
  constexpr int connections = 3;
  constexpr int batches = 50;
  auto opts = test_options();
  std::vector<std::unique_ptr<redis_backend>> backends;
  for (int i = 0; i < connections; ++i)
    backends.push_back(std::make_unique<redis_backend>(opts));
  key_cleanup cleanup{*backends.front()};
  auto ops = streamb::store::testing::isolation_probe(1'000);
  std::atomic<int> failures{0};
  std::atomic<int> interleaved{0};
  std::vector<std::thread> workers;
  for (auto& st : backends)
    workers.emplace_back([&st = *st, &ops, &failures, &interleaved] {
      for (int i = 0; i < batches; ++i) {
        auto r = st.write(ops);
        if (!r)
          ++failures;
        else if (!streamb::store::testing::ran_whole(*r))
          ++interleaved;
      }
    });
  for (auto& w : workers)
    w.join();
  CHECK(failures.load() == 0);
  CHECK(interleaved.load() == 0);
  auto& st = *backends.front();
  CHECK(get_or_nil(st, "a") == std::to_string(2 * connections * batches));
  CHECK(get_or_nil(st, "b") == std::to_string(2 * connections * batches));
}

TEST_CASE("the database in the URL is selected on connect", "[store][redis]") {
  auto opts = test_options();
  auto other = opts;
  other.db = opts.db == 1 ? 2 : 1;
  redis_backend st{other};
  key_cleanup cleanup{st};
  ok(st.set("k", "v"));
  CHECK(raw_client{other}.integer({"EXISTS", other.prefix + "k"}) == 1);
  CHECK(raw_client{opts}.integer({"EXISTS", other.prefix + "k"}) == 0);
}

TEST_CASE("keys, fields and values are binary safe", "[store][redis]") {
  redis_fixture fx;
  auto& st = fx.store();
  auto bytes = [](auto& literal) {
    return std::string{literal, sizeof(literal) - 1};
  };
  const auto key = bytes("k\0 %s\r\n*1");
  const auto value = bytes("\0\r\n$3\r\nSET\xff");
  ok(st.set(key, value));
  CHECK(get_or_nil(st, key) == value);
  CHECK(ok(st.keys("")) == strings{key});
  ok(st.hset("h", {{key, value}}));
  CHECK(ok(st.hgetall("h")) == field_list{{key, value}});
  auto id = ok(st.xadd("x", {{key, value}}));
  CHECK(ok(st.xrange("x", "-", "+"))
        == std::vector<stream_entry>{{id, {{key, value}}}});
}

TEST_CASE("a failed incr_by with a TTL leaves the key's expiry as it was",
          "[store][redis]") {
  // Inside MULTI, PEXPIRE ... NX runs even when INCRBY failed; the backend
  // takes the deadline back.
  redis_fixture fx;
  auto& st = fx.store();
  ok(st.set("s", "abc"));
  ok(st.hset("h", {{"f", "v"}}));
  ok(st.set("t", "abc", 10'000));
  CHECK(outcome(st.incr_by("s", 1, 10'000)) == "store_error");
  CHECK(outcome(st.incr_by("h", 1, 10'000)) == "store_error");
  CHECK(outcome(st.incr_by("t", 1, 60'000)) == "store_error");
  CHECK(ok(st.ttl_ms("s")) == -1);
  CHECK(ok(st.ttl_ms("h")) == -1);
  auto ttl = ok(st.ttl_ms("t"));
  CHECK(ttl > 0);
  CHECK(ttl <= 10'000);
  CHECK(get_or_nil(st, "s") == "abc");
}

TEST_CASE("parse_redis_url accepts credentials, host, port and database and "
          "rejects anything else",
          "[store][redis]") {
  struct good_url {
    const char* url;
    const char* host;
    int port;
    int db;
  };
  for (auto [url, host, port, db] :
       {good_url{"redis://127.0.0.1:23373/0", "127.0.0.1", 23373, 0},
        good_url{"redis://localhost", "localhost", 6379, 0},
        good_url{"redis://redis.internal:6380", "redis.internal", 6380, 0},
        good_url{"redis://cache_1/3", "cache_1", 6379, 3},
        good_url{"redis://[::1]:7000/2", "::1", 7000, 2},
        good_url{"redis://[::1]", "::1", 6379, 0}}) {
    CAPTURE(url);
    auto opts = parse_redis_url(url);
    REQUIRE(opts);
    CHECK(opts->host == host);
    CHECK(opts->port == port);
    CHECK(opts->db == db);
    CHECK(opts->prefix == "streamb:");
    CHECK(opts->password.empty());
  }
  // Credentials: percent-encoded; the last '@' before the path ends them.
  auto with_user = parse_redis_url("redis://streamb:p%40ss%2Fw%3Ard@h:7/1");
  REQUIRE(with_user);
  CHECK(with_user->username == "streamb");
  CHECK(with_user->password == "p@ss/w:rd");
  CHECK(with_user->host == "h");
  CHECK(with_user->db == 1);
  auto default_user = parse_redis_url("redis://:raw@pw@h");
  REQUIRE(default_user);
  CHECK(default_user->username.empty());
  CHECK(default_user->password == "raw@pw");
  CHECK(default_user->host == "h");
  for (auto url : {"",
                   "localhost:6379",
                   "http://localhost",
                   "rediss://localhost",
                   "unix:///tmp/redis.sock",
                   "REDIS://localhost",
                   "redis://",
                   "redis://:6379",
                   "redis://host:",
                   "redis://host:0",
                   "redis://host:65536",
                   "redis://host:99999999999",
                   "redis://host:63a9",
                   "redis://host:+80",
                   "redis://host/",
                   "redis://host/x",
                   "redis://host/1/2",
                   "redis://host/-1",
                   "redis://host/99999999999",
                   "redis://host?db=1",
                   "redis://host:6379/0?password=s3cret",
                   "redis://host#x",
                   "redis://ho st",
                   "redis://[::1",
                   "redis://[::1]x",
                   "redis://a:b:c",
                   "redis://s3cret@host",
                   "redis://user:@host",
                   "redis://:s3cret%zz@host",
                   "redis://:s3cret%4@host",
                   "redis://:s3cret@",
                   "redis://:s3cret@host?x"}) {
    CAPTURE(url);
    auto opts = parse_redis_url(url);
    CHECK(outcome(opts) == "invalid_argument");
    if (!opts) {
      auto message = caf::to_string(opts.error());
      CAPTURE(message);
      CHECK(contains(message, "host[:port][/db]"));
      CHECK_FALSE(contains(message, "s3cret"));
    }
  }
}

TEST_CASE("a backend pointed at a closed port fails fast with "
          "store_unavailable",
          "[store][redis]") {
  redis_options opts;
  opts.port = free_loopback_port();
  opts.prefix = unique_prefix();
  redis_backend st{opts};
  CHECK_FALSE(st.connected());
  CHECK(st.last_error().empty());
  auto started = steady::now();
  auto first = st.ping();
  CHECK(outcome(first) == "store_unavailable");
  if (!first)
    CHECK(contains(caf::to_string(first.error()),
                   "127.0.0.1:" + std::to_string(opts.port)));
  // Within the backoff, calls fail without trying to connect.
  CHECK(outcome(st.set("k", "v")) == "store_unavailable");
  CHECK(outcome(st.get("k")) == "store_unavailable");
  CHECK(outcome(st.incr_by("n", 1, 1'000)) == "store_unavailable");
  CHECK(outcome(st.xadd("x", {{"f", "v"}})) == "store_unavailable");
  CHECK(outcome(st.xreadgroup("x", "g", "c")) == "store_unavailable");
  CHECK(outcome(st.keys("")) == "store_unavailable");
  CHECK(steady::now() - started < 1s);
  CHECK_FALSE(st.connected());
  CHECK(contains(st.last_error(), "refused"));
}

TEST_CASE("a server that accepts but never answers fails a call after the "
          "command timeout",
          "[store][redis]") {
  fake_server server{fake_server::mute};
  redis_options opts;
  opts.port = server.port();
  opts.prefix = unique_prefix();
  opts.command_timeout = 200ms;
  redis_backend st{opts};
  auto started = steady::now();
  CHECK(outcome(st.ping()) == "store_unavailable");
  auto elapsed = steady::now() - started;
  CHECK(elapsed >= 150ms);
  CHECK(elapsed < 2s);
  CHECK_FALSE(st.connected());
  CHECK(contains(st.last_error(), "no reply within 200 ms"));
}

TEST_CASE("reconnect attempts are spaced by a backoff that doubles up to its "
          "maximum",
          "[store][redis]") {
  fake_server server{fake_server::hang_up};
  redis_options opts;
  opts.port = server.port();
  opts.prefix = unique_prefix();
  opts.backoff_min = 100ms;
  opts.backoff_max = 400ms;
  redis_backend st{opts};
  int calls = 0;
  int unavailable = 0;
  auto until = steady::now() + 1'200ms;
  while (steady::now() < until) {
    ++calls;
    if (outcome(st.ping()) == "store_unavailable")
      ++unavailable;
    std::this_thread::sleep_for(2ms);
  }
  CHECK(unavailable == calls);
  // Attempts at about 0, 100, 300, 700 and 1100 ms; one per call would be
  // hundreds.
  CAPTURE(calls);
  CHECK(server.accepted() >= 3);
  CHECK(server.accepted() <= 6);
}

TEST_CASE("calls fail with store_unavailable while Redis is gone and succeed "
          "again once it is back, on the same backend",
          "[store][redis]") {
  redis_process server;
  auto port = start_on_free_port(server);
  redis_options opts;
  opts.port = port;
  opts.prefix = unique_prefix();
  opts.connect_timeout = 500ms;
  opts.command_timeout = 500ms;
  // Keeps the wait for recovery short; the doubling is tested above.
  opts.backoff_max = 200ms;
  redis_backend st{opts};
  CHECK_FALSE(st.connected());
  ok(st.set("k", "before"));
  CHECK(st.connected());

  server.kill();
  auto started = steady::now();
  // The first call finds the connection dead; later ones fail fast until a
  // reconnect is due, and then fail to connect.
  CHECK(outcome(st.set("k", "during")) == "store_unavailable");
  CHECK_FALSE(st.connected());
  CHECK_FALSE(st.last_error().empty());
  for (int i = 0; i < 20; ++i) {
    CHECK(outcome(st.get("k")) == "store_unavailable");
    CHECK(outcome(st.incr_by("n", 1, 1'000)) == "store_unavailable");
    std::this_thread::sleep_for(20ms);
  }
  CHECK(steady::now() - started < 3s);
  CHECK_FALSE(st.connected());

  if (!server.start(port))
    FAIL("redis-server did not come back on port " << port << "; its log:\n"
                                                   << server.log());
  REQUIRE(eventually(10s, [&st] { return static_cast<bool>(st.ping()); }));
  CHECK(st.connected());
  // The new server kept nothing (no persistence); the backend serves it as
  // it served the old one.
  CHECK(get_or_nil(st, "k") == "(nil)");
  ok(st.set("k", "after"));
  CHECK(get_or_nil(st, "k") == "after");
  CHECK(ok(st.incr_by("n", 1, 1'000)) == 1);
}

TEST_CASE("a Redis that needs a password: the backend logs in with the "
          "default user or an ACL user, and a wrong password is refused "
          "with the server's reason, never the password",
          "[store][redis]") {
  redis_process server;
  server.extra_args = {"--requirepass", "s3cr@t/pw", "--user", "streamb", "on",
                       ">acl-s3cret",   "~*",        "&*",     "+@all"};
  auto port = start_on_free_port(server);
  auto base = "127.0.0.1:" + std::to_string(port);
  auto backend_for = [&](const std::string& url, const std::string& user = "",
                         const std::string& password = "") {
    auto opts = redis_options_for(url, user, password, unique_prefix());
    REQUIRE(opts);
    opts->connect_timeout = 500ms;
    opts->command_timeout = 500ms;
    return std::make_unique<redis_backend>(std::move(*opts));
  };
  // The default user, the password percent-encoded in the URL.
  auto by_url = backend_for("redis://:s3cr%40t%2Fpw@" + base + "/0");
  ok(by_url->set("k", "v"));
  CHECK(get_or_nil(*by_url, "k") == "v");
  // An ACL user, from the config's username and password, on database 2.
  auto by_config = backend_for("redis://" + base + "/2", "streamb",
                               "acl-s3cret");
  ok(by_config->set("k", "in db 2"));
  CHECK(get_or_nil(*by_config, "k") == "in db 2");
  // No password, and a wrong one: store_unavailable with Redis' reason.
  auto none = backend_for("redis://" + base + "/0");
  CHECK(outcome(none->get("k")) == "store_unavailable");
  CHECK(contains(none->last_error(), "NOAUTH"));
  auto wrong = backend_for("redis://" + base + "/0", "streamb", "not-it");
  auto refused = wrong->get("k");
  CHECK(outcome(refused) == "store_unavailable");
  CHECK(contains(wrong->last_error(), "WRONGPASS"));
  CHECK_FALSE(contains(wrong->last_error(), "not-it"));
  CHECK_FALSE(contains(caf::to_string(refused.error()), "not-it"));
  // Credentials twice are refused before any connection.
  auto twice = redis_options_for("redis://:a@" + base, "", "b", "p:");
  REQUIRE_FALSE(twice);
  CHECK(contains(caf::to_string(twice.error()), "given twice"));
  CHECK_FALSE(contains(caf::to_string(twice.error()), ":a@"));
}
