#include "runtime/store/redis_backend.hpp"

#include "runtime/core/log.hpp"

#include "runtime/core/error_code.hpp"
#include "runtime/store/write_batch.hpp"

#include <hiredis/hiredis.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <climits>
#include <csignal>
#include <cstring>
#include <initializer_list>
#include <limits>
#include <memory>
#include <mutex>
#include <pthread.h>
#include <string_view>
#include <sys/time.h>
#include <utility>
#include <vector>

namespace streamb::store {

namespace {

using namespace std::chrono_literals;
using std::chrono::milliseconds;
using steady = std::chrono::steady_clock;

constexpr auto i64_max = std::numeric_limits<int64_t>::max();

// -- replies ------------------------------------------------------------------

struct reply_deleter {
  void operator()(redisReply* x) const {
    freeReplyObject(x);
  }
};

using reply_ptr = std::unique_ptr<redisReply, reply_deleter>;

/// One command: owned strings, sent as a binary-safe argv. Copying keys and
/// values costs nothing next to the round trip, and nothing can dangle.
using argv = std::vector<std::string>;

std::string text(const redisReply& x) {
  return x.str == nullptr ? std::string{} : std::string{x.str, x.len};
}

bool is_text(const redisReply& x) {
  return x.type == REDIS_REPLY_STRING || x.type == REDIS_REPLY_STATUS;
}

const char* type_name(int type) {
  switch (type) {
    case REDIS_REPLY_STRING: return "string";
    case REDIS_REPLY_ARRAY: return "array";
    case REDIS_REPLY_INTEGER: return "integer";
    case REDIS_REPLY_NIL: return "nil";
    case REDIS_REPLY_STATUS: return "status";
    case REDIS_REPLY_ERROR: return "error";
  }
  return "unknown";
}

/// A reply of a shape the command never gives: a protocol mismatch, e.g. a
/// server that is not Redis 7.
caf::error unexpected_reply(std::string_view command, const redisReply& x) {
  return caf::make_error(error_code::store_error,
                         "unexpected " + std::string{type_name(x.type)}
                           + " reply to " + std::string{command});
}

bool starts_with(std::string_view str, std::string_view prefix) {
  return str.substr(0, prefix.size()) == prefix;
}

bool starts_with_nocase(std::string_view str, std::string_view prefix) {
  if (str.size() < prefix.size())
    return false;
  for (size_t i = 0; i < prefix.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(str[i]))
        != std::tolower(static_cast<unsigned char>(prefix[i])))
      return false;
  return true;
}

/// Maps a Redis error reply to the contract's codes. Redis names the error
/// class in the first word; plain "ERR" needs a look at the text, and only
/// the texts that blame an argument become invalid_argument.
caf::error classify(std::string_view message) {
  auto space = message.find(' ');
  auto kind = message.substr(0, space);
  auto rest = space == std::string_view::npos ? std::string_view{}
                                              : message.substr(space + 1);
  auto code = error_code::store_error;
  if (kind == "NOGROUP") {
    code = error_code::not_found;
  } else if (kind == "LOADING" || kind == "BUSY" || kind == "MASTERDOWN"
             || kind == "READONLY" || kind == "TRYAGAIN"
             || kind == "CLUSTERDOWN" || kind == "NOAUTH") {
    // The server is there but cannot serve us now (or ever, without a
    // password): as unusable as a server that is down.
    code = error_code::store_unavailable;
  } else if (kind == "ERR") {
    for (auto blame : {"invalid stream id", "invalid start id",
                       "invalid end id", "syntax error", "invalid expire time"})
      if (starts_with_nocase(rest, blame))
        code = error_code::invalid_argument;
  }
  // WRONGTYPE and everything else (not an integer, overflow, OOM, ...) is a
  // store_error.
  return caf::make_error(code, "redis: " + std::string{message});
}

// -- arguments ----------------------------------------------------------------

caf::error invalid(std::string what) {
  return caf::make_error(error_code::invalid_argument, std::move(what));
}

/// Negative and overflowing TTLs fail before anything is sent, so that a
/// failed call changes nothing, as in the memory backend. We judge overflow by
/// our clock and Redis by its own; they disagree only for TTLs within the
/// clock skew of 292 million years, and Redis still rejects those itself.
caf::error check_ttl(int64_t ttl_ms) {
  return store::check_ttl(ttl_ms, wall_clock_ms());
}

/// Redis parses counts as signed 64-bit integers; larger ones mean the same
/// as the largest.
std::string count_arg(uint64_t count) {
  return std::to_string(std::min<uint64_t>(count, i64_max));
}

/// Appends the trim clause of XADD / XTRIM. Exact trimming ("="), because the
/// contract promises exact lengths; Redis' "~" would keep whole nodes.
caf::error append_trim(argv& cmd, const stream_trim& trim) {
  if (trim.max_len > 0 && !trim.min_id.empty())
    return invalid("MAXLEN and MINID cannot be combined");
  if (trim.max_len > 0) {
    cmd.insert(cmd.end(), {"MAXLEN", "=", count_arg(trim.max_len)});
  } else if (!trim.min_id.empty()) {
    cmd.insert(cmd.end(), {"MINID", "=", trim.min_id});
  }
  return {};
}

/// Escapes Redis' glob characters so that MATCH takes `str` literally.
std::string glob_escape(std::string_view str) {
  std::string result;
  result.reserve(str.size());
  for (auto ch : str) {
    if (ch == '*' || ch == '?' || ch == '[' || ch == ']' || ch == '\\')
      result += '\\';
    result += ch;
  }
  return result;
}

// -- the wire format ----------------------------------------------------------

/// Appends "<type><n>\r\n", the header of a RESP array or bulk string.
void append_header(std::string& out, char type, size_t n) {
  char buf[24];
  buf[0] = type;
  auto [end, ec] = std::to_chars(buf + 1, buf + sizeof(buf) - 2, n);
  *end++ = '\r';
  *end++ = '\n';
  out.append(buf, end);
}

/// Appends `cmd` as Redis reads a command: an array of bulk strings (RESP),
/// what redisAppendCommandArgv would send.
void append_command(std::string& out, const argv& cmd) {
  append_header(out, '*', cmd.size());
  for (auto& arg : cmd) {
    append_header(out, '$', arg.size());
    out.append(arg);
    out.append("\r\n", 2);
  }
}

timeval to_timeval(milliseconds ms) {
  // hiredis reads a zero timeout as "wait forever": never pass one.
  auto count = std::max<int64_t>(ms.count(), 1);
  timeval result{};
  result.tv_sec = static_cast<time_t>(count / 1000);
  result.tv_usec = static_cast<suseconds_t>((count % 1000) * 1000);
  return result;
}

// -- parsing replies ----------------------------------------------------------

caf::expected<field_list> to_fields(const redisReply& x,
                                    std::string_view command) {
  if (x.type != REDIS_REPLY_ARRAY || x.elements % 2 != 0)
    return unexpected_reply(command, x);
  field_list result;
  result.reserve(x.elements / 2);
  for (size_t i = 0; i < x.elements; i += 2) {
    auto& name = *x.element[i];
    auto& value = *x.element[i + 1];
    if (!is_text(name) || !is_text(value))
      return unexpected_reply(command, x);
    result.emplace_back(text(name), text(value));
  }
  return result;
}

/// Stream entries as XRANGE, XREADGROUP and XAUTOCLAIM return them: an array
/// of [id, [field, value, ...]]. An entry whose fields are nil was deleted
/// (Redis 6.2's XAUTOCLAIM reports them so) and is left out.
caf::expected<std::vector<stream_entry>> to_entries(const redisReply& x,
                                                    std::string_view command) {
  if (x.type != REDIS_REPLY_ARRAY)
    return unexpected_reply(command, x);
  std::vector<stream_entry> result;
  result.reserve(x.elements);
  for (size_t i = 0; i < x.elements; ++i) {
    auto& entry = *x.element[i];
    if (entry.type != REDIS_REPLY_ARRAY || entry.elements != 2
        || !is_text(*entry.element[0]))
      return unexpected_reply(command, x);
    if (entry.element[1]->type == REDIS_REPLY_NIL)
      continue;
    auto fields = to_fields(*entry.element[1], command);
    if (!fields)
      return fields.error();
    result.push_back(stream_entry{text(*entry.element[0]), std::move(*fields)});
  }
  return result;
}

// -- SIGPIPE ------------------------------------------------------------------

/// hiredis writes with write(2), which raises SIGPIPE when Redis has gone
/// away, and SIGPIPE's default action ends the process. A library must not
/// change the process' signal dispositions, so, as libpq does, we block
/// SIGPIPE in the calling thread for the length of a round trip and swallow
/// the one we raised (the write itself fails with EPIPE, which hiredis
/// reports). A SIGPIPE that was pending before is left alone.
class sigpipe_guard {
public:
  sigpipe_guard() {
    sigemptyset(&pipe_);
    sigaddset(&pipe_, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe_, &old_);
    was_pending_ = pending();
  }

