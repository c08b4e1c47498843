#pragma once

// Names that operators give things (agents, roles, keys): safe in logs,
// audit records and URLs.

#include <algorithm>
#include <cctype>
#include <string>

namespace streamb {

/// 1 to 64 of letters, digits, '-', '_' and '.'.
inline bool is_valid_name(const std::string& x) {
  if (x.empty() || x.size() > 64)
    return false;
  return std::all_of(x.begin(), x.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_'
      || c == '.';
  });
}

} // namespace streamb
