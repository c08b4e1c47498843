#include "runtime/coordination/event_check.hpp"

#include "runtime/coordination/delivery_target.hpp"
#include "runtime/coordination/event_types.hpp"

namespace streamb {

std::optional<std::string> event_error(const coordination_event& ev) {
  if (!is_coordination_event_type(ev.type))
    return "unknown event type '" + ev.type + "'";
  if (static_cast<std::size_t>(ev.priority) >= budget::priority_count)
    return "priority must be critical, high, normal or low";
  if (!delivery_target::parse(ev.target))
    return "target must be \"agent:NAME\" or \"role:ROLE\"";
  return std::nullopt;
}

} // namespace streamb