  ~sigpipe_guard() {
    if (!was_pending_ && pending()) {
      timespec no_wait{0, 0};
      sigtimedwait(&pipe_, nullptr, &no_wait);
    }
    pthread_sigmask(SIG_SETMASK, &old_, nullptr);
  }

  sigpipe_guard(const sigpipe_guard&) = delete;
  sigpipe_guard& operator=(const sigpipe_guard&) = delete;

private:
  static bool pending() {
    sigset_t set;
    sigemptyset(&set);
    return sigpending(&set) == 0 && sigismember(&set, SIGPIPE) == 1;
  }

  sigset_t pipe_;
  sigset_t old_;
  bool was_pending_ = false;
};

} // namespace

// -- URL ----------------------------------------------------------------------

namespace {

/// `url` without anything that could be credentials, for error messages:
/// the user info (up to the last '@') and any query or fragment
/// ("?password=...").
std::string redact(std::string url) {
  auto query = url.find_first_of("?#");
  if (query != std::string::npos)
    url = url.substr(0, query) + "?***";
  auto at = url.rfind('@');
  if (at == std::string::npos)
    return url;
  auto start = url.find("://");
  start = start == std::string::npos || start > at ? 0 : start + 3;
  return url.substr(0, start) + "***" + url.substr(at);
}

/// Strict percent-decoding of URL user info: `%XX` with two hex digits;
/// nullopt on a bad escape.
std::optional<std::string> decode_userinfo(std::string_view in) {
  auto hex = [](char ch) -> int {
    if (ch >= '0' && ch <= '9')
      return ch - '0';
    if (ch >= 'a' && ch <= 'f')
      return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F')
      return ch - 'A' + 10;
    return -1;
  };
  std::string out;
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '%') {
      out += in[i];
      continue;
    }
    if (i + 2 >= in.size())
      return std::nullopt;
    int hi = hex(in[i + 1]);
    int lo = hex(in[i + 2]);
    if (hi < 0 || lo < 0)
      return std::nullopt;
    out += static_cast<char>(hi * 16 + lo);
    i += 2;
  }
  return out;
}

/// Digits only, no sign or spaces, at most `max`.
bool parse_number(std::string_view str, int max, int& result) {
  if (str.empty() || str.size() > 10)
    return false;
  int64_t value = 0;
  for (auto ch : str) {
    if (ch < '0' || ch > '9')
      return false;
    value = value * 10 + (ch - '0');
  }
  if (value > max)
    return false;
  result = static_cast<int>(value);
  return true;
}

bool valid_host(std::string_view host, bool ipv6) {
  if (host.empty())
    return false;
  for (auto ch : host) {
    auto c = static_cast<unsigned char>(ch);
    bool ok = std::isalnum(c) || ch == '.'
      || (ipv6 ? ch == ':' || ch == '%' : ch == '-' || ch == '_');
    if (!ok)
      return false;
  }
  return true;
}

} // namespace

