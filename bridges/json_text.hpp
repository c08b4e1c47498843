#pragma once

// How streamb writes JSON for its clients (docs/http-api.md, "JSON
// conventions"). Boost.JSON 1.81 prints every double in exponent form: 50.0
// as `5E1`, 0.0004 as `4E-4`, NaN as `NaN` (not JSON at all). This writer is
// Boost.JSON's serializer except for doubles, which it writes as the
// shortest decimal that reads back as the same double, never with an
// exponent; a non-finite double (a bug upstream) becomes null.
//
// Money comes from integer micro-dollars (`usd`) or is rounded to them
// (`round_usd`), so it is written with at most 6 decimals: 50 USD as `50`,
// 400 micro-dollars as `0.0004`.

#include <boost/json/value.hpp>

#include <cstdint>
#include <string>

namespace streamb {

/// `v` as JSON text, with numbers as above.
std::string to_json_text(const boost::json::value& v);

/// Appends `x` as a JSON number token: the shortest decimal that reads back
/// as `x`, in fixed notation; null when `x` is not finite.
void append_json_number(std::string& out, double x);

/// USD from integer micro-dollars: the double nearest the decimal, which
/// to_json_text writes with at most 6 decimals.
double usd(int64_t micros);

/// USD computed in floating point (rates, forecasts, savings), rounded to
/// micro-dollars for the same reason.
double round_usd(double x);

} // namespace streamb
