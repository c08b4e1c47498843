#pragma once

// Turns the body of POST /api/v1/calls into call samples grouped by service.
// Pure: no actors, no HTTP; the calls route and the tests call it.

#include "runtime/messages.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace streamb {

/// Why a batch was rejected: the HTTP status, a stable error code, a message
/// and the JSON path of the first problem (e.g. `$[3].latencyMs`).
struct batch_error {
  int status = 400;
  std::string code;
  std::string message;
  std::string path;
};

enum class batch_format { json_array, ndjson };

/// A batch split by service: `by_service[i]` holds the samples of
/// `services[i]`.
struct parsed_batch {
  std::vector<call_samples> by_service;
  std::size_t total = 0;
};

/// Parses and validates a whole batch; any invalid sample rejects it whole.
/// Samples without `timestamp` get `now_ms`.
std::optional<batch_error>
parse_call_batch(std::string_view body, batch_format format,
                 const std::vector<std::string>& services, int64_t now_ms,
                 parsed_batch& out);

} // namespace streamb
