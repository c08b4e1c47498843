#include "runtime/auth/api_key.hpp"

#include "runtime/config_versions.hpp"

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include <stdexcept>

namespace streamb::auth {

namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

} // namespace

std::string to_hex(std::string_view bytes) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out += digits[c >> 4];
    out += digits[c & 0x0f];
  }
  return out;
}

std::optional<std::string> from_hex(std::string_view text) {
  if (text.size() % 2 != 0)
    return std::nullopt;
  std::string out;
  out.reserve(text.size() / 2);
  for (std::size_t i = 0; i < text.size(); i += 2) {
    auto hi = hex_value(text[i]);
    auto lo = hex_value(text[i + 1]);
    if (hi < 0 || lo < 0)
      return std::nullopt;
    out += static_cast<char>(hi * 16 + lo);
  }
  return out;
}

namespace {

bool is_lower_hex(std::string_view text) {
  for (char c : text)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
      return false;
  return true;
}

} // namespace

std::string random_bytes(std::size_t n) {
  std::string out(n, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(out.data()),
                 static_cast<int>(n))
      != 1)
    throw std::runtime_error("the system's random source failed");
  return out;
}

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
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

} // namespace streamb::auth
