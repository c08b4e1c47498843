#pragma once

// Coordination events and their outcomes as JSON: the form the hub writes
// to the store (open events, finished records) and the routes show.

#include "runtime/messages.hpp"

#include <boost/json/object.hpp>

#include <optional>
#include <string>
#include <vector>

namespace streamb {

/// Who one delivery unit serves: an agent by name, or one agent of a role.
struct unit_target {
  std::string role;
  std::string agent;
};

/// {"id","type","priority","source","createdAt","target","payload"}; the
/// payload is embedded as JSON when it parses, else as a string. `sp`: where
/// the tree lives (hot paths pass a monotonic buffer: written once, freed at
/// once).
boost::json::object event_to_json(const coordination_event& ev,
                                  boost::json::storage_ptr sp = {});

/// An open event as the hub stores it: the event and its units.
std::string encode_open_event(const coordination_event& ev,
                              const std::vector<unit_target>& units);

/// The inverse of encode_open_event; nothing when `text` is not one.
std::optional<std::pair<coordination_event, std::vector<unit_target>>>
decode_open_event(const std::string& text);

/// The event, state, detail, finishedAt and deliveries (with their response
/// times in ms) of `x`.
boost::json::object record_to_json(const event_record& x,
                                   boost::json::storage_ptr sp = {});

/// record_to_json as text, built in a buffer on the stack: what the hub
/// writes for every finished event.
std::string record_to_text(const event_record& x);

/// The inverse of record_to_json (for records read back from the store);
/// nothing when `text` is not one.
std::optional<event_record> decode_record(const std::string& text);

} // namespace streamb
