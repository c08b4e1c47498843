#pragma once

// What changed between two configs, for a config reload (SIGHUP): the
// service settings the actors take at run time, and the keys that only a
// restart applies. Keys are spelled as in the config file.

#include "runtime/config/config.hpp"

#include <string>
#include <vector>

namespace streamb {

/// Every changed setting of one service, as "key before -> after" with the
/// key relative to the service (`limits.burst.capacity 25 -> 10`), in the
/// order of service_config's fields. Webhook secrets are never shown, only
/// how many there are. Empty when nothing changed.
std::vector<std::string> service_changes(const service_config& before,
                                         const service_config& after);

/// The changes as one line for a log or an audit record: "a, b, c".
std::string join_changes(const std::vector<std::string>& changes);

/// The keys (full paths, no values: a store URL may carry a password) whose
/// change needs a restart: node.*, store.*, metrics.*, webhooks.*,
/// cluster.*, agents.* except agents.token_sha256, the set or order of
/// `services`, and of a service kept under the same name its webhook (added
/// or removed), webhook.scheme, webhook.max_body_bytes and
/// webhook.dedup_ttl_s. auth.* and the other service settings apply live.
std::vector<std::string> restart_only_changes(const config& before,
                                              const config& after);

} // namespace streamb
