#pragma once

// application/x-www-form-urlencoded bodies and queries (Twilio's webhooks):
// decoding and splitting, shared by its verifier and its event ids.

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace streamb {

using form_params = std::vector<std::pair<std::string, std::string>>;

/// '+' is a space, %XX a byte; a '%' not followed by two hex digits stays as
/// it is (Python's unquote).
std::string form_decode(std::string_view s);

/// `a=1&b=&c` -> (a,1) (b,"") (c,""), in order; empty items skipped.
form_params parse_form(std::string_view text);

} // namespace streamb
