#pragma once

// Who an event is for: the one place that reads and writes the "agent:NAME"
// and "role:ROLE" strings of coordination_event::target, the queue keys of
// the hub and event_delivery::unit.

#include "runtime/coordination/coordination_codec.hpp"

#include <optional>
#include <string>

namespace streamb {

/// An agent by name, one agent of a role, or (events only) one agent of
/// every role that subscribes.
struct delivery_target {
  enum class kind_t { any, agent, role };

  kind_t kind = kind_t::any;
  std::string name;

  static delivery_target agent(std::string name);
  static delivery_target role(std::string name);

  /// "" is any; "agent:NAME" and "role:ROLE"; nothing for anything else.
  static std::optional<delivery_target> parse(const std::string& text);

  /// The form parse reads.
  std::string to_string() const;

  /// The stored form of a unit (never `any`).
  unit_target to_unit() const;
  static delivery_target from_unit(const unit_target& x);

  friend bool operator==(const delivery_target& x, const delivery_target& y) {
    return x.kind == y.kind && x.name == y.name;
  }

  friend bool operator<(const delivery_target& x, const delivery_target& y) {
    return x.kind != y.kind ? x.kind < y.kind : x.name < y.name;
  }
};

} // namespace streamb
