#pragma once

// `streamb run`: a node in the foreground until SIGINT or SIGTERM; SIGHUP
// reloads its config file.

#include "runtime/app/cli.hpp"

namespace streamb {

/// Adds `run` to the `streamb` command tree.
void add_run_command(cli::program& p);

} // namespace streamb
