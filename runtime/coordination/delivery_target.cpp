#include "runtime/coordination/delivery_target.hpp"

namespace streamb {

namespace {

constexpr const char agent_prefix[] = "agent:";
constexpr const char role_prefix[] = "role:";

bool starts_with(const std::string& text, const char* prefix) {
  return text.rfind(prefix, 0) == 0;
}

} // namespace

delivery_target delivery_target::agent(std::string name) {
  return {kind_t::agent, std::move(name)};
}

delivery_target delivery_target::role(std::string name) {
  return {kind_t::role, std::move(name)};
}

std::optional<delivery_target> delivery_target::parse(const std::string& text) {
  if (text.empty())
    return delivery_target{};
  if (starts_with(text, agent_prefix))
    return agent(text.substr(sizeof(agent_prefix) - 1));
  if (starts_with(text, role_prefix))
    return role(text.substr(sizeof(role_prefix) - 1));
  return std::nullopt;
}

std::string delivery_target::to_string() const {
  switch (kind) {
    case kind_t::agent: return agent_prefix + name;
    case kind_t::role: return role_prefix + name;
    case kind_t::any: break;
  }
  return {};
}

unit_target delivery_target::to_unit() const {
  if (kind == kind_t::agent)
    return {{}, name};
  return {name, {}};
}

delivery_target delivery_target::from_unit(const unit_target& x) {
  return x.agent.empty() ? role(x.role) : agent(x.agent);
}

} // namespace streamb
