#include "runtime/app/replay_cli.hpp"

#include "runtime/advice/replay.hpp"

#include <charconv>
#include <iostream>
#include <stdexcept>

namespace streamb {

namespace {

constexpr const char* help = R"(streamb advise-replay: the advisor on a simulated month of traffic

  streamb advise-replay [--scenario steady|weekly|burst|leak|outage|all]
                        [--seed N] [--observation-days N] [--headroom X]

Prints, per scenario, the alerts raised (budget levels, the predictive
forecast alert, threshold and anomaly alerts with escalation), the lowest
sustained limit recommended, and the advice at the end of day 14 with the
saving it claims next to the saving its change produces on days 15-30.
)";

int usage_error(const std::string& message) {
  std::cerr << "streamb advise-replay: " << message
            << " (streamb advise-replay --help)\n";
  return 2;
}

template <class T>
bool parse_number(const std::string& text, T& out) {
  auto res = std::from_chars(text.data(), text.data() + text.size(), out);
  return res.ec == std::errc{} && res.ptr == text.data() + text.size();
}

} // namespace

int advise_replay_command(const std::vector<std::string>& args) {
  advice::replay_settings settings;
  std::string scenario = "all";
  for (std::size_t i = 0; i < args.size(); ++i) {
    auto& flag = args[i];
    if (flag == "--help" || flag == "-h") {
      std::cout << help;
      return 0;
    }
    if (i + 1 >= args.size())
      return usage_error(flag + " needs a value");
    auto& value = args[++i];
    if (flag == "--scenario") {
      scenario = value;
    } else if (flag == "--seed") {
      if (!parse_number(value, settings.seed))
        return usage_error("--seed needs a whole number");
    } else if (flag == "--observation-days") {
      if (!parse_number(value, settings.observation_days)
          || settings.observation_days < 1 || settings.observation_days > 14)
        return usage_error("--observation-days needs a number from 1 to 14");
    } else if (flag == "--headroom") {
      double x = 0;
      try {
        x = std::stod(value);
      } catch (const std::exception&) {
        x = 0;
      }
      if (!(x >= 1 && x <= 100))
        return usage_error("--headroom needs a number from 1 to 100");
      settings.headroom = x;
    } else {
      return usage_error("unknown option '" + flag + "'");
    }
  }
  auto names = scenario == "all" ? advice::replay_scenarios()
                                 : std::vector<std::string>{scenario};
  try {
    for (auto& name : names)
      std::cout << advice::format_report(advice::replay(name, settings))
                << "\n";
  } catch (const std::invalid_argument& e) {
    return usage_error(e.what());
  }
  return 0;
}

} // namespace streamb
