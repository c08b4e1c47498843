#pragma once

// One JSON form of a limit change: what cost/optimize answers and what the
// advisor keeps in the store to undo it after a restart.

#include "runtime/messages.hpp"

#include <boost/json/object.hpp>

#include <optional>

namespace streamb::advice {

boost::json::object to_json(const limit_change& x);

/// Nullopt when `text` is not a change this code wrote.
std::optional<limit_change> limit_change_from_json(std::string_view text);

} // namespace streamb::advice
