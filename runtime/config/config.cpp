#include "runtime/config/config.hpp"
#include "runtime/core/error_text.hpp"
#include "runtime/core/json_strict.hpp"

#include "runtime/coordination/event_types.hpp"
#include "runtime/core/valid_name.hpp"
#include "runtime/deliveries/endpoint_url.hpp"
#include "runtime/store/redis_backend.hpp"
#include "runtime/webhooks/signatures/sign.hpp"

#include <boost/json.hpp>
#include <boost/json/basic_parser_impl.hpp>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>

#include <arpa/inet.h>
#include <limits>
#include <netinet/in.h>
#include <set>
#include <sstream>
#include <string_view>
#include <type_traits>
#include <utility>

#include <sys/stat.h>

namespace json = boost::json;

namespace streamb {

// -- config_error and config -------------------------------------------------

namespace {

std::string join_problems(const std::vector<config_problem>& problems) {
  std::string result;
  for (const auto& p : problems) {
    if (!result.empty())
      result += '\n';
    result += p.path;
    result += ": ";
    result += p.message;
  }
  return result;
}

} // namespace

config_error::config_error(std::vector<config_problem> problems)
  : std::runtime_error(join_problems(problems)),
    problems_(std::move(problems)) {
  // nop
}

const cluster_node_config*
cluster_config::find_node(const std::string& name) const {
  for (auto& n : nodes)
    if (n.name == name)
      return &n;
  return nullptr;
}

const service_config* config::find_service(const std::string& name) const {
  for (const auto& s : services)
    if (s.name == name)
      return &s;
  return nullptr;
}

namespace {

// -- JSON paths --------------------------------------------------------------

// Keys made of these characters print as `.key`; anything else as `["key"]`,
// so a path can always be read back unambiguously.
bool is_plain_key(std::string_view key) {
  if (key.empty())
    return false;
  return std::all_of(key.begin(), key.end(), [](char ch) {
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z')
      || (ch >= '0' && ch <= '9') || ch == '_' || ch == '-';
  });
}

std::string member_path(const std::string& parent, std::string_view key) {
  if (is_plain_key(key)) {
    std::string result = parent;
    result += '.';
    result += key;
    return result;
  }
  return parent + '[' + json::serialize(json::string_view{key}) + ']';
}

std::string element_path(const std::string& parent, std::size_t index) {
  return parent + '[' + std::to_string(index) + ']';
}

std::string quoted(std::string_view str) {
  constexpr std::size_t max_shown = 64;
  if (str.size() <= max_shown)
    return json::serialize(json::string_view{str});
  auto head = json::serialize(json::string_view{str.substr(0, max_shown)});
  head.insert(head.size() - 1, "...");
  return head;
}

std::string format_number(double x) {
  std::ostringstream out;
  out << x;
  return out.str();
}

// -- parsing with duplicate-key detection ------------------------------------

// Boost.JSON's own parser keeps one of several equal keys without a word. This
// handler builds the same value through a value_stack (as boost::json::parser
// does) and additionally remembers the keys of every open object, reporting
// each repeated key with its path.
class tracking_handler {
public:
  static constexpr std::size_t max_object_size = json::object::max_size();
  static constexpr std::size_t max_array_size = json::array::max_size();
  static constexpr std::size_t max_key_size = json::string::max_size();
  static constexpr std::size_t max_string_size = json::string::max_size();

  explicit tracking_handler(std::vector<config_problem>* problems)
    : problems_(problems) {
    st.reset();
  }

  json::value_stack st;

  bool on_document_begin(json::error_code&) {
    return true;
  }

  bool on_document_end(json::error_code&) {
    return true;
  }

  bool on_object_begin(json::error_code&) {
    frames_.push_back(frame{true, next_path(), {}, {}, 0});
    return true;
  }

  bool on_object_end(std::size_t n, json::error_code&) {
    st.push_object(n);
    frames_.pop_back();
    value_done();
    return true;
  }

  bool on_array_begin(json::error_code&) {
    frames_.push_back(frame{false, next_path(), {}, {}, 0});
    return true;
  }

  bool on_array_end(std::size_t n, json::error_code&) {
    st.push_array(n);
    frames_.pop_back();
    value_done();
    return true;
  }

  bool on_key_part(json::string_view s, std::size_t, json::error_code&) {
    st.push_chars(s);
    key_.append(s.data(), s.size());
    return true;
  }

  bool on_key(json::string_view s, std::size_t, json::error_code&) {
    st.push_key(s);
    key_.append(s.data(), s.size());
    auto& top = frames_.back();
    if (!top.keys.insert(key_).second) {
      auto what = top.path == "$.services" ? "duplicate service name"
                                           : "duplicate key";
      problems_->push_back({member_path(top.path, key_), what});
    }
    top.key = std::move(key_);
    key_.clear();
    return true;
  }

  bool on_string_part(json::string_view s, std::size_t, json::error_code&) {
    st.push_chars(s);
    return true;
  }

  bool on_string(json::string_view s, std::size_t, json::error_code&) {
    st.push_string(s);
    value_done();
    return true;
  }

  bool on_number_part(json::string_view, json::error_code&) {
    return true;
  }

  bool on_int64(std::int64_t i, json::string_view, json::error_code&) {
    st.push_int64(i);
    value_done();
    return true;
  }

  bool on_uint64(std::uint64_t u, json::string_view, json::error_code&) {
    st.push_uint64(u);
    value_done();
    return true;
  }

  bool on_double(double d, json::string_view, json::error_code&) {
    st.push_double(d);
    value_done();
    return true;
  }

  bool on_bool(bool b, json::error_code&) {
    st.push_bool(b);
    value_done();
    return true;
  }

  bool on_null(json::error_code&) {
    st.push_null();
    value_done();
    return true;
  }

  bool on_comment_part(json::string_view, json::error_code&) {
    return true;
  }

  bool on_comment(json::string_view, json::error_code&) {
    return true;
  }

private:
  struct frame {
    bool is_object;
    std::string path;
    std::set<std::string> keys; // objects: keys seen so far
    std::string key;            // objects: key of the value being parsed
    std::size_t index;          // arrays: index of the value being parsed
  };

  // The path of the value that starts next.
  std::string next_path() const {
    if (frames_.empty())
      return "$";
    const auto& top = frames_.back();
    return top.is_object ? member_path(top.path, top.key)
                         : element_path(top.path, top.index);
  }

  void value_done() {
    if (!frames_.empty() && !frames_.back().is_object)
      ++frames_.back().index;
  }

  std::vector<config_problem>* problems_;
  std::vector<frame> frames_;
  std::string key_;
};

std::optional<json::value> parse_json(const std::string& text,
                                      std::vector<config_problem>& problems) {
  json::basic_parser<tracking_handler> parser{json::parse_options{}, &problems};
  json::error_code ec;
  auto consumed = parser.write_some(false, text.data(), text.size(), ec);
  if (!ec && consumed < text.size())
    ec = json::error::extra_data;
  if (ec) {
    // Bytes before the failing one: count lines and columns (1-based) there.
    std::size_t line = 1;
    std::size_t line_start = 0;
    for (std::size_t i = 0; i < consumed && i < text.size(); ++i)
      if (text[i] == '\n') {
        ++line;
        line_start = i + 1;
      }
    problems.push_back(
      {"$",
       "malformed JSON at line " + std::to_string(line) + ", column "
         + std::to_string(consumed - line_start + 1) + " (offset "
         + std::to_string(consumed) + "): " + ec.message()});
    return std::nullopt;
  }
  return parser.handler().st.release();
}

// -- validation context ------------------------------------------------------

class checker {
public:
  std::vector<config_problem> problems;

