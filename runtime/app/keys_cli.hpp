#pragma once

// `streamb keys ...`: managed API keys straight in the store (Redis), for
// nodes that share it. Every node applies a change within its credential
// poll (200 ms).

#include "runtime/app/cli.hpp"

namespace streamb {

/// Adds `keys` and its commands to the `streamb` command tree.
void add_keys_command(cli::program& p);

} // namespace streamb
