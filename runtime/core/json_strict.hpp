#pragma once

// JSON as operators mean it: a repeated key is an error, not a silent
// choice of one value (`{"mode":"lift","mode":"force"}` must not force
// anything). Used for config files and management request bodies.

#include <boost/json/value.hpp>

#include <optional>
#include <string>

namespace streamb {

struct json_problem {
  std::string path;    // "$.mode"
  std::string message; // "duplicate key", "malformed JSON at ..."
};

/// The value of `text`, or nullopt with the first problem in `problem`.
std::optional<boost::json::value> parse_json_strict(const std::string& text,
                                                    json_problem& problem);

} // namespace streamb
