// Twilio: `X-Twilio-Signature` is base64 of HMAC-SHA1, keyed with the auth
// token, over the full URL followed by the POST parameters (form bodies) or
// over the URL alone (GET, empty POST, and JSON bodies whose SHA-256 the URL
// carries as `bodySHA256`). Twilio's back ends are inconsistent about the
// port, so the SDKs accept the URL with its port removed or with it added.

#include "runtime/core/crypto.hpp"
#include "runtime/core/hex.hpp"
#include "runtime/webhooks/form_urlencoded.hpp"
#include "runtime/webhooks/signatures/checks.hpp"
#include "runtime/webhooks/signatures/verify.hpp"

#include <algorithm>
#include <utility>
#include <vector>

namespace streamb::signatures {

namespace {

// What the POST parameters add to the signed string: names in byte order,
// each distinct value of a name once, values in byte order, no separators.
// Sorting the (name, value) pairs and dropping repeats is exactly that.
std::string signed_params(form_params params) {
  std::sort(params.begin(), params.end());
  params.erase(std::unique(params.begin(), params.end()), params.end());
  std::string out;
  for (auto& [name, value] : params) {
    out += name;
    out += value;
  }
  return out;
}

// The first `bodySHA256` parameter of the URL's query, decoded.
std::optional<std::string> body_sha256_param(std::string_view url) {
  auto q = url.find('?');
  if (q == std::string_view::npos)
    return std::nullopt;
  auto query = url.substr(q + 1);
  query = query.substr(0, query.find('#'));
  for (auto& [name, value] : parse_form(query))
    if (name == "bodySHA256")
      return value;
  return std::nullopt;
}

struct url_variants {
  std::string without_port;
  std::string with_port;
};

// scheme://[userinfo@]host[:port][/path][?query][#fragment]: the same URL
// without its port, and with its port (the given one, else 443 for https
// and 80 for anything else). A URL without "://" is used as it is.
url_variants port_variants(std::string_view url) {
  auto scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos)
    return {std::string{url}, std::string{url}};
  auto authority_begin = scheme_end + 3;
  auto authority_end = url.find_first_of("/?#", authority_begin);
  if (authority_end == std::string_view::npos)
    authority_end = url.size();
  auto authority = url.substr(authority_begin, authority_end - authority_begin);
  auto at = authority.rfind('@');
  auto host_begin = at == std::string_view::npos ? 0 : at + 1;
  auto host_port = authority.substr(host_begin);
  // The port follows the last ':' that is not inside an IPv6 literal.
  auto colon = host_port.rfind(':');
  auto bracket = host_port.rfind(']');
  bool has_port = colon != std::string_view::npos
    && (bracket == std::string_view::npos || colon > bracket);
  auto host = has_port ? host_port.substr(0, colon) : host_port;
  auto port = has_port ? host_port.substr(colon + 1) : std::string_view{};
  if (port.empty())
    port = iequals(url.substr(0, scheme_end), "https") ? "443" : "80";
  std::string prefix{url.substr(0, authority_begin + host_begin)};
  prefix += host;
  auto suffix = url.substr(authority_end);
  url_variants out;
  out.without_port = prefix;
  out.without_port += suffix;
  out.with_port = prefix;
  out.with_port += ':';
  out.with_port += port;
  out.with_port += suffix;
  return out;
}

} // namespace

verdict verify_twilio(const webhook_request& req, const verify_options& opts) {
  auto header = req.header("X-Twilio-Signature");
  if (absent_or_empty(header))
    return reject(reason::missing_header,
                  "X-Twilio-Signature header absent or empty");
  auto body_hash = body_sha256_param(req.url);
  // JSON bodies are covered by the hash in the URL, not by the signature.
  std::string params;
  if (!body_hash && iequals(req.method, "POST"))
    params = signed_params(parse_form(req.body));
  auto urls = port_variants(req.url);
  std::optional<size_t> matched;
  for (size_t i = 0; i < opts.secrets.size() && !matched; ++i) {
    for (auto* url : {&urls.without_port, &urls.with_port}) {
      auto mac = hmac_sha1(opts.secrets[i], {*url, params});
      if (mac && equal_constant_time(base64_encode(*mac), *header))
        matched = i;
    }
  }
  if (!matched)
    return reject(reason::bad_signature,
                  "X-Twilio-Signature matches the URL neither with nor "
                  "without its port under "
                    + secrets_phrase(opts.secrets.size()));
  if (body_hash) {
    auto digest = sha256(req.body);
    if (!digest || !equal_constant_time(to_hex(*digest), *body_hash))
      return reject(reason::bad_signature,
                    "the body's SHA-256 differs from the URL's bodySHA256");
  }
  return accept("X-Twilio-Signature matches "
                + which_secret(*matched, opts.secrets.size()));
}

} // namespace streamb::signatures
