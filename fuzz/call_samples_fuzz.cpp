// POST /api/v1/calls bodies: both formats, the node's default services.

#include "bridges/call_sample_parser.hpp"

#include <cstddef>
#include <cstdint>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  static const std::vector<std::string> services{
    "stripe", "twilio", "sendgrid", "samsara", "maps", "airtable"};
  if (size == 0)
    return 0;
  // The first byte picks the format, so one corpus covers both.
  auto format = data[0] % 2 == 0 ? streamb::batch_format::json_array
                                 : streamb::batch_format::ndjson;
  std::string_view body{reinterpret_cast<const char*>(data) + 1, size - 1};
  streamb::parsed_batch batch;
  auto err = streamb::parse_call_batch(body, format, services,
                                       1'700'000'000'000, batch);
  if (!err) {
    std::size_t n = 0;
    for (auto& part : batch.by_service)
      n += part.size();
    if (n != batch.total)
      __builtin_trap();
  }
  return 0;
}
