#pragma once

// streamb's error codes. They cross actor boundaries inside caf::error and the
// HTTP edge maps each to a status (bridges/json_errors.cpp).

#include <caf/error.hpp>
#include <caf/make_message.hpp>

#include <cstdint>
#include <string>

namespace streamb {

enum class error_code : uint8_t {
  /// Not an error; CAF reserves 0.
  none = 0,
  /// The request is malformed or a field has the wrong type or value.
  invalid_argument,
  /// No service of that name is configured (on this cluster).
  unknown_service,
  /// The thing asked for does not exist (key, stream entry, event).
  not_found,
  /// The store cannot be reached; durable writes fail with this.
  store_unavailable,
  /// The store answered with an error (wrong type, script error, ...).
  store_error,
  /// A wait or a request ran past its deadline.
  timeout,
  /// The component is starting, stopping or degraded.
  unavailable,
  /// The operation is valid but not supported by this build or backend.
  unsupported,
  /// The request conflicts with the current state (e.g. replayed already).
  conflict,
  /// A credential (an agent's registration token) was wrong or missing.
  unauthorized,
  /// A configured cap is reached (open events, their bytes): retry later.
  capacity,
  /// Nothing takes it now (no agent, endpoint or log subscriber for a
  /// webhook): it waits for one.
  no_consumer,
};

std::string to_string(error_code x);

} // namespace streamb

CAF_ERROR_CODE_ENUM(streamb::error_code, "streamb")
