#include "runtime/app/config_cli.hpp"

#include "runtime/app/cli_store.hpp"
#include "runtime/config/config_versions.hpp"
#include "runtime/core/audit.hpp"
#include "runtime/core/error_text.hpp"
#include "runtime/core/wall_time.hpp"

#include <caf/message.hpp>

#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace streamb {

namespace {

/// The command line of one `config` command.
struct config_options {
  store_flags store;
  /// N of show and rollback, checked by version_number().
  std::string number;
  /// rollback --out.
  std::string out_path;
};

/// 1 to 9 digits: std::stoul would throw past its range.
const CLI::Validator& version_number() {
  static const auto validator = cli::check(
    [](const std::string& text) { return cli::digits(text, 9); },
    "needs a version number (1, 2, ... as config history lists them)");
  return validator;
}

std::optional<std::vector<config_version>> read_versions(cli_store& s) {
  auto versions = list_config_versions(*s.db);
  if (!versions) {
    std::cerr << "streamb: cannot read the config history: "
              << error_text(versions.error()) << '\n';
    return std::nullopt;
  }
  return std::move(*versions);
}

/// The version `number` of `versions`, or nullptr after saying why.
const config_version* find_version(const std::vector<config_version>& versions,
                                   const std::string& number) {
  auto n = std::stoul(number);
  if (n == 0 || n > versions.size()) {
    std::cerr << "streamb: no config version " << n << " (there are "
              << versions.size() << ")\n";
    return nullptr;
  }
  return &versions[n - 1];
}

int history(const config_options& opts) {
  int code = 0;
  auto s = open_cli_store(opts.store, "config history", code);
  if (!s)
    return code;
  auto versions = read_versions(*s);
  if (!versions)
    return 1;
  for (auto& v : *versions)
    std::cout << v.number << "  " << iso8601_utc(v.at_ms) << "  "
              << v.sha256.substr(0, 12) << "  " << v.node << '\n';
  std::cout << versions->size() << " version(s)\n";
  return 0;
}

int show(const config_options& opts) {
  int code = 0;
  auto s = open_cli_store(opts.store, "config history", code);
  if (!s)
    return code;
  auto versions = read_versions(*s);
  if (!versions)
    return 1;
  auto v = find_version(*versions, opts.number);
  if (v == nullptr)
    return 1;
  std::cout << v->text;
  return 0;
}

int rollback(const config_options& opts) {
  int code = 0;
  auto s = open_cli_store(opts.store, "config history", code);
  if (!s)
    return code;
  auto versions = read_versions(*s);
  if (!versions)
    return 1;
  auto v = find_version(*versions, opts.number);
  if (v == nullptr)
    return 1;
  std::ofstream out{opts.out_path, std::ios::binary | std::ios::trunc};
  out << v->text;
  out.close();
  if (!out) {
    std::cerr << "streamb: cannot write " << opts.out_path << '\n';
    return 1;
  }
  std::cout << "wrote config version " << v->number << " (sha256 " << v->sha256
            << ") to " << opts.out_path
            << "; restart with: streamb run --config " << opts.out_path << '\n';
  // The file is written: a store that refuses the audit record is a
  // warning, not a failed rollback.
  audit_record x;
  x.at_ms = epoch_ms_now();
  x.node = s->cfg.node.name;
  x.who = "cli";
  x.action = "config.rollback";
  x.subject = "config version " + std::to_string(v->number);
  x.outcome = "ok";
  x.detail = "sha256 " + v->sha256 + " written to " + opts.out_path;
  auto retention_ms = int64_t{s->cfg.store.audit_retention_days} * 24 * 3600
    * 1000;
  if (auto written = s->db->write({audit_write(x, retention_ms)});
      !written || written->front().error)
    std::cerr << "streamb: warning: the rollback is not in the audit trail: "
              << caf::to_string(written ? written->front().error
                                        : written.error())
              << '\n';
  return 0;
}

} // namespace

void add_config_command(cli::program& p) {
  auto& config = p.add_command(
    p.app(), "config",
    "the configs nodes started with, from the store (secrets as "
    "${env:...}, never expanded)");
  config.require_subcommand(1);
  config.footer("Every start of a node appends its config file as it is on "
                "disk, with its SHA-256,\n"
                "time and node name, to the store. The memory store keeps no "
                "history.");
  cli::add_help_command(p, config, std::cout);

  {
    auto opts = std::make_shared<config_options>();
    auto& cmd = p.add_command(config, "history",
                              "list the versions: number, time, hash prefix, "
                              "node");
    add_store_flags(cmd, opts->store);
    p.on_run(cmd, [opts] { return history(*opts); });
  }
  {
    auto opts = std::make_shared<config_options>();
    auto& cmd = p.add_command(config, "show", "print version N");
    cmd.add_option("N", opts->number, "the version number")
      ->required()
      ->check(version_number());
    add_store_flags(cmd, opts->store);
    p.on_run(cmd, [opts] { return show(*opts); });
  }
  {
    auto opts = std::make_shared<config_options>();
    auto& cmd = p.add_command(config, "rollback",
                              "write version N to a file to restart with");
    cmd.add_option("N", opts->number, "the version number")
      ->required()
      ->check(version_number());
    cmd.add_option("--out", opts->out_path, "the file to write")
      ->type_name("FILE")
      ->required();
    add_store_flags(cmd, opts->store);
    p.on_run(cmd, [opts] { return rollback(*opts); });
  }
}

} // namespace streamb
