#include "runtime/auth/records.hpp"

#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <algorithm>
#include <charconv>
#include <cstdlib>

namespace streamb::auth {

namespace json = boost::json;

namespace {

std::string text_of(const json::object& o, const char* key) {
  auto v = o.if_contains(key);
  auto s = v ? v->if_string() : nullptr;
  return s ? std::string{*s} : std::string{};
}

int64_t int_of(const json::object& o, const char* key) {
  auto v = o.if_contains(key);
  if (v == nullptr)
    return 0;
  if (auto i = v->if_int64())
    return *i;
  if (auto u = v->if_uint64())
    return static_cast<int64_t>(*u);
  return 0;
}

std::optional<json::object> parse_object(std::string_view text) {
  std::error_code ec;
  auto v = json::parse(json::string_view{text.data(), text.size()}, ec);
  if (ec || !v.is_object())
    return std::nullopt;
  return std::move(v.as_object());
}

} // namespace

std::string_view to_string(key_state x) {
  switch (x) {
    case key_state::active: return "active";
    case key_state::rotating: return "rotating";
    case key_state::expired: return "expired";
    case key_state::revoked: return "revoked";
  }
  return "active";
}

key_state state_of(const key_record& k, int64_t now_ms) {
  if (k.revoked_ms != 0)
    return key_state::revoked;
  if (k.expires_ms != 0 && now_ms >= k.expires_ms)
    return key_state::expired;
  if (!k.previous_hash.empty() && now_ms < k.previous_until_ms)
    return key_state::rotating;
  return key_state::active;
}

std::string secret_aad(const secret_record& x) {
  return "streamb webhook secret " + x.id + " " + x.service;
}

std::string encode(const key_record& x) {
  json::object o{{"id", x.id},
                 {"name", x.name},
                 {"role", to_string(x.r)},
                 {"hash", x.hash},
                 {"createdMs", x.created_ms},
                 {"expiresMs", x.expires_ms},
                 {"revokedMs", x.revoked_ms},
                 {"createdBy", x.created_by}};
  if (!x.previous_hash.empty()) {
    o["previousHash"] = x.previous_hash;
    o["previousUntilMs"] = x.previous_until_ms;
  }
  return json::serialize(o);
}

std::optional<key_record> decode_key(std::string_view text) {
  auto o = parse_object(text);
  if (!o)
    return std::nullopt;
  key_record x;
  x.id = text_of(*o, "id");
  x.name = text_of(*o, "name");
  auto r = parse_role(text_of(*o, "role"));
  x.hash = text_of(*o, "hash");
  if (x.id.empty() || !r || x.hash.size() != 64)
    return std::nullopt;
  x.r = *r;
  x.previous_hash = text_of(*o, "previousHash");
  x.previous_until_ms = int_of(*o, "previousUntilMs");
  x.created_ms = int_of(*o, "createdMs");
  x.expires_ms = int_of(*o, "expiresMs");
  x.revoked_ms = int_of(*o, "revokedMs");
  x.created_by = text_of(*o, "createdBy");
  return x;
}

std::string encode(const secret_record& x) {
  return json::serialize(json::object{{"id", x.id},
                                      {"service", x.service},
                                      {"sealed", x.sealed},
                                      {"createdMs", x.created_ms},
                                      {"retiredMs", x.retired_ms},
                                      {"createdBy", x.created_by}});
}

std::optional<secret_record> decode_secret(std::string_view text) {
  auto o = parse_object(text);
  if (!o)
    return std::nullopt;
  secret_record x;
  x.id = text_of(*o, "id");
  x.service = text_of(*o, "service");
  x.sealed = text_of(*o, "sealed");
  if (x.id.empty() || x.service.empty() || x.sealed.empty())
    return std::nullopt;
  x.created_ms = int_of(*o, "createdMs");
  x.retired_ms = int_of(*o, "retiredMs");
  x.created_by = text_of(*o, "createdBy");
  return x;
}

std::vector<store::write_op> write_key(const key_record& x) {
  std::vector<store::write_op> ops{
    store::write_op::make_hset(keys_hash, {{x.id, encode(x)}})};
  if (x.revoked_ms != 0)
    ops.push_back(store::write_op::make_hset(
      revoked_hash, {{x.id, std::to_string(x.revoked_ms)}}));
  ops.push_back(store::write_op::make_incr_by(version_key, 1));
  return ops;
}

void apply_revocations(std::vector<key_record>& keys,
                       const store::field_list& revoked) {
  for (auto& [id, at] : revoked)
    for (auto& k : keys)
      if (k.id == id && k.revoked_ms == 0)
        k.revoked_ms = std::max<int64_t>(std::atoll(at.c_str()), 1);
}

std::vector<store::write_op> write_secret(const secret_record& x) {
  return {store::write_op::make_hset(secrets_hash, {{x.id, encode(x)}}),
          store::write_op::make_incr_by(version_key, 1)};
}

std::vector<key_record> decode_keys(const store::field_list& fields,
                                    std::size_t* unreadable) {
  std::vector<key_record> out;
  for (auto& [id, value] : fields) {
    auto x = decode_key(value);
    if (x && x->id == id)
      out.push_back(std::move(*x));
    else if (unreadable)
      ++*unreadable;
  }
  return out;
}

std::vector<secret_record> decode_secrets(const store::field_list& fields,
                                          std::size_t* unreadable) {
  std::vector<secret_record> out;
  for (auto& [id, value] : fields) {
    auto x = decode_secret(value);
    if (x && x->id == id)
      out.push_back(std::move(*x));
    else if (unreadable)
      ++*unreadable;
  }
  return out;
}

std::optional<int64_t> parse_duration_s(std::string_view text) {
  if (text.empty())
    return std::nullopt;
  int64_t unit = 1;
  switch (text.back()) {
    case 'd': unit = 86400; break;
    case 'h': unit = 3600; break;
    case 'm': unit = 60; break;
    case 's': unit = 1; break;
    default: unit = 0;
  }
  auto digits = unit == 0 ? text : text.substr(0, text.size() - 1);
  unit = unit == 0 ? 1 : unit;
  int64_t n = 0;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(),
                                   n);
  if (ec != std::errc{} || end != digits.data() + digits.size() || n <= 0
      || n > int64_t{100} * 365 * 86400 / unit)
    return std::nullopt;
  return n * unit;
}

} // namespace streamb::auth
