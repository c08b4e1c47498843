#pragma once

// Managed credentials as the store keeps them: one hash of key records and
// one of sealed webhook secrets (field = id, value = JSON), and a version
// counter that every change increments in the same batch, so that a node
// learns of any change by reading one integer.

#include "runtime/auth/roles.hpp"
#include "runtime/store/store_backend.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace streamb::auth {

constexpr const char* keys_hash = "auth:keys";
constexpr const char* secrets_hash = "auth:webhook_secrets";
constexpr const char* version_key = "auth:version";
constexpr const char* last_used_hash = "auth:last_used";
/// id -> revocation time, written with every revoked record and never
/// cleared: a write of a stale copy of the record (a rotation racing the
/// revocation on another node) cannot bring the key back.
constexpr const char* revoked_hash = "auth:revoked";

/// At most this many keys (agent keys included) are not revoked at once; a
/// create past it is refused.
constexpr std::size_t max_active_keys = 1000;
/// At most this many managed secrets per service are not retired at once.
constexpr std::size_t max_active_secrets = 10;

/// One managed API key (or agent token). Never holds the key itself.
struct key_record {
  std::string id;
  std::string name;
  role r = role::viewer;
  std::string hash; // hex SHA-256 of the current key
  /// After a rotation: the old key's hash, valid until previous_until_ms.
  std::string previous_hash;
  int64_t previous_until_ms = 0;
  int64_t created_ms = 0;
  int64_t expires_ms = 0; // 0: never
  int64_t revoked_ms = 0; // 0: not revoked
  std::string created_by;
};

enum class key_state { active, rotating, expired, revoked };

std::string_view to_string(key_state x);

key_state state_of(const key_record& k, int64_t now_ms);

/// One managed webhook secret, sealed (see secret_box).
struct secret_record {
  std::string id;
  std::string service;
  std::string sealed;
  int64_t created_ms = 0;
  int64_t retired_ms = 0; // 0: active
  std::string created_by;
};

/// What the secret's seal is bound to: the record's id and service.
std::string secret_aad(const secret_record& x);

std::string encode(const key_record& x);
std::optional<key_record> decode_key(std::string_view json);
std::string encode(const secret_record& x);
std::optional<secret_record> decode_secret(std::string_view json);

/// The batch that stores `x` (and its revocation) and announces the change.
std::vector<store::write_op> write_key(const key_record& x);
std::vector<store::write_op> write_secret(const secret_record& x);

/// Marks the keys named in `revoked` (the revoked hash's fields) revoked.
void apply_revocations(std::vector<key_record>& keys,
                       const store::field_list& revoked);

/// Decodes a hash's fields; unreadable entries are skipped and counted.
std::vector<key_record> decode_keys(const store::field_list& fields,
                                    std::size_t* unreadable = nullptr);
std::vector<secret_record> decode_secrets(const store::field_list& fields,
                                          std::size_t* unreadable = nullptr);

/// Parses a duration such as "90d", "24h", "30m", "45s" or "3600" (seconds);
/// nullopt when malformed or not positive.
std::optional<int64_t> parse_duration_s(std::string_view text);

} // namespace streamb::auth
