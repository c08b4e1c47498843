#include "runtime/log.hpp"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>

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
  using namespace std::chrono;
  auto now = system_clock::now();
  auto secs = system_clock::to_time_t(now);
  auto ms = duration_cast<milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char stamp[32];
  std::strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
  // One fprintf per line: stdio locks the stream, so lines never interleave.
  std::fprintf(stderr, "%s.%03dZ %-5s %s: %s\n", stamp, static_cast<int>(ms),
               level_name(level), component, message.c_str());
}

} // namespace streamb
