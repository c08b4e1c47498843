#pragma once

// A minimal line logger to stderr: one line per event, ISO-8601 UTC time,
// level, component. Callers never pass secrets (see README, "Secrets").

#include <string>

namespace streamb {

enum class log_level { debug, info, warning, error };

/// Lines below this level are dropped; set once at start-up.
void set_log_level(log_level level);

void log(log_level level, const char* component, const std::string& message);

inline void log_info(const char* component, const std::string& message) {
  log(log_level::info, component, message);
}

inline void log_warning(const char* component, const std::string& message) {
  log(log_level::warning, component, message);
}

inline void log_error(const char* component, const std::string& message) {
  log(log_level::error, component, message);
}

} // namespace streamb
