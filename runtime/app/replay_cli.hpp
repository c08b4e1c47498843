#pragma once

#include <string>
#include <vector>

namespace streamb {

/// `streamb advise-replay [--scenario NAME|all] [--seed N]
/// [--observation-days N] [--headroom X]`: prints the replay report of each
/// scenario (runtime/advice/replay.hpp). Returns the exit code.
int advise_replay_command(const std::vector<std::string>& args);

} // namespace streamb
