#pragma once

// How every streamb route answers: JSON bodies (written by to_json_text:
// numbers never in exponent form), and errors as
// {"error": {"code", "message", "path"}} with the matching status.

#include <boost/json/value.hpp>

#include <caf/fwd.hpp>

#include <string>
#include <string_view>

namespace streamb {

struct http_response;

void reply_json(http_response& res, int status, const boost::json::value& body);

void reply_error(http_response& res, int status, std::string_view code,
                 std::string_view message, std::string_view path = {});

/// Maps a streamb or CAF error to its HTTP status and error code.
void reply_error(http_response& res, const caf::error& err);

/// The error code string used in JSON for an HTTP status without one of our
/// own (e.g. httplib's 413 before any handler ran).
std::string_view error_code_for_status(int status);

} // namespace streamb
