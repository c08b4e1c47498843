#include "runtime/auth/api_key.hpp"

#include "runtime/core/crypto.hpp"
#include "runtime/core/hex.hpp"

namespace streamb::auth {

namespace {

bool is_lower_hex(std::string_view text) {
  for (char c : text)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
      return false;
  return true;
}

} // namespace

std::string new_key_id() {
  return to_hex(random_bytes(key_id_length / 2));
}

std::string new_key(std::string_view id) {
  std::string out{key_prefix};
  out += id;
  out += '_';
  out += to_hex(random_bytes(key_secret_length / 2));
  return out;
}

std::optional<std::string> key_id_of(std::string_view token) {
  auto expected = key_prefix.size() + key_id_length + 1 + key_secret_length;
  if (token.size() != expected
      || token.substr(0, key_prefix.size()) != key_prefix
      || token[key_prefix.size() + key_id_length] != '_')
    return std::nullopt;
  auto id = token.substr(key_prefix.size(), key_id_length);
  auto secret = token.substr(key_prefix.size() + key_id_length + 1);
  if (!is_lower_hex(id) || !is_lower_hex(secret))
    return std::nullopt;
  return std::string{id};
}

std::string key_hash(std::string_view token) {
  return sha256_hex(token);
}

bool same_hash(std::string_view a, std::string_view b) {
  if (a.size() != b.size() || a.empty())
    return false;
  return equal_constant_time(a, b);
}

} // namespace streamb::auth