caf::expected<redis_options> parse_redis_url(const std::string& url) {
  auto fail = [&url](const std::string& why) {
    return caf::make_error(
      error_code::invalid_argument,
      "invalid Redis URL \"" + redact(url) + "\": " + why
        + " (expected redis://[[user]:password@]host[:port]"
          "[/db])");
  };
  constexpr std::string_view scheme = "redis://";
  if (!starts_with(url, scheme))
    return fail("the scheme must be redis://");
  std::string_view rest{url};
  rest.remove_prefix(scheme.size());
  if (rest.find_first_of("?#") != std::string_view::npos)
    return fail("query parameters and fragments are not supported");
  redis_options result;
  // User info ends at the last '@' before the path: a password may hold '@'
  // only percent-encoded, but a raw one still parses as the operator meant.
  if (auto at = rest.substr(0, rest.find('/')).rfind('@');
      at != std::string_view::npos) {
    auto info = rest.substr(0, at);
    rest.remove_prefix(at + 1);
    auto colon = info.find(':');
    if (colon == std::string_view::npos)
      return fail("user info needs a password: user:password@ or :password@");
    auto user = decode_userinfo(info.substr(0, colon));
    auto password = decode_userinfo(info.substr(colon + 1));
    if (!user || !password)
      return fail("a bad %-escape in the user or password");
    if (password->empty())
      return fail("the password is empty");
    result.username = std::move(*user);
    result.password = std::move(*password);
  }
  auto slash = rest.find('/');
  auto authority = rest.substr(0, slash);
  std::string_view host;
  std::string_view port;
  bool has_port = false;
  bool ipv6 = !authority.empty() && authority.front() == '[';
  if (ipv6) {
    auto close = authority.find(']');
    if (close == std::string_view::npos)
      return fail("an IPv6 address needs a closing ']'");
    host = authority.substr(1, close - 1);
    auto after = authority.substr(close + 1);
    if (!after.empty() && after.front() != ':')
      return fail("expected ':' after ']'");
    has_port = !after.empty();
    if (has_port)
      port = after.substr(1);
  } else {
    auto colon = authority.find(':');
    host = authority.substr(0, colon);
    has_port = colon != std::string_view::npos;
    if (has_port)
      port = authority.substr(colon + 1);
  }
  if (!valid_host(host, ipv6))
    return fail("the host is empty or has characters a host name cannot have");
  result.host = std::string{host};
  if (has_port && (!parse_number(port, 65535, result.port) || result.port == 0))
    return fail("the port must be a number from 1 to 65535");
  if (slash != std::string_view::npos) {
    auto db = rest.substr(slash + 1);
    if (!parse_number(db, INT_MAX, result.db))
      return fail("the database must be a number, as in /0");
  }
  return result;
}

caf::expected<redis_options> redis_options_for(const std::string& url,
                                               const std::string& username,
                                               const std::string& password,
                                               const std::string& prefix) {
  auto opts = parse_redis_url(url);
  if (!opts)
    return opts;
  if (!password.empty() || !username.empty()) {
    if (!opts->password.empty())
      return caf::make_error(error_code::invalid_argument,
                             "the Redis credentials are given twice: in the "
                             "URL and in store.username/store.password");
    if (password.empty())
      return caf::make_error(error_code::invalid_argument,
                             "store.username needs store.password");
    opts->username = username;
    opts->password = password;
  }
  opts->prefix = prefix;
  return opts;
}

// -- connection ---------------------------------------------------------------

class redis_backend::connection {
public:
  explicit connection(const redis_options& opts)
    : opts_(opts), endpoint_(opts.host + ":" + std::to_string(opts.port)),
      backoff_(std::max(opts.backoff_min, 1ms)) {}

  ~connection() {
    if (ctx_ != nullptr)
      redisFree(ctx_);
  }

  connection(const connection&) = delete;
  connection& operator=(const connection&) = delete;

  /// Sends `commands` in one write and reads their replies in order: one
  /// round trip. Error replies are returned as replies; a failed round trip
  /// drops the connection and is store_unavailable.
  caf::expected<std::vector<reply_ptr>>
  pipeline(const std::vector<argv>& commands) {
    std::lock_guard<std::mutex> guard{mtx_};
    if (ctx_ == nullptr)
      if (auto err = connect_locked())
        return err;
    sigpipe_guard no_sigpipe;
    // All commands in one buffer, handed to hiredis in one piece: its
    // redisAppendCommandArgv formats argument by argument through sdscatfmt,
    // which was a fifth of the store actor's CPU time on batches of 100 in
    // bench/store_bench (perf). The buffer keeps its capacity between calls.
    wire_.clear();
    for (auto& cmd : commands)
      append_command(wire_, cmd);
    auto appended = redisAppendFormattedCommand(ctx_, wire_.data(),
                                                wire_.size());
    // hiredis copied it; one huge batch should not keep its memory for good.
    if (wire_.capacity() > (size_t{1} << 20))
      std::string{}.swap(wire_);
    if (appended != REDIS_OK)
      return fail_locked(describe_failure());
    std::vector<reply_ptr> replies;
    replies.reserve(commands.size());
    for (size_t i = 0; i < commands.size(); ++i) {
      void* reply = nullptr;
      if (redisGetReply(ctx_, &reply) != REDIS_OK || reply == nullptr)
        return fail_locked(describe_failure());
      replies.emplace_back(static_cast<redisReply*>(reply));
    }
    // A full round trip: the connection works, so the next outage starts
    // from the shortest backoff again.
    backoff_ = std::max(opts_.backoff_min, 1ms);
    return replies;
  }

  /// One command; an error reply becomes its caf::error.
  caf::expected<reply_ptr> call(argv command) {
    auto reply = call_raw(std::move(command));
    if (reply && (*reply)->type == REDIS_REPLY_ERROR)
      return error_of(**reply);
    return reply;
  }

  /// One command; an error reply is returned as a reply.
  caf::expected<reply_ptr> call_raw(argv command) {
    std::vector<argv> commands;
    commands.push_back(std::move(command));
    auto replies = pipeline(commands);
    if (!replies)
      return replies.error();
    return std::move(replies->front());
  }

  /// The caf::error for an error reply; remembers the ones that make the
  /// store unavailable for last_error().
  caf::error error_of(const redisReply& reply) {
    auto err = classify(std::string_view{reply.str, reply.len});
    if (err.code() == static_cast<uint8_t>(error_code::store_unavailable))
      note(text(reply));
    return err;
  }

  bool connected() const {
    return connected_.load();
  }

