#pragma once

// Every HTTP route of a node, with the access it needs: one table, read by
// the auth gate before any handler runs. A request whose method and path
// match no row is refused (404) even if some handler would take it, so a
// route added without a row here is unreachable, never open.

#include "runtime/auth/roles.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace streamb {

enum class route_access : uint8_t {
  open,      // no credential (/healthz, /readyz)
  signature, // the provider's webhook signature, checked by the handler
  role,      // a key of at least `role`
};

struct route_spec {
  const char* method;
  /// Segments; `{name}` matches one non-empty segment, a final `{name...}`
  /// the rest of the path (one or more segments).
  const char* pattern;
  route_access access;
  auth::role role;
  const char* what;
};

/// The table, in the order the README lists it.
const std::vector<route_spec>& route_table();

/// The row for `method` and `path` (no query), or nullptr.
const route_spec* find_route(std::string_view method, std::string_view path);

/// The methods some row takes for `path`, as an Allow header lists them
/// ("GET, HEAD, POST"); empty when no row has the path (404 rather than 405).
std::string allowed_methods(std::string_view path);

/// Whether `path` matches `pattern`; if so and `captures` is given, it holds
/// the path and then the segment(s) each `{name}` matched, in order.
bool matches(std::string_view pattern, std::string_view path,
             std::vector<std::string>* captures = nullptr);

} // namespace streamb
