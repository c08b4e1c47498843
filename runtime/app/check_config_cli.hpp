#pragma once

// `streamb check-config FILE`: validates a config file the way a node does
// at start and prints every problem with its JSON path.

#include "runtime/app/cli.hpp"

namespace streamb {

/// Adds `check-config` to the `streamb` command tree.
void add_check_config_command(cli::program& p);

} // namespace streamb