  std::string last_error() const {
    std::lock_guard<std::mutex> guard{status_mtx_};
    return last_error_;
  }

private:
  /// Opens the connection unless the backoff says it is too early.
  caf::error connect_locked() {
    auto now = steady::now();
    if (now < next_attempt_) {
      auto wait = std::chrono::ceil<milliseconds>(next_attempt_ - now);
      return caf::make_error(error_code::store_unavailable,
                             "redis at " + endpoint_ + " is unavailable ("
                               + last_error() + "); next attempt in "
                               + std::to_string(wait.count()) + " ms");
    }
    ctx_ = redisConnectWithTimeout(opts_.host.c_str(), opts_.port,
                                   to_timeval(opts_.connect_timeout));
    if (ctx_ == nullptr)
      return fail_locked("cannot allocate a connection");
    if (ctx_->err != 0)
      return fail_locked("cannot connect: " + std::string{ctx_->errstr});
    if (redisSetTimeout(ctx_, to_timeval(opts_.command_timeout)) != REDIS_OK)
      return fail_locked("cannot set the command timeout: "
                         + std::string{ctx_->errstr});
    if (!opts_.password.empty()) {
      sigpipe_guard no_sigpipe;
      std::vector<const char*> args{"AUTH"};
      std::vector<size_t> sizes{4};
      if (!opts_.username.empty()) {
        args.push_back(opts_.username.c_str());
        sizes.push_back(opts_.username.size());
      }
      args.push_back(opts_.password.c_str());
      sizes.push_back(opts_.password.size());
      reply_ptr reply{static_cast<redisReply*>(redisCommandArgv(
        ctx_, static_cast<int>(args.size()), args.data(), sizes.data()))};
      if (reply == nullptr)
        return fail_locked(describe_failure());
      // The server's words (WRONGPASS ...) never hold the password.
      if (reply->type == REDIS_REPLY_ERROR)
        return fail_locked("AUTH: " + text(*reply));
    } else {
      // A server that needs a password answers every command NOAUTH: say
      // so once, as the store being unavailable, not per command.
      sigpipe_guard no_sigpipe;
      const char* args[] = {"PING"};
      size_t sizes[] = {4};
      reply_ptr reply{
        static_cast<redisReply*>(redisCommandArgv(ctx_, 1, args, sizes))};
      if (reply == nullptr)
        return fail_locked(describe_failure());
      if (reply->type == REDIS_REPLY_ERROR)
        return fail_locked(text(*reply)
                           + " (give the password in the URL or in "
                             "store.password)");
    }
    if (opts_.db != 0) {
      sigpipe_guard no_sigpipe;
      auto db = std::to_string(opts_.db);
      const char* args[] = {"SELECT", db.c_str()};
      size_t sizes[] = {6, db.size()};
      reply_ptr reply{
        static_cast<redisReply*>(redisCommandArgv(ctx_, 2, args, sizes))};
      if (reply == nullptr)
        return fail_locked(describe_failure());
      if (reply->type == REDIS_REPLY_ERROR)
        return fail_locked("SELECT " + db + ": " + text(*reply));
    }
    connected_ = true;
    if (down_logged_) {
      down_logged_ = false;
      log_info("store", "redis at " + endpoint_ + " is reachable again");
    }
    return {};
  }

  /// Why the context failed, in words an operator can act on.
  std::string describe_failure() const {
    if (ctx_->err == REDIS_ERR_EOF)
      return "the server closed the connection";
    // A socket timeout shows as EAGAIN; hiredis keeps only its text.
    if (ctx_->err == REDIS_ERR_IO
        && std::strcmp(ctx_->errstr, std::strerror(EAGAIN)) == 0)
      return "no reply within " + std::to_string(opts_.command_timeout.count())
        + " ms";
    if (ctx_->errstr[0] != '\0')
      return ctx_->errstr;
    return "hiredis error " + std::to_string(ctx_->err);
  }

  /// Drops the connection and schedules the next attempt one backoff away,
  /// doubling the backoff for the attempt after that.
  caf::error fail_locked(const std::string& why) {
    if (ctx_ != nullptr) {
      redisFree(ctx_);
      ctx_ = nullptr;
    }
    // Once per outage, not once per attempt: the transitions are what an
    // operator needs in the log.
    if (!down_logged_) {
      down_logged_ = true;
      log_error("store",
                "redis at " + endpoint_ + " is unreachable (" + why
                  + "); retrying with backoff, writes are refused "
                    "until it is back");
    }
    connected_ = false;
    next_attempt_ = steady::now() + backoff_;
    backoff_ = std::min(backoff_ * 2, std::max(opts_.backoff_max, backoff_));
    note(why);
    return caf::make_error(error_code::store_unavailable,
                           "redis at " + endpoint_ + ": " + why);
  }

  void note(std::string why) {
    std::lock_guard<std::mutex> guard{status_mtx_};
    last_error_ = std::move(why);
  }

  const redis_options opts_;
  /// host:port for messages; never credentials.
  const std::string endpoint_;

  /// Held for a whole round trip, and while connecting.
  std::mutex mtx_;
  redisContext* ctx_ = nullptr;
  /// The commands of the running round trip in RESP.
  std::string wire_;
  /// No connection attempt before this point.
  steady::time_point next_attempt_{};
  /// The wait after the next failure.
  milliseconds backoff_;

  /// Health, readable while a round trip holds mtx_.
  std::atomic<bool> connected_{false};
  /// The current outage is in the log (guarded like the connection).
  bool down_logged_ = false;
  mutable std::mutex status_mtx_;
  std::string last_error_;
};

// -- backend ------------------------------------------------------------------

namespace {

/// The integer of a reply that must be one.
caf::expected<int64_t> integer_of(caf::expected<reply_ptr> reply,
                                  std::string_view command) {
  if (!reply)
    return reply.error();
  if ((*reply)->type != REDIS_REPLY_INTEGER)
    return unexpected_reply(command, **reply);
  return static_cast<int64_t>((*reply)->integer);
}

/// A bulk string or nil.
caf::expected<std::optional<std::string>>
string_or_nil(caf::expected<reply_ptr> reply, std::string_view command) {
  if (!reply)
    return reply.error();
  if ((*reply)->type == REDIS_REPLY_NIL)
    return std::nullopt;
  if ((*reply)->type != REDIS_REPLY_STRING)
    return unexpected_reply(command, **reply);
  return text(**reply);
}

} // namespace

redis_backend::redis_backend(redis_options opts)
  : opts_(std::move(opts)), conn_(std::make_unique<connection>(opts_)) {}

redis_backend::~redis_backend() = default;

bool redis_backend::connected() const {
  return conn_->connected();
}

std::string redis_backend::last_error() const {
  return conn_->last_error();
}

caf::expected<caf::unit_t> redis_backend::ping() {
  auto reply = conn_->call({"PING"});
  if (!reply)
    return reply.error();
  if ((*reply)->type != REDIS_REPLY_STATUS)
    return unexpected_reply("PING", **reply);
  return caf::unit;
}

// -- strings and expiry -------------------------------------------------------

caf::expected<std::optional<std::string>>
redis_backend::get(const std::string& k) {
  return string_or_nil(conn_->call({"GET", key(k)}), "GET");
}

caf::expected<caf::unit_t> redis_backend::set(const std::string& k,
                                              const std::string& value,
                                              int64_t ttl_ms) {
  if (auto err = check_ttl(ttl_ms))
    return err;
  argv cmd{"SET", key(k), value};
  if (ttl_ms > 0)
    cmd.insert(cmd.end(), {"PX", std::to_string(ttl_ms)});
  auto reply = conn_->call(std::move(cmd));
  if (!reply)
    return reply.error();
  if ((*reply)->type != REDIS_REPLY_STATUS)
    return unexpected_reply("SET", **reply);
  return caf::unit;
}