  void add(std::string path, std::string message) {
    problems.push_back({std::move(path), std::move(message)});
  }

  void mark_from_env(const std::string& path) {
    from_env_.insert(path);
  }

  /// Renders a string value for a message. Values that came (partly) from the
  /// environment are never shown: they may be secrets.
  std::string show(const std::string& path, std::string_view value) const {
    if (from_env_.count(path) > 0)
      return "(a value from the environment)";
    return quoted(value);
  }

private:
  std::set<std::string> from_env_;
};

const char* kind_name(const json::value& v) {
  switch (v.kind()) {
    case json::kind::null: return "null";
    case json::kind::bool_: return "a boolean";
    case json::kind::int64:
    case json::kind::uint64:
    case json::kind::double_: return "a number";
    case json::kind::string: return "a string";
    case json::kind::array: return "an array";
    case json::kind::object: return "an object";
  }
  return "an unknown kind";
}

// -- ${env:NAME} substitution
// --------------------------------------------------

bool is_env_name(std::string_view name) {
  if (name.empty())
    return false;
  auto head = name.front();
  if (!(head == '_' || (head >= 'a' && head <= 'z')
        || (head >= 'A' && head <= 'Z')))
    return false;
  return std::all_of(name.begin() + 1, name.end(), [](char ch) {
    return ch == '_' || (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z')
      || (ch >= '0' && ch <= '9');
  });
}

// Replaces every `${env:NAME}` in `str`. Substituted text is not scanned again,
// so a variable's value can never pull in another variable. A string with an
// unset or malformed reference is left unchanged (its problem is reported).
void substitute_string(checker& c, const std::string& path, json::string& str) {
  static constexpr std::string_view open = "${env:";
  std::string_view in{str.data(), str.size()};
  if (in.find(open) == std::string_view::npos)
    return;
  std::string out;
  bool ok = true;
  std::size_t pos = 0;
  for (auto at = in.find(open); at != std::string_view::npos;
       at = in.find(open, pos)) {
    out.append(in.substr(pos, at - pos));
    auto close = in.find('}', at + open.size());
    if (close == std::string_view::npos) {
      c.add(path, "unterminated ${env:...} reference");
      return;
    }
    auto name = in.substr(at + open.size(), close - at - open.size());
    pos = close + 1;
    if (!is_env_name(name)) {
      // Do not echo the text: a malformed reference may sit inside a secret.
      c.add(path,
            "malformed ${env:NAME} reference (NAME must match "
            "[A-Za-z_][A-Za-z0-9_]*)");
      ok = false;
      continue;
    }
    std::string name_str{name};
    if (const char* value = std::getenv(name_str.c_str())) {
      out += value;
    } else {
      c.add(path, "environment variable " + name_str + " is not set");
      ok = false;
    }
  }
  if (!ok)
    return;
  out.append(in.substr(pos));
  str = out;
  c.mark_from_env(path);
}

void substitute_env(checker& c, const std::string& path, json::value& v) {
  switch (v.kind()) {
    case json::kind::string: substitute_string(c, path, v.get_string()); break;
    case json::kind::array: {
      auto& arr = v.get_array();
      for (std::size_t i = 0; i < arr.size(); ++i)
        substitute_env(c, element_path(path, i), arr[i]);
      break;
    }
    case json::kind::object:
      for (auto& kvp : v.get_object())
        substitute_env(c, member_path(path, kvp.key()), kvp.value());
      break;
    default: break;
  }
}

// -- typed readers
// -------------------------------------------------------------

/// Reads the members of one JSON object. Every `get` marks its key as known;
/// `finish` reports the keys nobody asked for.
class object_reader {
public:
  object_reader(checker& c, const json::value& v, std::string path)
    : checker_(c), path_(std::move(path)) {
    obj_ = v.if_object();
    if (obj_ == nullptr)
      c.add(path_, std::string{"expected an object, got "} + kind_name(v));
  }

  object_reader(const object_reader&) = delete;
  object_reader& operator=(const object_reader&) = delete;

  bool ok() const {
    return obj_ != nullptr;
  }

  checker& ctx() {
    return checker_;
  }

  const std::string& path() const {
    return path_;
  }

  std::string path_of(std::string_view key) const {
    return member_path(path_, key);
  }

  const json::value* get(std::string_view key) {
    if (obj_ == nullptr)
      return nullptr;
    known_.emplace(key);
    return obj_->if_contains(json::string_view{key});
  }

  /// Like `get`, but a missing key is a problem.
  const json::value* require(std::string_view key) {
    auto result = get(key);
    if (result == nullptr && obj_ != nullptr)
      checker_.add(path_of(key), "is required");
    return result;
  }

  void finish() {
    if (obj_ == nullptr)
      return;
    for (const auto& kvp : *obj_) {
      std::string key{kvp.key()};
      if (known_.count(key) == 0)
        checker_.add(path_of(key), "unknown key");
    }
  }

private:
  checker& checker_;
  std::string path_;
  const json::object* obj_ = nullptr;
  std::set<std::string, std::less<>> known_;
};

/// Inclusive integer range check. The JSON number must be integral: 3 and 3.0
/// are accepted, 3.5 is not.
bool to_uint(checker& c, const std::string& path, const json::value& v,
             uint64_t lo, uint64_t hi, uint64_t& out) {
  auto range_problem = [&] {
    if (lo == 0)
      c.add(path, "must be at most " + std::to_string(hi));
    else
      c.add(path,
            "must be between " + std::to_string(lo) + " and "
              + std::to_string(hi));
  };
  auto negative_problem = [&] {
    if (lo == 0)
      c.add(path, "must not be negative");
    else
      range_problem();
  };
  uint64_t x = 0;
  switch (v.kind()) {
    case json::kind::int64:
      if (v.get_int64() < 0) {
        negative_problem();
        return false;
      }
      x = static_cast<uint64_t>(v.get_int64());
      break;
    case json::kind::uint64: x = v.get_uint64(); break;
    case json::kind::double_: {
      auto d = v.get_double();
      if (!std::isfinite(d) || std::trunc(d) != d) {
        c.add(path, "expected an integer, got " + format_number(d));
        return false;
      }
      if (d < 0) {
        negative_problem();
        return false;
      }
      // 2^64 is exactly representable; anything at or above does not fit.
      if (d >= 18446744073709551616.0) {
        range_problem();
        return false;
      }
      x = static_cast<uint64_t>(d);
      break;
    }
    default:
      c.add(path, std::string{"expected an integer, got "} + kind_name(v));
      return false;
  }
  if (x < lo || x > hi) {
    range_problem();
    return false;
  }
  out = x;
  return true;
}

template <class UInt>
void read_uint(object_reader& r, std::string_view key, UInt& out,
               uint64_t lo = 0,
               uint64_t hi = std::numeric_limits<UInt>::max()) {
  static_assert(std::is_unsigned<UInt>::value);
  auto v = r.get(key);
  uint64_t x = 0;
  if (v != nullptr && to_uint(r.ctx(), r.path_of(key), *v, lo, hi, x))
    out = static_cast<UInt>(x);
}

/// A range of doubles; each end open or closed.
struct bounds {
  double lo;
  bool lo_open;
  double hi;
  bool hi_open;

  bool contains(double x) const {
    return (lo_open ? x > lo : x >= lo) && (hi_open ? x < hi : x <= hi);
  }

  /// Says what is wrong with `x`, which lies outside.
  std::string describe(double x) const {
    if (x < lo && lo == 0 && !lo_open)
      return "must not be negative";
    if (std::isinf(hi))
      return std::string{"must be "} + (lo_open ? "> " : ">= ")
        + format_number(lo);
    if (x > hi && lo == 0 && !lo_open && !hi_open)
      return "must be at most " + format_number(hi);
    return std::string{"must be in "} + (lo_open ? "(" : "[")
      + format_number(lo) + ", " + format_number(hi) + (hi_open ? ")" : "]");
  }
};

constexpr double inf = std::numeric_limits<double>::infinity();
constexpr bounds non_negative{0, false, inf, false};
constexpr bounds positive{0, true, inf, false};
constexpr bounds ratio{0, true, 1, false}; // (0, 1]
// Dollars become integer micro-dollars downstream; keep them far from
// overflowing int64 even after multiplication by call counts.
constexpr bounds money{0, false, 1e12, false};

/// Returns false if the key was present but its value was rejected.
bool read_double(object_reader& r, std::string_view key, double& out,
                 const bounds& b, bool required = false) {
  auto v = required ? r.require(key) : r.get(key);
  if (v == nullptr)
    return !required;
  auto path = r.path_of(key);
  double x = 0;
  switch (v->kind()) {
    case json::kind::int64: x = static_cast<double>(v->get_int64()); break;
    case json::kind::uint64: x = static_cast<double>(v->get_uint64()); break;
    case json::kind::double_: x = v->get_double(); break;
    default:
      r.ctx().add(path, std::string{"expected a number, got "} + kind_name(*v));
      return false;
  }
  if (!std::isfinite(x)) {
    r.ctx().add(path, "must be a finite number");
    return false;
  }
  if (!b.contains(x)) {
    r.ctx().add(path, b.describe(x));
    return false;
  }
  out = x;
  return true;
}

void read_bool(object_reader& r, std::string_view key, bool& out) {
  auto v = r.get(key);
  if (v == nullptr)
    return;
  if (auto b = v->if_bool())
    out = *b;
  else
    r.ctx().add(r.path_of(key),
                std::string{"expected a boolean, got "} + kind_name(*v));
}

bool to_string(checker& c, const std::string& path, const json::value& v,
               std::string& out) {
  if (auto s = v.if_string()) {
    out.assign(s->data(), s->size());
    return true;
  }
  c.add(path, std::string{"expected a string, got "} + kind_name(v));
  return false;
}

/// Returns true if the key was present and held a string.
bool read_string(object_reader& r, std::string_view key, std::string& out,
                 bool required = false) {
  auto v = required ? r.require(key) : r.get(key);
  return v != nullptr && to_string(r.ctx(), r.path_of(key), *v, out);
}

void read_string_array(object_reader& r, std::string_view key,
                       std::vector<std::string>& out, bool required = false) {
  auto v = required ? r.require(key) : r.get(key);
  if (v == nullptr)
    return;
  auto path = r.path_of(key);
  auto arr = v->if_array();
  if (arr == nullptr) {
    r.ctx().add(path, std::string{"expected an array, got "} + kind_name(*v));
    return;
  }
  std::vector<std::string> result;
  for (std::size_t i = 0; i < arr->size(); ++i) {
    std::string s;
    if (to_string(r.ctx(), element_path(path, i), (*arr)[i], s))
      result.push_back(std::move(s));
  }
  out = std::move(result);
}

bool one_of(const std::string& x, std::initializer_list<const char*> xs) {
  return std::any_of(xs.begin(), xs.end(),
                     [&](const char* y) { return x == y; });
}

bool starts_with(std::string_view x, std::string_view prefix) {
  return x.substr(0, prefix.size()) == prefix;
}

bool is_sha256_hex(const std::string& x) {
  return x.size() == 64 && std::all_of(x.begin(), x.end(), [](char ch) {
           return std::isxdigit(static_cast<unsigned char>(ch)) != 0;
         });
}

void to_lower(std::string& x) {
  for (auto& ch : x)
    ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
}

bool is_service_name(std::string_view x) {
  auto lower_or_digit = [](char ch) {
    return (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9');
  };
  if (x.empty() || !lower_or_digit(x.front()))
    return false;
  return std::all_of(x.begin() + 1, x.end(), [&](char ch) {
    return lower_or_digit(ch) || ch == '_' || ch == '-';
  });
}

// -- blocks
// --------------------------------------------------------------------

/// A file the node must read at start: say so now rather than at bind time.
void require_readable_file(object_reader& r, std::string_view key,
                           const std::string& file, checker& c) {
  if (file.empty()) {
    c.add(r.path_of(key), "must name a PEM file");
    return;
  }
  std::ifstream in{file};
  if (!in)
    c.add(r.path_of(key), "cannot read " + file + ": " + std::strerror(errno));
}

void read_http_tls(checker& c, const json::value& v, std::string path,
                   http_tls_config& out) {
  object_reader r{c, v, std::move(path)};
  if (read_string(r, "cert_file", out.cert_file, true))
    require_readable_file(r, "cert_file", out.cert_file, c);
  if (read_string(r, "key_file", out.key_file, true))
    require_readable_file(r, "key_file", out.key_file, c);
  r.finish();
}

void read_http(checker& c, const json::value& v, std::string path,
               http_config& out) {
  object_reader r{c, v, std::move(path)};
  if (read_string(r, "host", out.host) && out.host.empty())
    c.add(r.path_of("host"), "must not be empty");
  read_uint(r, "port", out.port); // 0: let the OS pick a free port
  if (read_string(r, "public_url", out.public_url)) {
    auto& url = out.public_url;
    if (!url.empty() && !starts_with(url, "http://")
        && !starts_with(url, "https://"))
      c.add(r.path_of("public_url"), "must start with http:// or https://");
    // Routes are appended to it (Twilio signs public_url + path + query).
    while (!url.empty() && url.back() == '/')
      url.pop_back();
  }
  read_uint(r, "max_body_bytes", out.max_body_bytes, 1024);
  read_uint(r, "io_threads", out.io_threads, 0, 256);
  read_uint(r, "threads", out.threads, 1, 4096);
  read_uint(r, "max_queued_requests", out.max_queued_requests, 1, 1u << 20);
  read_uint(r, "max_connections", out.max_connections, 1, 1u << 20);
  read_uint(r, "max_header_bytes", out.max_header_bytes, 1024, 1u << 20);
  read_uint(r, "backlog", out.backlog, 1, 65535);
  read_uint(r, "keep_alive_max_count", out.keep_alive_max_count, 1);
  read_uint(r, "keep_alive_timeout_s", out.keep_alive_timeout_s, 1, 3600);
  read_uint(r, "head_timeout_s", out.head_timeout_s, 1, 3600);
  read_uint(r, "body_timeout_s", out.body_timeout_s, 1, 3600);
  read_uint(r, "write_timeout_s", out.write_timeout_s, 1, 3600);
  read_uint(r, "shutdown_grace_s", out.shutdown_grace_s, 0, 3600);
  read_uint(r, "max_subscribers", out.max_subscribers, 0, 1u << 20);
  read_bool(r, "access_log", out.access_log);
  read_uint(r, "stream_queue_bytes", out.stream_queue_bytes, 1024, 1u << 30);
  read_uint(r, "ws_max_message_bytes", out.ws_max_message_bytes, 128,
            16u << 20);
  read_uint(r, "stream_keep_alive_s", out.stream_keep_alive_s, 1, 3600);
  if (auto x = r.get("tls"))
    read_http_tls(c, *x, r.path_of("tls"), out.tls);
  // The cpp-httplib server's single socket timeout: taken by name so that
  // an old config gets a pointer to its replacements, not "unknown key".
  if (r.get("read_timeout_s") != nullptr)
    c.add(r.path_of("read_timeout_s"),
          "replaced by head_timeout_s (the request head) and body_timeout_s "
          "(the body)");
  r.finish();
}

void read_actor_endpoint(checker& c, const json::value& v, std::string path,
                         actor_endpoint_config& out) {
  object_reader r{c, v, std::move(path)};
  if (read_string(r, "host", out.host) && out.host.empty())
    c.add(r.path_of("host"), "must not be empty");
  read_uint(r, "port", out.port); // 0: let the OS pick a free port
  read_bool(r, "allow_plaintext_remote", out.allow_plaintext_remote);
  if (auto x = r.get("tls")) {
    object_reader t{c, *x, r.path_of("tls")};
    auto& tls = out.tls;
    if (read_string(t, "cert_file", tls.cert_file, true))
      require_readable_file(t, "cert_file", tls.cert_file, c);
    if (read_string(t, "key_file", tls.key_file, true))
      require_readable_file(t, "key_file", tls.key_file, c);
    // Without a CA every certificate would do: mutual TLS needs it.
    if (read_string(t, "ca_file", tls.ca_file, true))
      require_readable_file(t, "ca_file", tls.ca_file, c);
    t.finish();
  }
  r.finish();
}

void read_node(checker& c, const json::value& v, std::string path,
               node_config& out) {
  object_reader r{c, v, std::move(path)};
  if (read_string(r, "name", out.name) && out.name.empty())
    c.add(r.path_of("name"), "must not be empty");
  if (auto x = r.get("http"))
    read_http(c, *x, r.path_of("http"), out.http);
  if (auto x = r.get("actor"))
    read_actor_endpoint(c, *x, r.path_of("actor"), out.actor);
  r.finish();
}

void read_store(checker& c, const json::value& v, std::string path,
                store_config& out) {
  object_reader r{c, v, std::move(path)};
  if (read_string(r, "kind", out.kind)
      && !one_of(out.kind, {"memory", "redis"}))
    c.add(r.path_of("kind"),
          "must be \"memory\" or \"redis\", got "
            + c.show(r.path_of("kind"), out.kind));
  bool has_url = read_string(r, "url", out.url);
  read_string(r, "username", out.username);
  read_string(r, "password", out.password);
  read_string(r, "prefix", out.prefix);
  read_uint(r, "audit_retention_days", out.audit_retention_days, 1, 3650);
  read_uint(r, "sweep_interval_s", out.sweep_interval_s, 1, 86400);
  read_uint(r, "memory_max_keys", out.memory_max_keys, 100);
  if (out.kind == "redis") {
    auto url_path = r.path_of("url");
    if (!has_url && r.ok() && r.get("url") == nullptr)
      c.add(url_path, "is required when kind is \"redis\"");
    else if (has_url
             && (!starts_with(out.url, "redis://") || out.url.size() == 8))
      c.add(url_path, "must be a redis:// URL, e.g. redis://127.0.0.1:6379/0");
    else if (has_url) {
      // The whole check: credentials twice, a user without a password, a
      // bad escape (the message never repeats a credential).
      auto opts = store::redis_options_for(out.url, out.username, out.password,
                                           out.prefix);
      if (!opts)
        c.add(url_path, error_text(opts.error()));
    }
  } else if (!out.username.empty() || !out.password.empty()) {
    c.add(r.path_of("password"), "is for a redis store (kind \"redis\")");
  }
  r.finish();
}

void read_metrics(checker& c, const json::value& v, std::string path,
                  metrics_config& out) {
  object_reader r{c, v, std::move(path)};
  read_uint(r, "snapshot_interval_s", out.snapshot_interval_s, 1);
  read_uint(r, "dashboard_interval_s", out.dashboard_interval_s, 1);
  read_uint(r, "retention_h", out.retention_h, 1);
  read_uint(r, "rollup_interval_s", out.rollup_interval_s, 1, 3600);
  read_uint(r, "max_queued_samples", out.max_queued_samples, 1000);
  r.finish();
}

void read_sha256(object_reader& r, std::string_view key, std::string& out,
                 bool allow_empty) {
  if (!read_string(r, key, out, !allow_empty))
    return;
  if (allow_empty && out.empty())
    return;
  if (!is_sha256_hex(out))
    r.ctx().add(r.path_of(key),
                allow_empty ? "must be empty or 64 hex digits (a SHA-256)"
                            : "must be 64 hex digits (a SHA-256)");
  else
    to_lower(out); // one spelling, so consumers may compare bytes
}

void read_auth(checker& c, const json::value& v, std::string path,
               auth_config& out) {
  object_reader r{c, v, std::move(path)};
  if (auto x = r.get("tokens")) {
    auto tokens_path = r.path_of("tokens");
    if (auto arr = x->if_array()) {
      std::set<std::string> names;
      std::set<std::string> hashes;
      for (std::size_t i = 0; i < arr->size(); ++i) {
        auth_token_config token;
        object_reader t{c, (*arr)[i], element_path(tokens_path, i)};
        if (read_string(t, "name", token.name, true)) {
          if (token.name.empty())
            c.add(t.path_of("name"), "must not be empty");
          else if (!names.insert(token.name).second)
            c.add(t.path_of("name"), "duplicate token name");
        }
        read_sha256(t, "sha256", token.sha256, false);
        if (is_sha256_hex(token.sha256) && !hashes.insert(token.sha256).second)
          c.add(t.path_of("sha256"), "the same token is configured twice");
        if (read_string(t, "role", token.role, true)
            && !one_of(token.role, {"viewer", "reporter", "operator", "admin"}))
          c.add(t.path_of("role"),
                "must be \"viewer\", \"reporter\", \"operator\" or "
                "\"admin\", got "
                  + c.show(t.path_of("role"), token.role));
        t.finish();
        if (t.ok())
          out.tokens.push_back(std::move(token));
      }
    } else {
      c.add(tokens_path,
            std::string{"expected an array, got "} + kind_name(*x));
    }
  }
  read_bool(r, "open_reads", out.open_reads);
  read_bool(r, "allow_unauthenticated", out.allow_unauthenticated);
  read_uint(r, "audit_interval_s", out.audit_interval_s, 1, 3600);
  r.finish();
}

void read_agents(checker& c, const json::value& v, std::string path,
                 agents_config& out) {
  object_reader r{c, v, std::move(path)};
  read_uint(r, "heartbeat_interval_s", out.heartbeat_interval_s, 1);
  read_uint(r, "missed_heartbeats", out.missed_heartbeats, 1);
  read_sha256(r, "token_sha256", out.token_sha256, true);
  read_bool(r, "require_token", out.require_token);
  read_uint(r, "response_timeout_s", out.response_timeout_s, 1, 3600);
  read_uint(r, "max_attempts", out.max_attempts, 1, 100);
  read_uint(r, "max_in_flight", out.max_in_flight, 1, 100000);
  read_uint(r, "undeliverable_after_s", out.undeliverable_after_s, 1);
  read_uint(r, "event_retention_h", out.event_retention_h, 1);
  read_uint(r, "max_open_events", out.max_open_events, 1);
  read_uint(r, "max_open_payload_bytes", out.max_open_payload_bytes, 1024);
  read_uint(r, "max_finished_payload_bytes", out.max_finished_payload_bytes, 0);
  read_uint(r, "max_websocket_agents", out.max_websocket_agents, 0, 100000);
  read_uint(r, "max_websocket_agents_per_key", out.max_websocket_agents_per_key,
            1, 100000);
  read_string_array(r, "expected", out.expected);
  for (std::size_t i = 0; i < out.expected.size(); ++i) {
    auto& x = out.expected[i];
    if (x.empty() || x == "role:" || x.size() > 128)
      c.add(element_path(r.path_of("expected"), i),
            "expected an agent name or \"role:ROLE\" (1-128 characters)");
  }
  if (auto x = r.get("response_timeouts_s")) {
    object_reader types{c, *x, r.path_of("response_timeouts_s")};
    if (auto obj = x->if_object()) {
      for (auto& kv : *obj) {
        std::string type{kv.key()};
        if (!is_coordination_event_type(type)) {
          c.add(types.path_of(type), "unknown event type");
          types.get(type);
          continue;
        }
        uint32_t s = 0;
        read_uint(types, type, s, 1, 3600);
        out.response_timeouts_s[type] = s;
      }
    }
    types.finish();
  }
  r.finish();
}

void read_cost(checker& c, const json::value& v, std::string path,
               cost_config& out) {
  object_reader r{c, v, std::move(path)};
  read_double(r, "per_call_usd", out.per_call_usd, money);
  read_double(r, "per_unit_usd", out.per_unit_usd, money);
  read_string(r, "unit", out.unit);
  if (out.per_unit_usd > 0 && out.unit.empty())
    c.add(r.path_of("unit"),
          "must name the unit (e.g. \"sms_segment\") when per_unit_usd > 0");
  r.finish();
}

// A time zone must exist in the system's tz database, which is what the
// budget controller uses to find midnight.
bool is_known_time_zone(const std::string& tz) {
  if (tz == "UTC")
    return true;
  if (tz.empty() || tz.front() == '/' || tz.find("..") != std::string::npos)
    return false;
  struct stat st {};
  auto file = "/usr/share/zoneinfo/" + tz;
  return ::stat(file.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

void read_limits(checker& c, const json::value& v, std::string path,
                 limits_config& out) {
  object_reader r{c, v, std::move(path)};
  if (auto x = r.get("burst")) {
    object_reader b{c, *x, r.path_of("burst")};
    bool ok = read_double(b, "capacity", out.burst.capacity, non_negative);
    ok &= read_double(b, "refill_per_s", out.burst.refill_per_s, non_negative);
    // Zero for both disables the bucket; half-configured ones never grant
    // (capacity < 1) or never refill.
    if (ok && (out.burst.capacity > 0 || out.burst.refill_per_s > 0)) {
      if (out.burst.capacity < 1)
        c.add(b.path_of("capacity"),
              "must be >= 1 when refill_per_s > 0 (0 for both disables it)");
      if (out.burst.refill_per_s <= 0)
        c.add(b.path_of("refill_per_s"),
              "must be > 0 when capacity > 0 (0 for both disables it)");
    }
    b.finish();
  }
  if (auto x = r.get("sustained")) {
    object_reader s{c, *x, r.path_of("sustained")};
    read_uint(s, "limit", out.sustained.limit); // 0: no limit
    read_uint(s, "window_s", out.sustained.window_s, 1);
    s.finish();
  }
  if (auto x = r.get("daily")) {
    object_reader d{c, *x, r.path_of("daily")};
    read_uint(d, "limit", out.daily.limit); // 0: no limit
    if (read_string(d, "time_zone", out.daily.time_zone)
        && !is_known_time_zone(out.daily.time_zone))
      c.add(d.path_of("time_zone"),
            "unknown time zone "
              + c.show(d.path_of("time_zone"), out.daily.time_zone)
              + " (use UTC or a tz database name such as Europe/Berlin)");
    d.finish();
  }
  read_double(r, "reserved_share", out.reserved_share,
              bounds{0.0, false, 0.9, false});
  r.finish();
}

/// A JSON array of at most `max_count` whole numbers in [lo, hi].
void read_uint_list(object_reader& r, std::string_view key,
                    std::vector<uint32_t>& out, uint64_t lo, uint64_t hi,
                    std::size_t max_count) {
  auto x = r.get(key);
  if (x == nullptr)
    return;
  auto path = r.path_of(key);
  auto arr = x->if_array();
  if (arr == nullptr) {
    r.ctx().add(path, "must be an array of whole numbers");
    return;
  }
  if (arr->size() > max_count) {
    r.ctx().add(path, "has more than " + std::to_string(max_count) + " items");
    return;
  }
  std::vector<uint32_t> values;
  for (std::size_t i = 0; i < arr->size(); ++i) {
    uint64_t n = 0;
    if (!to_uint(r.ctx(), path + "[" + std::to_string(i) + "]", (*arr)[i], lo,
                 hi, n))
      return;
    values.push_back(static_cast<uint32_t>(n));
  }
  if (!std::is_sorted(values.begin(), values.end())
      || std::adjacent_find(values.begin(), values.end()) != values.end()) {
    r.ctx().add(path, "must be in ascending order without repeats");
    return;
  }
  out = std::move(values);
}

void read_alerts(checker& c, const json::value& v, std::string path,
                 alerts_config& out) {
  object_reader r{c, v, std::move(path)};
  read_double(r, "p95_ms", out.p95_ms, positive);
  read_double(r, "error_rate", out.error_rate, ratio);
  read_uint(r, "min_calls", out.min_calls);
  read_double(r, "clear_ratio", out.clear_ratio, ratio);
  read_uint_list(r, "escalate_after_s", out.escalate_after_s, 1, 30 * 24 * 3600,
                 2);
  read_double(r, "anomaly_sigmas", out.anomaly_sigmas,
              bounds{0, false, 20, false});
  read_uint(r, "anomaly_min_observations", out.anomaly_min_observations, 1,
            100000);
  r.finish();
}

void read_advisor(checker& c, const json::value& v, std::string path,
                  advisor_config& out) {
  object_reader r{c, v, std::move(path)};
  read_uint(r, "observation_days", out.observation_days, 1, 35);
  read_double(r, "headroom", out.headroom, bounds{1, false, 100, false});
  read_double(r, "min_confidence", out.min_confidence, ratio);
  read_uint(r, "persist_interval_s", out.persist_interval_s, 1, 3600);
  r.finish();
}

void read_breaker(checker& c, const json::value& v, std::string path,
                  breaker_config& out) {
  object_reader r{c, v, std::move(path)};
  read_double(r, "error_rate", out.error_rate, ratio);
  read_uint(r, "min_calls", out.min_calls, 1);
  read_uint(r, "open_s", out.open_s, 1);
  read_uint(r, "half_open_probes", out.half_open_probes, 1);
  r.finish();
}

void read_webhook(checker& c, const json::value& v, std::string path,
                  webhook_config& out) {
  object_reader r{c, v, std::move(path)};
  if (read_string(r, "scheme", out.scheme, true)
      && !one_of(out.scheme,
                 {"stripe", "twilio", "sendgrid", "samsara", "airtable",
                  "standard"}))
    c.add(r.path_of("scheme"),
          "must be one of stripe, twilio, sendgrid, samsara, airtable, "
          "standard; got "
            + c.show(r.path_of("scheme"), out.scheme));
  if (auto x = r.require("secrets")) {
    read_string_array(r, "secrets", out.secrets);
    // Empty entries are dropped, so a rotation slot whose variable is set to
    // "" simply does not count.
    out.secrets.erase(std::remove(out.secrets.begin(), out.secrets.end(), ""),
                      out.secrets.end());
    auto arr = x->if_array();
    bool all_strings = arr != nullptr
      && std::all_of(arr->begin(), arr->end(),
                     [](const json::value& y) { return y.is_string(); });
    if (all_strings && out.secrets.empty())
      c.add(r.path_of("secrets"), "needs at least one non-empty secret");
  }
  read_uint(r, "tolerance_s", out.tolerance_s); // 0: no freshness check
  out.critical_types_set = r.get("critical_types") != nullptr;
  read_string_array(r, "critical_types", out.critical_types);
  if (!out.critical_types_set) {
    if (out.scheme == "stripe")
      out.critical_types = {"invoice.payment_failed", "charge.failed",
                            "charge.dispute.created"};
    else if (out.scheme == "samsara")
      out.critical_types = {"AlertIncident", "SevereSpeedingStarted"};
  }
  read_uint(r, "dedup_ttl_s", out.dedup_ttl_s, 1);
  read_uint(r, "max_body_bytes", out.max_body_bytes, 1, 64ull * 1024 * 1024);
  r.finish();
}

/// A retry schedule: seconds before each retry, at most 50.
void read_delays(object_reader& r, std::string_view key,
                 std::vector<uint32_t>& out) {
  auto& c = r.ctx();
  auto x = r.get(key);
  if (x == nullptr)
    return;
  auto arr = x->if_array();
  if (arr == nullptr) {
    c.add(r.path_of(key), "must be an array of seconds");
    return;
  }
  out.clear();
  for (std::size_t i = 0; i < arr->size(); ++i) {
    uint64_t s = 0;
    if (to_uint(c, element_path(r.path_of(key), i), (*arr)[i], 1, 7 * 24 * 3600,
                s))
      out.push_back(static_cast<uint32_t>(s));
  }
  if (arr->size() > 50)
    c.add(r.path_of(key), "has more than 50 retries");
}

void read_webhooks(checker& c, const json::value& v, std::string path,
                   webhooks_config& out) {
  object_reader r{c, v, std::move(path)};
  read_delays(r, "retry_delays_s", out.retry_delays_s);
  read_uint(r, "delivery_timeout_s", out.delivery_timeout_s, 1, 3600);
  read_uint(r, "max_in_flight", out.max_in_flight, 1, 10000);
  read_uint(r, "claim_idle_s", out.claim_idle_s, 1);
  read_uint(r, "queue_retention_h", out.queue_retention_h, 1);
  read_uint(r, "dead_letter_retention_days", out.dead_letter_retention_days, 1,
            3650);
  read_bool(r, "log_deliveries", out.log_deliveries);
  r.finish();
}

void read_service(checker& c, const json::value& v, std::string path,
                  service_config& out) {
  object_reader r{c, v, std::move(path)};
  read_double(r, "budget_usd_month", out.budget_usd_month, money, true);
  read_bool(r, "hard_cap", out.hard_cap);
  {
    std::vector<uint32_t> percents;
    bool given = r.get("alert_levels_percent") != nullptr;
    read_uint_list(r, "alert_levels_percent", percents, 1, 100, 10);
    if (given) {
      out.alert_levels_bp.clear();
      for (auto p : percents)
        out.alert_levels_bp.push_back(p * 100);
    }
  }
  {
    double percent = out.throttle_bp / 100.0;
    if (read_double(r, "throttle_percent", percent,
                    bounds{1, false, 100, false}))
      out.throttle_bp = static_cast<uint32_t>(std::lround(percent * 100));
  }
  if (auto x = r.get("cost"))
    read_cost(c, *x, r.path_of("cost"), out.cost);
  if (auto x = r.get("limits"))
    read_limits(c, *x, r.path_of("limits"), out.limits);
  if (auto x = r.get("alerts"))
    read_alerts(c, *x, r.path_of("alerts"), out.alerts);
  if (auto x = r.get("breaker"))
    read_breaker(c, *x, r.path_of("breaker"), out.breaker);
  if (auto x = r.get("batching")) {
    object_reader b{c, *x, r.path_of("batching")};
    read_string_array(b, "endpoints", out.batching.endpoints);
    read_uint(b, "window_ms", out.batching.window_ms, 1, 3'600'000);
    b.finish();
  }
  if (auto x = r.get("webhook")) {
    out.webhook.emplace();
    read_webhook(c, *x, r.path_of("webhook"), *out.webhook);
  }
  r.finish();
}

void read_services(checker& c, const json::value& v, std::string path,
                   std::vector<service_config>& out) {
  auto obj = v.if_object();
  if (obj == nullptr) {
    c.add(path,
          std::string{"expected an object keyed by service name, got "}
            + kind_name(v));
    return;
  }
  if (obj->empty())
    c.add(path, "at least one service is required");
  for (const auto& kvp : *obj) {
    service_config svc;
    svc.name.assign(kvp.key().data(), kvp.key().size());
    auto svc_path = member_path(path, svc.name);
    if (!is_service_name(svc.name))
      c.add(svc_path,
            "service name must match [a-z0-9][a-z0-9_-]* (it is "
            "part of URLs and metric labels)");
    read_service(c, kvp.value(), svc_path, svc);
    out.push_back(std::move(svc));
  }
}

void read_cluster(checker& c, const json::value& v, std::string path,
                  const std::vector<service_config>& services,
                  cluster_config& out) {
  object_reader r{c, v, std::move(path)};
  if (auto x = r.get("nodes")) {
    auto nodes_path = r.path_of("nodes");
    if (auto arr = x->if_array()) {
      std::set<std::string> names;
      for (std::size_t i = 0; i < arr->size(); ++i) {
        cluster_node_config node;
        object_reader n{c, (*arr)[i], element_path(nodes_path, i)};
        if (read_string(n, "name", node.name, true)) {
          if (node.name.empty())
            c.add(n.path_of("name"), "must not be empty");
          else if (!names.insert(node.name).second)
            c.add(n.path_of("name"),
                  "duplicate node name "
                    + c.show(n.path_of("name"), node.name));
        }
        if (read_string(n, "host", node.host) && node.host.empty())
          c.add(n.path_of("host"), "must not be empty");
        // Peers connect to these, so "pick a free port" makes no sense here.
        read_uint(n, "actor_port", node.actor_port, 1);
        read_uint(n, "http_port", node.http_port, 1);
        n.finish();
        if (n.ok())
          out.nodes.push_back(std::move(node));
      }
    } else {
      c.add(nodes_path, std::string{"expected an array, got "} + kind_name(*x));
    }
  }
  if (auto x = r.get("placement")) {
    auto placement_path = r.path_of("placement");
    if (auto obj = x->if_object()) {
      for (const auto& kvp : *obj) {
        std::string service{kvp.key()};
        auto entry_path = member_path(placement_path, service);
        // One node name, or the nodes in order of preference.
        std::vector<std::string> order;
        if (auto list = kvp.value().if_array()) {
          bool strings = true;
          for (std::size_t i = 0; i < list->size(); ++i) {
            std::string name;
            if (to_string(c, element_path(entry_path, i), (*list)[i], name))
              order.push_back(std::move(name));
            else
              strings = false;
          }
          if (!strings)
            continue;
        } else {
          std::string name;
          if (!to_string(c, entry_path, kvp.value(), name))
            continue;
          order.push_back(std::move(name));
        }
        bool ok = true;
        if (order.empty()) {
          c.add(entry_path, "must name at least one node");
          ok = false;
        }
        std::set<std::string> seen;
        for (auto& name : order)
          if (!seen.insert(name).second) {
            c.add(entry_path, "names node " + quoted(name) + " twice");
            ok = false;
          }
        auto by_name = [&](const service_config& s) {
          return s.name == service;
        };
        if (std::none_of(services.begin(), services.end(), by_name)) {
          c.add(entry_path,
                "places service " + quoted(service)
                  + ", which is not configured in services");
          ok = false;
        }
        for (auto& node : order) {
          auto node_named = [&](const cluster_node_config& n) {
            return n.name == node;
          };
          if (std::none_of(out.nodes.begin(), out.nodes.end(), node_named)) {
            c.add(entry_path,
                  "node " + c.show(entry_path, node)
                    + " is not one of cluster.nodes");
            ok = false;
          }
        }
        if (ok)
          out.placement.emplace(std::move(service), std::move(order));
      }
      // With a cluster, a service placed nowhere would be unreachable.
      if (!out.nodes.empty())
        for (const auto& s : services)
          if (obj->if_contains(s.name) == nullptr)
            c.add(placement_path,
                  "service " + quoted(s.name) + " is not placed on any node");
    } else {
      c.add(placement_path,
            std::string{"expected an object (service -> node names), got "}
              + kind_name(*x));
    }
  } else if (!out.nodes.empty() && r.ok()) {
    c.add(r.path_of("placement"),
          "is required when cluster.nodes is not empty");
  }
  if (read_string(r, "secret", out.secret) && !out.secret.empty()
      && out.secret.size() < 16)
    c.add(r.path_of("secret"), "must be at least 16 characters");
  if (!out.nodes.empty() && out.secret.empty() && r.ok())
    c.add(r.path_of("secret"),
          "is required when cluster.nodes is not empty (peers present it "
          "to learn each other's services; use ${env:NAME})");
  read_uint(r, "failover_ms", out.failover_ms, 100);
  read_uint(r, "heartbeat_ms", out.heartbeat_ms, 50);
  // A peer is given up, and the housekeeping lease expires, failover_ms
  // after the last answer: fewer than three heartbeats in that time and one
  // late answer moves services or loses the lease.
  if (uint64_t{out.failover_ms} < 3 * uint64_t{out.heartbeat_ms})
    c.add(r.path_of("failover_ms"),
          "must be at least 3 x heartbeat_ms ("
            + std::to_string(3 * uint64_t{out.heartbeat_ms})
            + "): peers and the housekeeping lease are given up after "
              "failover_ms without a heartbeat");
  read_bool(r, "failback", out.failback);
  r.finish();
}

void read_endpoint(checker& c, const json::value& v, std::string path,
                   const std::vector<service_config>& services,
                   delivery_endpoint_config& out) {
  object_reader r{c, v, std::move(path)};
  if (!r.ok())
    return;
  if (read_string(r, "name", out.name, true) && !is_valid_name(out.name))
    c.add(r.path_of("name"), "must be 1-64 letters, digits, '-', '_' or '.'");
  if (read_string(r, "url", out.url, true)) {
    std::string why;
    if (!parse_endpoint_url(out.url, why))
      c.add(r.path_of("url"), why);
  }
  if (read_string(r, "secret", out.secret, true)
      && !signatures::sign_standard_webhooks(out.secret, "check", 0, ""))
    c.add(r.path_of("secret"),
          "must be \"whsec_\" followed by base64 (Standard Webhooks)");
  read_string_array(r, "events", out.events);
  for (std::size_t i = 0; i < out.events.size(); ++i)
    if (out.events[i] == "webhook")
      c.add(element_path(r.path_of("events"), i),
            "provider webhooks are chosen by service: \"webhooks\": "
            "[\"stripe\", ...]");
    else if (!is_coordination_event_type(out.events[i]))
      c.add(element_path(r.path_of("events"), i),
            "unknown event type " + quoted(out.events[i]));
  read_string_array(r, "webhooks", out.webhooks);
  for (std::size_t i = 0; i < out.webhooks.size(); ++i) {
    auto& name = out.webhooks[i];
    auto s = std::find_if(services.begin(), services.end(),
                          [&](auto& x) { return x.name == name; });
    if (s == services.end() || !s->webhook)
      c.add(element_path(r.path_of("webhooks"), i),
            "no service " + quoted(name) + " with a webhook in the config");
  }
  if (out.events.empty() && out.webhooks.empty() && r.ok())
    c.add(r.path_of("events"),
          "an endpoint takes at least one event type or webhook service");
  read_uint(r, "timeout_s", out.timeout_s, 1, 300);
  if (read_string(r, "ca_file", out.ca_file) && !out.ca_file.empty()) {
    struct stat st {};
    if (::stat(out.ca_file.c_str(), &st) != 0 || !S_ISREG(st.st_mode))
      c.add(r.path_of("ca_file"), "is not a readable file");
    else if (out.url.rfind("https://", 0) != 0)
      c.add(r.path_of("ca_file"), "applies to https:// URLs only");
  }
  read_delays(r, "retry_delays_s", out.retry_delays_s);
  read_uint(r, "max_in_flight", out.max_in_flight, 1, 64);
  read_uint(r, "max_queued", out.max_queued, 1, 1000000);
  r.finish();
}

void read_deliveries(checker& c, const json::value& v, std::string path,
                     const std::vector<service_config>& services,
                     deliveries_config& out) {
  object_reader r{c, v, std::move(path)};
  auto x = r.get("endpoints");
  if (x != nullptr) {
    auto arr = x->if_array();
    if (arr == nullptr) {
      c.add(r.path_of("endpoints"), "must be an array of endpoints");
    } else {
      if (arr->size() > 64)
        c.add(r.path_of("endpoints"), "has more than 64 endpoints");
      std::set<std::string> names;
      for (std::size_t i = 0; i < arr->size() && i < 64; ++i) {
        delivery_endpoint_config e;
        auto p = element_path(r.path_of("endpoints"), i);
        read_endpoint(c, (*arr)[i], p, services, e);
        if (!e.name.empty() && !names.insert(e.name).second)
          c.add(p + ".name", "repeats endpoint " + quoted(e.name));
        out.endpoints.push_back(std::move(e));
      }
    }
  }
  r.finish();
}

config read_config(checker& c, const json::value& root) {
  config cfg;
  object_reader r{c, root, "$"};
  if (!r.ok())
    return cfg;
  if (auto x = r.get("node"))
    read_node(c, *x, r.path_of("node"), cfg.node);
  if (auto x = r.get("store"))
    read_store(c, *x, r.path_of("store"), cfg.store);
  if (auto x = r.get("metrics"))
    read_metrics(c, *x, r.path_of("metrics"), cfg.metrics);
  if (auto x = r.get("auth"))
    read_auth(c, *x, r.path_of("auth"), cfg.auth);
  if (auto x = r.get("agents"))
    read_agents(c, *x, r.path_of("agents"), cfg.agents);
  if (auto x = r.get("webhooks"))
    read_webhooks(c, *x, r.path_of("webhooks"), cfg.webhooks);
  if (auto x = r.get("advisor"))
    read_advisor(c, *x, r.path_of("advisor"), cfg.advisor);
  if (auto x = r.require("services"))
    read_services(c, *x, r.path_of("services"), cfg.services);
  if (auto x = r.get("cluster"))
    read_cluster(c, *x, r.path_of("cluster"), cfg.services, cfg.cluster);
  if (auto x = r.get("deliveries"))
    read_deliveries(c, *x, r.path_of("deliveries"), cfg.services,
                    cfg.deliveries);
  r.finish();
  // Twilio signs the URL it called, so its verifier needs our public URL.
  if (cfg.node.http.public_url.empty())
    for (const auto& s : cfg.services)
      if (s.webhook && s.webhook->scheme == "twilio")
        c.add("$.node.http.public_url",
              "is required: service " + quoted(s.name)
                + " uses the twilio webhook scheme, which signs the public "
                  "URL");
  return cfg;
}

[[noreturn]] void throw_unreadable(const std::string& path, int err) {
  throw config_error(
    {{"$", "cannot read config file " + path + ": " + std::strerror(err)}});
}

} // namespace

config load_config_text(const std::string& json_text) {
  checker c;
  auto root = parse_json(json_text, c.problems);
  if (!root)
    throw config_error(std::move(c.problems));
  substitute_env(c, "$", *root);
  auto cfg = read_config(c, *root);
  if (!c.problems.empty())
    throw config_error(std::move(c.problems));
  return cfg;
}

std::string read_config_text(const std::string& path) {
  std::FILE* file = std::fopen(path.c_str(), "rb");
  if (file == nullptr)
    throw_unreadable(path, errno);
  std::string text;
  char buf[65536];
  std::size_t n = 0;
  while ((n = std::fread(buf, 1, sizeof(buf), file)) > 0)
    text.append(buf, n);
  // Reading a directory "opens" fine and fails here with EISDIR.
  auto err = std::ferror(file) != 0 ? errno : 0;
  std::fclose(file);
  if (err != 0)
    throw_unreadable(path, err);
  return text;
}

std::optional<json::value> parse_json_strict(const std::string& text,
                                             json_problem& problem) {
  std::vector<config_problem> problems;
  auto v = parse_json(text, problems);
  if (!problems.empty()) {
    problem = {problems.front().path, problems.front().message};
    return std::nullopt;
  }
  return v;
}

bool is_loopback_host(const std::string& host) {
  if (host == "localhost")
    return true;
  in_addr v4{};
  if (inet_pton(AF_INET, host.c_str(), &v4) == 1)
    return (ntohl(v4.s_addr) >> 24) == 127;
  auto bare = host.size() > 2 && host.front() == '[' && host.back() == ']'
    ? host.substr(1, host.size() - 2)
    : host;
  in6_addr v6{};
  return inet_pton(AF_INET6, bare.c_str(), &v6) == 1
    && IN6_IS_ADDR_LOOPBACK(&v6);
}

std::vector<std::string> exposure_warnings(const config& cfg) {
  std::vector<std::string> out;
  auto& host = cfg.node.http.host;
  if (cfg.auth.allow_unauthenticated)
    out.push_back("auth.allow_unauthenticated: every route answers without a "
                  "key, as admin, to anyone who reaches "
                  + host);
  else if (cfg.auth.open_reads && !is_loopback_host(host))
    out.push_back("auth.open_reads: metrics, events, dead letters and the "
                  "audit trail answer without a key to anyone who reaches "
                  + host);
  return out;
}

std::vector<config_problem> exposure_problems(const config& cfg) {
  std::vector<config_problem> out;
  auto& http = cfg.node.http;
  if (!is_loopback_host(http.host) && cfg.auth.tokens.empty()
      && !cfg.auth.allow_unauthenticated)
    out.push_back({"$.auth.tokens",
                   "the HTTP listener " + http.host
                     + " is not loopback and no key is configured: add a "
                       "bootstrap admin key (streamb keys hash --name N "
                       "--role admin) or set auth.allow_unauthenticated"});
  auto& actor = cfg.node.actor;
  if (!is_loopback_host(actor.host) && !actor.tls.enabled()
      && !actor.allow_plaintext_remote)
    out.push_back({"$.node.actor.host",
                   "the actor port " + actor.host
                     + " is not loopback and has no TLS: any peer that reaches "
                       "it can make the node reserve gigabytes before a "
                       "handshake. Keep it on 127.0.0.1 and connect remote "
                       "agents over WebSocket (GET /api/v1/agents/ws, with "
                       "node.http.tls), or set "
                       "node.actor.allow_plaintext_remote on a network only "
                       "trusted hosts reach"});
  if (!is_loopback_host(actor.host) && cfg.agents.token_sha256.empty()
      && !cfg.agents.require_token)
    out.push_back({"$.agents.token_sha256",
                   "the actor port " + actor.host
                     + " is not loopback and agents need no token: set "
                       "agents.token_sha256, or agents.require_token with "
                       "managed agent keys (streamb keys create --role "
                       "agent)"});
  return out;
}

config load_config_file(const std::string& path) {
  return load_config_text(read_config_text(path));
}

} // namespace streamb
