#include "bridges/call_sample_parser.hpp"

// Samples are read straight from the parser's events (Boost.JSON's SAX
// interface): no DOM is built, nothing is allocated per JSON node, and the
// only per-sample allocation is an endpoint longer than the small-string
// buffer. A DOM parse alone costs more than this whole path.
#include <boost/json/basic_parser_impl.hpp>

#include <cmath>
#include <limits>

namespace streamb {

namespace {

// Latencies above a day are a unit mistake (seconds or µs sent as ms).
constexpr double max_latency_ms = 86'400'000.0;
constexpr double max_cost_usd = 1'000'000.0;

std::string path_of(std::size_t index, std::string_view field = {}) {
  std::string result = "$[" + std::to_string(index) + "]";
  if (!field.empty()) {
    result += '.';
    result += field;
  }
  return result;
}

batch_error invalid(std::size_t index, std::string_view field,
                    std::string message) {
  return {400, "invalid_sample",
          "sample " + std::to_string(index) + ": " + std::move(message),
          path_of(index, field)};
}

enum class field_id : uint8_t {
  unknown,
  service,
  endpoint,
  latency_ms,
  status,
  cost_usd,
  cache_hit,
  timestamp,
  request_key,
};

field_id field_of(std::string_view key) {
  switch (key.size()) {
    case 6:
      if (key == "status")
        return field_id::status;
      break;
    case 7:
      if (key == "service")
        return field_id::service;
      if (key == "costUsd")
        return field_id::cost_usd;
      break;
    case 8:
      if (key == "endpoint")
        return field_id::endpoint;
      if (key == "cacheHit")
        return field_id::cache_hit;
      break;
    case 9:
      if (key == "latencyMs")
        return field_id::latency_ms;
      if (key == "timestamp")
        return field_id::timestamp;
      break;
    case 10:
      if (key == "requestKey")
        return field_id::request_key;
      break;
  }
  return field_id::unknown;
}

const char* name_of(field_id f) {
  switch (f) {
    case field_id::service: return "service";
    case field_id::endpoint: return "endpoint";
    case field_id::latency_ms: return "latencyMs";
    case field_id::status: return "status";
    case field_id::cost_usd: return "costUsd";
    case field_id::cache_hit: return "cacheHit";
    case field_id::timestamp: return "timestamp";
    case field_id::request_key: return "requestKey";
    case field_id::unknown: break;
  }
  return "";
}

/// One JSON scalar as the parser reported it.
struct scalar {
  enum kind_t { string, int64, uint64, number, boolean, null } kind;
  std::string_view text;
  int64_t i = 0;
  uint64_t u = 0;
  double d = 0;
  bool b = false;

  bool as_double(double& out) const {
    switch (kind) {
      case int64: out = static_cast<double>(i); return true;
      case uint64: out = static_cast<double>(u); return true;
      case number: out = d; return true;
      default: return false;
    }
  }
};

/// Parser events in, call samples out. See the file comment.
class sample_handler {
public:
  static constexpr std::size_t max_array_size = std::size_t(-1);
  static constexpr std::size_t max_object_size = std::size_t(-1);
  static constexpr std::size_t max_string_size = 1 << 20;
  static constexpr std::size_t max_key_size = 1 << 10;

  /// Prepares for one body; `sample_level` is the nesting depth at which
  /// samples start: 1 inside a top-level array, 0 for an NDJSON line.
  void begin_batch(const std::vector<std::string>& services, int64_t now_ms,
                   parsed_batch& out) {
    services_ = &services;
    now_ms_ = now_ms;
    out_ = &out;
    out.by_service.assign(services.size(), {});
    out.total = 0;
    index_ = 0;
    error.reset();
  }

  void begin_document(int sample_level) {
    sample_level_ = sample_level;
    depth_ = 0;
    key_buf_.clear();
    str_buf_.clear();
  }

  std::size_t samples_seen() const {
    return index_;
  }

  std::optional<batch_error> error;

  // -- Boost.JSON handler interface -------------------------------------------

  bool on_document_begin(boost::json::error_code&) {
    return true;
  }

  bool on_document_end(boost::json::error_code&) {
    return true;
  }

  bool on_array_begin(boost::json::error_code& ec) {
    if (depth_ == 0 && sample_level_ == 1) {
      ++depth_;
      return true;
    }
    if (depth_ == sample_level_)
      return fail(ec, invalid(index_, {}, "must be an object"));
    if (depth_ == sample_level_ + 1 && field_ != field_id::unknown)
      return fail(ec, wrong_type());
    ++depth_;
    return true;
  }

  bool on_array_end(std::size_t, boost::json::error_code&) {
    --depth_;
    return true;
  }

  bool on_object_begin(boost::json::error_code& ec) {
    if (depth_ < sample_level_)
      return fail(ec,
                  batch_error{400, "malformed",
                              "body must be a JSON array of samples", "$"});
    if (depth_ == sample_level_) {
      start_sample();
    } else if (depth_ == sample_level_ + 1 && field_ != field_id::unknown) {
      return fail(ec, wrong_type());
    }
    ++depth_;
    return true;
  }