caf::expected<bool> redis_backend::set_nx(const std::string& k,
                                          const std::string& value,
                                          int64_t ttl_ms) {
  if (auto err = check_ttl(ttl_ms))
    return err;
  argv cmd{"SET", key(k), value, "NX"};
  if (ttl_ms > 0)
    cmd.insert(cmd.end(), {"PX", std::to_string(ttl_ms)});
  auto reply = conn_->call(std::move(cmd));
  if (!reply)
    return reply.error();
  // OK when set, nil when the key exists.
  if ((*reply)->type == REDIS_REPLY_NIL)
    return false;
  if ((*reply)->type != REDIS_REPLY_STATUS)
    return unexpected_reply("SET NX", **reply);
  return true;
}

caf::expected<bool> redis_backend::del(const std::string& k) {
  auto n = integer_of(conn_->call({"DEL", key(k)}), "DEL");
  if (!n)
    return n.error();
  return *n > 0;
}

caf::expected<bool> redis_backend::expire(const std::string& k,
                                          int64_t ttl_ms) {
  // Redis deletes the key for any TTL <= 0; 0 says so without overflow
  // questions.
  if (ttl_ms <= 0)
    ttl_ms = 0;
  else if (auto err = check_ttl(ttl_ms))
    return err;
  auto n = integer_of(conn_->call({"PEXPIRE", key(k), std::to_string(ttl_ms)}),
                      "PEXPIRE");
  if (!n)
    return n.error();
  return *n > 0;
}

caf::expected<bool> redis_backend::expire_if(const std::string& k,
                                             const std::string& value,
                                             int64_t ttl_ms) {
  if (ttl_ms <= 0)
    ttl_ms = 0;
  else if (auto err = check_ttl(ttl_ms))
    return err;
  // GET and PEXPIRE must be one step: between them the key may expire and
  // another node take it, whose lease a plain PEXPIRE would then extend.
  static constexpr const char* script
    = "if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end "
      "if tonumber(ARGV[2]) <= 0 then return redis.call('DEL', KEYS[1]) end "
      "return redis.call('PEXPIRE', KEYS[1], ARGV[2])";
  auto n = integer_of(
    conn_->call({"EVAL", script, "1", key(k), value, std::to_string(ttl_ms)}),
    "EVAL (expire_if)");
  if (!n)
    return n.error();
  return *n > 0;
}

caf::expected<int64_t> redis_backend::ttl_ms(const std::string& k) {
  return integer_of(conn_->call({"PTTL", key(k)}), "PTTL");
}

caf::expected<int64_t> redis_backend::incr_by(const std::string& k,
                                              int64_t delta, int64_t ttl_ms) {
  if (auto err = check_ttl(ttl_ms))
    return err;
  auto full = key(k);
  auto by = std::to_string(delta);
  if (ttl_ms == 0)
    return integer_of(conn_->call({"INCRBY", full, by}), "INCRBY");
  // MULTI makes the pair atomic: no counter without its deadline if the
  // connection drops in between. NX keeps a window's first deadline. One
  // round trip: four commands, four replies.
  auto replies = conn_->pipeline(
    {{"MULTI"},
     {"INCRBY", full, by},
     {"PEXPIRE", full, std::to_string(ttl_ms), "NX"},
     {"EXEC"}});
  if (!replies)
    return replies.error();
  // A command refused while queueing answers with an error here, and EXEC
  // then answers EXECABORT: report the first error.
  for (auto& reply : *replies)
    if (reply->type == REDIS_REPLY_ERROR)
      return conn_->error_of(*reply);
  auto& exec = *replies->back();
  if (exec.type != REDIS_REPLY_ARRAY || exec.elements != 2)
    return unexpected_reply("EXEC", exec);
  auto& incr = *exec.element[0];
  auto& pexpire = *exec.element[1];
  // Inside EXEC an error does not stop the next command: when INCRBY fails
  // (WRONGTYPE, not an integer, overflow), PEXPIRE ... NX still gives the
  // untouched key a deadline if it had none (answering 1). PERSIST takes that
  // deadline back, so a failed call changes nothing, as the contract says. It
  // is a second step, not atomic, but only on this error path; a Lua script
  // would avoid it at the price of scripting on every increment.
  if (incr.type == REDIS_REPLY_ERROR) {
    auto err = conn_->error_of(incr);
    if (pexpire.type == REDIS_REPLY_INTEGER && pexpire.integer == 1)
      if (auto undone = conn_->call({"PERSIST", full}); !undone)
        return undone.error();
    return err;
  }
  if (incr.type != REDIS_REPLY_INTEGER)
    return unexpected_reply("INCRBY", incr);
  // check_ttl ruled out PEXPIRE's own errors, short of clock skew at
  // absurd TTLs; if one comes anyway, the deadline asked for is missing and
  // the caller must know.
  if (pexpire.type == REDIS_REPLY_ERROR)
    return conn_->error_of(pexpire);
  return static_cast<int64_t>(incr.integer);
}

// -- hashes -------------------------------------------------------------------

caf::expected<uint64_t> redis_backend::hset(const std::string& k,
                                            const field_list& fields) {
  // HSET needs a field. HLEN does the type check that an empty HSET would
  // do in the memory backend, and changes nothing.
  if (fields.empty()) {
    auto n = integer_of(conn_->call({"HLEN", key(k)}), "HLEN");
    if (!n)
      return n.error();
    return uint64_t{0};
  }
  argv cmd{"HSET", key(k)};
  cmd.reserve(2 + 2 * fields.size());
  for (auto& [field, value] : fields) {
    cmd.push_back(field);
    cmd.push_back(value);
  }
  auto n = integer_of(conn_->call(std::move(cmd)), "HSET");
  if (!n)
    return n.error();
  return static_cast<uint64_t>(*n);
}

caf::expected<std::optional<std::string>>
redis_backend::hget(const std::string& k, const std::string& field) {
  return string_or_nil(conn_->call({"HGET", key(k), field}), "HGET");
}

caf::expected<field_list> redis_backend::hgetall(const std::string& k) {
  auto reply = conn_->call({"HGETALL", key(k)});
  if (!reply)
    return reply.error();
  auto fields = to_fields(**reply, "HGETALL");
  if (!fields)
    return fields.error();
  // Redis answers in its own order; the contract sorts by field name.
  std::sort(fields->begin(), fields->end());
  return fields;
}

caf::expected<int64_t> redis_backend::hincr_by(const std::string& k,
                                               const std::string& field,
                                               int64_t delta) {
  return integer_of(
    conn_->call({"HINCRBY", key(k), field, std::to_string(delta)}), "HINCRBY");
}

