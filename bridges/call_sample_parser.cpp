#include "bridges/call_sample_parser.hpp"

#include <boost/json/monotonic_resource.hpp>
#include <boost/json/parser.hpp>
#include <boost/json/value.hpp>

#include <cmath>
#include <memory>

namespace streamb {

namespace {

// Latencies above a day are a unit mistake (seconds or µs sent as ms).
constexpr double max_latency_ms = 86'400'000.0;

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

bool as_double(const boost::json::value& v, double& out) {
  switch (v.kind()) {
    case boost::json::kind::double_: out = v.get_double(); return true;
    case boost::json::kind::int64: out = double(v.get_int64()); return true;
    case boost::json::kind::uint64: out = double(v.get_uint64()); return true;
    default: return false;
  }
}

class sample_reader {
public:
  sample_reader(const std::vector<std::string>& services, int64_t now_ms,
                parsed_batch& out)
    : services_(services), now_ms_(now_ms), out_(out) {
    out_.by_service.assign(services.size(), {});
    out_.total = 0;
  }

  std::optional<batch_error> read(std::size_t index,
                                  const boost::json::value& v) {
    auto* obj = v.if_object();
    if (!obj)
      return invalid(index, {}, "must be an object");
    call_sample x;
    x.timestamp_ms = now_ms_;
    int service = -1;
    bool has_endpoint = false, has_latency = false, has_status = false;
    // One pass over the members; unknown members are ignored so that newer
    // clients can send fields this node does not know yet.
    for (auto& member : *obj) {
      auto key = member.key();
      auto& val = member.value();
      if (key == "service") {
        auto* s = val.if_string();
        if (!s)
          return invalid(index, key, "service must be a string");
        service = find_service(*s);
        if (service < 0)
          return batch_error{404, "unknown_service",
                             "sample " + std::to_string(index)
                               + ": unknown service '" + std::string(*s) + "'",
                             path_of(index, key)};
      } else if (key == "endpoint") {
        auto* s = val.if_string();
        if (!s)
          return invalid(index, key, "endpoint must be a string");
        x.endpoint.assign(s->data(), s->size());
        has_endpoint = true;
      } else if (key == "latencyMs") {
        double ms = 0;
        if (!as_double(val, ms))
          return invalid(index, key, "latencyMs must be a number");
        if (!(ms >= 0 && ms <= max_latency_ms))
          return invalid(index, key,
                         "latencyMs must be between 0 and 86400000");
        x.latency_us = static_cast<uint64_t>(std::llround(ms * 1000.0));
        has_latency = true;
      } else if (key == "status") {
        if (auto err = read_status(index, val, x))
          return err;
        has_status = true;
      } else if (key == "costUsd") {
        double usd = 0;
        if (!as_double(val, usd) || !(usd >= 0) || usd > 1e6)
          return invalid(index, key,
                         "costUsd must be a number between 0 and 1000000");
        x.cost_micros = static_cast<int64_t>(std::llround(usd * 1e6));
      } else if (key == "cacheHit") {
        if (!val.is_bool())
          return invalid(index, key, "cacheHit must be true or false");
        x.cache_hit = val.get_bool();
      } else if (key == "timestamp") {
        if (val.is_int64() && val.get_int64() >= 0)
          x.timestamp_ms = val.get_int64();
        else if (val.is_uint64() && val.get_uint64() < uint64_t{1} << 62)
          x.timestamp_ms = static_cast<int64_t>(val.get_uint64());
        else
          return invalid(index, key,
                         "timestamp must be a non-negative integer (epoch ms)");
      }
    }
    if (service < 0)
      return invalid(index, "service", "service is required");
    if (!has_endpoint)
      return invalid(index, "endpoint", "endpoint is required");
    if (!has_latency)
      return invalid(index, "latencyMs", "latencyMs is required");
    if (!has_status)
      return invalid(index, "status", "status is required");
    out_.by_service[static_cast<std::size_t>(service)].push_back(std::move(x));
    ++out_.total;
    return std::nullopt;
  }

private:
  int find_service(std::string_view name) const {
    for (std::size_t i = 0; i < services_.size(); ++i)
      if (services_[i] == name)
        return static_cast<int>(i);
    return -1;
  }

  static std::optional<batch_error> read_status(std::size_t index,
                                                const boost::json::value& val,
                                                call_sample& x) {
    if (auto* s = val.if_string()) {
      if (*s == "timeout")
        x.outcome = status_class::timeout;
      else if (*s == "network")
        x.outcome = status_class::network;
      else
        return invalid(index, "status",
                       "status must be an HTTP code, \"timeout\" or "
                       "\"network\"");
      return std::nullopt;
    }
    if (val.is_int64() && val.get_int64() >= 100 && val.get_int64() <= 599) {
      x.http_status = static_cast<uint16_t>(val.get_int64());
      x.outcome = classify_http_status(x.http_status);
      return std::nullopt;
    }
    return invalid(index, "status",
                   "status must be an HTTP code (100-599), \"timeout\" or "
                   "\"network\"");
  }

  const std::vector<std::string>& services_;
  int64_t now_ms_;
  parsed_batch& out_;
};

// Each request's DOM lives in a per-thread arena: no heap allocation per
// JSON node, and one buffer reused for every request of the worker.
constexpr std::size_t arena_bytes = 1 << 20;

unsigned char* thread_arena() {
  thread_local std::unique_ptr<unsigned char[]> arena{
    new unsigned char[arena_bytes]};
  return arena.get();
}

batch_error malformed(std::string message, std::string path) {
  return {400, "malformed", std::move(message), std::move(path)};
}

} // namespace

std::optional<batch_error>
parse_call_batch(std::string_view body, batch_format format,
                 const std::vector<std::string>& services, int64_t now_ms,
                 parsed_batch& out) {
  boost::json::monotonic_resource arena{thread_arena(), arena_bytes};
  boost::json::parser parser{&arena};
  sample_reader reader{services, now_ms, out};
  boost::json::error_code ec;
  if (format == batch_format::json_array) {
    parser.write(body.data(), body.size(), ec);
    if (ec)
      return malformed("body is not valid JSON: " + ec.message(), "$");
    auto doc = parser.release();
    auto* items = doc.if_array();
    if (!items)
      return malformed("body must be a JSON array of samples", "$");
    for (std::size_t i = 0; i < items->size(); ++i)
      if (auto err = reader.read(i, (*items)[i]))
        return err;
    return std::nullopt;
  }
  // NDJSON: one sample per line; blank lines (and a trailing newline) skip.
  std::size_t index = 0;
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
    parser.reset(&arena);
    parser.write(line.data(), line.size(), ec);
    if (ec)
      return malformed("line " + std::to_string(line_number)
                         + " is not valid JSON: " + ec.message(),
                       path_of(index));
    if (auto err = reader.read(index, parser.release()))
      return err;
    ++index;
  }
  return std::nullopt;
}

} // namespace streamb
