#pragma once

// The store a CLI command works on: the one of --config FILE, or --store URL.
// Only Redis: a memory store lives inside one node's process.

#include "runtime/app/config_path.hpp"
#include "runtime/config/config.hpp"
#include "runtime/store/store_backend.hpp"

#include <CLI/CLI.hpp>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace streamb {

struct cli_store {
  config cfg;
  std::unique_ptr<store::backend> db;
};

/// `--config FILE` and `--store URL`: where a command finds its store.
struct store_flags {
  std::string config_path = default_config_path();
  std::optional<std::string> url;
};

/// Adds --config and --store to `cmd`, writing into `flags`.
void add_store_flags(CLI::App& cmd, store_flags& flags);

/// Loads `config_path` and opens its store (or `store_url`). On failure
/// prints why to stderr and sets `exit_code` (1: unusable config or store,
/// 2: bad URL); `what` names the data for the memory-store message.
std::optional<cli_store> open_cli_store(const std::string& config_path,
                                        const std::optional<std::string>& url,
                                        const std::string& what,
                                        int& exit_code);

/// The same for the flags of add_store_flags.
std::optional<cli_store> open_cli_store(const store_flags& flags,
                                        const std::string& what,
                                        int& exit_code);

/// Writes `ops` plus an audit record of `action` by the CLI; false (after
/// saying why on stderr) when the store refuses any of it.
bool write_audited(cli_store& s, std::vector<store::write_op> ops,
                   const std::string& action, const std::string& subject,
                   const std::string& detail);

/// Prints the message of a refused credential change; returns exit code 1.
int print_refusal(const caf::error& err);

/// ISO 8601 UTC, or "-" for 0.
std::string time_or_dash(int64_t ms);

} // namespace streamb
