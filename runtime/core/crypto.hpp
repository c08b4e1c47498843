#pragma once

// The one crypto module, on OpenSSL 3: what signature schemes, API keys,
// agent tokens, config versions and sessions share. MACs and
// digests return raw bytes, or nullopt when OpenSSL fails (out of memory, a
// provider without the algorithm): a failed computation must never compare
// equal to anything, so callers cannot mistake it for an empty MAC.

#include <cstddef>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>

namespace streamb {

/// HMAC-SHA256 of the concatenation of `parts` under `key`.
std::optional<std::string>
hmac_sha256(std::string_view key,
            std::initializer_list<std::string_view> parts);

/// HMAC-SHA1 of the concatenation of `parts` under `key` (Twilio).
std::optional<std::string>
hmac_sha1(std::string_view key, std::initializer_list<std::string_view> parts);

/// SHA-256 of `data`.
std::optional<std::string> sha256(std::string_view data);

/// Lower-case hex of the SHA-256 of `data`: content digests, token and key
/// hashes. Throws std::runtime_error if OpenSSL cannot compute it.
std::string sha256_hex(std::string_view data);

/// `n` bytes from the system's random source (OpenSSL's RAND_bytes); throws
/// std::runtime_error if it fails rather than hand out weak secrets.
std::string random_bytes(std::size_t n);

/// Standard base64 with padding, no line breaks.
std::string base64_encode(std::string_view bytes);

/// Strict standard base64: a multiple of 4 characters from the standard
/// alphabet, `=` only as the last one or two; no whitespace, no URL-safe
/// alphabet. nullopt for anything else. The empty string decodes to "".
std::optional<std::string> base64_decode(std::string_view text);

/// Compares two strings in time that depends only on their lengths (which
/// are public: hex or base64 of a MAC of known size).
bool equal_constant_time(std::string_view a, std::string_view b);

} // namespace streamb
