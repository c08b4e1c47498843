#include "runtime/core/log.hpp"

#include "runtime/core/log_format.hpp"
#include "runtime/core/utf8.hpp"
#include "runtime/core/wall_time.hpp"

#include <boost/json/serialize.hpp>
#include <boost/json/string_view.hpp>
#include <boost/json/value.hpp>

#include <atomic>
#include <cstdio>

namespace streamb {

namespace {

std::atomic<int> min_level{static_cast<int>(log_level::info)};
std::atomic<int> current_format{static_cast<int>(log_format::text)};

const char* level_name(log_level level) {
  switch (level) {
    case log_level::debug: return "DEBUG";
    case log_level::info: return "INFO";
    case log_level::warning: return "WARN";
    case log_level::error: return "ERROR";
  }
  return "?";
}

} // namespace

void set_log_level(log_level level) {
  min_level = static_cast<int>(level);
}

void set_log_format(log_format format) {
  current_format = static_cast<int>(format);
}

std::optional<log_level> parse_log_level(std::string_view text) {
  if (text == "debug")
    return log_level::debug;
  if (text == "info")
    return log_level::info;
  if (text == "warning" || text == "warn")
    return log_level::warning;
  if (text == "error")
    return log_level::error;
  return std::nullopt;
}

std::optional<log_format> parse_log_format(std::string_view text) {
  if (text == "text")
    return log_format::text;
  if (text == "json")
    return log_format::json;
  return std::nullopt;
}

std::string format_log_line(log_format format, const std::string& time,
                            log_level level, const char* component,
                            const std::string& message) {
  if (format == log_format::json) {
    // Invalid UTF-8 (a client's bytes in a message) would make the line
    // invalid JSON: replaced first.
    auto quoted = [](std::string_view x) {
      auto clean = valid_utf8(x) ? std::string{x} : sanitize_utf8(x);
      // Parentheses: braces would pick the initializer-list constructor
      // and make an array.
      return boost::json::serialize(boost::json::value(
        boost::json::string_view{clean.data(), clean.size()}));
    };
    std::string level_text = level_name(level);
    for (auto& c : level_text)
      c = static_cast<char>(c - 'A' + 'a');
    return "{\"time\":" + quoted(time) + ",\"level\":" + quoted(level_text)
      + ",\"component\":" + quoted(component)
      + ",\"message\":" + quoted(message) + "}\n";
  }
  char head[128];
  std::snprintf(head, sizeof head, "%s %-5s ", time.c_str(), level_name(level));
  return head + std::string{component} + ": " + message + "\n";
}

void log(log_level level, const char* component, const std::string& message) {
  if (static_cast<int>(level) < min_level)
    return;
  auto line = format_log_line(static_cast<log_format>(current_format.load()),
                              iso8601_utc(epoch_ms_now()), level, component,
                              message);
  // One fwrite per line: stdio locks the stream, so lines never interleave.
  std::fwrite(line.data(), 1, line.size(), stderr);
}

} // namespace streamb
