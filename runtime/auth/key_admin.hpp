#pragma once

// The rules of managing keys and webhook secrets, shared by the CLI (which
// talks to the store directly) and the credential keeper (HTTP): pure
// functions from the current records to the new ones.

#include "runtime/auth/records.hpp"
#include "runtime/auth/secret_box.hpp"

#include <caf/expected.hpp>

#include <string>
#include <vector>

namespace streamb::auth {

/// A record and the key it was made for (the key is never stored).
struct new_key_result {
  key_record record;
  std::string key;
};

/// Key and secret names: 1–64 of [A-Za-z0-9._-].
bool valid_name(const std::string& name);

/// A new key; invalid_argument for a bad name or expiry, conflict when
/// `existing` already has max_active_keys keys that are not revoked.
caf::expected<new_key_result>
create_key(const std::vector<key_record>& existing, const std::string& name,
           role r, int64_t expires_in_s, const std::string& who,
           int64_t now_ms);

/// A new secret for `x`; the old one keeps working `overlap_s` more seconds
/// (0: not at all). not_found / conflict (revoked) as the CLI and HTTP show.
caf::expected<new_key_result> rotate_key(const std::vector<key_record>& keys,
                                         const std::string& id,
                                         int64_t overlap_s, int64_t now_ms);

caf::expected<key_record> revoke_key(const std::vector<key_record>& keys,
                                     const std::string& id, int64_t now_ms);

/// Seals `secret` for `service`; conflict past max_active_secrets.
caf::expected<secret_record>
add_secret(const std::vector<secret_record>& existing, const secret_box& box,
           const std::string& service, const std::string& secret,
           const std::string& who, int64_t now_ms);

caf::expected<secret_record>
retire_secret(const std::vector<secret_record>& existing,
              const std::string& service, const std::string& id,
              int64_t now_ms);

} // namespace streamb::auth
