#pragma once

// Request bodies that must be one JSON object, read strictly: a repeated key
// is an error (see runtime/json_strict.hpp), as is anything but an object.

#include <boost/json/object.hpp>

#include <optional>

namespace streamb {

struct http_request;
struct http_response;

/// The body as an object, or nullopt after answering 400 `malformed` with
/// the problem's path. An empty body is `{}` when `empty_ok`.
std::optional<boost::json::object> read_json_object(const http_request& req,
                                                    http_response& res,
                                                    bool empty_ok = false);

} // namespace streamb
