#include "runtime/app/cli_store.hpp"

#include "runtime/core/audit.hpp"
#include "runtime/core/error_text.hpp"
#include "runtime/core/wall_time.hpp"
#include "runtime/store/redis_backend.hpp"

#include <caf/message.hpp>

#include <iostream>

namespace streamb {

void add_store_flags(CLI::App& cmd, store_flags& flags) {
  cmd
    .add_option("--config", flags.config_path,
                "the config file whose store to use")
    ->type_name("FILE")
    ->capture_default_str();
  cmd
    .add_option("--store", flags.url,
                "a redis://host:port/db URL instead of the config's store")
    ->type_name("URL");
}

std::optional<cli_store> open_cli_store(const std::string& config_path,
                                        const std::optional<std::string>& url,
                                        const std::string& what,
                                        int& exit_code) {
  cli_store out;
  try {
    out.cfg = load_config_file(config_path);
  } catch (const config_error& e) {
    std::cerr << "streamb: invalid config " << config_path << ":\n";
    for (auto& p : e.problems())
      std::cerr << "  " << p.path << ": " << p.message << '\n';
    exit_code = 1;
    return std::nullopt;
  }
  if ((!url && out.cfg.store.kind != "redis") || (url && *url == "memory")) {
    std::cerr << "streamb: the memory store keeps no " << what
              << " outside a node; use a redis store (--store redis://...)"
                 " or the node's HTTP API\n";
    exit_code = 1;
    return std::nullopt;
  }
  // The config's credentials go with either URL, as for `streamb run`.
  auto& sc = out.cfg.store;
  auto opts = store::redis_options_for(url ? *url : sc.url, sc.username,
                                       sc.password, sc.prefix);
  if (!opts) {
    std::cerr << "streamb: bad store URL: "
              << caf::to_string(opts.error().context()) << '\n';
    exit_code = 2;
    return std::nullopt;
  }
  out.db = std::make_unique<store::redis_backend>(std::move(*opts));
  return out;
}

std::optional<cli_store> open_cli_store(const store_flags& flags,
                                        const std::string& what,
                                        int& exit_code) {
  return open_cli_store(flags.config_path, flags.url, what, exit_code);
}

bool write_audited(cli_store& s, std::vector<store::write_op> ops,
                   const std::string& action, const std::string& subject,
                   const std::string& detail) {
  audit_record x;
  x.at_ms = epoch_ms_now();
  x.node = "cli";
  x.who = "cli";
  x.action = action;
  x.subject = subject;
  x.outcome = "ok";
  x.detail = detail;
  auto retention_ms = int64_t{s.cfg.store.audit_retention_days} * 24 * 3600
    * 1000;
  ops.push_back(audit_write(x, retention_ms));
  auto written = s.db->write(ops);
  caf::error failure = written ? caf::error{} : written.error();
  if (written)
    for (auto& r : *written)
      if (r.error && !failure)
        failure = r.error;
  if (failure) {
    std::cerr << "streamb: the store refused the change: "
              << caf::to_string(failure) << '\n';
    return false;
  }
  return true;
}

int print_refusal(const caf::error& err) {
  auto& ctx = err.context();
  std::cerr << "streamb: "
            << (ctx.match_elements<std::string>() ? ctx.get_as<std::string>(0)
                                                  : error_text(err))
            << '\n';
  return 1;
}

std::string time_or_dash(int64_t ms) {
  return ms > 0 ? iso8601_utc(ms) : "-";
}

} // namespace streamb
