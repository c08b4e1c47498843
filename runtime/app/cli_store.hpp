#pragma once

// The store a CLI command works on: the one of --config FILE, or --store URL.
// Only Redis: a memory store lives inside one node's process.

#include "runtime/config/config.hpp"
#include "runtime/store/store_backend.hpp"

#include <memory>
#include <optional>
#include <string>

namespace streamb {

struct cli_store {
  config cfg;
  std::unique_ptr<store::backend> db;
};

/// Loads `config_path` and opens its store (or `store_url`). On failure
/// prints why to stderr and sets `exit_code` (1: unusable config or store,
/// 2: bad URL); `what` names the data for the memory-store message.
std::optional<cli_store> open_cli_store(const std::string& config_path,
                                        const std::optional<std::string>& url,
                                        const std::string& what,
                                        int& exit_code);

} // namespace streamb
