#include "runtime/auth/roles.hpp"

namespace streamb::auth {

std::string_view to_string(role r) {
  switch (r) {
    case role::viewer: return "viewer";
    case role::reporter: return "reporter";
    case role::operator_: return "operator";
    case role::admin: return "admin";
    case role::agent: return "agent";
  }
  return "viewer";
}

std::optional<role> parse_role(std::string_view text) {
  for (auto r : {role::viewer, role::reporter, role::operator_, role::admin,
                 role::agent})
    if (to_string(r) == text)
      return r;
  return std::nullopt;
}

} // namespace streamb::auth
