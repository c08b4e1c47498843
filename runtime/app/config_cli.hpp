#pragma once

// `streamb config history | show N | rollback N --out FILE`: the configs
// nodes started with, from the store (secrets as ${env:...}, never
// expanded).

#include "runtime/app/cli.hpp"

namespace streamb {

/// Adds `config` and its commands to the `streamb` command tree.
void add_config_command(cli::program& p);

} // namespace streamb
