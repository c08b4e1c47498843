#include "runtime/coordination/agent_token.hpp"

#include "runtime/core/crypto.hpp"

#include <cctype>

namespace streamb {

bool agent_token_matches(const std::string& token,
                         const std::string& expected_sha256_hex) {
  if (expected_sha256_hex.empty())
    return true;
  auto actual = sha256_hex(token);
  // The config may spell the hex in upper case.
  std::string expected = expected_sha256_hex;
  for (auto& c : expected)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return equal_constant_time(actual, expected);
}

} // namespace streamb
