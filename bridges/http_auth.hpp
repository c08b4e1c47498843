#pragma once

// The auth gate in front of every route: finds the request's row in the
// route table (none: refused), then checks the Bearer key against the
// node's current credentials and the role the row needs. Runs before the
// body is read (the server answers a refused request and closes the
// connection, so that its body is never parsed as a request).

#include "runtime/auth/credentials.hpp"

#include <optional>
#include <string>

namespace streamb {

struct http_request;
struct http_response;
struct http_context;

/// True when the request may go on to its handler; otherwise `res` holds
/// the 401 / 403 / 404 / 405 answer.
bool admit_request(const http_context& ctx, http_request& req,
                   http_response& res);

/// The key the request carries, if it is valid now.
std::optional<auth::identity> identity_of(const http_context& ctx,
                                          const http_request& req);

/// Who the request speaks for, as the audit trail names it: the key's
/// "<id> (<name>)", or "anonymous@<address>" on an open route.
std::string who_of(const http_context& ctx, const http_request& req);

} // namespace streamb