caf::expected<bool> redis_backend::hdel(const std::string& k,
                                        const std::string& field) {
  auto n = integer_of(conn_->call({"HDEL", key(k), field}), "HDEL");
  if (!n)
    return n.error();
  return *n > 0;
}

// -- streams ------------------------------------------------------------------

caf::expected<std::string> redis_backend::xadd(const std::string& stream,
                                               const field_list& fields,
                                               const stream_trim& trim) {
  argv cmd{"XADD", key(stream)};
  if (auto err = append_trim(cmd, trim))
    return err;
  // Redis would call this a wrong number of arguments, a store_error.
  if (fields.empty())
    return invalid("a stream entry needs at least one field: " + stream);
  cmd.reserve(cmd.size() + 1 + 2 * fields.size());
  cmd.emplace_back("*");
  for (auto& [field, value] : fields) {
    cmd.push_back(field);
    cmd.push_back(value);
  }
  auto reply = conn_->call(std::move(cmd));
  if (!reply)
    return reply.error();
  if ((*reply)->type != REDIS_REPLY_STRING)
    return unexpected_reply("XADD", **reply);
  return text(**reply);
}

caf::expected<uint64_t> redis_backend::xlen(const std::string& stream) {
  auto n = integer_of(conn_->call({"XLEN", key(stream)}), "XLEN");
  if (!n)
    return n.error();
  return static_cast<uint64_t>(*n);
}

caf::expected<std::vector<stream_entry>>
redis_backend::xrange(const std::string& stream, const std::string& start,
                      const std::string& end, uint64_t count) {
  argv cmd{"XRANGE", key(stream), start, end};
  // COUNT 0 would return nothing; the contract's 0 means all.
  if (count > 0)
    cmd.insert(cmd.end(), {"COUNT", count_arg(count)});
  auto reply = conn_->call(std::move(cmd));
  if (!reply)
    return reply.error();
  return to_entries(**reply, "XRANGE");
}

caf::expected<std::vector<stream_entry>>
redis_backend::xrevrange(const std::string& stream, const std::string& end,
                         const std::string& start, uint64_t count) {
  argv cmd{"XREVRANGE", key(stream), end, start};
  if (count > 0)
    cmd.insert(cmd.end(), {"COUNT", count_arg(count)});
  auto reply = conn_->call(std::move(cmd));
  if (!reply)
    return reply.error();
  return to_entries(**reply, "XREVRANGE");
}

caf::expected<uint64_t> redis_backend::xtrim(const std::string& stream,
                                             const stream_trim& trim) {
  argv cmd{"XTRIM", key(stream)};
  if (auto err = append_trim(cmd, trim))
    return err;
  // XTRIM needs a limit. "MINID 0" removes nothing (no ID is below 0-0) but
  // still checks the key's type, as the memory backend does.
  if (cmd.size() == 2)
    cmd.insert(cmd.end(), {"MINID", "=", "0"});
  auto n = integer_of(conn_->call(std::move(cmd)), "XTRIM");
  if (!n)
    return n.error();
  return static_cast<uint64_t>(*n);
}

caf::expected<uint64_t>
redis_backend::xdel(const std::string& stream,
                    const std::vector<std::string>& ids) {
  // Redis answers 0 for a missing key before it parses the IDs; the contract
  // rejects a malformed ID whatever the key, as the memory backend does.
  for (auto& id : ids)
    if (!is_stream_id(id))
      return invalid("invalid stream ID: " + id);
  auto full = key(stream);
  if (ids.empty()) {
    // XDEL cannot be sent without IDs; XLEN does the type check it would do.
    auto n = integer_of(conn_->call({"XLEN", full}), "XLEN");
    if (!n)
      return n.error();
    return uint64_t{0};
  }
  argv cmd{"XDEL", full};
  cmd.insert(cmd.end(), ids.begin(), ids.end());
  auto n = integer_of(conn_->call(std::move(cmd)), "XDEL");
  if (!n)
    return n.error();
  return static_cast<uint64_t>(*n);
}

// -- consumer groups ----------------------------------------------------------

caf::expected<bool> redis_backend::xgroup_create(const std::string& stream,
                                                 const std::string& group,
                                                 const std::string& start_id) {
  auto reply = conn_->call_raw(
    {"XGROUP", "CREATE", key(stream), group, start_id, "MKSTREAM"});
  if (!reply)
    return reply.error();
  auto& x = **reply;
  if (x.type == REDIS_REPLY_ERROR) {
    if (starts_with(std::string_view{x.str, x.len}, "BUSYGROUP"))
      return false;
    return conn_->error_of(x);
  }
  if (x.type != REDIS_REPLY_STATUS)
    return unexpected_reply("XGROUP CREATE", x);
  return true;
}

caf::expected<std::vector<stream_entry>>
redis_backend::xreadgroup(const std::string& stream, const std::string& group,
                          const std::string& consumer, uint64_t count) {
  argv cmd{"XREADGROUP", "GROUP", group, consumer};
  if (count > 0)
    cmd.insert(cmd.end(), {"COUNT", count_arg(count)});
  cmd.insert(cmd.end(), {"STREAMS", key(stream), ">"});
  auto reply = conn_->call(std::move(cmd));
  if (!reply)
    return reply.error();
  auto& x = **reply;
  // Nil: nothing new. Otherwise one [stream, entries] pair per stream asked.
  if (x.type == REDIS_REPLY_NIL)
    return std::vector<stream_entry>{};
  if (x.type != REDIS_REPLY_ARRAY || x.elements != 1
      || x.element[0]->type != REDIS_REPLY_ARRAY || x.element[0]->elements != 2)
    return unexpected_reply("XREADGROUP", x);
  return to_entries(*x.element[0]->element[1], "XREADGROUP");
}

caf::expected<uint64_t>
redis_backend::xack(const std::string& stream, const std::string& group,
                    const std::vector<std::string>& ids) {
  auto full = key(stream);
  if (!ids.empty()) {
    argv cmd{"XACK", full, group};
    cmd.insert(cmd.end(), ids.begin(), ids.end());
    auto n = integer_of(conn_->call(std::move(cmd)), "XACK");
    if (!n)
      return n.error();
    if (*n > 0)
      return static_cast<uint64_t>(*n);
  }
  // XACK answers 0 for a missing stream or group as well (and cannot be sent
  // without IDs); XPENDING tells them apart with NOGROUP.
  auto check = conn_->call({"XPENDING", full, group});
  if (!check)
    return check.error();
  return uint64_t{0};
}

