#include "runtime/auth/credentials.hpp"

#include "runtime/auth/api_key.hpp"

namespace streamb::auth {

std::string_view to_string(refusal x) {
  switch (x) {
    case refusal::none: return "none";
    case refusal::missing: return "missing";
    case refusal::malformed: return "malformed";
    case refusal::invalid: return "invalid";
    case refusal::revoked: return "revoked";
    case refusal::expired: return "expired";
    case refusal::unavailable: return "unavailable";
    case refusal::wrong_kind: return "wrong_kind";
  }
  return "invalid";
}

credential_set::credential_set(
  const config& cfg, std::vector<key_record> keys,
  std::map<std::string, std::vector<std::string>> secrets,
  std::shared_ptr<const std::atomic<int64_t>> fresh_until, bool loaded)
  : config_keys_(cfg.auth.tokens), agent_token_sha256_(cfg.agents.token_sha256),
    agent_require_token_(cfg.agents.require_token),
    open_reads_(cfg.auth.open_reads),
    allow_unauthenticated_(cfg.auth.allow_unauthenticated),
    keys_(std::move(keys)), fresh_until_(std::move(fresh_until)),
    loaded_(loaded) {
  for (std::size_t i = 0; i < keys_.size(); ++i)
    key_index_[keys_[i].id] = i;
  for (auto& svc : cfg.services) {
    if (!svc.webhook)
      continue;
    auto all = svc.webhook->secrets;
    if (auto i = secrets.find(svc.name); i != secrets.end())
      all.insert(all.end(), i->second.begin(), i->second.end());
    secrets_[svc.name] = std::make_shared<const std::vector<std::string>>(
      std::move(all));
  }
}

auth_result credential_set::check_managed(const std::string& id,
                                          std::string_view token,
                                          int64_t now_ms) const {
  auth_result result;
  result.claimed_id = id;
  auto i = key_index_.find(id);
  if (i == key_index_.end()) {
    result.why = stale(now_ms) || !loaded_ ? refusal::unavailable
                                           : refusal::invalid;
    return result;
  }
  auto& k = keys_[i->second];
  auto hash = key_hash(token);
  bool current = same_hash(hash, k.hash);
  bool previous = !current && !k.previous_hash.empty()
    && same_hash(hash, k.previous_hash);
  if (!current && !previous) {
    result.why = refusal::invalid;
    return result;
  }
  // Only a holder of the key learns why it no longer works.
  if (k.revoked_ms != 0)
    result.why = refusal::revoked;
  else if (stale(now_ms))
    result.why = refusal::unavailable;
  else if (k.expires_ms != 0 && now_ms >= k.expires_ms)
    result.why = refusal::expired;
  else if (previous && now_ms >= k.previous_until_ms)
    result.why = refusal::expired;
  else
    result.who = identity{k.id, k.name, k.r, true};
  return result;
}

auth_result credential_set::authenticate(std::string_view token,
                                         int64_t now_ms) const {
  if (token.empty())
    return {std::nullopt, refusal::missing, ""};
  if (auto id = key_id_of(token)) {
    auto result = check_managed(*id, token, now_ms);
    if (result.who && result.who->r == role::agent)
      return {std::nullopt, refusal::wrong_kind, result.claimed_id};
    return result;
  }
  auto hash = key_hash(token);
  for (auto& k : config_keys_)
    if (same_hash(hash, k.sha256)) {
      auto r = parse_role(k.role);
      return {identity{"config:" + k.name, k.name, r ? *r : role::viewer,
                       false},
              refusal::none, "config:" + k.name};
    }
  return {std::nullopt, refusal::invalid, ""};
}

auth_result credential_set::authenticate_agent(std::string_view token,
                                               int64_t now_ms) const {
  if (!agent_token_required()) {
    // Before the first read of the store, managed agent keys may exist.
    if (!loaded_)
      return {std::nullopt, refusal::unavailable, ""};
    return {identity{"anonymous", "anonymous", role::agent, false},
            refusal::none, ""};
  }
  return authenticate_agent_key(token, now_ms);
}

auth_result credential_set::authenticate_agent_key(std::string_view token,
                                                   int64_t now_ms) const {
  if (token.empty())
    return {std::nullopt, refusal::missing, ""};
  if (auto id = key_id_of(token)) {
    auto result = check_managed(*id, token, now_ms);
    if (result.who && result.who->r != role::agent)
      return {std::nullopt, refusal::wrong_kind, result.claimed_id};
    return result;
  }
  if (!agent_token_sha256_.empty()
      && same_hash(key_hash(token), agent_token_sha256_))
    return {identity{"config:agents", "agents.token_sha256", role::agent,
                     false},
            refusal::none, "config:agents"};
  // An HTTP key of the config: valid, but not for agents.
  auto hash = key_hash(token);
  for (auto& k : config_keys_)
    if (same_hash(hash, k.sha256))
      return {std::nullopt, refusal::wrong_kind, "config:" + k.name};
  return {std::nullopt, refusal::invalid, ""};
}

bool credential_set::agent_key_valid(const std::string& id,
                                     const std::string& hash,
                                     int64_t now_ms) const {
  if (id == "anonymous")
    return !agent_token_required();
  if (id == "config:agents")
    return same_hash(hash, agent_token_sha256_);
  auto i = key_index_.find(id);
  if (i == key_index_.end())
    return !loaded_; // not read yet: judged at the next set
  auto& k = keys_[i->second];
  auto state = state_of(k, now_ms);
  if (state != key_state::active && state != key_state::rotating)
    return false;
  return same_hash(hash, k.hash)
    || (state == key_state::rotating && same_hash(hash, k.previous_hash));
}

bool credential_set::agent_token_required() const {
  if (agent_require_token_ || !agent_token_sha256_.empty())
    return true;
  // Revoked agent keys count too: revoking the last one must not open
  // registration to anyone.
  for (auto& k : keys_)
    if (k.r == role::agent)
      return true;
  return false;
}

std::shared_ptr<const std::vector<std::string>>
credential_set::webhook_secrets(const std::string& service) const {
  if (auto i = secrets_.find(service); i != secrets_.end())
    return i->second;
  static const auto none = std::make_shared<const std::vector<std::string>>();
  return none;
}

bool credential_set::has_keys() const {
  if (!config_keys_.empty())
    return true;
  for (auto& k : keys_)
    if (k.r != role::agent && k.revoked_ms == 0)
      return true;
  return false;
}

} // namespace streamb::auth