  bool on_object_end(std::size_t, boost::json::error_code& ec) {
    --depth_;
    if (depth_ == sample_level_)
      return finish_sample(ec);
    return true;
  }

  bool on_key_part(std::string_view s, std::size_t, boost::json::error_code&) {
    key_buf_.append(s);
    return true;
  }

  bool on_key(std::string_view s, std::size_t, boost::json::error_code&) {
    if (depth_ == sample_level_ + 1) {
      if (key_buf_.empty()) {
        field_ = field_of(s);
      } else {
        key_buf_.append(s);
        field_ = field_of(key_buf_);
      }
    }
    key_buf_.clear();
    return true;
  }

  bool on_string_part(std::string_view s, std::size_t,
                      boost::json::error_code&) {
    str_buf_.append(s);
    return true;
  }

  bool on_string(std::string_view s, std::size_t, boost::json::error_code& ec) {
    scalar v{scalar::string, s};
    if (!str_buf_.empty()) {
      str_buf_.append(s);
      v.text = str_buf_;
    }
    auto ok = on_scalar(v, ec);
    str_buf_.clear();
    return ok;
  }

  bool on_number_part(std::string_view, boost::json::error_code&) {
    return true;
  }

  bool on_int64(int64_t i, std::string_view, boost::json::error_code& ec) {
    scalar v{scalar::int64, {}};
    v.i = i;
    return on_scalar(v, ec);
  }

  bool on_uint64(uint64_t u, std::string_view, boost::json::error_code& ec) {
    scalar v{scalar::uint64, {}};
    v.u = u;
    return on_scalar(v, ec);
  }

  bool on_double(double d, std::string_view, boost::json::error_code& ec) {
    scalar v{scalar::number, {}};
    v.d = d;
    return on_scalar(v, ec);
  }

  bool on_bool(bool b, boost::json::error_code& ec) {
    scalar v{scalar::boolean, {}};
    v.b = b;
    return on_scalar(v, ec);
  }

  bool on_null(boost::json::error_code& ec) {
    return on_scalar(scalar{scalar::null, {}}, ec);
  }

  bool on_comment_part(std::string_view, boost::json::error_code&) {
    return true;
  }

  bool on_comment(std::string_view, boost::json::error_code&) {
    return true;
  }

private:
  bool fail(boost::json::error_code& ec, batch_error err) {
    error = std::move(err);
    // Any code stops the parser; the caller reports `error` instead.
    ec = boost::json::error::syntax;
    return false;
  }

  batch_error wrong_type() const {
    static constexpr const char* expected[] = {
      "",
      "service must be a string",
      "endpoint must be a string",
      "latencyMs must be a number",
      "status must be an HTTP code (100-599), \"timeout\" or \"network\"",
      "costUsd must be a number between 0 and 1000000",
      "cacheHit must be true or false",
      "timestamp must be a non-negative integer (epoch ms)",
      "requestKey must be a string",
    };
    return invalid(index_, name_of(field_),
                   expected[static_cast<std::size_t>(field_)]);
  }

  void start_sample() {
    sample_ = call_sample{};
    sample_.timestamp_ms = now_ms_;
    service_ = -1;
    has_endpoint_ = has_latency_ = has_status_ = false;
    field_ = field_id::unknown;
  }

  bool finish_sample(boost::json::error_code& ec) {
    auto missing = [&](const char* name) {
      return fail(ec,
                  invalid(index_, name, std::string{name} + " is required"));
    };
    if (service_ < 0)
      return missing("service");
    if (!has_endpoint_)
      return missing("endpoint");
    if (!has_latency_)
      return missing("latencyMs");
    if (!has_status_)
      return missing("status");
    out_->by_service[static_cast<std::size_t>(service_)].push_back(
      std::move(sample_));
    ++out_->total;
    ++index_;
    return true;
  }

  bool on_scalar(const scalar& v, boost::json::error_code& ec) {
    if (depth_ == 0 && sample_level_ == 1)
      return fail(ec,
                  batch_error{400, "malformed",
                              "body must be a JSON array of samples", "$"});
    if (depth_ == sample_level_)
      return fail(ec, invalid(index_, {}, "must be an object"));
    if (depth_ != sample_level_ + 1)
      return true; // inside the value of a field we do not know: ignored
    if (!set_field(v))
      return fail(ec, error ? std::move(*error) : wrong_type());
    return true;
  }

