#pragma once

// Reading an enum back from its text: every enum of the message vocabulary
// has a constexpr `to_string`; this finds the value whose text matches.

#include <cstddef>
#include <optional>
#include <string_view>

namespace streamb {

/// The value among `all` whose `to_string` is `x`; nothing if none is.
template <class Enum, std::size_t N>
constexpr std::optional<Enum> parse_enum(std::string_view x,
                                         const Enum (&all)[N]) noexcept {
  for (auto e : all)
    if (x == to_string(e))
      return e;
  return std::nullopt;
}

} // namespace streamb
