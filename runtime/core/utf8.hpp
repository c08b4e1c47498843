#pragma once

// Text that came from a client and goes back out in JSON: a JSON document
// must be valid UTF-8, and Boost.JSON writes string bytes as they are.

#include <string>
#include <string_view>

namespace streamb {

/// Whether `text` is well-formed UTF-8 (no overlong forms, no surrogates,
/// nothing above U+10FFFF).
bool valid_utf8(std::string_view text) noexcept;

/// `text` with every ill-formed sequence replaced by U+FFFD.
std::string sanitize_utf8(std::string_view text);

/// The longest prefix of `text` (well-formed UTF-8) of at most `max_bytes`
/// that does not split a character.
std::string_view utf8_prefix(std::string_view text,
                             std::size_t max_bytes) noexcept;

} // namespace streamb
