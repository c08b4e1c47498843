#pragma once

// Hex text of bytes and back: digests in records and logs, sealed secrets,
// key ids, %XX escapes.

#include <optional>
#include <string>
#include <string_view>

namespace streamb {

/// Lower-case hex of `bytes`.
std::string to_hex(std::string_view bytes);

/// The value of one hex digit (either case), or -1.
int hex_digit_value(char c);

/// The bytes of hex text (either case), or nullopt.
std::optional<std::string> from_hex(std::string_view text);

} // namespace streamb