caf::expected<uint64_t>
redis_backend::xpending_count(const std::string& stream,
                              const std::string& group) {
  auto reply = conn_->call({"XPENDING", key(stream), group});
  if (!reply)
    return reply.error();
  // [count, smallest ID, greatest ID, [[consumer, count], ...]]
  auto& x = **reply;
  if (x.type != REDIS_REPLY_ARRAY || x.elements < 1
      || x.element[0]->type != REDIS_REPLY_INTEGER)
    return unexpected_reply("XPENDING", x);
  return static_cast<uint64_t>(x.element[0]->integer);
}

caf::expected<std::vector<pending_entry>>
redis_backend::xpending(const std::string& stream, const std::string& group,
                        uint64_t count) {
  // The extended form needs a count; the largest one means all.
  auto reply = conn_->call(
    {"XPENDING", key(stream), group, "-", "+",
     count == 0 ? count_arg(i64_max) : count_arg(count)});
  if (!reply)
    return reply.error();
  auto& x = **reply;
  if (x.type != REDIS_REPLY_ARRAY)
    return unexpected_reply("XPENDING", x);
  std::vector<pending_entry> result;
  result.reserve(x.elements);
  for (size_t i = 0; i < x.elements; ++i) {
    // [id, consumer, idle ms, delivery count]
    auto& item = *x.element[i];
    if (item.type != REDIS_REPLY_ARRAY || item.elements != 4
        || !is_text(*item.element[0]) || !is_text(*item.element[1])
        || item.element[2]->type != REDIS_REPLY_INTEGER
        || item.element[3]->type != REDIS_REPLY_INTEGER)
      return unexpected_reply("XPENDING", x);
    result.push_back(
      pending_entry{text(*item.element[0]), text(*item.element[1]),
                    static_cast<int64_t>(item.element[2]->integer),
                    static_cast<uint64_t>(item.element[3]->integer)});
  }
  return result;
}

caf::expected<std::vector<stream_entry>>
redis_backend::xautoclaim(const std::string& stream, const std::string& group,
                          const std::string& consumer, int64_t min_idle_ms,
                          uint64_t count) {
  if (min_idle_ms < 0)
    return invalid("negative min-idle-time: " + std::to_string(min_idle_ms));
  // Redis scans at most 10 x COUNT pending entries per call, so one call may
  // claim fewer than asked while more remain: follow the cursor. Each call
  // is atomic; the whole loop is not, which XAUTOCLAIM's own cursor allows
  // for (an entry claimed by someone else meanwhile is no longer idle).
  constexpr uint64_t batch = 512;
  auto full = key(stream);
  auto idle = std::to_string(min_idle_ms);
  std::string cursor = "0-0";
  std::vector<stream_entry> result;
  do {
    auto want = count == 0 ? batch : std::min(batch, count - result.size());
    auto reply = conn_->call({"XAUTOCLAIM", full, group, consumer, idle, cursor,
                              "COUNT", std::to_string(want)});
    if (!reply)
      return reply.error();
    // [next cursor, claimed entries, IDs deleted from the PEL (Redis 7)]:
    // the contract drops the deleted ones silently.
    auto& x = **reply;
    if (x.type != REDIS_REPLY_ARRAY || x.elements < 2
        || !is_text(*x.element[0]))
      return unexpected_reply("XAUTOCLAIM", x);
    auto claimed = to_entries(*x.element[1], "XAUTOCLAIM");
    if (!claimed)
      return claimed.error();
    for (auto& entry : *claimed)
      result.push_back(std::move(entry));
    cursor = text(*x.element[0]);
  } while (cursor != "0-0" && (count == 0 || result.size() < count));
  return result;
}

// -- batches ------------------------------------------------------------------

