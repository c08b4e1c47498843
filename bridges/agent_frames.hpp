#pragma once

// The WebSocket agent protocol (docs/agent-protocol.md), version 1: the
// frames an agent sends, read strictly, and the frames the node sends. Pure:
// the agent socket actor, the unit tests and the fuzzer call it.

#include "runtime/messages.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace streamb {

constexpr int agent_protocol_version = 1;

enum class agent_op : uint8_t { register_, heartbeat, answer, report, leave };

/// One frame from an agent.
struct agent_frame {
  agent_op op = agent_op::heartbeat;
  /// register
  agent_registration registration;
  /// answer: one, or several at once ("answers")
  std::vector<event_response> answers;
  /// report: the samples, as JSON text in the form of POST /api/v1/calls
  std::string samples;
};

/// Why a frame was refused: a stable code, a message, and the frame's op
/// when it had a readable one.
struct frame_error {
  std::string code;
  std::string message;
  std::string op;
};

/// Reads one text frame; nothing on success (`out` filled).
std::optional<frame_error> parse_agent_frame(const std::string& text,
                                             agent_frame& out);

/// {"v":1,"op":"welcome","agentId","session","heartbeatIntervalMs","node"}
std::string welcome_frame(const agent_welcome& w);

/// {"v":1,"op":"event", the event's fields, "attempt","delivery",
/// "deadline" (epoch ms by which the answer must arrive)}
std::string event_frame(const coordination_event& ev, int64_t deadline_ms);

/// {"v":1,"op":"error","code","message","frame"}
std::string error_frame(const frame_error& e);

/// {"v":1,"op":"leave","reason"}: the node ended the registration.
std::string leave_frame(std::string_view reason);

} // namespace streamb
