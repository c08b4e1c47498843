#pragma once

// The shape of a managed key: `sbk_<id>_<secret>`, where the id (12 hex
// digits, 48 random bits) names the key's record and the secret is 256
// random bits as 64 hex digits. The id in the clear lets a node find the one
// record to compare against, so checking a key costs one SHA-256 and one
// constant-time comparison however many keys exist. Only the SHA-256 of the
// whole key is ever stored.

#include "runtime/core/hex.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace streamb::auth {

constexpr std::string_view key_prefix = "sbk_";
constexpr std::size_t key_id_length = 12;
constexpr std::size_t key_secret_length = 64;

/// A new random key id (12 lower-case hex digits).
std::string new_key_id();

/// A new key for `id`: `sbk_<id>_<64 hex digits>`. Throws std::runtime_error
/// when the system's random source fails (never a weak key).
std::string new_key(std::string_view id);

/// The id inside `token` when it has the managed shape, else nullopt.
std::optional<std::string> key_id_of(std::string_view token);

/// Hex SHA-256 of `token`: what the store and the config keep.
std::string key_hash(std::string_view token);

/// Constant-time equality of two hex digests (lengths are public).
bool same_hash(std::string_view a, std::string_view b);

} // namespace streamb::auth
