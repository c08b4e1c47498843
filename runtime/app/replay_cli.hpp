#pragma once

// `streamb advise-replay`: the advisor, the alerts and escalation on a
// simulated month of traffic per scenario (runtime/advice/replay.hpp).
// Offline: no node, no store.

#include "runtime/app/cli.hpp"

namespace streamb {

/// Adds `advise-replay` to the `streamb` command tree.
void add_advise_replay_command(cli::program& p);

} // namespace streamb
