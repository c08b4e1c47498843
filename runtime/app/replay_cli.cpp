#include "runtime/app/replay_cli.hpp"

#include "runtime/advice/replay.hpp"

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <stdexcept>

namespace streamb {

namespace {

/// The command line of `advise-replay`.
struct replay_options {
  advice::replay_settings settings;
  std::string scenario = "all";
};

/// All of `text` is a T.
template <class T>
bool parses_as(const std::string& text, T& out) {
  auto res = std::from_chars(text.data(), text.data() + text.size(), out);
  return res.ec == std::errc{} && res.ptr == text.data() + text.size();
}

bool in_range(const std::string& text, double min, double max) {
  char* end = nullptr;
  auto x = std::strtod(text.c_str(), &end);
  return !text.empty() && end == text.c_str() + text.size() && x >= min
    && x <= max;
}

std::string joined(const std::vector<std::string>& names) {
  std::string out;
  for (auto& name : names)
    out += (out.empty() ? "" : ", ") + name;
  return out;
}

int replay(const CLI::App& cmd, const replay_options& opts) {
  auto names = opts.scenario == "all" ? advice::replay_scenarios()
                                      : std::vector<std::string>{opts.scenario};
  try {
    for (auto& name : names)
      std::cout << advice::format_report(advice::replay(name, opts.settings))
                << "\n";
  } catch (const std::invalid_argument& e) {
    return cli::usage_error(cmd, std::cerr, e.what());
  }
  return 0;
}

} // namespace

void add_advise_replay_command(cli::program& p) {
  auto opts = std::make_shared<replay_options>();
  auto& cmd = p.add_command(p.app(), "advise-replay",
                            "the advisor on a simulated month of traffic");
  auto scenarios = advice::replay_scenarios();
  scenarios.push_back("all");
  cmd
    .add_option("--scenario", opts->scenario,
                "the scenario to replay: " + joined(scenarios))
    ->type_name("NAME")
    ->capture_default_str()
    ->check(cli::check(
      [scenarios](const std::string& text) {
        return std::find(scenarios.begin(), scenarios.end(), text)
          != scenarios.end();
      },
      "needs one of " + joined(scenarios)));
  cmd
    .add_option("--seed", opts->settings.seed, "seed of the simulated traffic")
    ->type_name("N")
    ->capture_default_str()
    ->check(cli::check(
      [](const std::string& text) {
        uint64_t seed = 0;
        return parses_as(text, seed);
      },
      "needs a whole number"));
  cmd
    .add_option("--observation-days", opts->settings.observation_days,
                "days of traffic the advisor sees before it advises, 1-14")
    ->type_name("N")
    ->capture_default_str()
    ->check(cli::check(
      [](const std::string& text) {
        uint32_t days = 0;
        return parses_as(text, days) && days >= 1 && days <= 14;
      },
      "needs a number from 1 to 14"));
  cmd
    .add_option("--headroom", opts->settings.headroom,
                "headroom of a recommended limit over the observed peak, "
                "1-100")
    ->type_name("X")
    ->capture_default_str()
    ->check(
      cli::check([](const std::string& text) { return in_range(text, 1, 100); },
                 "needs a number from 1 to 100"));
  cmd.footer("Prints, per scenario, the alerts raised (budget levels, the "
             "predictive forecast\n"
             "alert, threshold and anomaly alerts with escalation), the "
             "lowest sustained limit\n"
             "recommended, and the advice at the end of day 14 with the "
             "saving it claims next\n"
             "to the saving its change produces on days 15-30. Offline: no "
             "node, no store.");
  p.on_run(cmd, [&cmd, opts] { return replay(cmd, *opts); });
}

} // namespace streamb
