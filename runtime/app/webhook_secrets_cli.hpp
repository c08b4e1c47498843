#pragma once

// `streamb webhook-secrets add | list | retire`: managed webhook secrets
// straight in the store (Redis), encrypted with STREAMB_SECRET_KEY. Every
// node applies a change within its credential poll (200 ms).

#include "runtime/app/cli.hpp"

namespace streamb {

/// Adds `webhook-secrets` and its commands to the `streamb` command tree.
void add_webhook_secrets_command(cli::program& p);

} // namespace streamb
