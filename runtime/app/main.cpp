// The `streamb` binary: run a node, check a config, manage credentials and
// config versions, verify webhook signatures, replay the advisor. Each
// command lives in its own runtime/app/*_cli.cpp; this file assembles them.

#include "runtime/app/check_config_cli.hpp"
#include "runtime/app/cli.hpp"
#include "runtime/app/config_cli.hpp"
#include "runtime/app/keys_cli.hpp"
#include "runtime/app/replay_cli.hpp"
#include "runtime/app/run_cli.hpp"
#include "runtime/app/webhook_secrets_cli.hpp"
#include "runtime/app/webhook_verify_cli.hpp"

#include <iostream>

// Read by jemalloc (linked unless sanitizers are on; see CMakeLists.txt) at
// its first allocation; MALLOC_CONF in the environment still overrides it.
// Blocks of 256 KiB and more (request bodies near the size limit) go to an
// arena that returns freed pages at once, so a refused large body does not
// stay in the node's RSS; the small allocations of the hot paths keep
// jemalloc's caches.
// thp:always asks the kernel for transparent huge pages (where it allows
// them, `madvise` or `always` in /sys/kernel/mm/transparent_hugepage):
// the memory store grows by ~3.5 KB per webhook, and faulting that in 4 KiB
// at a time cost a third of the node's CPU per webhook on a VM with
// software-managed page tables (docs/BENCHMARKS.md, issue 14).
extern "C" {
// NOLINTNEXTLINE: the name and type are jemalloc's interface.
const char* malloc_conf = "oversize_threshold:262144,thp:always";
}

int main(int argc, char** argv) {
  using namespace streamb;
  cli::program p{"streamb",
                 "streamb — coordination runtime for SaaS API operations"};
  p.app().require_subcommand(1);
  p.app().set_version_flag("--version",
                           std::string{"streamb "} + STREAMB_VERSION
                             + " (CAF 0.17.6, cpp-httplib 0.11.4, Boost.JSON "
                               "1.81)",
                           "print the version and exit");
  p.app().footer("Exit codes: 0 ok, 1 the command failed, 2 usage error. "
                 "`streamb COMMAND --help`\n"
                 "describes a command.");
  add_run_command(p);
  add_check_config_command(p);
  add_config_command(p);
  add_keys_command(p);
  add_webhook_secrets_command(p);
  add_webhook_verify_command(p, std::cout, std::cerr);
  add_advise_replay_command(p);
  cli::add_help_command(p, p.app(), std::cout);
  return p.run(argc, argv);
}
