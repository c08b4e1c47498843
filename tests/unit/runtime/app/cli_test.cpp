#include "runtime/app/cli.hpp"
#include "runtime/app/webhook_verify_cli.hpp"

#include <catch2/catch.hpp>

#include <sstream>

using namespace streamb;

namespace {

/// A two-level program like streamb's: `tool serve [--port N] [--name S]`
/// and `tool keys list`.
struct fixture {
  cli::program p{"tool", "a tool"};
  std::string name = "default";
  std::string port;
  bool served = false;
  bool listed = false;

  fixture() {
    p.app().require_subcommand(1);
    auto& serve = p.add_command(p.app(), "serve", "serve things");
    serve.add_option("--port", port, "the port")
      ->type_name("N")
      ->check(cli::port_number());
    serve.add_option("--name", name, "a name")->capture_default_str();
    p.on_run(serve, [this] {
      served = true;
      return 0;
    });
    auto& keys = p.add_command(p.app(), "keys", "manage keys");
    keys.require_subcommand(1);
    auto& list = p.add_command(keys, "list", "list them");
    p.on_run(list, [this] {
      listed = true;
      return 3;
    });
  }

  struct result {
    int code;
    std::string out;
    std::string err;
  };

  result run(const std::vector<std::string>& args) {
    std::ostringstream out;
    std::ostringstream err;
    auto code = p.run(args, out, err);
    return {code, out.str(), err.str()};
  }
};

} // namespace

TEST_CASE("the selected command runs with its parsed flags and its exit "
          "code is the program's",
          "[cli]") {
  fixture f;
  auto r = f.run({"serve", "--port", "8080", "--name", "x"});
  CHECK(r.code == 0);
  CHECK(f.served);
  CHECK(f.port == "8080");
  CHECK(f.name == "x");
  fixture g;
  CHECK(g.run({"keys", "list"}).code == 3);
  CHECK(g.listed);
}

TEST_CASE("--help on any command prints its generated usage to stdout and "
          "runs nothing",
          "[cli]") {
  fixture f;
  auto r = f.run({"serve", "--help"});
  CHECK(r.code == 0);
  CHECK_FALSE(f.served);
  CHECK(r.err.empty());
  CHECK(r.out.find("Usage: tool serve [OPTIONS]") != std::string::npos);
  CHECK(r.out.find("--port N") != std::string::npos);
  CHECK(r.out.find("(default: default)") != std::string::npos);
  r = f.run({"keys", "list", "-h"});
  CHECK(r.code == 0);
  CHECK(r.out.find("Usage: tool keys list") != std::string::npos);
  r = f.run({"--help"});
  CHECK(r.out.find("Commands:") != std::string::npos);
  CHECK(r.out.find("serve") != std::string::npos);
}

TEST_CASE("an unknown option is one line on stderr naming the command, with "
          "a pointer to its help and exit code 2",
          "[cli]") {
  fixture f;
  auto r = f.run({"serve", "--foo"});
  CHECK(r.code == cli::usage_exit);
  CHECK(r.code == 2);
  CHECK_FALSE(f.served);
  CHECK(r.out.empty());
  CHECK(r.err == "tool serve: unknown option --foo (see tool serve --help)\n");
  r = f.run({"keys", "list", "--foo=1", "--port", "x"});
  CHECK(
    r.err
    == "tool keys list: unknown option --foo (see tool keys list --help)\n");
}

TEST_CASE("usage errors say what is wrong in one line", "[cli]") {
  fixture f;
  auto one_line = [&](const std::vector<std::string>& args) {
    auto r = f.run(args);
    CHECK(r.code == 2);
    CHECK(r.err.find('\n') == r.err.size() - 1);
    return r.err;
  };
  CHECK(one_line({"serve", "--port", "70000"})
        == "tool serve: --port: needs a port number 0..65535 (see tool serve "
           "--help)\n");
  CHECK(one_line({"serve", "--port"})
        == "tool serve: --port needs a value (see tool serve --help)\n");
  CHECK(one_line({"serve", "extra"})
        == "tool serve: unexpected argument 'extra' (see tool serve --help)\n");
  CHECK(one_line({})
        == "tool: missing command: one of serve, keys (see tool --help)\n");
  CHECK(one_line({"keys"})
        == "tool keys: missing command: one of list (see tool keys --help)\n");
  CHECK(one_line({"frobnicate"})
        == "tool: unknown command 'frobnicate' (see tool --help)\n");
  CHECK_FALSE(f.served);
}

TEST_CASE("a repeated flag takes its last value, as the hand-written parsers "
          "did",
          "[cli]") {
  fixture f;
  CHECK(f.run({"serve", "--name", "a", "--name", "b"}).code == 0);
  CHECK(f.name == "b");
}

TEST_CASE("a hidden help command prints its parent's help", "[cli]") {
  fixture f;
  std::ostringstream help_out;
  cli::add_help_command(f.p, f.p.app(), help_out);
  auto r = f.run({"help"});
  CHECK(r.code == 0);
  CHECK(help_out.str().find("Usage: tool [OPTIONS] COMMAND")
        != std::string::npos);
  CHECK(r.out.empty());
  // Not listed among the commands.
  r = f.run({"--help"});
  CHECK(r.out.find("\n  help ") == std::string::npos);
}

TEST_CASE("webhook-verify --help prints its usage and exits 0",
          "[cli][webhook-verify]") {
  std::ostringstream out;
  std::ostringstream err;
  CHECK(webhook_verify_command({"--help"}, out, err) == 0);
  CHECK(out.str().find("Usage: streamb webhook-verify [OPTIONS]")
        != std::string::npos);
  CHECK(out.str().find("--vectors FILE") != std::string::npos);
  CHECK(err.str().empty());
  std::ostringstream out2;
  std::ostringstream err2;
  CHECK(
    webhook_verify_command({"--vectors", "x", "--scheme", "stripe"}, out2, err2)
    == 2);
  CHECK(err2.str()
        == "streamb webhook-verify: --vectors excludes --scheme (see streamb "
           "webhook-verify --help)\n");
}
