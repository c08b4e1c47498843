#pragma once

// node.http.access_log: one line per answered request. It names the route
// row (not the path or query, which may hold ids or a stream ticket), the
// status, the time from the request read to its answer and the key's id;
// never a key, secret or body.

#include <chrono>
#include <string>

namespace streamb {

struct http_context;
struct http_request;

/// What the line needs, taken when the whole request has been read (or its
/// head refused): `ms` is the handling and answer, not the upload.
struct access_entry {
  std::string method;
  std::string route; // the route table's pattern, or "unmatched"
  std::string key;   // the key's id, or "-"
  std::string addr;
  std::chrono::steady_clock::time_point start;
};

access_entry access_entry_of(const http_context& ctx, const http_request& req);

/// Logs the request answered with `status`.
void log_access(const access_entry& x, int status);

} // namespace streamb
