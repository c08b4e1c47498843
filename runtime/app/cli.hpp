#pragma once

// What every streamb command line shares: CLI11 parses and generates the
// help, then the selected command runs. `--help` (or `-h`) on any command
// prints its help to stdout and exits 0; a usage error is one line on
// stderr, `streamb run: unknown option --foo (see streamb run --help)`, and
// exit code 2.

#include <CLI/CLI.hpp>

#include <functional>
#include <iosfwd>
#include <map>
#include <string>
#include <vector>

namespace streamb::cli {

/// The exit code of a usage error: an unknown option, a missing or bad
/// value, a missing or unknown command.
constexpr int usage_exit = 2;

/// What a command does once its command line is parsed; returns the exit
/// code.
using action = std::function<int()>;

/// A program's command tree and the action of each command.
class program {
public:
  program(const std::string& name, const std::string& description);

  program(const program&) = delete;
  program& operator=(const program&) = delete;

  CLI::App& app() {
    return app_;
  }

  /// Adds the subcommand `name` under `parent`.
  CLI::App& add_command(CLI::App& parent, const std::string& name,
                        const std::string& description);

  /// Sets what `cmd` does when the command line selects it.
  void on_run(const CLI::App& cmd, action what);

  /// Parses `args` (without the program name) and runs the selected command.
  /// Help goes to `out`, usage errors to `err`.
  int run(const std::vector<std::string>& args, std::ostream& out,
          std::ostream& err);

  /// The same on main's arguments, with stdout and stderr.
  int run(int argc, char** argv);

private:
  CLI::App app_;
  std::map<const CLI::App*, action> actions_;
};

/// The command as a user types it: "streamb keys create".
std::string path_of(const CLI::App& cmd);

/// Prints `PATH: message (see PATH --help)` to `err`; returns `usage_exit`.
/// For problems the parser cannot see: flags that need each other.
int usage_error(const CLI::App& cmd, std::ostream& err,
                const std::string& message);

/// Adds a hidden `help` subcommand under `parent` that prints the help of
/// `parent` (`streamb help`, `streamb keys help`: the spelling of old).
void add_help_command(program& p, CLI::App& parent, std::ostream& out);

/// A validator that accepts what `ok` accepts and otherwise says `message`
/// (`--flag: message`). No description: the help shows the flag's type name.
CLI::Validator check(std::function<bool(const std::string&)> ok,
                     std::string message);

/// 1 to `max_len` decimal digits: a conversion that cannot overflow.
bool digits(const std::string& text, std::size_t max_len);

/// A port number 0..65535 (0: the system picks a free one).
const CLI::Validator& port_number();

} // namespace streamb::cli
