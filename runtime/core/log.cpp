#include "runtime/core/log.hpp"

#include "runtime/core/wall_time.hpp"

#include <atomic>
#include <cstdio>

namespace streamb {

namespace {

std::atomic<int> min_level{static_cast<int>(log_level::info)};

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

void log(log_level level, const char* component, const std::string& message) {
  if (static_cast<int>(level) < min_level)
    return;
  auto stamp = iso8601_utc(epoch_ms_now());
  // One fprintf per line: stdio locks the stream, so lines never interleave.
  std::fprintf(stderr, "%s %-5s %s: %s\n", stamp.c_str(), level_name(level),
               component, message.c_str());
}

} // namespace streamb
