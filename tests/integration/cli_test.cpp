// The command lines of the real binaries: help on every command, usage
// errors as one line with exit code 2.

#include "tests/integration/node_process.hpp"

#include <catch2/catch.hpp>

#include <csignal>
#include <string>
#include <vector>

using namespace streamb;
using namespace std::chrono_literals;

namespace {

/// Runs streamb-agent to its exit; `out` gets stdout and stderr.
int run_agent_to_exit(std::vector<std::string> args, std::string& out) {
  test::node_process agent{STREAMB_AGENT_BINARY, std::move(args), true};
  // EOF on its output: the process has exited (or is exiting), so the signal
  // that reaps it cannot change its exit code.
  out = agent.drain(10s);
  return agent.stop(SIGTERM, 5s);
}

std::string joined(const std::vector<std::string>& words) {
  std::string out;
  for (auto& w : words)
    out += (out.empty() ? "" : " ") + w;
  return out;
}

} // namespace

TEST_CASE("streamb run --help prints the usage of run and exits 0 without "
          "starting a node") {
  std::string out;
  CHECK(test::node_process::run_to_exit({"run", "--help"}, out) == 0);
  INFO(out);
  CHECK(out.find("Usage: streamb run [OPTIONS]") != std::string::npos);
  for (auto flag : {"--config FILE", "--node NAME", "--http-port N",
                    "--actor-port N", "--store URL"})
    CHECK(out.find(flag) != std::string::npos);
  CHECK(out.find("(default: config/streamb.json)") != std::string::npos);
  // The footer describes the line a node prints; no node printed one.
  CHECK(out.find("serving http://127.") == std::string::npos);
}

TEST_CASE("streamb check-config --help prints its usage instead of opening a "
          "file named --help") {
  std::string out;
  CHECK(test::node_process::run_to_exit({"check-config", "--help"}, out) == 0);
  INFO(out);
  CHECK(out.find("Usage: streamb check-config [OPTIONS] FILE")
        != std::string::npos);
  CHECK(out.find("problem(s)") == std::string::npos);
}

TEST_CASE("streamb-agent --help prints its usage and exits 0") {
  std::string out;
  CHECK(run_agent_to_exit({"--help"}, out) == 0);
  INFO(out);
  CHECK(out.find("Usage: streamb-agent [OPTIONS]") != std::string::npos);
  for (auto flag : {"--connect HOST:PORT", "--name NAME", "--role ROLE",
                    "--subscribe TYPE", "--token TOKEN", "--reply"})
    CHECK(out.find(flag) != std::string::npos);
}

TEST_CASE("every streamb command and subcommand has --help") {
  const std::vector<std::vector<std::string>> commands{
    {},
    {"run"},
    {"check-config"},
    {"config"},
    {"config", "history"},
    {"config", "show"},
    {"config", "rollback"},
    {"keys"},
    {"keys", "create"},
    {"keys", "list"},
    {"keys", "rotate"},
    {"keys", "revoke"},
    {"keys", "bootstrap"},
    {"webhook-secrets"},
    {"webhook-secrets", "add"},
    {"webhook-secrets", "list"},
    {"webhook-secrets", "retire"},
    {"webhook-verify"},
    {"advise-replay"},
  };
  for (auto& cmd : commands) {
    auto args = cmd;
    args.push_back("--help");
    std::string out;
    INFO(joined(args));
    CHECK(test::node_process::run_to_exit(args, out) == 0);
    auto usage = "Usage: streamb" + (cmd.empty() ? "" : " " + joined(cmd))
      + " [OPTIONS]";
    CHECK(out.find(usage) != std::string::npos);
  }
}

TEST_CASE("an unknown option is one line with a hint and exit code 2") {
  std::string out;
  CHECK(test::node_process::run_to_exit({"run", "--foo"}, out) == 2);
  CHECK(out == "streamb run: unknown option --foo (see streamb run --help)\n");
  out.clear();
  CHECK(test::node_process::run_to_exit(
          {"keys", "create", "--role", "admin", "--bogus", "x"}, out)
        == 2);
  CHECK(out
        == "streamb keys create: unknown option --bogus (see streamb keys "
           "create --help)\n");
  out.clear();
  CHECK(run_agent_to_exit({"--connect", "127.0.0.1:1", "--name", "a", "--role",
                           "r", "--foo", "1"},
                          out)
        == 2);
  CHECK(out
        == "streamb-agent: unknown option --foo (see streamb-agent --help)\n");
}

TEST_CASE("streamb-agent --answer takes a JSON object only") {
  std::string out;
  for (auto bad : {"[1,2]", "{\"findings\":", "findings"}) {
    out.clear();
    INFO(bad);
    CHECK(run_agent_to_exit({"--connect", "127.0.0.1:1", "--name", "a",
                             "--role", "r", "--answer", bad},
                            out)
          == 2);
    CHECK(out.find("--answer") != std::string::npos);
    CHECK(out.find("must be a JSON object") != std::string::npos);
  }
}

TEST_CASE("a usage error names the flag and the problem in one line") {
  std::string out;
  CHECK(test::node_process::run_to_exit({"run", "--http-port", "http"}, out)
        == 2);
  CHECK(out
        == "streamb run: --http-port: needs a port number 0..65535 (see "
           "streamb run --help)\n");
  out.clear();
  CHECK(test::node_process::run_to_exit({"check-config"}, out) == 2);
  CHECK(out
        == "streamb check-config: FILE is required (see streamb check-config "
           "--help)\n");
  out.clear();
  CHECK(test::node_process::run_to_exit({}, out) == 2);
  CHECK(out.find("streamb: missing command") == 0);
  CHECK(out.find('\n') == out.size() - 1);
  out.clear();
  CHECK(run_agent_to_exit({"--name", "a"}, out) == 2);
  CHECK(out
        == "streamb-agent: --connect is required (see streamb-agent --help)\n");
}
