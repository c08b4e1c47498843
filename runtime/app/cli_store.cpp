#include "runtime/app/cli_store.hpp"

#include "runtime/store/redis_backend.hpp"

#include <caf/message.hpp>

#include <iostream>

namespace streamb {

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
  auto opts = store::parse_redis_url(url ? *url : out.cfg.store.url);
  if (!opts) {
    std::cerr << "streamb: bad store URL: "
              << caf::to_string(opts.error().context()) << '\n';
    exit_code = 2;
    return std::nullopt;
  }
  opts->prefix = out.cfg.store.prefix;
  out.db = std::make_unique<store::redis_backend>(std::move(*opts));
  return out;
}

} // namespace streamb
