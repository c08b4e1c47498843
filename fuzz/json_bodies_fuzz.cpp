// The JSON readers of POST bodies (strict: repeated keys are errors), the
// coordination codec (events and records as stored), the WebSocket agents'
// frames, and the config loader.

#include "bridges/agent_frames.hpp"
#include "runtime/config/config.hpp"
#include "runtime/coordination/coordination_codec.hpp"
#include "runtime/core/json_strict.hpp"

#include <cstddef>
#include <cstdint>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  if (size == 0)
    return 0;
  std::string text{reinterpret_cast<const char*>(data) + 1, size - 1};
  switch (data[0] % 5) {
    case 0: {
      streamb::json_problem problem;
      (void)streamb::parse_json_strict(text, problem);
      break;
    }
    case 1: (void)streamb::decode_open_event(text); break;
    case 2: (void)streamb::decode_record(text); break;
    case 3: {
      streamb::agent_frame f;
      if (auto err = streamb::parse_agent_frame(text, f))
        (void)streamb::error_frame(*err); // what goes back must serialize
      break;
    }
    default: try { (void)streamb::load_config_text(text);
      } catch (const streamb::config_error&) {
        // a clear list of problems is the expected answer
      }
  }
  return 0;
}
