#pragma once

// Managed webhook secrets must be usable for HMAC, so they cannot be stored
// as hashes: they are sealed with AES-256-GCM under a key the operator
// gives each node in STREAMB_SECRET_KEY (64 hex digits). A fresh 96-bit
// nonce per seal; the record's id and service are the associated data, so
// a sealed secret copied to another record does not open.

#include <optional>
#include <string>
#include <string_view>

namespace streamb::auth {

/// The environment variable that holds the sealing key.
constexpr const char* secret_key_env = "STREAMB_SECRET_KEY";

class secret_box {
public:
  /// From 64 hex digits (32 bytes); nullopt for anything else.
  static std::optional<secret_box> from_hex(std::string_view hex);

  /// From STREAMB_SECRET_KEY; nullopt with `why` saying what is wrong
  /// (unset, or not 64 hex digits) — never echoing the value.
  static std::optional<secret_box> from_environment(std::string& why);

  /// hex(nonce | ciphertext | tag).
  std::string seal(std::string_view plaintext, std::string_view aad) const;

  /// The plaintext, or nullopt when the text was not sealed by this key with
  /// this associated data (or is damaged).
  std::optional<std::string> open(std::string_view sealed,
                                  std::string_view aad) const;

private:
  explicit secret_box(std::string key) : key_(std::move(key)) {}
  std::string key_; // 32 bytes
};

} // namespace streamb::auth
