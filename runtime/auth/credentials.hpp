#pragma once

// One immutable view of every credential a node accepts: config keys,
// managed keys, agent tokens and webhook secrets. Built by the credential
// keeper whenever something changes, read by the HTTP edge, the webhook
// verifier and the coordination hub without locks or actor round trips.

#include "runtime/auth/records.hpp"
#include "runtime/auth/roles.hpp"
#include "runtime/config/config.hpp"

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace streamb::auth {

/// Whom a request or registration speaks for.
struct identity {
  std::string id;   // managed: the key id; config: "config:<name>"
  std::string name; // the key's name
  role r = role::viewer;
  bool managed = false;

  /// How the audit trail names it: "<id> (<name>)".
  std::string who() const {
    return id + " (" + name + ")";
  }
};

enum class refusal {
  none,
  missing,     // no credential given
  malformed,   // not a Bearer credential
  invalid,     // no key matches
  revoked,     // the key was revoked
  expired,     // the key's expiry passed (or its old secret's overlap ended)
  unavailable, // managed keys unknown: the store has not answered lately
  wrong_kind,  // an agent key on HTTP, or an HTTP key at registration
};

std::string_view to_string(refusal x);

struct auth_result {
  std::optional<identity> who;
  refusal why = refusal::none;
  /// The key id the credential claims ("" when none): counts refusals per
  /// key without ever keeping the credential.
  std::string claimed_id;

  explicit operator bool() const {
    return who.has_value();
  }
};

class credential_set {
public:
  /// `fresh_until`: managed keys are refused (unavailable) after this
  /// epoch-ms time, which the keeper moves on with every answer from the
  /// store, so that a node cut off from the store cannot keep honouring a
  /// key revoked meanwhile; config keys keep working. Null: always fresh.
  /// `loaded`: false for the set a node has before its first read of the
  /// store; until then managed keys are `unavailable` and registrations
  /// without a token are refused (retryably), since managed agent keys may
  /// exist.
  credential_set(
    const config& cfg, std::vector<key_record> keys,
    std::map<std::string, std::vector<std::string>> secrets,
    std::shared_ptr<const std::atomic<int64_t>> fresh_until = nullptr,
    bool loaded = true);

  /// Checks an HTTP bearer credential (the text after "Bearer ").
  auth_result authenticate(std::string_view token, int64_t now_ms) const;

  /// Checks an agent's registration token: agents.token_sha256 or a managed
  /// key of role agent. With neither configured, registrations need none
  /// (identity "anonymous").
  auth_result authenticate_agent(std::string_view token, int64_t now_ms) const;

  /// An agent credential itself, never "anonymous": the key of the agents'
  /// HTTP route (GET /api/v1/agents/ws), which faces the open network even
  /// where registrations on the loopback actor port need no token.
  auth_result authenticate_agent_key(std::string_view token,
                                     int64_t now_ms) const;

  /// Whether the registration made with agent key `id`, whose token had the
  /// SHA-256 `hash`, still stands: the key is live and that token is its
  /// current one (or the previous one within a rotation's overlap).
  bool agent_key_valid(const std::string& id, const std::string& hash,
                       int64_t now_ms) const;

  /// Whether registrations need a token: agents.token_sha256 or
  /// agents.require_token is set, or a managed agent key exists (revoked
  /// ones included).
  bool agent_token_required() const;

  /// The config's plus the active managed secrets of `service` (empty when
  /// it has no webhook block).
  std::shared_ptr<const std::vector<std::string>>
  webhook_secrets(const std::string& service) const;

  bool open_reads() const {
    return open_reads_;
  }
  bool allow_unauthenticated() const {
    return allow_unauthenticated_;
  }
  /// Whether the store's records were read (see the constructor).
  bool loaded() const {
    return loaded_;
  }
  /// Whether any HTTP key (config or managed, not revoked) exists.
  bool has_keys() const;

  const std::vector<key_record>& managed_keys() const {
    return keys_;
  }
  const std::vector<auth_token_config>& config_keys() const {
    return config_keys_;
  }

private:
  auth_result check_managed(const std::string& id, std::string_view token,
                            int64_t now_ms) const;

  std::vector<auth_token_config> config_keys_;
  std::string agent_token_sha256_;
  bool agent_require_token_ = false;
  bool open_reads_ = true;
  bool allow_unauthenticated_ = false;
  std::vector<key_record> keys_;
  std::map<std::string, std::size_t> key_index_;
  std::map<std::string, std::shared_ptr<const std::vector<std::string>>>
    secrets_;
  std::shared_ptr<const std::atomic<int64_t>> fresh_until_;

  bool loaded_ = true;

  bool stale(int64_t now_ms) const {
    return fresh_until_ && now_ms > fresh_until_->load();
  }
};

} // namespace streamb::auth
