#include "runtime/coordination/agent_roster.hpp"

namespace streamb {

roster_report check_roster(const std::vector<std::string>& expected,
                           const std::vector<agent_status>& agents) {
  roster_report out;
  for (auto& want : expected) {
    roster_entry e;
    e.expected = want;
    bool by_role = want.rfind("role:", 0) == 0;
    auto role = by_role ? want.substr(5) : std::string{};
    bool active = false;
    for (auto& a : agents) {
      if ((by_role ? a.role != role : a.name != want)
          || a.state == agent_state::disconnected)
        continue;
      e.agents.push_back(a.name);
      active = active || a.state == agent_state::active;
    }
    e.state = active ? "active" : e.agents.empty() ? "missing" : "stale";
    out.missing += e.state == "missing" ? 1 : 0;
    out.stale += e.state == "stale" ? 1 : 0;
    out.entries.push_back(std::move(e));
  }
  return out;
}

} // namespace streamb
