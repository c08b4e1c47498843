#include "runtime/auth/key_admin.hpp"

#include "runtime/auth/api_key.hpp"
#include "runtime/core/error_code.hpp"
#include "runtime/core/valid_name.hpp"

#include <algorithm>

namespace streamb::auth {

namespace {

const key_record* find_key(const std::vector<key_record>& keys,
                           const std::string& id) {
  for (auto& k : keys)
    if (k.id == id)
      return &k;
  return nullptr;
}

} // namespace

bool valid_name(const std::string& name) {
  return is_valid_name(name);
}

caf::expected<new_key_result>
create_key(const std::vector<key_record>& existing, const std::string& name,
           role r, int64_t expires_in_s, const std::string& who,
           int64_t now_ms) {
  if (!valid_name(name))
    return caf::make_error(error_code::invalid_argument,
                           "name must be 1-64 of A-Z a-z 0-9 . _ -");
  if (expires_in_s < 0 || expires_in_s > int64_t{100} * 365 * 86400)
    return caf::make_error(error_code::invalid_argument,
                           "expiry must be from 1 s to 100 years");
  auto live = std::count_if(existing.begin(), existing.end(),
                            [](auto& k) { return k.revoked_ms == 0; });
  if (static_cast<std::size_t>(live) >= max_active_keys)
    return caf::make_error(error_code::conflict,
                           "at most " + std::to_string(max_active_keys)
                             + " keys may be unrevoked at once: revoke one");
  new_key_result out;
  auto& x = out.record;
  do
    x.id = new_key_id();
  while (find_key(existing, x.id) != nullptr);
  out.key = new_key(x.id);
  x.name = name;
  x.r = r;
  x.hash = key_hash(out.key);
  x.created_ms = now_ms;
  x.expires_ms = expires_in_s > 0 ? now_ms + expires_in_s * 1000 : 0;
  x.created_by = who;
  return out;
}

caf::expected<new_key_result> rotate_key(const std::vector<key_record>& keys,
                                         const std::string& id,
                                         int64_t overlap_s, int64_t now_ms) {
  auto k = find_key(keys, id);
  if (k == nullptr)
    return caf::make_error(error_code::not_found, "no key '" + id + "'");
  if (k->revoked_ms != 0)
    return caf::make_error(error_code::conflict,
                           "key '" + id + "' is revoked: create a new one");
  if (overlap_s < 0 || overlap_s > int64_t{30} * 86400)
    return caf::make_error(error_code::invalid_argument,
                           "overlap must be from 0 s to 30 days");
  new_key_result out;
  out.record = *k;
  out.key = new_key(id);
  out.record.previous_hash = overlap_s > 0 ? k->hash : std::string{};
  out.record.previous_until_ms = overlap_s > 0 ? now_ms + overlap_s * 1000 : 0;
  out.record.hash = key_hash(out.key);
  return out;
}

caf::expected<key_record> revoke_key(const std::vector<key_record>& keys,
                                     const std::string& id, int64_t now_ms) {
  auto k = find_key(keys, id);
  if (k == nullptr)
    return caf::make_error(error_code::not_found, "no key '" + id + "'");
  auto out = *k;
  if (out.revoked_ms == 0)
    out.revoked_ms = now_ms;
  return out;
}

caf::expected<secret_record>
add_secret(const std::vector<secret_record>& existing, const secret_box& box,
           const std::string& service, const std::string& secret,
           const std::string& who, int64_t now_ms) {
  if (secret.empty() || secret.size() > 4096)
    return caf::make_error(error_code::invalid_argument,
                           "the secret must be 1 to 4096 bytes");
  auto live = std::count_if(existing.begin(), existing.end(), [&](auto& x) {
    return x.service == service && x.retired_ms == 0;
  });
  if (static_cast<std::size_t>(live) >= max_active_secrets)
    return caf::make_error(error_code::conflict,
                           "at most " + std::to_string(max_active_secrets)
                             + " managed secrets per service: retire one");
  secret_record x;
  x.id = "whs_" + new_key_id();
  x.service = service;
  x.created_ms = now_ms;
  x.created_by = who;
  x.sealed = box.seal(secret, secret_aad(x));
  return x;
}

caf::expected<secret_record>
retire_secret(const std::vector<secret_record>& existing,
              const std::string& service, const std::string& id,
              int64_t now_ms) {
  for (auto& x : existing)
    if (x.id == id && x.service == service) {
      auto out = x;
      if (out.retired_ms == 0)
        out.retired_ms = now_ms;
      return out;
    }
  return caf::make_error(error_code::not_found,
                         "no secret '" + id + "' for service '" + service
                           + "'");
}

} // namespace streamb::auth
