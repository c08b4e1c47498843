#pragma once

// The check of an agent's registration token against agents.token_sha256.

#include <string>

namespace streamb {

/// True when `expected_sha256_hex` is empty (no token configured) or is the
/// hex SHA-256 of `token`. Compares in constant time; the token is never
/// kept.
bool agent_token_matches(const std::string& token,
                         const std::string& expected_sha256_hex);

} // namespace streamb