caf::expected<std::vector<write_result>>
redis_backend::write(const std::vector<write_op>& ops) {
  using kind = write_op::kind;
  if (ops.empty())
    return std::vector<write_result>{};
  auto now = wall_clock_ms();
  for (auto& op : ops)
    if (auto err = check_write_op(op, now))
      return err;
  // MULTI, the ops, EXEC: one write, one read of all replies. `first[i]` is
  // the index of op i's first command inside EXEC's reply; an INCRBY with a
  // TTL takes two (INCRBY, PEXPIRE NX), as in incr_by.
  std::vector<argv> cmds;
  cmds.reserve(ops.size() + 2);
  cmds.push_back({"MULTI"});
  std::vector<size_t> first;
  first.reserve(ops.size());
  for (auto& op : ops) {
    first.push_back(cmds.size() - 1);
    auto full = key(op.key);
    switch (op.what) {
      case kind::set:
      case kind::set_nx: {
        argv cmd{"SET", full, op.value};
        if (op.what == kind::set_nx)
          cmd.emplace_back("NX");
        if (op.ttl_ms > 0)
          cmd.insert(cmd.end(), {"PX", std::to_string(op.ttl_ms)});
        cmds.push_back(std::move(cmd));
        break;
      }
      case kind::del: cmds.push_back({"DEL", full}); break;
      case kind::expire:
        cmds.push_back(
          {"PEXPIRE", full, std::to_string(std::max<int64_t>(op.ttl_ms, 0))});
        break;
      case kind::incr_by:
        cmds.push_back({"INCRBY", full, std::to_string(op.number)});
        if (op.ttl_ms > 0)
          cmds.push_back({"PEXPIRE", full, std::to_string(op.ttl_ms), "NX"});
        break;
      case kind::hset: {
        if (op.fields.empty()) {
          // The type check an empty HSET does in the memory backend.
          cmds.push_back({"HLEN", full});
          break;
        }
        argv cmd{"HSET", full};
        for (auto& [field, value] : op.fields) {
          cmd.push_back(field);
          cmd.push_back(value);
        }
        cmds.push_back(std::move(cmd));
        break;
      }
      case kind::hincr_by:
        cmds.push_back({"HINCRBY", full, op.value, std::to_string(op.number)});
        break;
      case kind::get: cmds.push_back({"GET", full}); break;
      case kind::xack: {
        argv cmd{"XACK", full, op.value};
        for (auto& [id, unused] : op.fields)
          cmd.push_back(id);
        cmds.push_back(std::move(cmd));
        break;
      }
      case kind::xdel: {
        if (op.fields.empty()) {
          // XDEL needs an ID; XLEN does its type check.
          cmds.push_back({"XLEN", full});
          break;
        }
        argv cmd{"XDEL", full};
        for (auto& [id, unused] : op.fields)
          cmd.push_back(id);
        cmds.push_back(std::move(cmd));
        break;
      }
      case kind::xadd: {
        argv cmd{"XADD", full};
        if (auto err = append_trim(cmd, op.trim))
          return err;
        cmd.emplace_back("*");
        for (auto& [field, value] : op.fields) {
          cmd.push_back(field);
          cmd.push_back(value);
        }
        cmds.push_back(std::move(cmd));
        break;
      }
    }
  }
  auto queued = cmds.size() - 1;
  cmds.push_back({"EXEC"});
  auto replies = conn_->pipeline(cmds);
  if (!replies)
    return replies.error();
  // A command refused while queueing (arity, OOM, ...) aborts the whole
  // transaction: EXEC answers EXECABORT and nothing ran. Report the first.
  for (size_t i = 0; i < replies->size(); ++i)
    if ((*replies)[i]->type == REDIS_REPLY_ERROR)
      return conn_->error_of(*(*replies)[i]);
  auto& exec = *replies->back();
  if (exec.type != REDIS_REPLY_ARRAY || exec.elements != queued)
    return unexpected_reply("EXEC", exec);
  std::vector<write_result> results(ops.size());
  // Ops whose INCRBY failed after their PEXPIRE NX gave the key a deadline.
  std::vector<size_t> stray_expiry;
  for (size_t i = 0; i < ops.size(); ++i) {
    auto& op = ops[i];
    auto& reply = *exec.element[first[i]];
    auto& result = results[i];
    if (reply.type == REDIS_REPLY_ERROR) {
      result.error = conn_->error_of(reply);
      if (op.what == kind::incr_by && op.ttl_ms > 0) {
        auto& pexpire = *exec.element[first[i] + 1];
        if (pexpire.type == REDIS_REPLY_INTEGER && pexpire.integer == 1)
          stray_expiry.push_back(i);
      }
      continue;
    }
    switch (op.what) {
      case kind::set:
      case kind::set_nx:
        if (reply.type == REDIS_REPLY_NIL && op.what == kind::set_nx)
          result.integer = 0;
        else if (reply.type == REDIS_REPLY_STATUS)
          result.integer = 1;
        else
          result.error = unexpected_reply("SET", reply);
        break;
      case kind::xadd:
        if (reply.type == REDIS_REPLY_STRING)
          result.text = text(reply);
        else
          result.error = unexpected_reply("XADD", reply);
        break;
      case kind::hset:
        if (op.fields.empty() && reply.type == REDIS_REPLY_INTEGER)
          result.integer = 0;
        else if (reply.type == REDIS_REPLY_INTEGER)
          result.integer = static_cast<int64_t>(reply.integer);
        else
          result.error = unexpected_reply("HSET", reply);
        break;
      case kind::del:
      case kind::expire:
        if (reply.type == REDIS_REPLY_INTEGER)
          result.integer = reply.integer > 0 ? 1 : 0;
        else
          result.error = unexpected_reply("DEL/PEXPIRE", reply);
        break;
      case kind::get:
        if (reply.type == REDIS_REPLY_STRING) {
          result.integer = 1;
          result.text = text(reply);
        } else if (reply.type != REDIS_REPLY_NIL) {
          result.error = unexpected_reply("GET", reply);
        }
        break;
      case kind::xack:
        // Redis answers 0 for a missing group where the contract says
        // not_found; inside a batch the count is what callers use.
        if (reply.type == REDIS_REPLY_INTEGER)
          result.integer = static_cast<int64_t>(reply.integer);
        else
          result.error = unexpected_reply("XACK", reply);
        break;
      case kind::xdel:
        if (reply.type != REDIS_REPLY_INTEGER)
          result.error = unexpected_reply("XDEL", reply);
        else if (!op.fields.empty())
          result.integer = static_cast<int64_t>(reply.integer);
        break;
      case kind::incr_by:
      case kind::hincr_by:
        if (reply.type == REDIS_REPLY_INTEGER)
          result.integer = static_cast<int64_t>(reply.integer);
        else
          result.error = unexpected_reply("INCRBY", reply);
        if (op.what == kind::incr_by && op.ttl_ms > 0) {
          auto& pexpire = *exec.element[first[i] + 1];
          if (pexpire.type == REDIS_REPLY_ERROR)
            result.error = conn_->error_of(pexpire);
        }
        break;
    }
  }
  // As in incr_by: a failed INCRBY must not leave the deadline that the
  // PEXPIRE NX after it gave the untouched key, so PERSIST takes it back
  // after EXEC. Unless a later op of the batch gave the key the expiry it has
  // now: a SET always does (with its TTL or none), SET NX, PEXPIRE and DEL
  // when they answered 1 (after a DEL the key, if any, is a new one). HSET,
  // HINCRBY, XADD and a failed SET NX keep the expiry; a later INCRBY's
  // PEXPIRE NX cannot have answered 1 without one of the above in between.
  auto expiry_replaced_after = [&](size_t i) {
    for (size_t j = i + 1; j < ops.size(); ++j) {
      if (ops[j].key != ops[i].key)
        continue;
      auto what = ops[j].what;
      if (what == kind::set)
        return true;
      if ((what == kind::set_nx || what == kind::expire || what == kind::del)
          && !results[j].error && results[j].integer == 1)
        return true;
    }
    return false;
  };
  for (auto i : stray_expiry)
    if (!expiry_replaced_after(i))
      if (auto undone = conn_->call({"PERSIST", key(ops[i].key)}); !undone)
        return undone.error();
  return results;
}

caf::expected<std::vector<std::string>>
redis_backend::keys(const std::string& prefix) {
  // SCAN, not KEYS: KEYS blocks Redis for the whole keyspace; SCAN walks it
  // in steps and lets other clients in between (and other threads here, as
  // each step is its own call). It skips expired keys but may report a key
  // twice, hence sort and unique.
  auto full = key(prefix);
  auto pattern = glob_escape(full) + "*";
  std::string cursor = "0";
  std::vector<std::string> result;
  do {
    auto reply = conn_->call(
      {"SCAN", cursor, "MATCH", pattern, "COUNT", "1000"});
    if (!reply)
      return reply.error();
    auto& x = **reply;
    if (x.type != REDIS_REPLY_ARRAY || x.elements != 2
        || !is_text(*x.element[0]) || x.element[1]->type != REDIS_REPLY_ARRAY)
      return unexpected_reply("SCAN", x);
    auto& names = *x.element[1];
    for (size_t i = 0; i < names.elements; ++i) {
      auto name = text(*names.element[i]);
      if (starts_with(name, full))
        result.push_back(name.substr(opts_.prefix.size()));
    }
    cursor = text(*x.element[0]);
  } while (cursor != "0");
  std::sort(result.begin(), result.end());
  result.erase(std::unique(result.begin(), result.end()), result.end());
  return result;
}

} // namespace streamb::store
