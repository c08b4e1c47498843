#pragma once

// An error as a person reads it in a log line or a CLI message: the
// message an actor gave ("redis 127.0.0.1:6379 unavailable: connection
// refused"), not CAF's wrapper (`error(4, 'streamb', ("redis …"))`).

#include <caf/fwd.hpp>

#include <string>

namespace streamb {

std::string error_text(const caf::error& err);

} // namespace streamb
