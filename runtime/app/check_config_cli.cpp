#include "runtime/app/check_config_cli.hpp"

#include "runtime/config/config.hpp"

#include <iostream>
#include <memory>
#include <string>

namespace streamb {

namespace {

int check_config(const std::string& path) {
  try {
    auto cfg = load_config_file(path);
    // Settings that would expose the node: the node refuses to start.
    auto exposed = exposure_problems(cfg);
    for (auto& p : exposed)
      std::cout << path << ": " << p.path << ": " << p.message << '\n';
    if (!exposed.empty()) {
      std::cout << exposed.size() << " problem(s)\n";
      return 1;
    }
    std::cout << path << ": ok (" << cfg.services.size() << " services)\n";
    for (auto& w : exposure_warnings(cfg))
      std::cout << path << ": warning: " << w << '\n';
    return 0;
  } catch (const config_error& e) {
    for (auto& p : e.problems())
      std::cout << path << ": " << p.path << ": " << p.message << '\n';
    std::cout << e.problems().size() << " problem(s)\n";
    return 1;
  }
}

} // namespace

void add_check_config_command(cli::program& p) {
  auto path = std::make_shared<std::string>();
  auto& cmd = p.add_command(p.app(), "check-config",
                            "validate a config file; prints every problem "
                            "with its JSON path");
  cmd.add_option("FILE", *path, "the config file")->required();
  cmd.footer("Prints \"FILE: ok (N services)\" and exits 0, or one line per "
             "problem,\n"
             "\"FILE: $.json.path: message\", and exits 1 (also for settings "
             "a node refuses\n"
             "to start with). Exit 2: usage error.");
  p.on_run(cmd, [path] { return check_config(*path); });
}

} // namespace streamb
