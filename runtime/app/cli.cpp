#include "runtime/app/cli.hpp"

#include <cctype>
#include <iostream>
#include <sstream>

namespace streamb::cli {

namespace {

/// The command the parse reached: the deepest subcommand it selected. Set
/// even when parsing fails (CLI11 records a subcommand before parsing it).
const CLI::App& selected(const CLI::App& app) {
  auto* at = &app;
  for (auto subs = at->get_subcommands(); !subs.empty();
       subs = at->get_subcommands())
    at = subs.front();
  return *at;
}

/// The first argument no command took, from the top of the selected chain
/// down: what CLI11's ExtrasError is about.
std::string first_leftover(const CLI::App& app) {
  for (auto* at = &app;;) {
    if (auto left = at->remaining(); !left.empty())
      return left.front();
    auto subs = at->get_subcommands();
    if (subs.empty())
      return {};
    at = subs.front();
  }
}

std::string command_names(const CLI::App& cmd) {
  std::string out;
  for (auto* sub : cmd.get_subcommands(
         [](const CLI::App* x) { return !x->get_group().empty(); }))
    out += (out.empty() ? "" : ", ") + sub->get_name();
  return out;
}

/// CLI11's message, made one short line in our words. An argument no
/// command took comes first: a misspelt flag explains the rest.
std::string describe(const CLI::ParseError& e, const CLI::App& top,
                     const CLI::App& cmd) {
  if (auto arg = first_leftover(top); !arg.empty()) {
    if (arg.size() > 1 && arg[0] == '-')
      return "unknown option " + arg.substr(0, arg.find('='));
    if (cmd.get_subcommands({}).empty())
      return "unexpected argument '" + arg + "'";
    return "unknown command '" + arg + "'";
  }
  std::string what = e.what();
  if (dynamic_cast<const CLI::RequiredError*>(&e) != nullptr
      && what.rfind("A subcommand", 0) == 0)
    return "missing command: one of " + command_names(cmd);
  if (dynamic_cast<const CLI::ArgumentMismatch*>(&e) != nullptr) {
    // "--config: 1 required FILE missing" and the like.
    auto colon = what.find(':');
    if (colon != std::string::npos && what.find("missing") != std::string::npos)
      return what.substr(0, colon) + " needs a value";
  }
  // "The following ..." reads as a sentence; "N is required" keeps its N.
  if (what.size() > 1 && std::islower(static_cast<unsigned char>(what[1])))
    what[0] = static_cast<char>(
      std::tolower(static_cast<unsigned char>(what[0])));
  return what;
}

/// `text` in lines of at most `width` (a longer word gets a line of its
/// own); CLI11 indents the lines after a newline to the description column.
std::string wrap(const std::string& text, std::size_t width) {
  std::string out;
  std::size_t line = 0;
  std::istringstream words{text};
  for (std::string word; words >> word;) {
    if (line > 0 && line + 1 + word.size() > width) {
      out += '\n';
      line = 0;
    } else if (line > 0) {
      out += ' ';
      ++line;
    }
    out += word;
    line += word.size();
  }
  return out;
}

std::string help_of(const CLI::App& cmd) {
  return cmd.get_formatter()->make_help(&cmd, path_of(cmd),
                                        CLI::AppFormatMode::Normal);
}

/// Help lines stay within this many columns.
constexpr std::size_t help_width = 80;

/// CLI11's layout with the default, "required" and the environment
/// variable in the description column, where they do not widen the first,
/// and descriptions wrapped to `help_width`.
class formatter : public CLI::Formatter {
public:
  static constexpr std::size_t first_column = 28;

  formatter() {
    label("SUBCOMMAND", "COMMAND");
    column_width(first_column);
  }

  std::string make_description(const CLI::App* app) const override {
    auto text = app->get_description();
    return text.empty() ? text : wrap(text, help_width) + "\n\n";
  }

  std::string make_subcommand(const CLI::App* sub) const override {
    std::ostringstream out;
    CLI::detail::format_help(
      out, sub->get_display_name(true),
      wrap(sub->get_description(), help_width - first_column), first_column);
    return out.str();
  }

