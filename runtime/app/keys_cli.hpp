#pragma once

// `streamb keys ...` and `streamb webhook-secrets ...`: managed credentials
// straight in the store (Redis), for nodes that share it. Every node applies
// a change within its credential poll (200 ms).

#include <string>
#include <vector>

namespace streamb {

int keys_command(const std::vector<std::string>& args);

int webhook_secrets_command(const std::vector<std::string>& args);

} // namespace streamb