  // Returns false for a wrong type or range; `error` may carry a more
  // specific problem than "wrong type".
  bool set_field(const scalar& v) {
    switch (field_) {
      case field_id::unknown:
        // Unknown members are ignored so that newer clients can send fields
        // this node does not know yet.
        return true;
      case field_id::service:
        if (v.kind != scalar::string)
          return false;
        service_ = find_service(v.text);
        if (service_ < 0) {
          error = batch_error{404, "unknown_service",
                              "sample " + std::to_string(index_)
                                + ": unknown service '" + std::string(v.text)
                                + "'",
                              path_of(index_, "service")};
          return false;
        }
        return true;
      case field_id::endpoint:
        if (v.kind != scalar::string)
          return false;
        sample_.endpoint.assign(v.text.data(), v.text.size());
        has_endpoint_ = true;
        return true;
      case field_id::latency_ms: {
        double ms = 0;
        if (!v.as_double(ms))
          return false;
        if (!(ms >= 0 && ms <= max_latency_ms)) {
          error = invalid(index_, "latencyMs",
                          "latencyMs must be between 0 and 86400000");
          return false;
        }
        sample_.latency_us = static_cast<uint64_t>(std::llround(ms * 1000.0));
        has_latency_ = true;
        return true;
      }
      case field_id::status:
        if (v.kind == scalar::string) {
          if (v.text == "timeout")
            sample_.outcome = status_class::timeout;
          else if (v.text == "network")
            sample_.outcome = status_class::network;
          else
            return false;
        } else if (v.kind == scalar::int64 && v.i >= 100 && v.i <= 599) {
          sample_.http_status = static_cast<uint16_t>(v.i);
          sample_.outcome = classify_http_status(sample_.http_status);
        } else {
          return false;
        }
        has_status_ = true;
        return true;
      case field_id::cost_usd: {
        double usd = 0;
        if (!v.as_double(usd) || !(usd >= 0) || usd > max_cost_usd)
          return false;
        sample_.cost_micros = static_cast<int64_t>(std::llround(usd * 1e6));
        return true;
      }
      case field_id::cache_hit:
        if (v.kind != scalar::boolean)
          return false;
        sample_.cache_hit = v.b;
        return true;
      case field_id::request_key: {
        if (v.kind != scalar::string)
          return false;
        // FNV-1a: the advisor only counts repeats, so a 64-bit hash is the
        // key (never 0, which means "none").
        uint64_t h = 14695981039346656037ull;
        for (auto ch : v.text) {
          h ^= static_cast<unsigned char>(ch);
          h *= 1099511628211ull;
        }
        sample_.request_key = h == 0 ? 1 : h;
        return true;
      }
      case field_id::timestamp:
        if (v.kind == scalar::int64 && v.i >= 0)
          sample_.timestamp_ms = v.i;
        else if (v.kind == scalar::uint64 && v.u < uint64_t{1} << 62)
          sample_.timestamp_ms = static_cast<int64_t>(v.u);
        else
          return false;
        return true;
    }
    return false;
  }

  int find_service(std::string_view name) const {
    auto& names = *services_;
    for (std::size_t i = 0; i < names.size(); ++i)
      if (names[i] == name)
        return static_cast<int>(i);
    return -1;
  }

  const std::vector<std::string>* services_ = nullptr;
  int64_t now_ms_ = 0;
  parsed_batch* out_ = nullptr;
  int sample_level_ = 1;
  int depth_ = 0;
  std::size_t index_ = 0;
  field_id field_ = field_id::unknown;
  std::string key_buf_;
  std::string str_buf_;
  call_sample sample_;
  int service_ = -1;
  bool has_endpoint_ = false;
  bool has_latency_ = false;
  bool has_status_ = false;
};

using sample_parser = boost::json::basic_parser<sample_handler>;

// One parser per HTTP worker thread: its internal stack is allocated once.
sample_parser& thread_parser() {
  thread_local sample_parser parser{boost::json::parse_options{}};
  return parser;
}

batch_error malformed(std::string message, std::string path) {
  return {400, "malformed", std::move(message), std::move(path)};
}

} // namespace

std::optional<batch_error>
parse_call_batch(std::string_view body, batch_format format,
                 const std::vector<std::string>& services, int64_t now_ms,
                 parsed_batch& out) {
  auto& parser = thread_parser();
  auto& handler = parser.handler();
  handler.begin_batch(services, now_ms, out);
  boost::json::error_code ec;
  auto parse_document = [&](std::string_view text, int sample_level) {
    parser.reset();
    handler.begin_document(sample_level);
    auto n = parser.write_some(false, text.data(), text.size(), ec);
    if (!ec && n < text.size())
      ec = boost::json::error::extra_data;
  };
  if (format == batch_format::json_array) {
    parse_document(body, 1);
    if (handler.error)
      return std::move(handler.error);
    if (ec)
      return malformed("body is not valid JSON: " + ec.message(), "$");
    return std::nullopt;
  }
  // NDJSON: one sample per line; blank lines (and a trailing newline) skip.
  std::size_t line_number = 0;
  while (!body.empty()) {
    ++line_number;
    auto eol = body.find('\n');
    auto line = body.substr(0, eol);
    body = eol == std::string_view::npos ? std::string_view{}
                                         : body.substr(eol + 1);
    if (!line.empty() && line.back() == '\r')
      line.remove_suffix(1);
    if (line.find_first_not_of(" \t") == std::string_view::npos)
      continue;
    auto index = handler.samples_seen();
    parse_document(line, 0);
    if (handler.error)
      return std::move(handler.error);
    if (ec)
      return malformed("line " + std::to_string(line_number)
                         + " is not valid JSON: " + ec.message(),
                       path_of(index));
  }
  return std::nullopt;
}

} // namespace streamb
