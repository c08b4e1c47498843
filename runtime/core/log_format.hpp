#pragma once

// How log lines are written: text for people, JSON (one object per line)
// for log shippers (Vector, Fluent Bit, Loki's promtail). Chosen once at
// start-up: `streamb run --log-format/--log-level` or STREAMB_LOG_FORMAT /
// STREAMB_LOG_LEVEL.

#include "runtime/core/log.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace streamb {

enum class log_format { text, json };

void set_log_format(log_format format);

/// debug, info, warning (or warn), error; nullopt for anything else.
std::optional<log_level> parse_log_level(std::string_view text);

/// text or json; nullopt for anything else.
std::optional<log_format> parse_log_format(std::string_view text);

/// One line, newline included. In JSON: {"time", "level", "component",
/// "message"}, every string escaped, so a message with quotes or newlines
/// (a client's input in an error) stays one valid line.
std::string format_log_line(log_format format, const std::string& time,
                            log_level level, const char* component,
                            const std::string& message);

} // namespace streamb
