#include "runtime/core/error_code.hpp"

namespace streamb {

std::string to_string(error_code x) {
  switch (x) {
    case error_code::none: return "none";
    case error_code::invalid_argument: return "invalid_argument";
    case error_code::unknown_service: return "unknown_service";
    case error_code::not_found: return "not_found";
    case error_code::store_unavailable: return "store_unavailable";
    case error_code::store_error: return "store_error";
    case error_code::timeout: return "timeout";
    case error_code::unavailable: return "unavailable";
    case error_code::unsupported: return "unsupported";
    case error_code::conflict: return "conflict";
    case error_code::unauthorized: return "unauthorized";
    case error_code::capacity: return "capacity";
    case error_code::no_consumer: return "no_consumer";
  }
  return "unknown";
}

} // namespace streamb