  std::string make_option_opts(const CLI::Option* opt) const override {
    if (opt->get_positional() || opt->get_type_size() == 0)
      return {};
    std::string out = " " + opt->get_type_name();
    if (opt->get_expected_max() == CLI::detail::expected_max_vector_size)
      out += " ...";
    return out;
  }

  std::string make_option_desc(const CLI::Option* opt) const override {
    auto out = opt->get_description();
    if (opt->get_required())
      out += " (required)";
    if (!opt->get_default_str().empty())
      out += " (default: " + opt->get_default_str() + ")";
    if (!opt->get_envname().empty())
      out += " (or env " + opt->get_envname() + ")";
    return wrap(out, help_width - first_column);
  }
};

} // namespace

program::program(const std::string& name, const std::string& description)
  : app_(description, name) {
  // The parsers CLI11 replaces let a repeated flag override the earlier
  // one; so does this one (repeatable flags say TakeAll themselves).
  app_.option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
  app_.formatter(std::make_shared<formatter>());
  // Subcommands take the help flag and the formatter of their parent.
  app_.set_help_flag("-h,--help", "print this help and exit");
}

CLI::App& program::add_command(CLI::App& parent, const std::string& name,
                               const std::string& description) {
  auto& cmd = *parent.add_subcommand(name, description);
  cmd.group("Commands");
  return cmd;
}

void program::on_run(const CLI::App& cmd, action what) {
  actions_[&cmd] = std::move(what);
}

int program::run(const std::vector<std::string>& args, std::ostream& out,
                 std::ostream& err) {
  // CLI11 takes the arguments last first.
  std::vector<std::string> reversed(args.rbegin(), args.rend());
  try {
    app_.parse(reversed);
  } catch (const CLI::CallForHelp&) {
    out << help_of(selected(app_));
    return 0;
  } catch (const CLI::CallForVersion& e) {
    out << e.what() << '\n';
    return 0;
  } catch (const CLI::ParseError& e) {
    auto& cmd = selected(app_);
    err << path_of(cmd) << ": " << describe(e, app_, cmd) << " (see "
        << path_of(cmd) << " --help)\n";
    return usage_exit;
  }
  auto& cmd = selected(app_);
  auto i = actions_.find(&cmd);
  if (i == actions_.end())
    return usage_error(cmd, err,
                       "missing command: one of " + command_names(cmd));
  return i->second();
}

int program::run(int argc, char** argv) {
  return run(std::vector<std::string>(argv + 1, argv + argc), std::cout,
             std::cerr);
}

std::string path_of(const CLI::App& cmd) {
  std::string out = cmd.get_name();
  for (auto* at = cmd.get_parent(); at != nullptr; at = at->get_parent())
    out = at->get_name() + " " + out;
  return out;
}

int usage_error(const CLI::App& cmd, std::ostream& err,
                const std::string& message) {
  err << path_of(cmd) << ": " << message << " (see " << path_of(cmd)
      << " --help)\n";
  return usage_exit;
}

void add_help_command(program& p, CLI::App& parent, std::ostream& out) {
  auto& help = p.add_command(parent, "help", "print this help");
  help.group("");
  p.on_run(help, [&parent, &out] {
    out << help_of(parent);
    return 0;
  });
}

CLI::Validator check(std::function<bool(const std::string&)> ok,
                     std::string message) {
  return CLI::Validator{[ok = std::move(ok), message = std::move(message)](
                          std::string& text) -> std::string {
                          return ok(text) ? "" : message;
                        },
                        ""};
}

bool digits(const std::string& text, std::size_t max_len) {
  return !text.empty() && text.size() <= max_len
    && text.find_first_not_of("0123456789") == std::string::npos;
}

const CLI::Validator& port_number() {
  static const auto validator = check(
    [](const std::string& text) {
      return digits(text, 5) && std::stoul(text) <= 65535;
    },
    "needs a port number 0..65535");
  return validator;
}

} // namespace streamb::cli
